"""The app's whole error tree: the index's, plus the LLM's. Every message says what to do next.

    QAError
    ├── IndexMissing         no index yet (build it)
    ├── EmbedderMismatch     index built with another embedder (full rebuild)
    ├── EmbedderUnavailable  the OpenAI-compatible embeddings endpoint failed
    ├── BuildInProgress      another build holds the lock
    ├── StoreUnavailable     Chroma (server or path) cannot be reached/opened
    ├── NotFound             no such document or conversation
    ├── LLMUnavailable       the OpenAI-compatible chat endpoint failed (answering falls back
    │                        to the extractive answer with a notice)
    └── BadRequest           invalid input or settings
"""
from __future__ import annotations

from index.errors import (
    BadRequest, BuildInProgress, EmbedderMismatch, EmbedderUnavailable, IndexMissing, NotFound, QAError,
    StoreUnavailable,
)

__all__ = [
    "BadRequest", "BuildInProgress", "EmbedderMismatch", "EmbedderUnavailable", "IndexMissing",
    "LLMUnavailable", "NotFound", "QAError", "StoreUnavailable",
]


class LLMUnavailable(QAError):
    """The LLM's endpoint failed; the message names the setting to check."""
