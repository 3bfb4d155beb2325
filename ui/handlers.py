"""What the page's events do, with no gradio: plain values in, plain values (HTML, dicts) out.

:mod:`ui.app` wires these to the components and turns :class:`ServerError` and the other
:class:`index.QAError`s into Gradio's error toasts; :mod:`ui.api` calls the same methods over
HTTP. Holds the assistant (one per process: it reads the live index generation per question,
so it sees every rebuild) and a store for the documents list.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from index import BadRequest, ChromaStore, QAError, build_index, list_documents
from qa import ensure_index
from qa.types import Answer, Turn

from . import render
from .settings import Settings
from .uploads import save_uploads

log = logging.getLogger(__name__)

ASK_CONCURRENCY = 4  # questions answered at once, across the page, Gradio's /ask and /api/ask
UNEXPECTED = "Something went wrong on the server; its log has the details. Please try again."

Progress = Callable[..., Any]  # progress(value_or_(done, total)_or_None, desc=...)


class ServerError(QAError):
    """An unexpected failure, logged with its traceback; the user sees :data:`UNEXPECTED`."""

    def __init__(self) -> None:
        super().__init__(UNEXPECTED)


def answerer_choices(settings: Settings) -> tuple[list[str], str]:
    """The answerers to offer and the one selected at first."""
    if not settings.llm_configured:
        return ["extractive"], "extractive"
    return ["extractive", "llm"], "extractive" if settings.answerer == "extractive" else "llm"


class Handlers:
    def __init__(self, settings: Settings, assistant, store: ChromaStore | None):
        self.settings = settings
        self.assistant = assistant
        self._store = store
        # one limit for every way in, so a burst of API calls waits its turn behind the page's
        self.asking = threading.BoundedSemaphore(ASK_CONCURRENCY)

    @property
    def store(self) -> ChromaStore:
        if self._store is None:
            self._store = ChromaStore(self.settings)
        return self._store

    def limited(self, pieces: Iterator) -> Iterator:
        """``pieces`` (an answer being streamed) produced while holding one of the
        :data:`ASK_CONCURRENCY` slots; the slot is given back when it ends or is closed."""
        with self.asking:
            yield from pieces

    # ---- chat ----------------------------------------------------------------------------
    def chat(
        self, question: str, messages: list[dict] | None, turns: list[Turn] | None,
        answerer: str, top_k: float, sources: Sequence[str] | None = None,
    ) -> Iterator[tuple[str, list[dict], list[Turn]]]:
        """Stream one answer into the chat: yields (the question box, messages, turns);
        ``turns`` is the conversation for follow-ups, ``sources`` the documents picked
        (empty: all). A blank question leaves everything as it is."""
        raw = question or ""
        question = raw.strip()
        messages, turns = list(messages or []), list(turns or [])
        if not question:
            yield raw, messages, turns
            return
        turn = len(turns)
        messages += [
            {"role": "user", "content": render.question_html(question)},
            {"role": "assistant", "content": render.streaming_html("")},
        ]
        yield "", messages, turns
        partial, answer = "", None
        try:
            notice = ensure_index(self.assistant)
            for piece in self.limited(self.assistant.stream(question, tuple(turns), answerer=answerer,
                                                            top_k=int(top_k), sources=list(sources or ()) or None)):
                if isinstance(piece, Answer):
                    answer = piece.with_notice(notice)
                else:
                    partial += piece
                    messages[-1] = {"role": "assistant", "content": render.streaming_html(partial)}
                    yield "", messages, turns
            if answer is None:
                raise RuntimeError("the assistant's stream ended without an Answer")
        except QAError as exc:
            messages[-1] = {"role": "assistant", "content": render.error_html(str(exc))}
            yield "", messages, turns
            return
        except Exception:
            log.exception("answering %r failed", question)
            messages[-1] = {"role": "assistant", "content": render.error_html(UNEXPECTED)}
            yield "", messages, turns
            return
        messages[-1] = {"role": "assistant", "content": render.answer_html(answer, turn)}
        yield "", messages, turns + [Turn(question, answer.text)]

    def ask(self, question: str, top_k: int | None = None, answerer: str | None = None,
            sources: list[str] | None = None, history: Sequence[Turn] = ()) -> dict:
        """The answer as JSON (``Answer.to_dict()``); a bad question raises its
        :class:`index.QAError`, anything unexpected is logged and raises :class:`ServerError`."""
        question = (question or "").strip()
        if not question:
            raise BadRequest("Type a question.")
        try:
            notice = ensure_index(self.assistant)
            with self.asking:
                answer = self.assistant.ask(question, tuple(history), answerer=answerer or None,
                                            top_k=top_k or None, sources=sources or None)
            return answer.with_notice(notice).to_dict()
        except QAError:
            raise
        except Exception as exc:
            log.exception("answering %r failed", question)
            raise ServerError() from exc

    # ---- documents -----------------------------------------------------------------------
    def documents(self) -> str:
        try:
            return render.documents_html(list_documents(self.store))
        except QAError as exc:
            return render.error_html(str(exc))
        except Exception:
            log.exception("listing the indexed documents failed")
            return render.error_html(UNEXPECTED)

    def document_names(self) -> list[str] | None:
        """The indexed documents' names ([] without an index; None when listing failed)."""
        try:
            return [d.source for d in list_documents(self.store)]
        except QAError:
            return []
        except Exception:
            log.exception("listing the indexed documents failed")
            return None

    def upload(self, paths: Sequence[str] | None) -> tuple[None, str]:
        if not paths:
            return None, ""
        return None, render.upload_report_html(save_uploads(paths, self.settings))

    def rebuild(self, progress: Progress) -> tuple[str, str]:
        def report(stage: str, done: int, total: int) -> None:
            progress((done, total) if total else None, desc=render.progress_text(stage, done, total))

        progress(None, desc="reading documents")
        try:
            result = build_index(self.settings, progress=report, show_progress=False)
        except QAError as exc:
            return render.error_html(str(exc)), self.documents()
        except Exception:
            log.exception("rebuilding the index failed")
            return render.error_html(UNEXPECTED), self.documents()
        return render.build_report_html(result), self.documents()
