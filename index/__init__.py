"""The knowledge base: documents in a folder → chunks → embeddings in Chroma (+ BM25).

    from index import Settings, build_index
    report = build_index(Settings.from_env())
"""
from __future__ import annotations

import os

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
}.items():
    os.environ.setdefault(_name, _value)

from .build import build_index  # noqa: E402
from .errors import (  # noqa: E402
    BadRequest, BuildInProgress, EmbedderMismatch, EmbedderUnavailable, IndexMissing, QAError,
    StoreUnavailable,
)
from .loaders import SUPPORTED_SUFFIXES  # noqa: E402
from .models import BuildReport, Chunk, IndexedDocument, ScoredChunk, Skipped, SourceDocument  # noqa: E402
from .reader import IndexReader, SearchResult, list_documents  # noqa: E402
from .settings import Settings  # noqa: E402
from .store import ChromaStore  # noqa: E402

__all__ = [
    "BadRequest", "BuildInProgress", "BuildReport", "ChromaStore", "Chunk", "EmbedderMismatch",
    "EmbedderUnavailable", "IndexMissing", "IndexReader", "IndexedDocument",
    "QAError", "SUPPORTED_SUFFIXES", "ScoredChunk", "SearchResult", "Settings", "Skipped", "SourceDocument",
    "StoreUnavailable", "build_index", "list_documents",
]
