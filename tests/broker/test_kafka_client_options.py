"""core.kafka.client_options: what every Kafka client of a process is given, from the settings."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.kafka import client_options
from testing.certificates import self_signed
from testing.settings import Settings

SERVERS = "kafka-1.example:9093,kafka-2.example:9093"


def settings_of(**env: str) -> Settings:
    return Settings.model_validate({"KAFKA_BOOTSTRAP_SERVERS": SERVERS, **env})


def test_plaintext_is_the_servers_alone() -> None:
    assert client_options(settings_of()) == {
        "bootstrap_servers": SERVERS,
        "security_protocol": "PLAINTEXT",
    }


def test_sasl_ssl_trusts_the_ca_checks_names_and_logs_in_with_scram(tmp_path: Path) -> None:
    options = client_options(
        settings_of(
            KAFKA_SECURITY_PROTOCOL="SASL_SSL",
            KAFKA_SASL_USERNAME="cdo-broker",
            KAFKA_SASL_PASSWORD="s3cret",
            KAFKA_SSL_CAFILE=str(self_signed(tmp_path, "kafka-ca.test")[0]),
        )
    )

    context = options.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert [ca["subject"] for ca in context.get_ca_certs()] == [
        ((("commonName", "kafka-ca.test"),),)
    ]
    assert options == {
        "bootstrap_servers": SERVERS,
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "cdo-broker",
        "sasl_plain_password": "s3cret",
    }


def test_the_password_stays_out_of_the_settings_repr() -> None:
    settings = settings_of(
        KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_USERNAME="cdo-broker",
        KAFKA_SASL_PASSWORD="s3cret",
    )
    assert "s3cret" not in repr(settings)
    assert "ssl_context" not in client_options(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "cdo-broker"},
         "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTFILE": "client.pem"},
         "KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
    ],
)  # fmt: skip
def test_incomplete_security_settings_stop_the_process(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings_of(**env)
