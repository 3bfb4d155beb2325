"""The Gradio app: layout and event wiring over :class:`qa.Assistant` and :func:`index.build_index`.

This is the one module that imports gradio. It decides nothing about answers: it passes the
question, the conversation so far and the chosen settings to the assistant, and shows what
comes back through :mod:`ui.render` (which escapes every piece of document text).

    demo = create_app(settings)          # a gr.Blocks; tests can pass their own assistant
    launch(settings)                      # what ``python -m ui`` runs
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import gradio as gr
from starlette.middleware import Middleware  # (gradio's web framework)

from index import BadRequest, ChromaStore, QAError, build_index, environment, list_documents
from qa import ensure_index
from qa.types import Answer, Turn

from . import render
from .guard import LoginRequired
from .settings import Settings
from .uploads import ALLOWED_SUFFIXES, allowed_types, save_uploads

log = logging.getLogger(__name__)

EXAMPLES = (
    "how many personnel were injured?",
    "Which group did the U.S. strikes target?",
    "How many U.S. troops are in Iraq and Syria?",
)
ASK_CONCURRENCY = 4  # questions answered at once, across all users and the /ask endpoint
UNEXPECTED = "Something went wrong on the server; its log has the details. Please try again."

CSS = """
.qa-answer .qa-text, .qa-question { line-height: 1.5; }
a.qa-marker { font-size: 0.8em; vertical-align: super; text-decoration: none; padding: 0 1px; }
.qa-refused { border-left: 4px solid #d97706; padding-left: 10px; }
.qa-refused-label { font-weight: 600; color: #b45309; margin-bottom: 4px; }
.qa-error { border-left: 4px solid #dc2626; padding-left: 10px; color: #b91c1c; }
.qa-notice { font-size: 0.9em; font-style: italic; margin-top: 6px; }
.qa-meta { font-size: 0.75em; opacity: 0.6; margin-top: 6px; }
.qa-sources { margin-top: 10px; }
.qa-sources > summary { cursor: pointer; font-weight: 600; }
.qa-source-list { padding-left: 0; list-style: none; margin: 6px 0 0 0; }
.qa-source { margin: 8px 0; scroll-margin-top: 40px; border-radius: 6px; }
.qa-source.qa-target { outline: 2px solid #2563eb; }
.qa-source-head { font-size: 0.85em; }
.qa-file { font-family: monospace; font-weight: 600; }
.qa-title, .qa-page, .qa-score { opacity: 0.7; margin-left: 6px; }
.qa-unverified { color: #b45309; margin-left: 6px; }
.qa-passage { font-size: 0.9em; margin-top: 4px; padding: 6px 8px; border-left: 3px solid #9ca3af;
              background: rgba(127, 127, 127, 0.08); }
mark.qa-quote { background: #fde047; color: #111; padding: 0 2px; }
.qa-documents { width: 100%; font-size: 0.9em; border-collapse: collapse; }
.qa-documents th, .qa-documents td { text-align: left; padding: 3px 6px;
                                     border-bottom: 1px solid rgba(127, 127, 127, 0.25); }
.qa-num-cell { text-align: right !important; }
.qa-rejected { color: #b91c1c; }
.qa-cursor { opacity: 0.5; }
"""

# A click on an [n] marker opens the "Sources" block it points into and scrolls to the entry
# (the target is inside a closed <details>, and the page's URL should not change).
HEAD = """<script>
document.addEventListener("click", function (event) {
  var link = event.target.closest ? event.target.closest("a.qa-marker") : null;
  if (!link) return;
  var target = document.getElementById((link.getAttribute("href") || "").slice(1));
  if (!target) return;
  event.preventDefault();
  event.stopPropagation();
  var details = target.closest("details");
  if (details) details.open = true;
  target.scrollIntoView({block: "nearest"});
  target.classList.add("qa-target");
  setTimeout(function () { target.classList.remove("qa-target"); }, 2500);
}, true);
</script>"""


def parse_auth(settings: Settings) -> tuple[str, str] | None:
    """``QA_UI_AUTH=user:password`` → ``(user, password)``; None when not set."""
    if settings.ui_auth is None:
        return None
    user, sep, password = settings.ui_auth.get_secret_value().partition(":")
    if not sep or not user or not password:
        raise BadRequest("QA_UI_AUTH must look like user:password (both non-empty).")
    return user, password


def answerer_choices(settings: Settings) -> tuple[list[str], str]:
    """The answerers to offer and the one selected at first."""
    if not settings.llm_configured:
        return ["extractive"], "extractive"
    return ["extractive", "llm"], "extractive" if settings.answerer == "extractive" else "llm"


class Handlers:
    """What the events call. Holds the assistant (one per process: it reads the live index
    generation per question, so it sees every rebuild) and a store for the documents list."""

    def __init__(self, settings: Settings, assistant, store: ChromaStore | None):
        self.settings = settings
        self.assistant = assistant
        self._store = store

    @property
    def store(self) -> ChromaStore:
        if self._store is None:
            self._store = ChromaStore(self.settings)
        return self._store

    # ---- chat ----------------------------------------------------------------------------
    def chat(
        self, question: str, messages: list[dict] | None, turns: list[Turn] | None,
        answerer: str, top_k: float, sources: Sequence[str] | None = None,
    ) -> Iterator[tuple[Any, list[dict], list[Turn]]]:
        """Stream one answer into the chat; ``turns`` is the conversation for follow-ups,
        ``sources`` the documents picked (empty: all)."""
        question = (question or "").strip()
        messages, turns = list(messages or []), list(turns or [])
        if not question:
            yield gr.skip(), messages, turns
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
            for piece in self.assistant.stream(question, tuple(turns), answerer=answerer, top_k=int(top_k),
                                               sources=list(sources or ()) or None):
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
            sources: list[str] | None = None) -> dict:
        """Answer a question from the indexed documents (``sources``: only these, by name or
        glob pattern such as ``reports/*.pdf``; empty: all).

        Returns the answer as JSON: ``text`` (with [n] markers), ``citations`` (number, source,
        quote, start, end, score, verified, ...), ``refused``, ``passages``, ``answerer`` and
        ``sources`` (the documents searched; empty: all).
        """
        question = (question or "").strip()
        if not question:
            raise gr.Error("Type a question.", print_exception=False)
        try:
            notice = ensure_index(self.assistant)
            answer = self.assistant.ask(question, answerer=answerer or None, top_k=top_k or None,
                                        sources=sources or None)
            return answer.with_notice(notice).to_dict()
        except QAError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        except Exception as exc:
            log.exception("answering %r failed", question)
            raise gr.Error(UNEXPECTED, print_exception=False) from exc

    # ---- documents -----------------------------------------------------------------------
    def documents(self) -> str:
        try:
            return render.documents_html(list_documents(self.store))
        except QAError as exc:
            return render.error_html(str(exc))
        except Exception:
            log.exception("listing the indexed documents failed")
            return render.error_html(UNEXPECTED)

    def picker(self, chosen: Sequence[str] | None = None):
        """The document picker's choices: the indexed documents (those still chosen stay)."""
        try:
            names = [d.source for d in list_documents(self.store)]
        except QAError:
            names = []
        except Exception:
            log.exception("listing the indexed documents failed")
            return gr.skip()
        return gr.update(choices=names, value=[c for c in chosen or () if c in names])

    def upload(self, paths: Sequence[str] | None) -> tuple[None, str]:
        if not paths:
            return None, ""
        return None, render.upload_report_html(save_uploads(paths, self.settings))

    def rebuild(self, progress=gr.Progress()) -> tuple[str, str]:
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


def _constant(value):
    return lambda: value


def create_app(settings: Settings, *, assistant=None, store: ChromaStore | None = None) -> gr.Blocks:
    """The app's Blocks. ``assistant`` defaults to ``qa.Assistant(settings)``."""
    environment.configure()  # before gradio reads GRADIO_ANALYTICS_ENABLED
    if assistant is None:
        from qa import Assistant

        assistant = Assistant(settings)
    h = Handlers(settings, assistant, store)
    choices, chosen = answerer_choices(settings)

    with gr.Blocks(title="Document Q&A", analytics_enabled=False) as demo:
        gr.Markdown("## Ask your documents\nAnswers quote the documents: every `[n]` links to its source.")
        turns = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="qa-chat", label="Chat", height=560, render_markdown=False,
                    sanitize_html=True, latex_delimiters=[], allow_tags=False, buttons=[],
                    feedback_options=None, group_consecutive_messages=False, layout="panel",
                )
                with gr.Row():
                    question = gr.Textbox(
                        elem_id="qa-question", show_label=False, scale=6, max_lines=4, max_length=2000,
                        placeholder="Ask a question about the documents, e.g. how many personnel were injured?",
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
                picker = gr.Dropdown(
                    choices=[], value=[], multiselect=True, label="Ask only these documents",
                    info="Empty: all documents.", elem_id="qa-sources",
                )
                gr.Markdown("**Examples**")
                with gr.Row():
                    examples = [gr.Button(q, size="sm", elem_classes="qa-example") for q in EXAMPLES]
                clear = gr.Button("Clear chat", size="sm", variant="secondary")
            with gr.Column(scale=2):
                with gr.Accordion("Settings", open=False):
                    answerer = gr.Radio(
                        choices, value=chosen, label="Answerer", elem_id="qa-answerer",
                        info=None if settings.llm_configured
                        else "Set OPENAI_BASE_URL (or OPENAI_API_KEY) to answer with an LLM.",
                    )
                    top_k = gr.Slider(1, max(20, settings.top_k), value=settings.top_k, step=1,
                                      label="Passages retrieved (top-k)", elem_id="qa-top-k")
                gr.Markdown("### Documents")
                documents = gr.HTML(elem_id="qa-documents", js_on_load=None)
                files = gr.File(
                    label=f"Upload ({allowed_types()}; up to {settings.upload_max_mb} MB each)",
                    file_count="multiple", file_types=sorted(ALLOWED_SUFFIXES), type="filepath",
                    elem_id="qa-upload", height=120,
                )
                upload_report = gr.HTML(elem_id="qa-upload-report", js_on_load=None)
                rebuild = gr.Button("Rebuild index", elem_id="qa-rebuild")
                build_report = gr.HTML(elem_id="qa-build-report", js_on_load=None, min_height=24)

        chat_io = dict(
            inputs=[question, chatbot, turns, answerer, top_k, picker], outputs=[question, chatbot, turns],
            concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask", api_visibility="private",
        )
        question.submit(h.chat, **chat_io)
        ask.click(h.chat, **chat_io)
        for button, text in zip(examples, EXAMPLES):
            button.click(_constant(text), None, question, queue=False, api_visibility="private").then(
                h.chat, **chat_io
            )
        clear.click(lambda: ([], []), None, [chatbot, turns], queue=False, api_visibility="private")
        chatbot.clear(lambda: [], None, turns, queue=False, api_visibility="private")  # its trash icon

        files.upload(h.upload, files, [files, upload_report], api_visibility="private")
        rebuild.click(h.rebuild, None, [build_report, documents], concurrency_limit=1,
                      api_visibility="private", show_progress="full").then(
            h.picker, picker, picker, api_visibility="private")
        demo.load(h.documents, None, documents, api_visibility="private").then(
            h.picker, picker, picker, api_visibility="private")

        gr.api(h.ask, api_name="ask", concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
    return demo


def launch(settings: Settings, *, assistant=None, prevent_thread_lock: bool = False) -> gr.Blocks:
    """Serve the app on ``settings.ui_host:ui_port`` (no share link, no analytics)."""
    auth = parse_auth(settings)
    demo = create_app(settings, assistant=assistant)
    demo.queue(default_concurrency_limit=1)
    # Gradio checks the login only on its data routes; ui.guard makes every route need it.
    app_kwargs = {"middleware": [Middleware(LoginRequired)]} if auth else None
    demo.launch(
        server_name=settings.ui_host, server_port=settings.ui_port, share=False, auth=auth,
        max_file_size=f"{settings.upload_max_mb}mb", show_error=False, css=CSS, head=HEAD,
        footer_links=["api", "settings"], run_history=False, enable_monitoring=False,
        mcp_server=False, ssr_mode=False, prevent_thread_lock=prevent_thread_lock,
        app_kwargs=app_kwargs,
    )
    return demo
