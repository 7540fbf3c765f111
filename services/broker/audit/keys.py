"""The audit chain's keys: each row's hash is an HMAC-SHA256 under a secret the database never
stores, so whoever can write the database cannot forge a row and re-chain what follows it.

AUDIT_KEY holds one key or several, comma-separated, newest first, each the urlsafe base64 of at
least 32 random bytes. The first keys new rows; every one verifies. Each row names its key by
`key_id`, a fingerprint of the key (never the key), so rotation is configuration: prepend a new
key and roll every broker; keep the old one in the list for as long as rows it keyed are in the
log, or `cdo-broker audit verify` reports them as unverifiable. Development mode without a key
generates one under BROKER_DEV_KEY_DIR (shared by every process of the checkout); production
refuses to start without it.

PostgreSQL computes the MAC inside the append statement (audit/service.py) with its built-in
`sha256()` over the key's two RFC 2104 pads (`inner_pad`, `outer_pad`), which are sent as bind
parameters: HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), the same value Python's `hmac`
gives (a test holds them equal on RFC 4231's vectors). No extension is needed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from functools import cached_property

from broker.settings import BrokerSettings
from core.dev_keys import dev_key
from core.settings import Environment

DEV_KEY_FILE = "audit.key"
# Session.info: the keys that MAC audit rows; sessions get them from
# `core.db.create_sessionmaker(engine, audit_keys=...)`.
AUDIT_KEYS = "audit_keys"
MIN_KEY_BYTES = 32
_BLOCK = 64  # SHA-256's block size, in bytes


class AuditKeyError(RuntimeError):
    """AUDIT_KEY is missing (in production) or unusable: the process must not start."""


@dataclass(frozen=True)
class AuditKey:
    secret: bytes = field(repr=False)

    # Both derived from the secret alone, computed once per key: every audited write names the
    # key and sends its pads.
    @cached_property
    def id(self) -> str:
        """A fingerprint naming the key in each row it keys; it reveals nothing of the key."""
        return hashlib.sha256(b"cdo-broker audit key|" + self.secret).hexdigest()[:16]

    def mac(self, message: str) -> str:
        return hmac.new(self.secret, message.encode(), hashlib.sha256).hexdigest()

    def pads(self) -> tuple[bytes, bytes]:
        """(K' ^ ipad, K' ^ opad) of RFC 2104, for the database to compute the same MAC."""
        return self._pads

    @cached_property
    def _pads(self) -> tuple[bytes, bytes]:
        key = hashlib.sha256(self.secret).digest() if len(self.secret) > _BLOCK else self.secret
        key = key.ljust(_BLOCK, b"\0")
        return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


@dataclass(frozen=True)
class AuditKeys:
    keys: tuple[AuditKey, ...]

    @property
    def current(self) -> AuditKey:
        return self.keys[0]

    def get(self, key_id: str) -> AuditKey | None:
        return next((key for key in self.keys if key.id == key_id), None)

    @classmethod
    def parse(cls, configured: str) -> AuditKeys:
        keys = []
        for part in (p.strip() for p in configured.split(",")):
            if not part:
                continue
            try:
                secret = base64.urlsafe_b64decode(part.encode("ascii"))
            except (binascii.Error, UnicodeEncodeError, ValueError):
                secret = b""
            if len(secret) < MIN_KEY_BYTES:  # the message says nothing of the key itself
                raise AuditKeyError(
                    f"AUDIT_KEY must be urlsafe base64 of at least {MIN_KEY_BYTES} random bytes "
                    "each, comma-separated, newest first"
                )
            keys.append(AuditKey(secret))
        if not keys:
            raise AuditKeyError("AUDIT_KEY holds no key")
        return cls(tuple(keys))


def new_key() -> str:
    """A fresh AUDIT_KEY value."""
    return base64.urlsafe_b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode()


def audit_keys_from_settings(settings: BrokerSettings) -> AuditKeys:
    """Raises `AuditKeyError` in production without AUDIT_KEY, or on a bad key."""
    if settings.audit_key:
        return AuditKeys.parse(settings.audit_key)
    if settings.environment is Environment.production:
        raise AuditKeyError(
            "production mode needs AUDIT_KEY, kept outside the database; generate one with: "
            "python3 -c 'import base64,os; "
            "print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
        )
    made = dev_key(settings.dev_key_dir, DEV_KEY_FILE, lambda: new_key().encode())
    return AuditKeys.parse(made.decode())
