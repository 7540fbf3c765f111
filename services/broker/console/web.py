"""How console pages are made: Jinja2 templates, the reader's language (Chinese unless
`?lang=en`, then remembered in a cookie), times in China Standard Time, and headers that keep
every page to our own origin."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from broker.console.dates import cst, period
from broker.console.texts import event_label, text

HERE = Path(__file__).parent
LANG_COOKIE = "cdo_lang"
# Nothing from another origin, no inline script, no framing (clickjacking a decision).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if asked == "en" else "zh"


def time_left(due: datetime | None, now: datetime, lang: str) -> str:
    if due is None:
        return ""
    left = due - now
    overdue = left < timedelta(0)
    hours = int(abs(left).total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    amount = (
        (f"{days}天{hours}小时" if lang == "zh" else f"{days} d {hours} h")
        if days
        else (f"{hours}小时" if lang == "zh" else f"{hours} h")
    )
    if overdue:
        return f"已超期 {amount}" if lang == "zh" else f"overdue by {amount}"
    return f"剩余 {amount}" if lang == "zh" else f"{amount} left"


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    lang = language(request)
    page = templates.get_template(template).render(
        request=request,
        lang=lang,
        t=lambda key, **values: text(key, lang, **values),
        event=lambda event_type: event_label(event_type, lang),
        cst=cst,
        span=lambda start, end: period(start, end, lang),
        **context,
    )
    response = HTMLResponse(page, status_code=status_code)
    secure_page(response)
    if request.query_params.get("lang") in ("en", "zh"):
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax", path="/"
        )
    return response


def secure_page(response: HTMLResponse) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
