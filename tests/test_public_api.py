"""The public surface of each package is pinned: changing it is a deliberate act."""
from __future__ import annotations

import index


def test_index_exports():
    assert sorted(index.__all__) == sorted([
        "BadRequest", "BuildInProgress", "BuildReport", "ChromaStore", "Chunk", "EmbedderMismatch",
        "EmbedderUnavailable", "IndexMissing", "IndexReader", "IndexedDocument",
        "QAError", "SUPPORTED_SUFFIXES", "ScoredChunk", "SearchResult", "Settings", "Skipped", "SourceDocument",
        "StoreUnavailable", "build_index", "list_documents",
    ])
    for name in index.__all__:
        assert hasattr(index, name), name
