"""The browser app: a thin Gradio shell over :class:`qa.Assistant` and the index rebuild.

    from ui import Settings, create_app, create_server, launch
    launch(Settings.from_env())          # or: python -m ui

:class:`Settings` is ``qa.Settings`` plus the web app's (host, port, login, upload limit).

Only :mod:`ui.app` imports gradio, and the routes of the JSON API are :mod:`ui.api` and
:mod:`ui.documents_api` (fastapi); :mod:`ui.server` puts them on one uvicorn server. The rest
(:mod:`ui.handlers`, :mod:`ui.conversations`, :mod:`ui.render`, :mod:`ui.uploads`) stays
importable (and testable) without gradio.
"""
from __future__ import annotations

__all__ = ["Settings", "create_app", "create_server", "launch"]


def __getattr__(name: str):
    if name == "Settings":
        from .settings import Settings

        return Settings
    if name == "create_app":
        from .app import create_app

        return create_app
    if name in __all__:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module 'ui' has no attribute {name!r}")
