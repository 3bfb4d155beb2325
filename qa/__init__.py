"""Ask questions about the indexed documents; get answers with verified citations.

    from qa import answer
    a = answer("how many personnel were injured?")
    a.text        # "U.S. Central Command said ... eight U.S. personnel ... [1]"
    a.citations   # (Citation(number=1, source=..., quote=..., start=..., end=...),)
    document_text(a.citations[0].source).text   # the whole document the offsets index into

:func:`answer` and :func:`stream_answer` read the settings from ``.env`` and the
environment (once) and keep one :class:`Assistant` per settings. Code that manages its
own settings uses :class:`Assistant` directly. :func:`as_retriever` and
:func:`as_query_engine` give the same retrieval and answers as llama-index parts.
:func:`export_markdown` and :func:`export_json` turn a conversation (its answers, oldest
first) into a file; :class:`qa.history.History` keeps conversations and their feedback.

Errors (all :class:`QAError`): :class:`BadRequest` (empty or too long question, bad
settings), :class:`IndexMissing` (no index and no documents to build it from),
:class:`EmbedderMismatch` (the index was built with another embedder),
:class:`EmbedderUnavailable` (the ``openai:`` embedder's endpoint failed),
:class:`LLMUnavailable` (never raised by ``answer``: it falls back to the extractive
answer with a ``notice``), :class:`NotFound` (:func:`document_text` of a name not indexed).
"""
from __future__ import annotations

import threading
from typing import Iterator, Sequence

from index import DocumentText, environment

from . import documents
from .errors import (
    BadRequest, EmbedderMismatch, EmbedderUnavailable, IndexMissing, LLMUnavailable, NotFound, QAError,
)
from .export import export_json, export_markdown
from .service import Assistant
from .settings import Settings
from .types import Answer, Citation, Passage, ShortAnswer, Turn

__all__ = [
    "Answer", "Assistant", "BadRequest", "Citation", "DocumentText", "EmbedderMismatch",
    "EmbedderUnavailable", "IndexMissing", "LLMUnavailable", "NotFound", "Passage", "QAError", "Settings",
    "ShortAnswer", "Turn", "answer", "as_query_engine", "as_retriever", "document_text", "ensure_index",
    "export_json", "export_markdown", "stream_answer",
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


def ensure_index(assistant: Assistant) -> str | None:
    """An entry point's set-up: build the index from the source folder when there is none
    yet (``Assistant`` itself never builds). Returns a notice saying so, or None; raises
    :class:`IndexMissing` when there is neither an index nor a source folder."""
    from index import IndexReader, build_index

    if not isinstance(getattr(assistant, "reader", None), IndexReader):
        return None  # an assistant or reader of the caller's own: theirs to build
    try:
        assistant.reader.state()
        return None
    except IndexMissing:
        if not assistant.settings.source_dir.exists():
            raise
    with _lock:
        try:
            assistant.reader.state()
            return None
        except IndexMissing:
            report = build_index(assistant.settings, embedder=assistant.reader.embedder,
                                 store=assistant.reader.store, show_progress=False, wait=300)
    return (f"There was no index yet, so I built it from {assistant.settings.source_dir} "
            f"({report.documents_total} documents, {report.chunks_total} chunks).")


def answer(
    question: str, history: Sequence[Turn] = (), settings: Settings | None = None, *,
    answerer: str | None = None, top_k: int | None = None, sources: Sequence[str] | None = None,
) -> Answer:
    """Answer ``question`` from the indexed documents (``history``: earlier turns, oldest first).
    ``sources`` restricts it to some documents: exact names (as ``python -m index status``
    lists them) or glob patterns (``reports/*.pdf``); an unknown one is a :class:`BadRequest`.

    ``settings`` default to ``Settings.from_env()`` (``.env`` and the environment). With no
    index yet, the first call builds it from ``QA_SOURCE_DIR`` (and says so in ``notice``).
    """
    assistant = _assistant(settings)
    notice = ensure_index(assistant)
    return assistant.ask(question, history, answerer=answerer, top_k=top_k, sources=sources).with_notice(notice)


def stream_answer(
    question: str, history: Sequence[Turn] = (), settings: Settings | None = None, *,
    answerer: str | None = None, top_k: int | None = None, sources: Sequence[str] | None = None,
) -> Iterator[str | Answer]:
    """Like :func:`answer`, but yields text deltas as they come, then the final :class:`Answer`."""
    assistant = _assistant(settings)
    notice = ensure_index(assistant)
    for item in assistant.stream(question, history, answerer=answerer, top_k=top_k, sources=sources):
        yield item.with_notice(notice) if isinstance(item, Answer) else item


def document_text(source: str, settings: Settings | None = None, *,
                  assistant: Assistant | None = None) -> DocumentText:
    """The whole text of indexed document ``source``, exactly as indexed: a citation's
    ``start``/``end`` index into ``.text`` (``text[c.start:c.end] == c.quote``), ``.pages`` are a
    PDF's pages (``number``, ``start``, ``end``: the citation's page holds its start) and
    ``.path`` the file it was read from. A name that is not indexed is a :class:`NotFound`.
    ``settings`` and ``assistant`` as for :func:`as_retriever`."""
    assistant = assistant if assistant is not None else _assistant(settings)
    return documents.document_text(assistant.reader, source)


def as_retriever(settings: Settings | None = None, top_k: int | None = None, *,
                 assistant: Assistant | None = None, sources: Sequence[str] | None = None):
    """The hybrid retrieval as a llama-index ``BaseRetriever``: ``retrieve(query)`` gives
    ``NodeWithScore``s over ``TextNode``s with the passages' document offsets and ``source``,
    ``title``, ``page`` metadata (:mod:`qa.llamaindex`). ``top_k`` defaults to the settings'.

    ``settings`` as for :func:`answer` (a missing index is built first, as there);
    ``assistant``: use this :class:`Assistant` instead; ``sources``: only these documents
    (names or glob patterns, as for :func:`answer`).
    """
    from .llamaindex import QARetriever  # llama_index.core: imported only when asked for

    return QARetriever(assistant if assistant is not None else _prepared(settings), top_k, sources)


def as_query_engine(settings: Settings | None = None, *, assistant: Assistant | None = None,
                    answerer: str | None = None, top_k: int | None = None,
                    sources: Sequence[str] | None = None):
    """:func:`answer` as a llama-index query engine: ``query(question)`` gives a ``Response``
    with the answer text, its passages as ``source_nodes`` and, in ``metadata``, the
    citations (plain dicts), ``short_answer``, ``refused`` and ``answerer``."""
    from .llamaindex import QAQueryEngine

    return QAQueryEngine(assistant if assistant is not None else _prepared(settings),
                         answerer=answerer, top_k=top_k, sources=sources)


def _prepared(settings: Settings | None) -> Assistant:
    """The one-shot assistant of ``settings``, its index built if there is none yet."""
    assistant = _assistant(settings)
    ensure_index(assistant)
    return assistant
