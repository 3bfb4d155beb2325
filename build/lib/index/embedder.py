"""Text → vectors: what the rest of the app sees of an embedder (:class:`Embedder`),
and the factory that turns ``Settings.embed_model`` into one (what the implementations
share is in :mod:`index.embedding`).

Two implementations:

* :class:`~index.onnx_embedder.OnnxMiniLM` (default, offline) — all-MiniLM-L6-v2 as an
  int8 ONNX graph; the one module that touches onnxruntime and tokenizers.
* :class:`~index.openai_embedder.OpenAIEmbedder` — any OpenAI-compatible
  ``/v1/embeddings`` endpoint; the one module of the index that touches openai.

Importing this module is cheap: onnxruntime, tokenizers and openai are imported
when an embedder is constructed (or first used).
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

import numpy as np

from .embedding import LOCAL_MAX_TOKENS, LOCAL_MODEL, OPENAI_MAX_TOKENS, Progress
from .errors import BadRequest

if TYPE_CHECKING:  # pragma: no cover
    from .onnx_embedder import OnnxMiniLM
    from .settings import Settings

__all__ = [
    "Embedder",
    "make_embedder",
    "LOCAL_MODEL",
    "LOCAL_MAX_TOKENS",
    "OPENAI_MAX_TOKENS",
]

_LOCAL_ALIASES = {
    LOCAL_MODEL.lower(),
    f"sentence-transformers/{LOCAL_MODEL}".lower(),
}


@runtime_checkable
class Embedder(Protocol):
    """What the index and the retriever use to embed text."""

    id: str  # recorded in the index; another id means a full rebuild
    dim: int
    max_tokens: int  # longest input in this embedder's tokens (longer is truncated/refused)

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """``(len(texts), dim)`` float32, L2-normalised, in input order.

        ``progress(n)`` is called after each batch with the number of input texts
        (duplicates included) finished by it; the calls add up to ``len(texts)``.
        """
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """``(dim,)`` float32, L2-normalised."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes, special tokens included, without truncation."""
        ...

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` character offsets of each token (no special tokens)."""
        ...


# --------------------------------------------------------------------------- factory


@functools.lru_cache(maxsize=4)
def _shared_local(batch_size: int) -> "OnnxMiniLM":
    # One ONNX session per process (and batch size): the UI and a rebuild share it.
    from .onnx_embedder import OnnxMiniLM

    return OnnxMiniLM(batch_size=batch_size)


def make_embedder(settings: "Settings") -> Embedder:
    """The embedder ``settings.embed_model`` names.

    Accepted: ``local:all-MiniLM-L6-v2`` (default, offline) or ``openai:<model>``.
    """
    raw = settings.embed_model or ""
    spec = raw.strip()
    kind, sep, name = spec.partition(":")
    kind, name = kind.strip().lower(), name.strip()
    if sep and kind == "local" and name.lower() in _LOCAL_ALIASES:
        return _shared_local(settings.embed_batch_size)
    if sep and kind == "openai" and name:
        from .openai_embedder import OpenAIEmbedder

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAIEmbedder(
            name,
            api_key=key,
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout,
            retries=settings.llm_retries,
            batch_size=settings.embed_batch_size,
        )
    raise BadRequest(
        f"Unknown QA_EMBED_MODEL {raw!r}: use 'local:{LOCAL_MODEL}' (the default, offline) "
        "or 'openai:<model>', e.g. 'openai:text-embedding-3-small'."
    )
