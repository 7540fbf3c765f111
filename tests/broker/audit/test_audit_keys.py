"""AUDIT_KEY: parsed strictly and never echoed; production needs it; development makes one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from broker.audit.keys import (
    DEV_KEY_FILE,
    AuditKey,
    AuditKeyError,
    AuditKeys,
    audit_keys_from_settings,
    new_key,
)
from testing.settings import Settings


def settings_with(**values: str) -> Settings:
    return Settings.model_validate(values)


def test_rfc_4231_vectors() -> None:
    key = AuditKey(b"\xaa" * 131)  # test case 6: a key longer than the block
    message = "Test Using Larger Than Block-Size Key - Hash Key First"
    assert key.mac(message) == ("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    inner, outer = key.pads()
    short = hashlib.sha256(key.secret).digest().ljust(64, b"\0")
    assert inner == bytes(b ^ 0x36 for b in short)
    assert outer == bytes(b ^ 0x5C for b in short)
    inner_hash = hashlib.sha256(inner + message.encode()).digest()
    assert hashlib.sha256(outer + inner_hash).hexdigest() == key.mac(message)


def test_several_keys_newest_first_each_named_by_a_fingerprint() -> None:
    first, second = new_key(), new_key()
    keys = AuditKeys.parse(f" {first} , {second} ")
    assert keys.current.secret == base64.urlsafe_b64decode(first)
    assert [key.id for key in keys.keys] == [
        AuditKey(base64.urlsafe_b64decode(k)).id for k in (first, second)
    ]
    assert len(keys.current.id) == 16
    assert keys.get(keys.keys[1].id) is keys.keys[1]
    assert keys.get("0" * 16) is None
    assert keys.current.mac("m") == hmac.new(keys.current.secret, b"m", "sha256").hexdigest()


@pytest.mark.parametrize("bad", ["hunter2", base64.urlsafe_b64encode(b"s" * 31).decode(), ","])
def test_a_short_or_malformed_key_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(AuditKeyError, match="AUDIT_KEY") as raised:
        audit_keys_from_settings(settings_with(AUDIT_KEY=bad))
    assert "hunter2" not in str(raised.value)


def test_production_without_a_key_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDIT_KEY", raising=False)  # the suite's own
    settings = settings_with(BROKER_ENV="production", BROKER_DEV_KEY_DIR=str(tmp_path))
    with pytest.raises(AuditKeyError, match="production mode needs AUDIT_KEY"):
        audit_keys_from_settings(settings)
    assert list(tmp_path.iterdir()) == []


def test_development_generates_one_private_key_and_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    keys = audit_keys_from_settings(settings_with(BROKER_DEV_KEY_DIR=str(tmp_path)))
    key_file = tmp_path / DEV_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = audit_keys_from_settings(settings_with(BROKER_DEV_KEY_DIR=str(tmp_path)))
    assert again.current.id == keys.current.id
    assert len(keys.current.secret) == 32
