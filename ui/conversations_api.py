"""The conversation routes of the JSON API: start one, export it, rate its answers.

``POST /api/conversations`` gives an id; ``POST /api/ask`` with ``"conversation": id`` adds
each answer to it (and uses its earlier turns as the history); ``GET /api/export`` downloads it
as Markdown with footnote citations or as JSON; ``POST /api/feedback`` stores a thumbs up/down
on one of its answers, as the page's like/dislike does. Behind the same login as ``/api``
(:func:`ui.api.access`), errors mapped by :func:`ui.api.error_status`.
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Response

from qa import export_json, export_markdown

from .api import ErrorRoute, access
from .api_models import FeedbackRequest, NewConversation, Stored
from .api_models import errors as _errors
from .handlers import Handlers
from .settings import Settings

MEDIA = {"md": "text/markdown; charset=utf-8", "json": "application/json"}


def router(settings: Settings, handlers: Handlers, gradio_app) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["conversations"], route_class=ErrorRoute,
                    dependencies=[Depends(access(settings, gradio_app))])

    def history():
        return handlers.conversations.history

    @api.post("/conversations", summary="Start a conversation (its answers can be exported and rated)",
              response_model=NewConversation, responses=_errors(500))
    def new() -> NewConversation:
        return NewConversation(conversation=history().new_conversation())

    @api.get("/export", summary="A conversation as Markdown (footnote citations) or JSON",
             response_class=Response, responses=_errors(400, 404, ok={
                 "content": {"text/markdown": {}, "application/json": {}},
                 "description": "Markdown: each question a heading, each [n] a footnote with the verbatim "
                 "quote, file, page and character offsets. JSON: every answer's `Answer.to_dict()`."}))
    def export(conversation: str, format: Literal["md", "json"] = "md") -> Response:
        answers = history().answers(conversation)
        body = export_markdown(answers) if format == "md" else export_json(answers)
        name = f"conversation-{conversation[:8]}.{format}"
        return Response(body, media_type=MEDIA[format],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @api.post("/feedback", summary="Thumbs up or down on one answer of a conversation",
              response_model=Stored, responses=_errors(400, 404))
    def feedback(body: FeedbackRequest) -> Stored:
        history().feedback(body.conversation, body.turn, body.rating, body.comment)
        return Stored()

    return api
