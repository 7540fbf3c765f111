"""argon2id password hashes (RFC 9106's second recommended parameters, argon2-cffi's default)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(type=Type.ID)

# Verifying against this when the username is unknown costs as much as a real check: the
# answer's timing does not tell which usernames exist.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash or _DUMMY, password)) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def one_time_password() -> str:
    """A password to hand over once (the command line, the demo file): 128 bits, typeable."""
    return secrets.token_urlsafe(16)
