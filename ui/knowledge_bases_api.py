"""The knowledge-base routes of the JSON API: list them, create one from uploaded files.

Every other route takes ``collection`` (a knowledge base's name; default: ``QA_COLLECTION``'s)
to work on one of them: ``/api/ask``'s body field, the ``?collection=`` of ``/api/documents``,
``/api/rebuild``, ``/api/health`` and the viewer's routes. Behind the same login as ``/api``.
"""
from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel

from .api import ErrorRoute, access, stage_uploads
from .api_models import errors as _errors
from .handlers import Handlers
from .settings import Settings


class KnowledgeBaseModel(BaseModel):
    name: str
    source_dir: str
    documents: int
    chunks: int
    built_at: str


def router(settings: Settings, handlers: Handlers, gradio_app) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["knowledge bases"], route_class=ErrorRoute,
                    dependencies=[Depends(access(settings, gradio_app))])

    @api.get("/knowledge-bases", summary="The knowledge bases (collections) of this index",
             response_model=list[KnowledgeBaseModel], responses=_errors(503))
    def listed() -> list[dict]:
        return [kb.to_dict() for kb in handlers.knowledge_bases()]

    @api.post("/knowledge-bases", summary="Create a knowledge base from uploaded files, and build it",
              description="Its files are saved in its own folder (QA_KB_ROOT/<name>) with the upload's "
              "checks; the response holds the upload report and the build report.",
              response_model=None, responses=_errors(400, 409, 503, ok={"description": "upload and build"}))
    def create(name: Annotated[str, Form(description="3-49 letters, digits, - or _")],
               files: Annotated[list[UploadFile], File(description="Its documents")]) -> dict:
        with tempfile.TemporaryDirectory(prefix="qa-api-kb-") as tmp:
            saved, report = handlers.new_knowledge_base(name, stage_uploads(files, Path(tmp)))
        return {"name": name.strip(), "upload": asdict(saved), "build": report.to_dict()}

    return api
