"""What the page's events do, with no gradio: plain values in, plain values (HTML, dicts) out.

:mod:`ui.app` wires these to the components and turns :class:`ServerError` and the other
:class:`index.QAError`s into Gradio's error toasts; :mod:`ui.api` calls the same methods over
HTTP. Holds the assistant (one per process: it reads the live index generation per question,
so it sees every rebuild) and a store for the documents list.

The conversations (answers, their thumbs up/down, the exports) are :mod:`ui.conversations`',
one per process (``handlers.conversations``, shared by every knowledge base).

Knowledge bases: ``handlers.on(collection)`` gives the handlers of another collection (its own
settings, source folder, store and assistant; made once per name and kept), and every page
method takes ``collection=`` (None: ``settings.collection``, the default knowledge base).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from html import escape

from index import (
    BadRequest, ChromaStore, IndexReader, KnowledgeBase, QAError, build_index, check_collection_name,
    collection_settings, list_collections, list_documents,
)
from index.models import BuildReport
from qa import ensure_index
from qa.types import Answer, Turn

from . import render
from .conversations import Conversation, Conversations
from .settings import Settings
from .uploads import UploadResult, save_uploads

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
    """The page's events for one knowledge base (``settings.collection``); :meth:`on` gives
    another's. ``make_assistant(settings)`` makes the assistant of another knowledge base
    (default: a ``qa.Assistant`` sharing this one's embedder)."""

    def __init__(self, settings: Settings, assistant, store: ChromaStore | None, *,
                 make_assistant: Callable[[Settings], Any] | None = None):
        self.settings = settings
        self.assistant = assistant
        self._store = store
        self._make_assistant = make_assistant
        self._root = self  # the default knowledge base's handlers keep the others
        self._conversations: Conversations | None = None
        self._others: dict[str, Handlers] = {}
        self._lock = threading.Lock()
        # one limit for every knowledge base and every way in: a burst of API calls waits its
        # turn behind the page's
        self.asking = threading.BoundedSemaphore(ASK_CONCURRENCY)

    @property
    def store(self) -> ChromaStore:
        if self._store is None:
            self._store = ChromaStore(self.settings)
        return self._store

    @property
    def conversations(self) -> Conversations:
        """Every session's conversation (``settings.history_path``), one for all knowledge bases."""
        root = self._root
        if root._conversations is None:
            root._conversations = Conversations(root.settings)
        return root._conversations

    # ---- knowledge bases -----------------------------------------------------------------
    def on(self, collection: str | None) -> Handlers:
        """The handlers of knowledge base ``collection`` (None: this one). Raises
        :class:`BadRequest` for a bad name or one that does not exist."""
        root = self._root
        if collection is None or collection == self.settings.collection:
            return self
        if collection == root.settings.collection:
            return root
        with root._lock:
            found = root._others.get(collection)
            if found is not None:
                return found
        kb_settings = collection_settings(root.settings, collection, root.store)
        store = root.store.sibling(kb_settings)
        if store.read_state() is None:
            names = ", ".join(self.knowledge_base_names())
            raise BadRequest(f"There is no knowledge base named '{collection}'. Pick one of: {names}; "
                             "or create it with “New knowledge base”.")
        with root._lock:
            found = root._others.get(collection)
            if found is None:
                found = Handlers(kb_settings, root._assistant_for(kb_settings), store)
                found._root, found.asking = root, root.asking
                root._others[collection] = found
            return found

    def _shared_embedder(self):
        reader = getattr(self._root.assistant, "reader", None)
        return reader.embedder if isinstance(reader, IndexReader) else None

    def _assistant_for(self, settings: Settings):
        if self._make_assistant is not None:
            return self._make_assistant(settings)
        from qa import Assistant

        return Assistant(settings, embedder=self._shared_embedder())

    def knowledge_bases(self) -> list[KnowledgeBase]:
        """Every knowledge base in this Chroma (raises :class:`index.QAError`)."""
        return list_collections(self._root.settings, self._root.store)

    def knowledge_base_names(self) -> list[str]:
        """For the picker: the default knowledge base first (built or not), then the others."""
        default = self._root.settings.collection
        try:
            others = sorted(self._root.store.states())
        except QAError:
            others = []
        except Exception:
            log.exception("listing the knowledge bases failed")
            others = []
        return [default] + [n for n in others if n != default]

    def new_knowledge_base(self, name: str, paths: Sequence[str] | None,
                           progress: Progress | None = None) -> tuple[UploadResult, BuildReport]:
        """Create knowledge base ``name`` from these uploaded files (saved in its own folder,
        ``<kb_root>/<name>``) and build it. Raises :class:`index.QAError`."""
        root = self._root
        name = check_collection_name(name or "")
        if name in self.knowledge_base_names():
            raise BadRequest(f"A knowledge base named '{name}' already exists: pick it under "
                             "“Knowledge base”, or choose another name.")
        if not paths:
            raise BadRequest("Choose the files of the new knowledge base first: they become its documents.")
        kb_settings = collection_settings(root.settings, name, root.store)
        saved = save_uploads(paths, kb_settings)
        if not saved.saved and not saved.unchanged:
            reasons = "; ".join(f"{r.name}: {r.reason}" for r in saved.rejected)
            raise BadRequest(f"None of the files can be indexed ({reasons}), so no knowledge base was created.")
        return saved, self._build(kb_settings, progress, store=root.store.sibling(kb_settings))

    def create_knowledge_base(self, name: str, paths: Sequence[str] | None,
                              progress: Progress) -> tuple[str, str | None]:
        """:meth:`new_knowledge_base` for the page: (its report as HTML, its name; None if failed)."""
        try:
            saved, report = self.new_knowledge_base(name, paths, progress)
        except QAError as exc:
            return render.error_html(str(exc)), None
        except Exception:
            log.exception("creating the knowledge base %r failed", name)
            return render.error_html(UNEXPECTED), None
        name = name.strip()
        rejected = render.upload_report_html(UploadResult(rejected=saved.rejected)) if saved.rejected else ""
        return (f'<div class="qa-report"><strong>Created the knowledge base {escape(name)}</strong> '
                f"in {escape(str(self.on(name).settings.source_dir))}.</div>"
                + render.build_report_html(report) + rejected), name

    def limited(self, pieces: Iterator) -> Iterator:
        """``pieces`` (an answer being streamed) produced while holding one of the
        :data:`ASK_CONCURRENCY` slots; the slot is given back when it ends or is closed."""
        with self.asking:
            yield from pieces

    # ---- chat ----------------------------------------------------------------------------
    def chat(
        self, question: str, messages: list[dict] | None, turns: list[Turn] | None,
        answerer: str, top_k: float, sources: Sequence[str] | None = None, collection: str | None = None, *,
        on_answer: Callable[[Answer], None] | None = None,
    ) -> Iterator[tuple[str, list[dict], list[Turn]]]:
        """Stream one answer into the chat: yields (the question box, messages, turns);
        ``turns`` is the conversation for follow-ups, ``sources`` the documents picked
        (empty: all), ``collection`` the knowledge base; ``on_answer`` gets the finished
        answer before the last yield. A blank question leaves everything as it is."""
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
            assistant = self.on(collection).assistant
            notice = ensure_index(assistant)
            for piece in self.limited(assistant.stream(question, tuple(turns), answerer=answerer,
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
        shown_kb = None if collection in (None, self._root.settings.collection) else collection
        messages[-1] = {"role": "assistant", "content": render.answer_html(answer, turn, shown_kb)}
        if on_answer is not None:
            on_answer(answer)
        yield "", messages, turns + [Turn(question, answer.text)]

    def chat_recorded(
        self, question: str, messages: list[dict] | None, turns: list[Turn] | None,
        conversation: Conversation | None, answerer: str, top_k: float, sources: Sequence[str] | None = None,
        collection: str | None = None,
    ) -> Iterator[tuple[str, list[dict], list[Turn], Conversation]]:
        """:meth:`chat`, with every finished answer added to the session's conversation
        (started with the first answer): yields what it does, then the conversation."""
        conversation = {"id": None, "turns": {}, **(conversation or {})}
        finished: list[Answer] = []
        for box, shown, turns_now in self.chat(question, messages, turns, answerer, top_k, sources, collection,
                                               on_answer=finished.append):
            if finished:
                name = collection or self.settings.collection
                conversation = self.conversations.record(conversation, finished.pop(), len(shown) - 1, name)
            yield box, shown, turns_now, conversation

    def ask(self, question: str, top_k: int | None = None, answerer: str | None = None,
            sources: list[str] | None = None, history: Sequence[Turn] = (),
            collection: str | None = None) -> dict:
        """The answer as JSON (``Answer.to_dict()``) from knowledge base ``collection`` (None:
        the default); a bad question raises its :class:`index.QAError`, anything unexpected is
        logged and raises :class:`ServerError`."""
        question = (question or "").strip()
        if not question:
            raise BadRequest("Type a question.")
        try:
            assistant = self.on(collection).assistant
            notice = ensure_index(assistant)
            with self.asking:
                answer = assistant.ask(question, tuple(history), answerer=answerer or None,
                                       top_k=top_k or None, sources=sources or None)
            return answer.with_notice(notice).to_dict()
        except QAError:
            raise
        except Exception as exc:
            log.exception("answering %r failed", question)
            raise ServerError() from exc

    # ---- documents -----------------------------------------------------------------------
    def documents(self, collection: str | None = None) -> str:
        try:
            return render.documents_html(list_documents(self.on(collection).store))
        except QAError as exc:
            return render.error_html(str(exc))
        except Exception:
            log.exception("listing the indexed documents failed")
            return render.error_html(UNEXPECTED)

    def document_names(self, collection: str | None = None) -> list[str] | None:
        """The indexed documents' names ([] without an index; None when listing failed)."""
        try:
            return [d.source for d in list_documents(self.on(collection).store)]
        except QAError:
            return []
        except Exception:
            log.exception("listing the indexed documents failed")
            return None

    def upload(self, paths: Sequence[str] | None, collection: str | None = None) -> tuple[None, str]:
        """Save uploaded files into the knowledge base's source folder (not indexed yet)."""
        if not paths:
            return None, ""
        try:
            kb = self.on(collection)
        except QAError as exc:
            return None, render.error_html(str(exc))
        return None, render.upload_report_html(save_uploads(paths, kb.settings))

    def rebuild(self, progress: Progress, collection: str | None = None) -> tuple[str, str]:
        """Rebuild the knowledge base from its folder: (the build report, the documents list)."""
        try:
            kb = self.on(collection)
            result = kb._build(kb.settings, progress, store=kb.store)
        except QAError as exc:
            return render.error_html(str(exc)), self.documents(collection)
        except Exception:
            log.exception("rebuilding the index failed")
            return render.error_html(UNEXPECTED), self.documents(collection)
        return render.build_report_html(result), kb.documents()

    def build(self, collection: str | None = None, progress: Progress | None = None) -> BuildReport:
        """Bring knowledge base ``collection`` up to date with its folder (raises :class:`index.QAError`)."""
        kb = self.on(collection)
        return kb._build(kb.settings, progress, store=kb.store)

    def _build(self, settings: Settings, progress: Progress | None, store: ChromaStore) -> BuildReport:
        def report(stage: str, done: int, total: int) -> None:
            if progress is not None:
                progress((done, total) if total else None, desc=render.progress_text(stage, done, total))

        if progress is not None:
            progress(None, desc="reading documents")
        return build_index(settings, progress=report, show_progress=False, store=store,
                           embedder=self._shared_embedder())
