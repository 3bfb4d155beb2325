"""``/api/docs`` and ``/api/openapi.json``, served with no internet (FastAPI's default page loads
Swagger UI from a CDN).

Swagger UI's files come from the ``fastapi-offline`` distribution (they are served by the app,
behind the API's login like every ``/api`` route). Without it the page is a plain list of the
routes, rendered from the OpenAPI document by a few lines of inline script.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

TITLE = "Document Q&A API"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")


def swagger_assets() -> Path | None:
    """Where Swagger UI's files are, or None when ``fastapi-offline`` is not installed."""
    try:
        import fastapi_offline  # noqa: F401  (only its static files are used)
    except ImportError:
        return None
    folder = Path(str(resources.files("fastapi_offline") / "static"))
    return folder if all((folder / a).is_file() for a in ASSETS) else None


# Relative URLs: the page is /api/docs, so "openapi.json" is /api/openapi.json (and any
# root_path a proxy adds is kept).
PLAIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>""" + TITLE + """</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code,pre{background:#f4f4f4;padding:.1rem .3rem}pre{padding:.6rem;overflow:auto}
h2{font-size:1.05rem;margin:1.6rem 0 .2rem}.m{font-weight:bold;text-transform:uppercase}</style>
</head><body><h1>""" + TITLE + """</h1>
<p>The OpenAPI document: <a href="openapi.json">openapi.json</a>.</p><div id="routes">Loading…</div>
<script>
fetch("openapi.json", {credentials: "same-origin"}).then(r => r.json()).then(spec => {
  const out = document.getElementById("routes"); out.textContent = "";
  const add = (tag, text, cls) => { const e = document.createElement(tag); e.textContent = text;
    if (cls) e.className = cls; out.appendChild(e); return e; };
  for (const [path, ops] of Object.entries(spec.paths || {})) for (const [method, op] of Object.entries(ops)) {
    const h = add("h2", ""); const m = document.createElement("span"); m.className = "m";
    m.textContent = method + " "; h.appendChild(m); h.appendChild(document.createTextNode(path));
    add("p", (op.summary || "") + (op.description ? " — " + op.description : ""));
    const body = op.requestBody && op.requestBody.content;
    if (body) add("pre", "request: " + JSON.stringify(body, null, 2));
    add("pre", "responses: " + JSON.stringify(op.responses, null, 2));
  }
  add("pre", "schemas: " + JSON.stringify((spec.components || {}).schemas || {}, null, 2));
}).catch(e => { document.getElementById("routes").textContent = "Could not load openapi.json: " + e; });
</script></body></html>"""


def add_routes(api: APIRouter) -> None:
    """The docs page, its files and the OpenAPI document, on ``api`` (under its login)."""
    assets = swagger_assets()

    @api.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> dict:
        return request.app.openapi()

    @api.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if assets is None:
            return HTMLResponse(PLAIN_PAGE)
        return get_swagger_ui_html(openapi_url="openapi.json", title=TITLE,
                                   swagger_js_url="docs/swagger-ui-bundle.js",
                                   swagger_css_url="docs/swagger-ui.css", swagger_favicon_url="docs/favicon.png")

    @api.get("/docs/{name}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        if assets is None or name not in ASSETS:
            raise HTTPException(404, "Not found.")
        return FileResponse(assets / name, headers={"Cache-Control": "max-age=86400"})
