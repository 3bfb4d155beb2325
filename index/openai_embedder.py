"""Embeddings from an OpenAI-compatible ``/v1/embeddings`` endpoint, with tiktoken for
counting tokens. The client and its error messages come from :mod:`index.openai_endpoint`
(imported, with openai, when an :class:`OpenAIEmbedder` is constructed).
"""
from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from .embedding import OPENAI_MAX_TOKENS, Progress, check_texts, dedupe, l2_normalise
from .errors import BadRequest, EmbedderUnavailable

__all__ = ["OpenAIEmbedder"]

_OPENAI_DIMS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible ``/v1/embeddings`` endpoint.

    Every failure (unreachable, timeout, refused key, unknown model, bad answer) is
    raised as :class:`~index.errors.EmbedderUnavailable` saying what to check.
    """

    max_tokens = OPENAI_MAX_TOKENS

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        batch_size: int = 128,
        dim: int | None = None,
    ) -> None:
        model = (model or "").strip()
        if not model:
            raise BadRequest("OpenAI embedding model name is empty: use e.g. openai:text-embedding-3-small")
        if not api_key and not base_url:
            raise BadRequest(
                f"QA_EMBED_MODEL=openai:{model} needs OPENAI_API_KEY (or OPENAI_BASE_URL for an "
                "OpenAI-compatible server); set it in .env, or use the default local:all-MiniLM-L6-v2."
            )
        if batch_size < 1:
            raise BadRequest(f"embed batch size must be >= 1, got {batch_size}")
        self.model = model
        self.id = f"openai:{model}"
        self.base_url = base_url
        self.batch_size = batch_size
        self.timeout = timeout
        self._secret = api_key or ""  # scrubbed from error messages: servers may echo it
        self._dim = dim or _OPENAI_DIMS.get(model)
        self._dim_lock = threading.Lock()
        self._encoding = None
        self._encoding_loaded = False
        self._enc_lock = threading.Lock()

        from . import openai_endpoint

        self._endpoint = openai_endpoint
        self._names = openai_endpoint.Names(model="QA_EMBED_MODEL", shorten="QA_CHUNK_SIZE")
        self._client = openai_endpoint.client(
            api_key=api_key, base_url=base_url, timeout=timeout, retries=retries
        )

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(model={self.model!r}, base_url={self.base_url!r})"

    @property
    def dim(self) -> int:
        """Known for OpenAI's models; otherwise learnt from the first answer, or asked of
        the server (one tiny request) when read before any (``isinstance(x, Embedder)``
        reads it too on Python 3.11)."""
        if self._dim is None:
            with self._dim_lock:
                if self._dim is None:
                    self._dim = int(self._request(["dimension probe"]).shape[1])
        return self._dim

    # -- HTTP ---------------------------------------------------------------------

    def _where(self) -> str:
        return self.base_url or self._endpoint.OPENAI_URL

    def _request(self, batch: list[str]) -> np.ndarray:
        endpoint, where = self._endpoint, self._where()
        try:
            resp = self._client.embeddings.create(
                model=self.model, input=batch, encoding_format="float"
            )
        except endpoint.OpenAIError as exc:
            raise EmbedderUnavailable(endpoint.message(
                exc, what="The embeddings endpoint", where=where, model=self.model,
                timeout=self.timeout, path="/embeddings", names=self._names, secrets=(self._secret,),
            )) from exc
        try:
            data = sorted(resp.data, key=lambda d: d.index)
            vecs = np.asarray([d.embedding for d in data], dtype=np.float32)
        except Exception as exc:
            raise EmbedderUnavailable(
                f"The embeddings endpoint at {where} sent an answer that is not a list of "
                f"embeddings ({exc}): check OPENAI_BASE_URL points to an OpenAI-compatible API."
            ) from exc
        if vecs.ndim != 2 or vecs.shape[0] != len(batch):
            raise EmbedderUnavailable(
                f"The embeddings endpoint at {where} returned {vecs.shape[0] if vecs.ndim else 0} "
                f"vectors for {len(batch)} inputs: check OPENAI_BASE_URL points to an "
                "OpenAI-compatible API."
            )
        if self._dim is not None and vecs.shape[1] != self._dim:
            raise EmbedderUnavailable(
                f"The embeddings endpoint at {where} returned {vecs.shape[1]}-dimensional vectors "
                f"for model {self.model!r}, expected {self._dim}: check QA_EMBED_MODEL."
            )
        return l2_normalise(vecs)

    # -- Embedder -----------------------------------------------------------------

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        items = check_texts(texts)
        if not items:  # no request just to learn an unknown dim
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        unique, inverse, counts = dedupe(items)
        # The API rejects empty strings; a blank embeds like whitespace.
        payload = [t if t.strip() else " " for t in unique]
        parts: list[np.ndarray] = []
        for start in range(0, len(payload), self.batch_size):
            batch = payload[start : start + self.batch_size]
            vecs = self._request(batch)
            if self._dim is None:
                self._dim = int(vecs.shape[1])
            parts.append(vecs)
            if progress is not None:
                progress(int(counts[start : start + len(batch)].sum()))
        return np.concatenate(parts)[inverse]

    def embed_query(self, text: str) -> np.ndarray:
        if not isinstance(text, str):
            raise TypeError(f"embed_query() takes a str, not {type(text).__name__}")
        return self.embed([text])[0]

    def _tiktoken(self):
        """tiktoken's encoding for the model from llama-index's bundled cache, or None."""
        if not self._encoding_loaded:
            with self._enc_lock:
                if not self._encoding_loaded:
                    self._encoding = _load_tiktoken(self.model)
                    self._encoding_loaded = True
        return self._encoding

    def count_tokens(self, text: str) -> int:
        enc = self._tiktoken()
        if enc is None:
            return len(text) // 3 + 1  # rough: ~3-4 characters a token in English
        return len(enc.encode(text, disallowed_special=()))

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        enc = self._tiktoken()
        if enc is None:
            return [(i, min(i + 3, len(text))) for i in range(0, len(text), 3)]
        tokens = enc.encode(text, disallowed_special=())
        _, starts = enc.decode_with_offsets(tokens)
        spans = []
        for i, s in enumerate(starts):
            e = starts[i + 1] if i + 1 < len(starts) else len(text)
            spans.append((s, max(s, e)))
        return spans


def _load_tiktoken(model: str):
    """cl100k-style encoding, offline: tiktoken reads llama-index-core's bundled cache
    (``TIKTOKEN_CACHE_DIR``, set by :func:`index.environment.configure`)."""
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        try:
            return tiktoken.encoding_for_model(model)
        except KeyError:  # a model tiktoken does not know (OpenAI-compatible server)
            return tiktoken.get_encoding("cl100k_base")
    except Exception:  # not in the cache and no network
        return None
