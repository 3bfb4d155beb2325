"""The process environment the app runs in: offline, no telemetry.

No module sets environment variables when it is imported; the entry points (``python -m
index|qa|ui|bench|qa.eval``, ``qa.answer``) and the library's front doors
(:class:`index.IndexReader`, :func:`index.build_index`, ``qa.Assistant``,
``ui.create_app``) call :func:`configure` first, before onnxruntime, chromadb, tiktoken or
gradio read them (those are imported or consulted lazily, after it).
"""
from __future__ import annotations

import importlib.util
import os

DEFAULTS = {
    "HF_HUB_OFFLINE": "1",  # nothing is ever downloaded from the Hugging Face Hub
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",  # chromadb
    "ORT_DISABLE_TELEMETRY": "1",  # onnxruntime
    "GRADIO_ANALYTICS_ENABLED": "False",
}


def tiktoken_cache() -> str | None:
    """llama-index-core's bundled tiktoken files (tiktoken would download them), found
    without importing llama_index.core; None when it is not installed."""
    try:
        spec = importlib.util.find_spec("llama_index.core")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    cache = os.path.join(spec.submodule_search_locations[0], "_static", "tiktoken_cache")
    return cache if os.path.isdir(cache) else None


def configure() -> None:
    """Set each of :data:`DEFAULTS` (and ``TIKTOKEN_CACHE_DIR``) unless already set.

    Idempotent; a value the user set (``HF_HUB_OFFLINE=0``) is kept."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        cache = tiktoken_cache()
        if cache is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = cache
