"""The public surface of each package is pinned: changing it is a deliberate act."""
from __future__ import annotations

import index


def test_index_exports():
    assert sorted(index.__all__) == sorted([
        "BadRequest", "BuildInProgress", "BuildReport", "ChromaStore", "Chunk", "DocumentText",
        "EmbedderMismatch", "EmbedderUnavailable", "IndexMissing", "IndexReader", "IndexedDocument",
        "KnowledgeBase", "NotFound",
        "QAError", "SUPPORTED_SUFFIXES", "ScoredChunk", "SearchResult", "Settings", "Skipped", "SourceDocument",
        "StoreUnavailable", "build_index", "check_collection_name", "collection_settings", "list_collections",
        "list_documents",
    ])
    for name in index.__all__:
        assert hasattr(index, name), name


def test_qa_exports():
    import qa

    assert sorted(qa.__all__) == sorted([
        "Answer", "Assistant", "BadRequest", "Citation", "DocumentText", "EmbedderMismatch",
        "EmbedderUnavailable", "IndexMissing", "LLMUnavailable", "NotFound", "Passage", "QAError",
        "Settings", "ShortAnswer", "Turn", "answer", "as_query_engine", "as_retriever", "document_text",
        "ensure_index", "export_json", "export_markdown", "stream_answer",
    ])
    for name in qa.__all__:
        assert hasattr(qa, name), name


def test_import_qa_does_not_import_llama_index_core():
    """``as_retriever``/``as_query_engine`` import llama_index.core (~1.7 s) when called;
    tracing needs only the light llama_index_instrumentation package."""
    import subprocess
    import sys

    code = "import sys, qa; print('llama_index.core' in sys.modules, 'llama_index_instrumentation' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    assert out.stdout.split() == ["False", "True"]
