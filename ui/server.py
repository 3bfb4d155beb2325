"""The one web server: the JSON API under ``/api`` and the Gradio app at ``/``, run by uvicorn.

    server = create_server(settings)     # a FastAPI app (tests can pass their own assistant)
    launch(settings)                     # what ``python -m ui`` runs

Both halves share one :class:`ui.handlers.Handlers` (one assistant per process). The app keeps
no state of its own beyond the index, so several of these processes can serve one Chroma server.
"""
from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from starlette.routing import Mount

from index import environment

from . import api, conversations_api, documents_api, knowledge_bases_api
from .app import create_app, mount
from .handlers import Handlers
from .settings import Settings, parse_auth


def create_server(settings: Settings, *, assistant=None) -> FastAPI:
    environment.configure()
    parse_auth(settings)  # a malformed QA_UI_AUTH is an error before anything is built
    if assistant is None:
        from qa import Assistant

        assistant = Assistant(settings)
    handlers = Handlers(settings, assistant, None)
    # docs_url/openapi_url off: ui.api serves both, behind its login
    server = FastAPI(title="Document Q&A", docs_url=None, openapi_url=None, redoc_url=None,
                     summary="Answers with verified citations from your documents.")

    def gradio_app():  # the app mount() creates, for the API's session-cookie check
        return next((r.app for r in server.routes if isinstance(r, Mount) and r.path == ""), None)

    server.include_router(api.router(settings, handlers, gradio_app))
    server.include_router(documents_api.router(settings, handlers, gradio_app))
    server.include_router(conversations_api.router(settings, handlers, gradio_app))
    server.include_router(knowledge_bases_api.router(settings, handlers, gradio_app))
    return mount(server, create_app(settings, handlers=handlers), settings)


def launch(settings: Settings, *, assistant=None) -> None:
    """Serve on ``settings.ui_host:ui_port`` until interrupted (no share link, no analytics)."""
    uvicorn.run(create_server(settings, assistant=assistant), host=settings.ui_host,
                port=settings.ui_port, log_level="warning", access_log=False)
