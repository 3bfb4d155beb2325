"""The Gradio app: layout and event wiring over :class:`ui.handlers.Handlers`.

This is the one module that imports gradio. It decides nothing about answers: the events call
the handlers (plain values in and out) and show what comes back, already rendered by
:mod:`ui.render` (which escapes every piece of document text); errors become Gradio's toasts.

    demo = create_app(settings)          # a gr.Blocks; tests can pass their own assistant
    mount(server, demo, settings)        # on ui.server's FastAPI app, beside the JSON API
"""
from __future__ import annotations

from collections.abc import Sequence

import gradio as gr
from fastapi import FastAPI
from starlette.middleware import Middleware  # (gradio's web framework)

from index import ChromaStore, QAError, environment

from .assets import CSS, HEAD
from .guard import LoginRequired
from .handlers import ASK_CONCURRENCY, Handlers, answerer_choices
from .settings import Settings, parse_auth
from .uploads import ALLOWED_SUFFIXES, allowed_types

EXAMPLES = (
    "how many personnel were injured?",
    "Which group did the U.S. strikes target?",
    "How many U.S. troops are in Iraq and Syria?",
)


class _Events:
    """The handlers as Gradio wants them: errors as ``gr.Error``, updates as ``gr.update``,
    progress injected by a ``gr.Progress()`` default."""

    def __init__(self, handlers: Handlers):
        self.h = handlers
        self.chat = handlers.chat_recorded
        self.documents = handlers.documents
        self.upload = handlers.upload

    def ask(self, question: str, top_k: int | None = None, answerer: str | None = None,
            sources: list[str] | None = None) -> dict:
        """Answer a question from the indexed documents (``sources``: only these, by name or
        glob pattern such as ``reports/*.pdf``; empty: all).

        Returns the answer as JSON: ``text`` (with [n] markers), ``citations`` (number, source,
        quote, start, end, score, verified, ...), ``short_answer``, ``refused``, ``passages``,
        ``answerer`` and ``sources`` (the documents searched; empty: all).
        """
        try:
            return self.h.ask(question, top_k=top_k, answerer=answerer, sources=sources)
        except QAError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

    def picker(self, chosen: Sequence[str] | None = None, collection: str | None = None):
        """The document picker's choices: the indexed documents (those still chosen stay)."""
        names = self.h.document_names(collection)
        if names is None:
            return gr.skip()
        return gr.update(choices=names, value=[c for c in chosen or () if c in names])

    def rebuild(self, collection: str | None = None, progress=gr.Progress()) -> tuple[str, str]:
        return self.h.rebuild(progress, collection=collection)

    def rate(self, conversation: dict, like: gr.LikeData) -> None:
        """Store a like/dislike of an answer (Gradio 6 sends liked=True/False, "" when undone)."""
        index = like.index[0] if isinstance(like.index, (list, tuple)) else like.index
        try:
            self.h.conversations.rate(conversation, int(index), like.liked)
        except QAError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

    def exports(self, conversation: dict):
        """The export buttons: the conversation so far as files (inactive before an answer)."""
        try:
            files = [self.h.conversations.export(conversation, fmt) for fmt in ("md", "json")]
        except QAError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        return tuple(gr.update(value=f, interactive=f is not None) for f in files)

    @staticmethod
    def new_conversation():
        """Clear chat: no messages, no turns, a new conversation (from the next answer)."""
        empty = gr.update(value=None, interactive=False)
        return [], [], {}, empty, empty

    # ---- knowledge bases (the selected one is the session's gr.State) ---------------------------
    def knowledge_bases(self):
        return gr.update(choices=self.h.knowledge_base_names())

    def switch(self, collection: str):
        """Another knowledge base picked: the session's, its documents, its picker; reports cleared."""
        return collection, self.h.documents(collection), self.picker((), collection), "", ""

    def create(self, name: str, paths: Sequence[str] | None, progress=gr.Progress()):
        """Create a knowledge base from the files chosen for it, build it and select it."""
        report, created = self.h.create_knowledge_base(name, paths, progress)
        if created is None:
            return report, gr.skip(), gr.skip(), gr.skip()
        return report, gr.update(choices=self.h.knowledge_base_names(), value=created), "", None


def _constant(value):
    return lambda: value


def create_app(settings: Settings, *, assistant=None, store: ChromaStore | None = None,
               handlers: Handlers | None = None) -> gr.Blocks:
    """The app's Blocks. ``assistant`` defaults to ``qa.Assistant(settings)``; ``handlers``
    (what :mod:`ui.server` shares with the JSON API) to ones over it."""
    environment.configure()  # before gradio reads GRADIO_ANALYTICS_ENABLED
    if handlers is None:
        if assistant is None:
            from qa import Assistant

            assistant = Assistant(settings)
        handlers = Handlers(settings, assistant, store)
    h = _Events(handlers)
    choices, chosen = answerer_choices(settings)

    with gr.Blocks(title="Document Q&A", analytics_enabled=False) as demo:
        gr.Markdown("## Ask your documents\nAnswers quote the documents: every `[n]` links to its source.")
        turns = gr.State([])
        kb = gr.State(settings.collection)  # this session's knowledge base (collection)
        conversation = gr.State({})  # this session's id in qa.history (ui.conversations.Conversation)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="qa-chat", label="Chat", height=560, render_markdown=False,
                    sanitize_html=True, latex_delimiters=[], allow_tags=False, buttons=[],
                    feedback_options=("Like", "Dislike"), group_consecutive_messages=False, layout="panel",
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
                with gr.Row():
                    clear = gr.Button("Clear chat", size="sm", variant="secondary")
                    export_md = gr.DownloadButton("Export Markdown", size="sm", variant="secondary",
                                                  interactive=False, elem_id="qa-export-md")
                    export_json = gr.DownloadButton("Export JSON", size="sm", variant="secondary",
                                                    interactive=False, elem_id="qa-export-json")
            with gr.Column(scale=2):
                with gr.Accordion("Settings", open=False):
                    answerer = gr.Radio(
                        choices, value=chosen, label="Answerer", elem_id="qa-answerer",
                        info=None if settings.llm_configured
                        else "Set OPENAI_BASE_URL (or OPENAI_API_KEY) to answer with an LLM.",
                    )
                    top_k = gr.Slider(1, max(20, settings.top_k), value=settings.top_k, step=1,
                                      label="Passages retrieved (top-k)", elem_id="qa-top-k")
                kb_picker = gr.Dropdown(
                    choices=[settings.collection], value=settings.collection, label="Knowledge base",
                    info="Each has its own documents, folder and index.", elem_id="qa-kb",
                )
                with gr.Accordion("New knowledge base", open=False, elem_id="qa-kb-new"):
                    kb_name = gr.Textbox(label="Name", placeholder="e.g. research-notes", max_lines=1,
                                         max_length=49, elem_id="qa-kb-name")
                    kb_files = gr.File(
                        label="Its documents", file_count="multiple", file_types=sorted(ALLOWED_SUFFIXES),
                        type="filepath", elem_id="qa-kb-files", height=100,
                    )
                    kb_create = gr.Button("Create knowledge base", elem_id="qa-kb-create")
                    kb_report = gr.HTML(elem_id="qa-kb-report", js_on_load=None)
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
            inputs=[question, chatbot, turns, conversation, answerer, top_k, picker, kb],
            outputs=[question, chatbot, turns, conversation],
            concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask", api_visibility="private",
        )
        export_io = dict(inputs=conversation, outputs=[export_md, export_json], api_visibility="private")
        question.submit(h.chat, **chat_io).then(h.exports, **export_io)
        ask.click(h.chat, **chat_io).then(h.exports, **export_io)
        for button, text in zip(examples, EXAMPLES):
            button.click(_constant(text), None, question, queue=False, api_visibility="private").then(
                h.chat, **chat_io
            ).then(h.exports, **export_io)
        new_conversation = dict(outputs=[chatbot, turns, conversation, export_md, export_json],
                                queue=False, api_visibility="private")
        clear.click(h.new_conversation, None, **new_conversation)
        chatbot.clear(h.new_conversation, None, **new_conversation)  # its trash icon
        chatbot.like(h.rate, conversation, None, queue=False, api_visibility="private")

        files.upload(h.upload, [files, kb], [files, upload_report], api_visibility="private")
        rebuild.click(h.rebuild, kb, [build_report, documents], concurrency_limit=1, concurrency_id="build",
                      api_visibility="private", show_progress="full").then(
            h.picker, [picker, kb], picker, api_visibility="private")
        demo.load(h.documents, kb, documents, api_visibility="private").then(
            h.picker, [picker, kb], picker, api_visibility="private").then(
            h.knowledge_bases, None, kb_picker, api_visibility="private")
        kb_picker.change(h.switch, kb_picker, [kb, documents, picker, upload_report, build_report],
                         api_visibility="private")
        kb_create.click(h.create, [kb_name, kb_files], [kb_report, kb_picker, kb_name, kb_files],
                        concurrency_limit=1, concurrency_id="build", api_visibility="private",
                        show_progress="full")

        gr.api(h.ask, api_name="ask", concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
    return demo


def mount(server: FastAPI, demo: gr.Blocks, settings: Settings) -> FastAPI:
    """Serve ``demo`` at ``/`` of ``server`` (no analytics, the login on every Gradio route)."""
    auth = parse_auth(settings)
    demo.queue(default_concurrency_limit=1)
    # Gradio checks the login only on its data routes; ui.guard makes every route need it.
    app_kwargs = {"middleware": [Middleware(LoginRequired)]} if auth else None
    return gr.mount_gradio_app(
        server, demo, path="/", server_name=settings.ui_host, server_port=settings.ui_port, auth=auth,
        max_file_size=f"{settings.upload_max_mb}mb", show_error=False, css=CSS, head=HEAD,
        footer_links=["api", "settings"], run_history=False, enable_monitoring=False,
        mcp_server=False, ssr_mode=False, app_kwargs=app_kwargs,
    )
