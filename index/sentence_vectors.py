"""Sentence vectors, stored with each generation of the index so answering embeds nothing.

The extractive answerer and the re-ranker compare the question with single sentences.
Embedding those at question time was most of an answer's latency, so the build keeps a
vector for every sentence of every chunk, pooled from the chunk's own embedding pass
(:meth:`index.onnx_embedder.OnnxMiniLM.embed_spans`: no extra model run).

One file per generation, ``<QA_CHROMA_PATH>/sentences/<physical>-g<generation>.npy``: a
structured array sorted by chunk, written atomically and memory-mapped by readers. Rows
are keyed by the chunk's ``embed_hash`` (so identical chunks share them and a rebuild
carries them over) and by a hash of the sentence's text (so a passage's sentences are
found whatever chunk they came from). The file is an accelerator, never the truth: a
reader without it (another machine on a shared Chroma server, an embedder without span
pooling) embeds the sentences it needs, as before.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .sentences import sentence_spans


def record_dtype(dim: int) -> np.dtype:
    return np.dtype([("chunk", "<u8"), ("key", "<u8"), ("start", "<i4"), ("end", "<i4"), ("vec", "<f2", (dim,))])


def text_key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def chunk_key(embed_hash: str) -> int:
    """The first 64 bits of a chunk record's ``embed_hash`` (hex)."""
    return int(embed_hash[:16], 16)


def chunk_sentences(title: str, text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Sentence spans of a chunk's text, and the same spans in its embedded text
    (:func:`index.chunking.embedding_text` puts the title and a newline in front)."""
    spans = sentence_spans(text)
    shift = len(title) + 1 if title else 0
    return spans, [(s + shift, e + shift) for s, e in spans]


def rows_for(embed_hash: str, text: str, spans: Sequence[tuple[int, int]], vectors: np.ndarray, dim: int) -> np.ndarray:
    """The records of one chunk: one per sentence that got a vector."""
    out = np.zeros(len(spans), dtype=record_dtype(dim))
    ck = chunk_key(embed_hash)
    keep = np.zeros(len(spans), dtype=bool)
    for i, (s, e) in enumerate(spans):
        if vectors[i].any():  # a sentence cut off by truncation has none
            out[i] = (ck, text_key(text[s:e]), s, e, vectors[i].astype(np.float16))
            keep[i] = True
    return out[keep]


class SentenceVectors:
    """Read side: vectors by sentence text or by chunk."""

    def __init__(self, records: np.ndarray):
        self.records = records
        self.dim = records.dtype["vec"].shape[0]
        keys = np.asarray(records["key"])
        self._by_key = np.argsort(keys, kind="stable")
        self._keys_sorted = keys[self._by_key]
        # sorted at save time; contiguous: a binary search over the memory-mapped column (a
        # strided view) would copy the whole column on every call
        self._chunks = np.ascontiguousarray(records["chunk"])

    def __len__(self) -> int:
        return len(self.records)

    def lookup(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """A float32 vector for each text that is a stored sentence, else None."""
        if not len(self.records) or not texts:
            return [None] * len(texts)
        wanted = np.fromiter((text_key(t) for t in texts), dtype="<u8", count=len(texts))
        pos = np.searchsorted(self._keys_sorted, wanted)
        out: list[np.ndarray | None] = []
        for w, p in zip(wanted, pos):
            if p < len(self._keys_sorted) and self._keys_sorted[p] == w:
                out.append(np.asarray(self.records["vec"][self._by_key[p]], dtype=np.float32))
            else:
                out.append(None)
        return out

    def chunk_slice(self, embed_hash: str) -> slice:
        ck = np.uint64(chunk_key(embed_hash))
        return slice(int(np.searchsorted(self._chunks, ck, side="left")),
                     int(np.searchsorted(self._chunks, ck, side="right")))

    def for_chunk(self, embed_hash: str) -> tuple[np.ndarray, np.ndarray]:
        """``(spans (n, 2) int, vectors (n, dim) float32)`` of one chunk's sentences."""
        rows = self.records[self.chunk_slice(embed_hash)]
        spans = np.stack([rows["start"], rows["end"]], axis=1) if len(rows) else np.zeros((0, 2), int)
        return spans, np.asarray(rows["vec"], dtype=np.float32)

    def chunk_vectors(self, embed_hashes: Sequence[str]) -> list[np.ndarray]:
        """``for_chunk``'s vectors of several chunks, in one binary search (``(0, dim)`` for
        a chunk without any): the re-rank asks for ~60 a question."""
        keys = np.fromiter((chunk_key(h) for h in embed_hashes), dtype="<u8", count=len(embed_hashes))
        lo = np.searchsorted(self._chunks, keys, side="left").tolist()
        hi = np.searchsorted(self._chunks, keys, side="right").tolist()
        vectors = self.records["vec"].view(np.ndarray)  # (a memory map's slices cost more)
        return [np.asarray(vectors[a:b], dtype=np.float32) for a, b in zip(lo, hi)]

    def chunk_keys(self) -> np.ndarray:
        return np.unique(self._chunks)


def first_per_chunk(parts: Iterable[np.ndarray], keep_chunks: Iterable[str] | None = None) -> list[np.ndarray]:
    """Of record arrays with a ``chunk`` column: each chunk's rows from the first part that
    has it, and only chunks in ``keep_chunks`` (embed hashes) when given (shared with the
    sentence-entity files)."""
    keep = None if keep_chunks is None else np.fromiter((chunk_key(h) for h in set(keep_chunks)), dtype="<u8")
    taken = np.zeros(0, dtype="<u8")
    out = []
    for part in parts:
        part = np.asarray(part)
        if not len(part):
            continue
        mask = ~np.isin(part["chunk"], taken)
        if keep is not None:
            mask &= np.isin(part["chunk"], keep)
        part = part[mask]
        out.append(part)
        taken = np.union1d(taken, part["chunk"])
    return out


def merge(dim: int, parts: Iterable[np.ndarray], keep_chunks: Iterable[str] | None = None) -> np.ndarray:
    """One record array sorted by chunk from ``parts``: each chunk's rows from the first
    part that has it, and only chunks in ``keep_chunks`` (embed hashes) when given."""
    out = first_per_chunk(parts, keep_chunks)
    if not out:
        return np.zeros(0, dtype=record_dtype(dim))
    records = np.concatenate(out)
    return records[np.argsort(records["chunk"], kind="stable")]


def path_for(root: Path, physical: str, generation: int) -> Path:
    return Path(root) / f"{physical}-g{generation}.npy"


def save(path: Path, records: np.ndarray) -> None:
    """Write atomically: a reader sees the whole file or none."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.stem}-", suffix=".npy", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, records, allow_pickle=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(path: Path) -> SentenceVectors | None:
    """The saved vectors, memory-mapped; None when missing or unreadable (then callers embed)."""
    try:
        records = np.load(path, mmap_mode="r", allow_pickle=False)
        if records.dtype.names != ("chunk", "key", "start", "end", "vec"):
            return None
        return SentenceVectors(records)
    except (OSError, ValueError):
        return None
