"""The browser app: a thin Gradio shell over :class:`qa.Assistant` and the index rebuild.

    from ui import Settings, create_app, create_server, launch
    launch(Settings.from_env())          # or: python -m ui

:class:`Settings` is ``qa.Settings`` plus the web app's (host, port, login, upload limit).

Only :mod:`ui.app` imports gradio and only :mod:`ui.api` fastapi (both are loaded on first
use); :mod:`ui.server` puts them on one uvicorn server. :mod:`ui.handlers`, :mod:`ui.render`
and :mod:`ui.uploads` stay importable (and testable) without them.
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
