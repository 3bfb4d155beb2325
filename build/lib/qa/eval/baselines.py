"""Reference retrievers scored on the same questions and (except llama-index) the same chunks.

* ``bm25``       the index's BM25 alone
* ``dense``      the index's dense (MiniLM cosine) search alone
* ``rrf``        plain reciprocal-rank fusion of the two, equal weights (the first version)
* ``llama-index`` the plain llama-index pipeline (:mod:`qa.eval.llama_pipeline`): SentenceSplitter at
  the same chunk settings, the same embedder, its default retriever
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from index import IndexReader, ScoredChunk, Settings

from ..retrieval import to_passages
from ..types import Passage
from . import metrics as m
from .data import EvalQuestion, load_corpus
from .runner import EvalRun, Retriever, evaluate, retrieval_summary, run_questions

_RRF_K = 60


def bm25_only(reader: IndexReader) -> Retriever:
    return lambda query, k: to_passages(reader.search(query, dense_k=0, keyword_k=k).keyword[:k])


def dense_only(reader: IndexReader) -> Retriever:
    return lambda query, k: to_passages(reader.search(query, dense_k=k, keyword_k=0).dense[:k])


def naive_rrf(reader: IndexReader) -> Retriever:
    """Equal-weight RRF over max(4k, 20) of each list: what qa.retrieval did first."""

    def retrieve(query: str, k: int) -> list[Passage]:
        pool = max(k * 4, 20)
        result = reader.search(query, dense_k=pool, keyword_k=pool)
        scores: dict[str, float] = {}
        first: dict[str, ScoredChunk] = {}
        for hits in (result.dense, result.keyword):
            for rank, hit in enumerate(hits):
                scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + 1.0 / (_RRF_K + rank + 1)
                first.setdefault(hit.chunk.id, hit)
        ranked = sorted(scores, key=lambda i: -scores[i])[:k]
        return to_passages([ScoredChunk(first[i].chunk, scores[i]) for i in ranked])

    return retrieve


def llama_index(settings: Settings, corpus_path: Path, *, embedder=None) -> tuple[Retriever, dict]:
    """The llama-index pipeline's retriever, built (or reused) on the corpus."""
    from .llama_pipeline import LlamaPipeline

    pipeline = LlamaPipeline(settings, embedder=embedder)
    build = pipeline.build(corpus_path, fresh=False)
    info = {"build_seconds": build.seconds, "chunks": build.chunks, "reused": build.reused}
    return (lambda query, k: to_passages(pipeline.search(query, k))), info


def score_retriever(name: str, retriever: Retriever, questions: Sequence[EvalQuestion],
                    corpus: dict[str, str], *, progress: bool = True) -> dict:
    results = run_questions(questions, corpus, retriever, None, desc=name, progress=progress)
    out = retrieval_summary(results)
    latencies = [r.latency_ms for r in results]
    out["latency_p50_ms"] = m.percentile(latencies, 50)
    out["latency_p95_ms"] = m.percentile(latencies, 95)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def run_baselines(settings: Settings, reader: IndexReader, corpus_path: Path,
                  questions: Sequence[EvalQuestion], corpus: dict[str, str], *,
                  embedder=None, progress: bool = True, names: Sequence[str] | None = None) -> dict[str, dict]:
    """Retrieval metrics (and retrieval latency) of each baseline, by name."""
    wanted = list(names or ("bm25", "dense", "rrf", "llama-index"))
    makers = {"bm25": bm25_only, "dense": dense_only, "rrf": naive_rrf}
    out: dict[str, dict] = {}
    for name in wanted:
        extra: dict = {}
        if name == "llama-index":
            t0 = time.perf_counter()
            retriever, extra = llama_index(settings, corpus_path, embedder=embedder)
            extra["setup_seconds"] = round(time.perf_counter() - t0, 3)
        else:
            retriever = makers[name](reader)
        out[name] = {**score_retriever(name, retriever, questions, corpus, progress=progress), **extra}
    return out


def evaluate_with_baselines(settings, corpus_path: Path, questions: Sequence[EvalQuestion], *,
                            embedder=None, progress: bool = True, **options) -> EvalRun:
    """:func:`~qa.eval.runner.evaluate` (``options`` are its), then every baseline scored
    on the same questions and index (``run.baselines``)."""
    run = evaluate(settings, corpus_path, questions, embedder=embedder, progress=progress, **options)
    run.baselines = run_baselines(settings, IndexReader(settings, embedder=embedder), corpus_path, questions,
                                  load_corpus(corpus_path), embedder=embedder, progress=progress)
    return run
