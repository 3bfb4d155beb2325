"""The app's error tree. Every message says what the user should do next.

    QAError
    ├── IndexMissing       no index yet (build it)
    ├── EmbedderMismatch   index built with another embedder (full rebuild)
    ├── BuildInProgress    another build holds the lock
    ├── BadDocument        a document could not be read (skipped in builds)
    ├── StoreUnavailable   Chroma (server or path) cannot be reached/opened
    ├── LLMUnavailable     the OpenAI-compatible endpoint failed
    └── BadRequest         invalid input or settings
"""
from __future__ import annotations


class QAError(Exception):
    """Base of every error this app raises on purpose."""


class IndexMissing(QAError):
    pass


class EmbedderMismatch(QAError):
    pass


class BuildInProgress(QAError):
    pass


class BadDocument(QAError):
    pass


class StoreUnavailable(QAError):
    pass


class LLMUnavailable(QAError):
    pass


class BadRequest(QAError):
    pass
