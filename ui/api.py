"""The JSON API under ``/api``, beside the Gradio app on the same server (the one fastapi module).

Every route calls the same :class:`ui.handlers.Handlers` the page uses. Who may call it:

* with a login (``QA_UI_AUTH=user:password``): HTTP Basic with those credentials, or the
  browser's Gradio session cookie (so links from the page work), or ``Authorization: Bearer
  <QA_API_TOKEN>`` when that is set;
* without a login: only clients on the loopback address (the UI's default binding), or a
  bearer token when ``QA_API_TOKEN`` is set.

OpenAPI: ``/api/docs`` (the page) and ``/api/openapi.json``.
"""
from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer

from index import list_documents

from .guard import has_session
from .handlers import Handlers
from .settings import Settings, parse_auth

_basic = HTTPBasic(auto_error=False, description="QA_UI_AUTH's user and password")
_bearer = HTTPBearer(auto_error=False, description="QA_API_TOKEN")


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def access(settings: Settings, gradio_app: Callable[[], object | None]):
    """The dependency every route has: raises 401/403 unless the caller may use the API."""
    login, token = parse_auth(settings), settings.api_token

    def check(request: Request,
              basic: HTTPBasicCredentials | None = Depends(_basic),
              bearer: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
        if token is not None and bearer is not None and _same(bearer.credentials, token.get_secret_value()):
            return
        if login is None:
            if _loopback(request.client.host if request.client else None):
                return
            raise HTTPException(403, "Without a login (QA_UI_AUTH) the API answers only on the loopback "
                                     "address; set QA_UI_AUTH, or QA_API_TOKEN and send it as a bearer token.")
        if basic is not None and _same(basic.username, login[0]) and _same(basic.password, login[1]):
            return
        if has_session(gradio_app(), request.headers.get("cookie", "")):
            return
        raise HTTPException(401, "Log in: HTTP Basic with QA_UI_AUTH's user and password"
                                 + (", or a bearer token (QA_API_TOKEN)." if token else "."),
                            headers={"WWW-Authenticate": 'Basic realm="docqa"'})

    return check


def router(settings: Settings, handlers: Handlers, gradio_app: Callable[[], object | None]) -> APIRouter:
    api = APIRouter(prefix="/api", dependencies=[Depends(access(settings, gradio_app))])

    @api.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> dict:
        return request.app.openapi()

    @api.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="Document Q&A API")

    @api.get("/health", summary="Is the app up, and how big is its index")
    def health() -> dict:
        docs = list_documents(handlers.store) if handlers.store.read_state() is not None else []
        return {"status": "ok", "documents": len(docs), "chunks": sum(d.chunks for d in docs)}

    return api
