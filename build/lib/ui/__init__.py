"""The browser app: a thin Gradio shell over :class:`qa.Assistant` and the index rebuild.

    from ui import Settings, create_app, launch
    launch(Settings.from_env())          # or: python -m ui

:class:`Settings` is ``qa.Settings`` plus the web app's (host, port, login, upload limit).

Only :mod:`ui.app` imports gradio; it is loaded on first use, so :mod:`ui.render` and
:mod:`ui.uploads` stay importable (and testable) without it.
"""
from __future__ import annotations

__all__ = ["Settings", "create_app", "launch"]


def __getattr__(name: str):
    if name == "Settings":
        from .settings import Settings

        return Settings
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module 'ui' has no attribute {name!r}")
