"""Signing secrets at rest: the Fernet cipher, its key from settings, the development key file."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.webhooks.secrets import (
    DEV_KEY_FILE,
    SecretCipher,
    UndecryptableSecret,
    WebhookSecretKeyError,
    _dev_key,
    cipher_from_settings,
)
from core.webhooks.signing import generate_secret
from testing.settings import Settings


def settings_with(**env: str) -> Settings:
    return Settings.model_validate(env)


def test_a_secret_round_trips_and_its_ciphertext_reveals_nothing() -> None:
    cipher = SecretCipher([Fernet.generate_key()])
    secret = generate_secret()

    first, second = cipher.encrypt(secret), cipher.encrypt(secret)

    assert secret not in first
    assert secret.removeprefix("whsec_") not in first
    assert first != second  # a fresh IV each time
    assert cipher.decrypt(first) == cipher.decrypt(second) == secret


def test_another_key_cannot_decrypt() -> None:
    ciphertext = SecretCipher([Fernet.generate_key()]).encrypt(generate_secret())
    with pytest.raises(UndecryptableSecret, match="WEBHOOK_SECRET_KEY") as raised:
        SecretCipher([Fernet.generate_key()]).decrypt(ciphertext)
    assert ciphertext not in str(raised.value)


def test_the_configured_key_rotates_newest_first(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = cipher_from_settings(settings_with(WEBHOOK_SECRET_KEY=old)).encrypt("whsec_AA==")

    rotated = cipher_from_settings(
        settings_with(WEBHOOK_SECRET_KEY=f"{new}, {old}", BROKER_DEV_KEY_DIR=str(tmp_path))
    )

    assert rotated.decrypt(stored) == "whsec_AA=="
    again = rotated.encrypt("whsec_AA==")
    assert SecretCipher([new.encode()]).decrypt(again) == "whsec_AA=="
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_a_malformed_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(WebhookSecretKeyError, match="Fernet keys") as raised:
        cipher_from_settings(settings_with(WEBHOOK_SECRET_KEY="hunter2-not-a-key"))
    assert "hunter2" not in str(raised.value)


def test_production_without_a_key_refuses_to_start(tmp_path: Path) -> None:
    settings = settings_with(BROKER_ENV="production", BROKER_DEV_KEY_DIR=str(tmp_path))
    with pytest.raises(WebhookSecretKeyError, match="production mode needs WEBHOOK_SECRET_KEY"):
        cipher_from_settings(settings)
    assert list(tmp_path.iterdir()) == []


def test_development_generates_one_private_key_file_and_keeps_it(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    cipher = cipher_from_settings(settings_with(BROKER_DEV_KEY_DIR=str(keys)))
    ciphertext = cipher.encrypt("whsec_AA==")

    key_file = keys / DEV_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in keys.iterdir()] == [DEV_KEY_FILE]  # no draft left behind
    Fernet(key_file.read_bytes())  # a valid key

    other_process = SecretCipher([key_file.read_bytes()])
    assert other_process.decrypt(ciphertext) == "whsec_AA=="
    same = cipher_from_settings(settings_with(BROKER_DEV_KEY_DIR=str(keys)))
    assert same is cipher  # one cipher per configuration


def test_development_uses_a_key_file_that_exists(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    (tmp_path / DEV_KEY_FILE).write_bytes(key + b"\n")

    cipher = cipher_from_settings(settings_with(BROKER_DEV_KEY_DIR=str(tmp_path)))

    assert SecretCipher([key]).decrypt(cipher.encrypt("whsec_AA==")) == "whsec_AA=="


def test_processes_starting_together_agree_on_one_development_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: _dev_key(tmp_path), range(16)))

    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == [DEV_KEY_FILE]
