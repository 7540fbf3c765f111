"""A local SMTP submission server (aiosmtpd) that requires STARTTLS before AUTH and before
mail, with a self-signed certificate for `localhost`, and keeps what it receives."""

from __future__ import annotations

import contextlib
import email
import email.policy
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from testing.certificates import self_signed
from testing.processes import free_port

USER, PASSWORD = "cdo-notifier", "smtp-secret-1"


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    over_tls: bool
    authenticated: bool

    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert isinstance(body, EmailMessage)
        return str(body.get_content())

    def mentions(self, words: str) -> bool:
        return words in self.text()


@dataclass
class Mailbox:
    host: str = "localhost"
    port: int = 0
    ca_file: Path = Path()
    delivered: list[Delivered] = field(default_factory=list)
    refuse_with: str | None = None  # e.g. "451 4.3.0 try later": the next DATA is refused
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.refuse_with is not None:
                refusal, self.refuse_with = self.refuse_with, None
                return refusal
            content = envelope.original_content or b""
            parsed = email.message_from_bytes(content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.delivered.append(
                Delivered(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=list(envelope.rcpt_tos),
                    message=parsed,
                    over_tls=session.ssl is not None,
                    authenticated=bool(session.authenticated),
                )
            )
        return "250 2.0.0 accepted"

    def received(self) -> list[Delivered]:
        with self.lock:
            return list(self.delivered)


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@contextlib.contextmanager
def running_mailbox(folder: Path) -> Iterator[Mailbox]:
    cert, key = self_signed(folder, "localhost")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    mailbox = Mailbox(port=free_port(), ca_file=cert)
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=mailbox.port,
        server_hostname="localhost",
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=_authenticate,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
