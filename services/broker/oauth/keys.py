"""Token signing keys: the newest signs, every configured key stays in the JWKS.

Rotation is configuration: put the new key first in OAUTH_SIGNING_KEY_FILES and keep the old
one after it until the last token it signed has expired.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet, RSAKey

from broker.oauth.verified import VerifiedTokens
from broker.settings import BrokerSettings
from core.settings import Environment

ALGORITHM = "RS256"
logger = logging.getLogger(__name__)


MIN_RSA_BITS = 2048  # NIST SP 800-131A: shorter RSA keys are no longer acceptable for signing


class SigningKeyMissing(RuntimeError):
    pass


class SigningKeyTooWeak(RuntimeError):
    pass


@dataclass(frozen=True)
class KeyRing:
    signing_key: RSAKey
    keys: tuple[RSAKey, ...]

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self._public(key) for key in self.keys]}

    @cached_property
    def verification_keys(self) -> KeySet:
        return KeySet([RSAKey.import_key(self._public(key)) for key in self.keys])

    @cached_property
    def verified(self) -> VerifiedTokens:
        """The tokens these keys verified: exact, since the keys never change."""
        return VerifiedTokens()

    @staticmethod
    def _public(key: RSAKey) -> dict[str, Any]:
        return {**key.as_dict(private=False), "use": "sig", "alg": ALGORITHM}


def _import_pem(pem: str | bytes) -> RSAKey:
    with warnings.catch_warnings():  # joserfc's own key-size warning: _refuse_weak decides
        warnings.simplefilter("ignore", SecurityWarning)
        key = RSAKey.import_key(pem)
    key.ensure_kid()  # RFC 7638 thumbprint: stable across processes that load the same key
    return key


def _dev_key(directory: Path) -> bytes:
    path = directory / "signing-key.pem"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.touch(mode=0o600)
        path.write_bytes(pem)
        logger.warning("development mode: generated a token signing key at %s", path)
    return path.read_bytes()


def load_keyring(settings: BrokerSettings) -> KeyRing:
    pems: list[str | bytes] = []
    if settings.signing_key_pem:
        pems.append(settings.signing_key_pem)
    if settings.signing_key_files:
        pems.extend(Path(p.strip()).read_bytes() for p in settings.signing_key_files.split(","))
    if not pems:
        if settings.environment is Environment.production:
            raise SigningKeyMissing(
                "production mode needs OAUTH_SIGNING_KEY or OAUTH_SIGNING_KEY_FILES"
            )
        pems.append(_dev_key(settings.dev_key_dir))
    keys = tuple(_import_pem(pem) for pem in pems)
    _refuse_weak(keys, settings.environment)
    return KeyRing(signing_key=keys[0], keys=keys)


def _refuse_weak(keys: tuple[RSAKey, ...], environment: Environment) -> None:
    """Every key counts, not only the signing one: a key in the JWKS verifies tokens, so one
    short enough to factor would let anyone sign tokens the broker accepts."""
    for position, key in enumerate(keys, 1):
        bits = int(key.raw_value.key_size)
        if bits >= MIN_RSA_BITS:
            continue
        why = f"signing key {position} ({key.kid}) is RSA-{bits}; at least {MIN_RSA_BITS} bits"
        if environment is Environment.production:
            raise SigningKeyTooWeak(f"production mode refuses it: {why}")
        logger.warning("development mode accepts a weak key, production would not: %s", why)
