"""Puts the console and Swagger UI into the app: routers, static files served by us (htmx from
its npm package; Swagger UI 5, which reads OpenAPI 3.1, from the fastapi-offline package), and
the answers a browser needs instead of problem JSON (the sign-in page, a refused form in words)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import core as swagger_ui_files

from broker.console import pages, signin, upstream_signin
from broker.console.bureau import BureauOnly
from broker.console.session import CSRFRefused, SignInNeeded
from broker.console.web import HERE, render

SWAGGER_UI = Path(swagger_ui_files.__file__).parent / "static"


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    if request.headers.get("hx-request"):  # htmx polling: make the whole page go
        return Response(status_code=204, headers={"HX-Redirect": exc.target})
    return RedirectResponse(exc.target, status_code=303)


async def _form_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CSRFRefused)
    return render(request, "refused.html", status_code=403, message="csrf_refused", me=None)


async def _bureau_only(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BureauOnly)
    return render(request, "refused.html", status_code=403, message="bureau_only", me=exc.me)


async def _swagger(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="CDO data-sharing broker",
        swagger_js_url="/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/docs/assets/swagger-ui.css",
        swagger_favicon_url="/docs/assets/favicon.png",
        oauth2_redirect_url="/docs/oauth2-redirect",
    )


async def _swagger_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


def install_console(app: FastAPI) -> None:
    app.add_exception_handler(SignInNeeded, _to_sign_in)
    app.add_exception_handler(CSRFRefused, _form_refused)
    app.add_exception_handler(BureauOnly, _bureau_only)
    app.include_router(signin.router)
    app.include_router(upstream_signin.router)
    app.include_router(pages.router)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.mount("/docs/assets", StaticFiles(directory=SWAGGER_UI), name="docs-assets")
    app.add_api_route("/docs", _swagger, include_in_schema=False)
    app.add_api_route("/docs/oauth2-redirect", _swagger_redirect, include_in_schema=False)
