"""Ask questions about the indexed documents; get answers with verified citations.

    from qa import answer
    a = answer("how many personnel were injured?")
    a.text        # "U.S. Central Command said ... eight U.S. personnel ... [1]"
    a.citations   # (Citation(number=1, source=..., quote=..., start=..., end=...),)

:func:`answer` and :func:`stream_answer` read the settings from ``.env`` and the
environment (once) and keep one :class:`Assistant` per settings. Code that manages its
own settings uses :class:`Assistant` directly.

Errors (all :class:`QAError`): :class:`BadRequest` (empty or too long question, bad
settings), :class:`IndexMissing` (no index and no documents to build it from),
:class:`EmbedderMismatch` (the index was built with another embedder),
:class:`EmbedderUnavailable` (the ``openai:`` embedder's endpoint failed),
:class:`LLMUnavailable` (never raised by ``answer``: it falls back to the extractive
answer with a ``notice``).
"""
from __future__ import annotations

import threading
from typing import Iterator, Sequence

from index import environment

from .errors import (
    BadRequest, EmbedderMismatch, EmbedderUnavailable, IndexMissing, LLMUnavailable, QAError,
)
from .service import Assistant
from .settings import Settings
from .types import Answer, Citation, Passage, ShortAnswer, Turn

__all__ = [
    "Answer", "Assistant", "BadRequest", "Citation", "EmbedderMismatch", "EmbedderUnavailable", "IndexMissing",
    "LLMUnavailable", "Passage", "QAError", "Settings", "ShortAnswer", "Turn", "answer", "stream_answer",
]

_assistants: dict[Settings, Assistant] = {}
_lock = threading.Lock()


def _assistant(settings: Settings | None) -> Assistant:
    environment.configure()
    settings = settings if settings is not None else Settings.from_env()
    with _lock:
        found = _assistants.get(settings)
        if found is None:
            found = _assistants[settings] = Assistant(settings)
        return found


def answer(
    question: str, history: Sequence[Turn] = (), settings: Settings | None = None, *,
    answerer: str | None = None, top_k: int | None = None,
) -> Answer:
    """Answer ``question`` from the indexed documents (``history``: earlier turns, oldest first).

    ``settings`` default to ``Settings.from_env()`` (``.env`` and the environment).
    """
    return _assistant(settings).ask(question, history, answerer=answerer, top_k=top_k)


def stream_answer(
    question: str, history: Sequence[Turn] = (), settings: Settings | None = None, *,
    answerer: str | None = None, top_k: int | None = None,
) -> Iterator[str | Answer]:
    """Like :func:`answer`, but yields text deltas as they come, then the final :class:`Answer`."""
    return _assistant(settings).stream(question, history, answerer=answerer, top_k=top_k)
