"""With a login (``QA_UI_AUTH``), every HTTP route needs it — not only the ones Gradio guards.

Gradio checks the login on its data routes (``/config``, ``/gradio_api/info``, the queue,
``/gradio_api/upload``, ``/gradio_api/file=``, the named API endpoints such as ``/ask``) but
leaves others open: ``/openapi.json``, ``/gradio_api/heartbeat/…``, ``cancel``, ``stream/…``,
``reset``, ``startup-events``, ``app_id``, ``token``, ``user``, ``custom_component/…``.
:class:`LoginRequired` is a plain ASGI middleware that answers 401 to any request without a
valid session cookie, except what the login page itself needs to render: the page, the login
and logout routes, and Gradio's static files (scripts, styles, icons), which hold no app data.

The session is Gradio's own: the cookie ``access-token[-unsecure]-<cookie_id>`` set by
``POST /login``, looked up in the app's ``tokens``, the cookies parsed as Gradio parses them.
No gradio import here: the app arrives as ``scope["app"]``.
"""
from __future__ import annotations

from starlette.requests import cookie_parser  # the parser Gradio's own login check uses

PUBLIC_PATHS = frozenset({
    "/", "/login", "/login/", "/logout", "/favicon.ico", "/robots.txt", "/manifest.json",
    "/theme.css", "/gradio_api/theme.css", "/pwa_icon",
    # Gradio's launch() calls it, without a session, to start the app; afterwards it only
    # answers ``false``.
    "/gradio_api/startup-events",
})
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon/")
_BODY = b'{"detail":{"error":"Not authenticated","auth_message":"Log in first."}}'


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class LoginRequired:
    """ASGI middleware: 401 for every non-public HTTP request without a Gradio session
    (a WebSocket is closed); lifespan events pass."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket") or is_public(scope.get("path", "")) \
                or _logged_in(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # none today; refused all the same
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode()),
        ]})
        await send({"type": "http.response.body", "body": _BODY})


def _logged_in(scope) -> bool:
    raw = b"; ".join(v for k, v in scope.get("headers", ()) if k == b"cookie").decode("latin-1")
    return has_session(scope.get("app"), raw)


def has_session(app, cookie_header: str) -> bool:
    """Does ``cookie_header`` hold a live session of the Gradio ``app``?"""
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if tokens is None or cookie_id is None:  # not a Gradio app: nothing to check against
        return False
    cookies = cookie_parser(cookie_header)
    return any(
        tokens.get(cookies.get(name)) is not None
        for name in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}")
    )
