"""E-mail channels: a notification as a Chinese e-mail (plain text and HTML), sent through the
operator's SMTP submission server (SMTP_HOST, SMTP_PORT) with STARTTLS required and the server's
certificate verified (SMTP_CA_FILE for a private CA), then SMTP_USERNAME / SMTP_PASSWORD.

A message keeps its `Message-ID` (from the delivery id) across retries, so a mail system that
saw it once can tell a retry from a new message. SMTP's reply codes say what to do: 4xx and lost
connections are tried again on the schedule; a 5xx refusal of the message or of every recipient
will not pass later; a refused login or STARTTLS is the operator's to fix, so it is retried.
"""

from __future__ import annotations

import asyncio
import html
import ssl
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from notifier.delivery import Attempt, Outcome
from notifier.settings import NotifierSettings
from notifier.wording import DEADLINE, Message

AUTOMATIC = "本邮件由系统自动发送，请勿回复。"


def build_mail(
    message: Message, *, sender: str, recipients: Sequence[str], message_id: str, now: datetime
) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{message_id}@cdo-broker>"
    mail["Content-Language"] = "zh-CN"
    lines = [message.lead, ""]
    lines += [f"{label}：{value}" for label, value in message.facts]
    lines += [
        "",
        f"{message.link_text}：{message.link}",
        "",
        "（本邮件由系统自动发送，请勿回复。）",
    ]
    mail.set_content("\n".join(lines), charset="utf-8")
    mail.add_alternative(_html(message), subtype="html", charset="utf-8")
    return mail


def _html(message: Message) -> str:
    rows = "".join(
        f"<tr><th scope='row' align='left'>{html.escape(label)}</th>"
        f"<td>{'<strong>' if label == DEADLINE else ''}{html.escape(value)}"
        f"{'</strong>' if label == DEADLINE else ''}</td></tr>"
        for label, value in message.facts
    )
    link = html.escape(message.link, quote=True)
    return (
        "<!doctype html><html lang='zh-CN'><body>"
        f"<h2>{html.escape(message.title)}</h2><p>{html.escape(message.lead)}</p>"
        f"<table>{rows}</table>"
        f"<p><a href='{link}'>{html.escape(message.link_text)}</a></p>"
        f"<p><small>{AUTOMATIC}</small></p></body></html>"
    )


def tls_context(settings: NotifierSettings) -> ssl.SSLContext:
    """Verifies the server as any TLS client would, against SMTP_CA_FILE if it is set."""
    cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    return ssl.create_default_context(cafile=cafile)


async def send_mail(settings: NotifierSettings, mail: EmailMessage) -> Attempt:
    """One attempt at handing `mail` to the submission server; never raises for what the
    server or the network does."""
    at = datetime.now(UTC)
    started = time.perf_counter()

    def attempt(outcome: Outcome, status: int | None = None, error: str | None = None) -> Attempt:
        latency_ms = round((time.perf_counter() - started) * 1000)
        return Attempt(at, status, latency_ms, error, outcome)

    if not settings.smtp_host:
        return attempt(Outcome.retry, error="e-mail is not set up: SMTP_HOST is unset")
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        start_tls=True,  # required: the password and the message only ever travel in TLS
        tls_context=tls_context(settings),
        username=settings.smtp_username,
        password=password if settings.smtp_username else None,
        timeout=settings.smtp_timeout_seconds,
    )
    try:
        async with asyncio.timeout(settings.smtp_timeout_seconds):
            async with client:
                refused, _ = await client.send_message(mail)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        permanent = all(code >= 500 for code in codes)
        error = "every recipient was refused: " + "; ".join(
            f"{r.recipient} ({r.code})" for r in exc.recipients
        )
        return attempt(
            Outcome.failed_permanently if permanent else Outcome.retry, max(codes), error
        )
    except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPConnectResponseError) as exc:
        return attempt(Outcome.retry, exc.code, f"the SMTP server refused us: {exc.code}")
    except aiosmtplib.SMTPResponseException as exc:
        permanent = exc.code >= 500 and not _is_starttls(exc)
        outcome = Outcome.failed_permanently if permanent else Outcome.retry
        return attempt(outcome, exc.code, f"SMTP {exc.code}: {_first_line(exc.message)}")
    except (TimeoutError, aiosmtplib.SMTPTimeoutError):
        return attempt(Outcome.retry, error=f"no answer within {settings.smtp_timeout_seconds:g} s")
    except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
        return attempt(Outcome.retry, error=f"{type(exc).__name__}: {_first_line(str(exc))}")
    if refused:
        # Some recipients took it: delivered, and the log says who did not.
        return attempt(
            Outcome.delivered,
            250,
            "refused: " + "; ".join(f"{r} ({code})" for r, (code, _) in refused.items()),
        )
    return attempt(Outcome.delivered, 250)


def _is_starttls(exc: aiosmtplib.SMTPResponseException) -> bool:
    return "starttls" in exc.message.lower() or "tls" in exc.message.lower()


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:200]
