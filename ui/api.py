"""The JSON API under ``/api``, beside the Gradio app on the same server (the one fastapi module).

Every route calls the same :class:`ui.handlers.Handlers` (and assistant, and limit on questions
answered at once) the page uses. Who may call it:

* with a login (``QA_UI_AUTH=user:password``): HTTP Basic with those credentials, or the
  browser's Gradio session cookie (so links from the page work), or ``Authorization: Bearer
  <QA_API_TOKEN>`` when that is set;
* without a login: only clients on the loopback address (the UI's default binding), or a
  bearer token when ``QA_API_TOKEN`` is set.

Errors are ``{"detail": "<what to do>"}`` with the status :func:`error_status` gives each
:class:`index.QAError` (the same message the page shows); a body that does not fit the schema
is FastAPI's 422. OpenAPI: ``/api/docs`` (the page, served offline) and ``/api/openapi.json``.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from index import (
    BadRequest, BuildInProgress, BuildReport, EmbedderMismatch, EmbedderUnavailable, IndexMissing,
    NotFound, QAError, StoreUnavailable, list_documents,
)
from qa import ensure_index
from qa.errors import LLMUnavailable
from qa.types import Answer, Turn

from . import api_docs
from .api_models import ANSWER_EXAMPLE, STREAM_DOC, AskRequest, Document, Health
from .api_models import errors as _errors
from .guard import has_session
from .handlers import UNEXPECTED, Handlers, ServerError
from .settings import Settings, parse_auth
from .uploads import UploadResult, save_uploads

log = logging.getLogger(__name__)

_basic = HTTPBasic(auto_error=False, description="QA_UI_AUTH's user and password")
_bearer = HTTPBearer(auto_error=False, description="QA_API_TOKEN")


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def access(settings: Settings, gradio_app: Callable[[], object | None]):
    """The dependency every route has: raises 401/403 unless the caller may use the API."""
    login, token = parse_auth(settings), settings.api_token

    def check(request: Request,
              basic: HTTPBasicCredentials | None = Depends(_basic),
              bearer: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
        if token is not None and bearer is not None and _same(bearer.credentials, token.get_secret_value()):
            return
        if login is None:
            if _loopback(request.client.host if request.client else None):
                return
            raise HTTPException(403, "Without a login (QA_UI_AUTH) the API answers only on the loopback "
                                     "address; set QA_UI_AUTH, or QA_API_TOKEN and send it as a bearer token.")
        if basic is not None and _same(basic.username, login[0]) and _same(basic.password, login[1]):
            return
        if has_session(gradio_app(), request.headers.get("cookie", "")):
            return
        raise HTTPException(401, "Log in: HTTP Basic with QA_UI_AUTH's user and password"
                                 + (", or a bearer token (QA_API_TOKEN)." if token else "."),
                            headers={"WWW-Authenticate": 'Basic realm="docqa"'})

    return check


# ---- errors: the one place that gives each error its HTTP status -------------------------------

_STATUS: tuple[tuple[type[QAError], int], ...] = (
    (ServerError, 500),
    (BadRequest, 400), (NotFound, 404),
    (IndexMissing, 409), (EmbedderMismatch, 409), (BuildInProgress, 409),
    (LLMUnavailable, 503), (EmbedderUnavailable, 503), (StoreUnavailable, 503),
)


def error_status(exc: Exception) -> tuple[int, str]:
    """An error's HTTP status and message; anything unexpected is logged and told as
    :data:`ui.handlers.UNEXPECTED`."""
    if isinstance(exc, QAError):
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
        return status, str(exc)
    log.error("an API request failed", exc_info=exc)
    return 500, UNEXPECTED


class ErrorRoute(APIRoute):
    """A route whose errors become ``{"detail": message}`` with :func:`error_status`'s status."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request: Request):
            try:
                return await handler(request)
            except (StarletteHTTPException, RequestValidationError):
                raise
            except Exception as exc:
                status, message = error_status(exc)
                return JSONResponse({"detail": message}, status_code=status)

        return route


# ---- streaming ---------------------------------------------------------------------------------

def _sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _answer_pieces(handlers: Handlers, body: AskRequest) -> Iterator[str | dict]:
    """Text deltas, then the final answer's dict (what ``Handlers.ask`` returns); it raises
    rather than end without one."""
    question = body.question.strip()
    if not question:
        raise BadRequest("Type a question.")
    assistant = handlers.on(body.collection).assistant
    history = _history(handlers, body)
    with handlers.asking:  # the same limit as the page's questions
        notice = ensure_index(assistant)
        for piece in assistant.stream(question, history, answerer=body.answerer,
                                      top_k=body.top_k, sources=body.sources or None):
            if isinstance(piece, Answer):
                yield _recorded(handlers, body, piece.with_notice(notice).to_dict())
                return
            yield piece
    raise RuntimeError("the assistant's stream ended without an Answer")


def _history(handlers: Handlers, body: AskRequest) -> tuple[Turn, ...]:
    """The turns a question follows: ``history`` as given, else its conversation's (an unknown
    conversation is a 404 before anything is answered)."""
    if body.conversation is None:
        return body.turns()
    stored = handlers.conversations.history.answers(body.conversation)
    return body.turns() or tuple(Turn(a["question"], a["text"]) for a in stored)


def _recorded(handlers: Handlers, body: AskRequest, answer: dict) -> dict:
    """``answer``, added to the request's conversation (with ``conversation`` and ``turn``) if any."""
    if body.conversation is None:
        return answer
    kb = handlers.on(body.collection).settings.collection
    turn = handlers.conversations.history.add(body.conversation, answer, collection=kb)
    return {**answer, "conversation": body.conversation, "turn": turn}


async def _events(first: str | dict, pieces: Iterator[str | dict]):
    """The server-sent events of an answer whose first piece is ``first``."""
    piece = first
    try:
        while not isinstance(piece, dict):
            yield _sse("delta", {"text": piece})
            try:
                piece = await run_in_threadpool(next, pieces)  # the assistant is synchronous
            except Exception as exc:
                status, message = error_status(exc)
                yield _sse("error", {"detail": message, "status": status})
                return
        yield _sse("answer", piece)
    finally:  # a client gone mid-answer: give the slot back now (nothing runs in ``pieces`` here)
        pieces.close()


# ---- the routes --------------------------------------------------------------------------------

def router(settings: Settings, handlers: Handlers, gradio_app: Callable[[], object | None]) -> APIRouter:
    api = APIRouter(prefix="/api", dependencies=[Depends(access(settings, gradio_app))], route_class=ErrorRoute)
    api_docs.add_routes(api)

    @api.get("/health", summary="Is the app up, and how big is its index", response_model=Health)
    def health(collection: str | None = None) -> Health:
        """``collection``: a knowledge base (default: QA_COLLECTION's)."""
        store = handlers.on(collection).store if collection else handlers.store
        docs = list_documents(store) if store.read_state() is not None else []
        return Health(documents=len(docs), chunks=sum(d.chunks for d in docs))

    @api.post("/ask", summary="Answer a question from the documents, with verified citations",
              response_model=None, responses=_errors(400, 409, 500, 503, ok={
                  "model": Answer, "description": "The answer (`Answer.to_dict()`): `text` with [n] "
                  "markers, `citations` quoting the documents verbatim at character offsets, ...",
                  "content": {"application/json": {"example": ANSWER_EXAMPLE}}}))
    def ask(body: AskRequest) -> dict:
        answer = handlers.ask(body.question, top_k=body.top_k, answerer=body.answerer,
                              sources=body.sources or None, history=_history(handlers, body),
                              collection=body.collection)
        return _recorded(handlers, body, answer)

    @api.post("/ask/stream", summary="The same answer, streamed as server-sent events",
              description=STREAM_DOC, response_class=StreamingResponse,
              responses=_errors(400, 409, 500, 503, ok={
                  "content": {"text/event-stream": {"example": 'event: delta\ndata: {"text": "Eight U.S. '
                              'personnel were injured [1]."}\n\nevent: answer\ndata: {"question": ...}\n\n'}},
                  "description": "delta events, then one answer event"}))
    async def ask_stream(body: AskRequest) -> StreamingResponse:
        pieces = _answer_pieces(handlers, body)
        first = await run_in_threadpool(next, pieces)  # an error here is an HTTP error
        return StreamingResponse(_events(first, pieces), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @api.get("/documents", summary="The indexed documents", response_model=list[Document],
             responses=_errors(409, 503))
    def documents(collection: str | None = None) -> list[Document]:
        """``collection``: a knowledge base (default: QA_COLLECTION's)."""
        return [Document(source=d.source, title=d.title, chunks=d.chunks, indexed_at=d.indexed_at)
                for d in list_documents(handlers.on(collection).store)]

    @api.post("/documents", summary="Upload documents into the source folder (then rebuild)",
              description="The same checks as the page's upload: a type the index reads, not empty, "
              f"at most QA_UPLOAD_MAX_MB ({settings.upload_max_mb} MB), content matching the type. "
              "A file already there with the same bytes is `unchanged`; another file with the same "
              "name is kept, the new one saved as `name-2`.",
              response_model=None, responses=_errors(400, ok={"model": UploadResult}))
    def upload(files: Annotated[list[UploadFile], File(description="One or more files")],
               collection: str | None = None) -> dict:
        return asdict(_save(files, handlers.on(collection).settings))

    @api.post("/rebuild", summary="Bring the index up to date with the source folder",
              response_model=None, responses=_errors(400, 409, 500, 503, ok={"model": BuildReport}))
    def rebuild(collection: str | None = None) -> dict:
        """``collection``: a knowledge base, rebuilt from its own folder (default: QA_COLLECTION's)."""
        return handlers.build(collection).to_dict()

    return api


def _save(files: list[UploadFile], settings: Settings) -> UploadResult:
    with tempfile.TemporaryDirectory(prefix="qa-api-upload-") as tmp:
        return save_uploads(stage_uploads(files, Path(tmp)), settings)


def stage_uploads(files: list[UploadFile], tmp: Path) -> list[Path]:
    """Each upload in a folder of its own under ``tmp``, under its uploaded base name (for
    :func:`ui.uploads.save_uploads`, which checks and names it)."""
    paths = []
    for i, f in enumerate(files):
        name = (f.filename or "").replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "")
        while len(name.encode()) > 240:  # the file system's limit; safe_name shortens it anyway
            name = name[1:]
        folder = tmp / str(i)
        folder.mkdir()
        path = folder / (name if name not in ("", ".", "..") else "upload")
        with open(path, "wb") as out:
            shutil.copyfileobj(f.file, out, 1 << 20)
        paths.append(path)
    return paths
