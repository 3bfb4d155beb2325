"""The knowledge base: documents in a folder → chunks → embeddings in Chroma (+ BM25).

    from index import Settings, build_index
    report = build_index(Settings.from_env())
    list_collections(settings)           # the knowledge bases (collections) in that Chroma
"""
from __future__ import annotations

from .build import build_index
from .errors import (
    BadRequest, BuildInProgress, EmbedderMismatch, EmbedderUnavailable, IndexMissing, NotFound, QAError,
    StoreUnavailable,
)
from .knowledge_bases import (
    KnowledgeBase, check_collection_name, collection_settings, list_collections, list_documents,
)
from .loaders import SUPPORTED_SUFFIXES
from .models import BuildReport, Chunk, DocumentText, IndexedDocument, ScoredChunk, Skipped, SourceDocument
from .reader import IndexReader, SearchResult
from .settings import Settings
from .store import ChromaStore

__all__ = [
    "BadRequest", "BuildInProgress", "BuildReport", "ChromaStore", "Chunk", "DocumentText",
    "EmbedderMismatch", "EmbedderUnavailable", "IndexMissing", "IndexReader", "IndexedDocument",
    "KnowledgeBase", "NotFound",
    "QAError", "SUPPORTED_SUFFIXES", "ScoredChunk", "SearchResult", "Settings", "Skipped", "SourceDocument",
    "StoreUnavailable", "build_index", "check_collection_name", "collection_settings", "list_collections",
    "list_documents",
]
