"""The viewer's routes under ``/api``: a document's whole text, and its original file.

    GET /api/documents/{source}/text   {source, title, text, pages: [{page, start, end}], exact, has_file}
    GET /api/documents/{source}/file   the file it was read from (a PDF inline: ``#page=N`` works)

``source`` is the document's name as indexed (``reports/q3.pdf``; each path segment
URL-encoded). The same login rules as the rest of the API (:func:`ui.api.access`: the page's
session cookie works). Only indexed documents are served, and only from the source folder:
a name that is not indexed, a line of a ``.jsonl`` corpus, a file gone since the build or one
that resolves outside the folder is a 404 with a readable message. A file other than a PDF is
served with a sandboxing Content-Security-Policy, so an HTML document never runs as the app.
"""
from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel

from qa import document_text

from .api import ErrorRoute, access
from .handlers import Handlers
from .settings import Settings

# What the browser is told each indexed file type is (anything else: a download).
CONTENT_TYPES = {
    ".pdf": "application/pdf", ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
    ".jsonl": "text/plain; charset=utf-8",
}
SANDBOX = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


class PageModel(BaseModel):
    page: int
    start: int
    end: int


class DocumentTextModel(BaseModel):
    source: str
    title: str
    text: str
    pages: list[PageModel]
    exact: bool  # False: pieced together from the chunks (the index was built before whole texts were kept)
    has_file: bool  # whether /file can serve it (False for a line of a .jsonl corpus)


def _text(handlers: Handlers, source: str, collection: str | None):
    """The document's text; its errors (404 not indexed, 409 no index, ...) are mapped by
    the API's one place, :func:`ui.api.error_status`."""
    return document_text(source, assistant=handlers.on(collection).assistant)


def original_file(settings: Settings, source: str, path: Path | None) -> Path:
    """The file ``source`` was read from, inside the source folder; 404 otherwise."""
    if path is None:
        raise HTTPException(404, f"{source!r} is not a file of its own (a line of a .jsonl corpus): "
                                 "its text is at /api/documents/<name>/text.")
    folder = Path(settings.source_dir).resolve()
    try:
        found = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise HTTPException(404, f"The file of {source!r} is no longer in the source folder "
                                 f"({settings.source_dir}): rebuild the index.") from None
    if not found.is_relative_to(folder) or not found.is_file():
        raise HTTPException(404, f"The file of {source!r} is not inside the source folder, so it is not served.")
    return found


def router(settings: Settings, handlers: Handlers, gradio_app: Callable[[], object | None]) -> APIRouter:
    api = APIRouter(prefix="/api/documents", tags=["documents"], route_class=ErrorRoute,
                    dependencies=[Depends(access(settings, gradio_app))])

    @api.get("/{source:path}/text", summary="A document's whole text, as indexed",
             response_model=DocumentTextModel,
             responses={404: {"description": "No indexed document has that name"}})
    def text(source: str, collection: str | None = None) -> dict:
        """The text citation offsets index into (``text[start:end]`` is a citation's quote),
        with the pages of a PDF (a citation's page holds its start). ``collection``: the
        knowledge base (default: ``QA_COLLECTION``'s)."""
        return _text(handlers, source, collection).to_dict()

    @api.get("/{source:path}/file", summary="The original file of a document", response_class=FileResponse,
             responses={200: {"content": {"application/pdf": {}}},
                        404: {"description": "Not an indexed document, or its file is gone"}})
    def file(source: str, collection: str | None = None) -> FileResponse:
        """The file from the knowledge base's source folder (a PDF opens inline: add ``#page=N``)."""
        doc = _text(handlers, source, collection)
        path = original_file(handlers.on(collection).settings, source, doc.path)
        suffix = path.suffix.lower()
        media = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        inline = suffix in CONTENT_TYPES
        headers = {"X-Content-Type-Options": "nosniff"}
        if suffix != ".pdf":  # Chromium's PDF viewer does not run in a sandboxed document
            headers["Content-Security-Policy"] = SANDBOX
        return FileResponse(path, media_type=media, filename=path.name, headers=headers,
                            content_disposition_type="inline" if inline else "attachment")

    return api
