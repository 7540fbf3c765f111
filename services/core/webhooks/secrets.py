"""Webhook signing secrets at rest: Fernet-encrypted, with the key from WEBHOOK_SECRET_KEY.

WEBHOOK_SECRET_KEY holds one Fernet key (urlsafe base64 of 32 bytes), or several separated by
commas, newest first: the first encrypts, every one decrypts, so the key rotates by prepending a
new one and dropping the old once no row is encrypted with it. Development mode without a key
generates one under BROKER_DEV_KEY_DIR, shared by the broker and the notifier; production refuses
to start without it. Neither the secrets nor the key are ever logged.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.dev_keys import dev_key
from core.models.webhooks import WebhookEndpoint
from core.settings import CoreSettings, Environment

DEV_KEY_FILE = "webhook-secret.key"


class WebhookSecretKeyError(RuntimeError):
    """The secret key is missing (in production) or unusable: the process must not start."""


class UndecryptableSecret(RuntimeError):
    """A stored secret that none of the configured keys decrypts (the key was changed)."""


REMEMBERED = 4096  # signing secrets a cipher keeps decrypted (`decrypt_remembered`)


class SecretCipher:
    """Encrypts and decrypts with the configured keys. `decrypt_remembered` is for the webhook
    signing secrets, which the notifier needs for every webhook: a ciphertext decrypts to the same
    secret every time (Fernet tokens are checked, not timed, here), so each is decrypted once per
    process. Everything else (TOTP seeds, sign-in cookies: many, each seldom read again) is
    decrypted each time and kept nowhere."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise WebhookSecretKeyError("at least one webhook secret key is needed")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError as exc:  # the message says nothing of the key itself
            raise WebhookSecretKeyError(
                "WEBHOOK_SECRET_KEY must be Fernet keys (urlsafe base64 of 32 bytes), "
                f"comma-separated: {exc}"
            ) from None
        self._decrypted: dict[str, str] = {}  # ciphertext: secret

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except InvalidToken:
            raise UndecryptableSecret(
                "a webhook secret does not decrypt with WEBHOOK_SECRET_KEY (was the key changed?)"
            ) from None

    def decrypt_remembered(self, ciphertext: str) -> str:
        """`decrypt`, once per ciphertext (up to REMEMBERED of them, then it starts again)."""
        secret = self._decrypted.get(ciphertext)
        if secret is None:
            secret = self.decrypt(ciphertext)
            if len(self._decrypted) >= REMEMBERED:
                self._decrypted.clear()
            self._decrypted[ciphertext] = secret
        return secret


def _dev_key(directory: Path) -> bytes:
    return dev_key(directory, DEV_KEY_FILE, Fernet.generate_key)


@lru_cache(maxsize=8)
def _cipher(configured: str | None, environment: Environment, dev_key_dir: Path) -> SecretCipher:
    if configured:
        keys = [part.strip().encode() for part in configured.split(",") if part.strip()]
    elif environment is Environment.production:
        raise WebhookSecretKeyError(
            "production mode needs WEBHOOK_SECRET_KEY (generate one with: python -c "
            '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
        )
    else:
        keys = [_dev_key(dev_key_dir)]
    return SecretCipher(keys)


def cipher_from_settings(settings: CoreSettings) -> SecretCipher:
    """The cipher for this configuration (one per distinct configuration, made on first use).

    Raises `WebhookSecretKeyError` in production without WEBHOOK_SECRET_KEY, or on a bad key.
    """
    return _cipher(settings.webhook_secret_key, settings.environment, settings.dev_key_dir)


# --- an endpoint's signing secrets ------------------------------------------------------


def rotation_ends_at(endpoint: WebhookEndpoint, now: datetime) -> datetime | None:
    until = endpoint.previous_valid_until
    if endpoint.previous_secret_ciphertext is None or until is None or until <= now:
        return None
    return until


def signing_secrets(
    endpoint: WebhookEndpoint, now: datetime, cipher: SecretCipher
) -> tuple[str, ...]:
    """The secrets that sign a message sent at `now`: the current one first, then the previous
    one while its rotation overlap lasts."""
    current = cipher.decrypt_remembered(endpoint.secret_ciphertext)
    if rotation_ends_at(endpoint, now) is None:
        return (current,)
    assert endpoint.previous_secret_ciphertext is not None
    return (current, cipher.decrypt_remembered(endpoint.previous_secret_ciphertext))
