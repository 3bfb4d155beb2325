"""Hybrid retrieval: dense (Chroma) + BM25, fused into ranked passages."""
from __future__ import annotations

from typing import Sequence

from index import IndexReader, ScoredChunk

from .types import Passage

RRF_K = 60


def _fuse(lists: Sequence[Sequence[ScoredChunk]], weights: Sequence[float]) -> list[tuple[ScoredChunk, float]]:
    scores: dict[str, float] = {}
    first: dict[str, ScoredChunk] = {}
    for hits, w in zip(lists, weights):
        for rank, hit in enumerate(hits):
            scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + w / (RRF_K + rank + 1)
            first.setdefault(hit.chunk.id, hit)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    return [(first[i], s) for i, s in ranked]


def to_passages(hits: Sequence[ScoredChunk]) -> list[Passage]:
    return [
        Passage(rank=i + 1, chunk_id=h.chunk.id, source=h.chunk.source, title=h.chunk.title,
                text=h.chunk.text, start=h.chunk.start, end=h.chunk.end, score=round(h.score, 6), page=h.chunk.page)
        for i, h in enumerate(hits)
    ]


def retrieve(reader: IndexReader, query: str, k: int) -> list[Passage]:
    """The ``k`` best passages for ``query``, best first."""
    pool = max(k * 4, 20)
    result = reader.search(query, dense_k=pool, keyword_k=pool)
    fused = _fuse([result.dense, result.keyword], [1.0, 1.0])[:k]
    return [
        Passage(rank=i + 1, chunk_id=h.chunk.id, source=h.chunk.source, title=h.chunk.title,
                text=h.chunk.text, start=h.chunk.start, end=h.chunk.end, score=round(s, 6), page=h.chunk.page)
        for i, (h, s) in enumerate(fused)
    ]
