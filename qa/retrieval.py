"""Hybrid retrieval: BM25 and dense candidates, fused by score, re-ranked by their best sentence.

1. **Candidates.** The index's BM25 and dense searches each give their top
   ``candidates`` chunks.
2. **Score fusion.** Each list's scores are standardised (z-score over that list) and
   added with weights; a chunk missing from one list gets that list's lowest z. Rank
   fusion (RRF) throws away how far ahead a strong match is, and measured worse than BM25
   alone on long articles; standardised scores keep it (docs/evaluation.md).
3. **Best-sentence re-rank.** Questions paraphrase one sentence of the answer's passage,
   so a chunk is also scored by its single best sentence: the share of the question's
   terms it holds (each term weighted by how rare it is among the candidates), the share
   of the question's adjacent term pairs found near each other in it, and whether it
   holds the kind of thing the question asks for (a number for "how many", ...); and the
   cosine of the question and the chunk's closest sentence (vectors the build stored,
   :mod:`index.sentence_vectors`; without them this signal is left out).
4. **Neighbour windows** (``window > 0``, :mod:`qa.windows`): the passage handed to the
   answerer is the matched chunk with its overlapping neighbours. Matching stays on
   chunks; the evaluation ranks with ``window=0`` (chunk-level hit@k).

Everything is tunable through :class:`RetrievalConfig`; the defaults were chosen on the
dev questions of xquad-en and covid-qa (see docs/evaluation.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

from index import ScoredChunk
from index import text as tokenizer
from index.cache import LRU
from index.models import Chunk
from index.sentence_terms import Sentences, tokenized

from .evidence import Evidence
from .tracing import retrieval_span
from .windows import windows
from .types import Passage

__all__ = ["CHUNK_LEVEL", "DEFAULT_CONFIG", "RetrievalConfig", "rank_chunks", "retrieve", "to_passages"]


@dataclass(frozen=True)
class RetrievalConfig:
    candidates: int = 80  # taken from each of BM25 and dense
    keyword_weight: float = 0.6  # weights of the standardised BM25 and cosine scores
    dense_weight: float = 0.4
    rerank_depth: int = 60  # fused candidates re-ranked by their best sentence
    coverage_weight: float = 4.0  # share of (rarity-weighted) question terms in the best sentence
    phrase_weight: float = 4.0  # share of question term pairs found near each other in it
    answer_type_weight: float = 0.5  # it holds what the question asks for (number, date, name...)
    definition_weight: float = 0.5  # for "what is X?": it defines X ("X is a ...", "long form (X)")
    sentence_dense_weight: float = 8.0  # cosine of the question and the chunk's closest sentence
    pair_gap: int = 3  # "near": at most this many terms apart
    window: int = 1  # overlapping neighbour chunks added on each side of a passage (answerer context)

    def __post_init__(self) -> None:
        if self.candidates < 1 or self.rerank_depth < 0 or self.window < 0 or self.pair_gap < 1:
            raise ValueError(f"invalid retrieval config: {self}")


DEFAULT_CONFIG = RetrievalConfig()
CHUNK_LEVEL = RetrievalConfig(window=0)  # the same ranking, passages = chunks (for evaluation)


def to_passages(hits: Sequence[ScoredChunk]) -> list[Passage]:
    return [
        Passage(rank=i + 1, chunk_id=h.chunk.id, source=h.chunk.source, title=h.chunk.title,
                text=h.chunk.text, start=h.chunk.start, end=h.chunk.end, score=round(h.score, 6),
                page=h.chunk.page, page_breaks=h.chunk.page_breaks)
        for i, h in enumerate(hits)
    ]


@retrieval_span
def retrieve(reader: Evidence, query: str, k: int, *, config: RetrievalConfig = DEFAULT_CONFIG,
             sources: Sequence[str] | None = None) -> list[Passage]:
    """The ``k`` best passages for ``query``, best first (with neighbour windows if configured);
    ``sources`` (exact document names) restricts them to those documents (None or empty: all)."""
    if config.window:
        # overlapping windows merge: rank more chunks than k so that k passages remain
        ranked, _ = _rank(reader, query, 3 * k, config, sources)
        return windows(reader, ranked, config.window, k) if ranked else []
    return to_passages(rank_chunks(reader, query, k, config=config, sources=sources))


def rank_chunks(reader: Evidence, query: str, k: int, *, config: RetrievalConfig = DEFAULT_CONFIG,
                sources: Sequence[str] | None = None) -> list[ScoredChunk]:
    """The ``k`` best chunks for ``query`` with their final scores, best first."""
    return _rank(reader, query, k, config, sources)[0]


def _rank(reader: Evidence, query: str, k: int, config: RetrievalConfig,
          sources: Sequence[str] | None = None) -> tuple[list[ScoredChunk], int]:
    if k < 1:
        return [], -1
    n = max(config.candidates, k)
    # only a restricted search passes ``sources``: an Evidence of its own need not take them
    restrict = {"sources": tuple(sources)} if sources else {}
    depth = max(config.rerank_depth, k) if config.rerank_depth else 0
    for _ in range(3):
        keyword, dense, read, generation = _candidates(reader, query, n, restrict)
        fused = _fuse(keyword, dense, config)
        # only the chunks re-ranked and those that end in the top k are read
        chunks = read([i for i, _ in fused[:depth]])
        if len(chunks) == len(fused[:depth]):
            break  # (else a rebuild deleted some since the search: search the new generation)
    head = [ScoredChunk(chunks[i], s) for i, s in fused[:depth] if i in chunks]
    if head:
        closest = _closest_sentences(reader, query, head) if config.sentence_dense_weight else {}
        head = _rerank(query, head, config, closest, _stored_terms(reader))
    ranked = sorted([(h.score, h.chunk.id) for h in head] + [(s, i) for i, s in fused[depth:]],
                    key=lambda x: -x[0])[:k]
    chunks.update(read([i for _, i in ranked if i not in chunks]))
    return [ScoredChunk(chunks[i], s) for s, i in ranked if i in chunks], generation


def _candidates(reader: Evidence, query: str, n: int, restrict: dict):
    """The BM25 and dense hits as (chunk id, score), a reader of their chunks by id, and
    the generation. The index's :meth:`search_ids` reads no chunk; an Evidence of its own
    without it gives every hit's chunk at once (``search``)."""
    if hasattr(reader, "search_ids"):
        found = reader.search_ids(query, dense_k=n, keyword_k=n, **restrict)
        return list(found.keyword), list(found.dense), lambda ids: reader.read(found, ids), found.generation
    result = reader.search(query, dense_k=n, keyword_k=n, **restrict)
    chunks = {h.chunk.id: h.chunk for h in (*result.dense, *result.keyword)}
    return ([(h.chunk.id, h.score) for h in result.keyword], [(h.chunk.id, h.score) for h in result.dense],
            lambda ids: {i: chunks[i] for i in ids if i in chunks}, result.generation)


# ---- fusion --------------------------------------------------------------------------
def _standardised(hits: Sequence[tuple[str, float]]) -> tuple[dict[str, float], float]:
    """z-scores of a result list by chunk id, and the lowest (for chunks not in it)."""
    if not hits:
        return {}, 0.0
    scores = [s for _, s in hits]
    mean = sum(scores) / len(scores)
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores)) or 1.0
    z = {i: (s - mean) / std for i, s in hits}
    return z, min(z.values())


def _fuse(keyword: Sequence[tuple[str, float]], dense: Sequence[tuple[str, float]],
          config: RetrievalConfig) -> list[tuple[str, float]]:
    """(chunk id, fused score), best first."""
    zk, k_floor = _standardised(keyword)
    zd, d_floor = _standardised(dense)
    ids = dict.fromkeys([i for i, _ in dense] + [i for i, _ in keyword])
    fused = [(i, config.keyword_weight * zk.get(i, k_floor) + config.dense_weight * zd.get(i, d_floor)) for i in ids]
    fused.sort(key=lambda h: -h[1])
    return fused


# ---- best-sentence re-rank -------------------------------------------------------------
# by (chunk id, title): the id names the chunk's text and place, whatever its index
_sentences: LRU[tuple[str, str], tuple[Sentences, frozenset[str]]] = LRU(50_000)


def _sentence_terms(chunk: Chunk, stored: Sentences | None = None) -> tuple[Sentences, frozenset[str]]:
    """The stemmed terms of each of the chunk's sentences (with their spans): ``stored``
    (the build's, :mod:`index.sentence_terms`), else tokenized now (the same); and the set
    of all its terms and its title's."""

    def make() -> tuple[Sentences, frozenset[str]]:
        sentences = stored if stored is not None else tokenized(chunk.text)
        return sentences, frozenset(t for _, ts in sentences for t in ts) | _title_terms(chunk.title)

    return _sentences.get_or_make((chunk.id, chunk.title), make)


@lru_cache(maxsize=4096)
def _title_terms(title: str) -> frozenset[str]:  # a document's chunks share their title
    return frozenset(tokenizer.terms(title))


def _stored_terms(reader: Evidence) -> Callable[[Sequence[Chunk]], dict[str, Sentences]]:
    """The build's sentence terms of chunks by id (an Evidence of its own without them: none)."""
    return getattr(reader, "chunk_sentence_terms", lambda chunks: {})


def _closest_sentences(reader: Evidence, query: str, hits: Sequence[ScoredChunk]) -> dict[str, float]:
    """Per chunk id: the cosine of the query and the chunk's closest sentence (from the
    sentence vectors the build stored; empty when there are none)."""
    import numpy as np

    stored = reader.chunk_sentence_vectors([h.chunk for h in hits])
    if not stored:
        return {}
    q = reader.embed_query(query)
    return {chunk_id: float(np.max(vectors @ q)) for chunk_id, vectors in stored.items()}


def _rerank(query: str, hits: Sequence[ScoredChunk], config: RetrievalConfig,
            closest: dict[str, float] | None = None,
            stored: Callable[[Sequence[Chunk]], dict[str, Sentences]] | None = None) -> list[ScoredChunk]:
    from .answer_types import defines, has_type
    from .question import analyse

    q = analyse(query)
    terms = list(q.terms)
    if not terms or not hits:
        return list(hits)
    # the build's terms of the chunks not met lately (tokenizing 60 chunks cost ~10 ms)
    todo = [h.chunk for h in hits if _sentences.get((h.chunk.id, h.chunk.title)) is None]
    kept = stored(todo) if stored is not None and todo else {}
    cached = [_sentence_terms(h.chunk, kept.get(h.chunk.id)) for h in hits]
    sentences = [sents for sents, _ in cached]
    # a term's weight: its rarity among the candidates (BM25's idf, on this small pool)
    chunk_terms = [terms_of_chunk for _, terms_of_chunk in cached]
    n = len(hits)
    weight = {}
    for t in terms:
        df = sum(t in ct for ct in chunk_terms)
        weight[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
    total = sum(weight.values()) or 1.0
    pairs = list(zip(terms, terms[1:]))
    pair_total = sum(min(weight[a], weight[b]) for a, b in pairs) or 1.0

    asked = frozenset(terms)
    floor = min(closest.values()) if closest else 0.0
    out = []
    for h, sents in zip(hits, sentences):
        best, best_span = 0.0, None
        for span, ts in sents:
            if asked.isdisjoint(ts):  # scores 0, never above best
                continue
            present = set(ts)
            coverage = sum(weight[t] for t in terms if t in present) / total
            phrase = 0.0
            if pairs and coverage:
                where: dict[str, list[int]] = {}
                for pos, t in enumerate(ts):
                    where.setdefault(t, []).append(pos)
                for a, b in pairs:
                    if a in where and b in where and any(
                        0 < abs(pb - pa) <= config.pair_gap for pa in where[a] for pb in where[b]
                    ):
                        phrase += min(weight[a], weight[b])
                phrase /= pair_total
            score = config.coverage_weight * coverage + config.phrase_weight * phrase
            if score > best:
                best, best_span = score, span
        if best_span is not None and q.expects and config.answer_type_weight:
            sentence = h.chunk.text[best_span[0] : best_span[1]]
            if has_type(sentence, q.expects, q.words):
                best += config.answer_type_weight
        if q.subject and config.definition_weight and defines(h.chunk.text, q.subject):
            best += config.definition_weight
        if closest:
            best += config.sentence_dense_weight * closest.get(h.chunk.id, floor)
        out.append(ScoredChunk(h.chunk, h.score + best))
    return out
