"""Run an evaluation: index a corpus, retrieve and answer every question, score it all.

The corpus is indexed by the normal incremental :func:`index.build_index` into its own
collection (``eval-<corpus>-<chunk_size>-<overlap>[-<chunker>]``), so a second run reuses it. Each
question is answered through ``Assistant.ask`` — the path users get — and, separately,
ranked by the retriever at chunk level (top 10, no neighbour windows) for the retrieval
metrics. Retrievers and the answer function are parameters, so tests and baselines can
pass their own.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from index import BadRequest, IndexReader, build_index

from ..settings import Settings
from ..types import Answer, Passage
from . import metrics as m
from .data import EvalQuestion, collection_name, load_corpus

Retriever = Callable[[str, int], list[Passage]]  # (question, k) -> ranked passages
Ask = Callable[[str], Answer]
RANK_DEPTH = 10  # passages ranked per question for hit@k / MRR@10

SUMMARY_KEYS = (
    "hit@1", "hit@5", "hit@10", "mrr@10", "shown_hit", "exact_match", "f1", "contains_answer",
    "short_exact_match", "short_f1", "short_answered",
    "citation_precision", "citation_recall", "refusal_rate", "unanswerable_refusal_rate",
    "latency_p50_ms", "latency_p95_ms", "build_seconds",
)


@dataclass(frozen=True)
class QuestionResult:
    question: EvalQuestion
    rank: int | None  # of the first hitting passage in the top RANK_DEPTH
    passages: tuple[Passage, ...]  # the retriever's top RANK_DEPTH
    latency_ms: float
    answer: Answer | None = None
    exact_match: float | None = None
    f1: float | None = None
    contains_answer: float | None = None
    citations_correct: int = 0
    citation_recall: float | None = None
    shown_hit: float | None = None  # a passage shown with the answer (k neighbour windows) holds the gold span
    short_exact_match: float | None = None  # of Answer.short_answer (0 when there is none)
    short_f1: float | None = None


@dataclass
class EvalRun:
    summary: dict
    results: list[QuestionResult]
    meta: dict
    baselines: dict[str, dict] = field(default_factory=dict)

    def to_json(self) -> dict:
        out = {key: self.summary.get(key) for key in SUMMARY_KEYS}
        out["baselines"] = self.baselines
        out["meta"] = self.meta
        return out


def eval_settings(base: Settings, corpus: Path) -> Settings:
    """``base`` with the collection named after the corpus and its chunking."""
    name = collection_name(corpus, base.chunk_size, base.chunk_overlap, base.chunker)
    return base.model_copy(update={"collection": name})


def prepare_index(settings: Settings, corpus: Path, *, embedder=None, show_progress: bool = True):
    """Build (or bring up to date) the corpus's collection; returns the BuildReport."""
    if not Path(corpus).is_file():
        raise BadRequest(f"Corpus {corpus} is not a file: pass a .jsonl corpus with --corpus.")
    return build_index(settings, source=Path(corpus), embedder=embedder, show_progress=show_progress, wait=600)


def default_ask(settings: Settings, reader: IndexReader, *, answerer: str, k: int,
                retriever: Retriever | None = None) -> Ask:
    """``Assistant.ask`` with the given answerer and top_k: what a user's question goes
    through (``retriever``: the assistant's, instead of its own retrieval)."""
    from ..service import Assistant

    assistant = Assistant(settings, reader=reader, retriever=retriever)
    return lambda question: assistant.ask(question, answerer=answerer, top_k=k)


def score_question(q: EvalQuestion, passages: Sequence[Passage], answer: Answer | None,
                   latency_ms: float, corpus: dict[str, str]) -> QuestionResult:
    rank = m.first_hit_rank(passages, q) if q.answerable else None
    if answer is None:
        return QuestionResult(q, rank, tuple(passages), latency_ms)
    correct = sum(m.citation_correct(c, corpus) for c in answer.citations)
    if not q.answerable:
        return QuestionResult(q, rank, tuple(passages), latency_ms, answer, citations_correct=correct)
    text = "" if answer.refused else answer.text
    short = "" if answer.refused or answer.short_answer is None else answer.short_answer.text
    return QuestionResult(
        q, rank, tuple(passages), latency_ms, answer,
        exact_match=m.exact_match(text, q.answers), f1=m.f1_score(text, q.answers),
        contains_answer=m.contains_answer(text, q.answers), citations_correct=correct,
        citation_recall=float(not answer.refused and m.citation_supports(answer.citations, q)),
        shown_hit=float(any(m.passage_hits(p, q) for p in answer.passages)),
        short_exact_match=m.exact_match(short, q.answers) if short else 0.0,
        short_f1=m.f1_score(short, q.answers) if short else 0.0,
    )


def retrieval_summary(results: Sequence[QuestionResult]) -> dict:
    ranked = [r for r in results if r.question.answerable and r.question.gold_doc_ids]
    out = {f"hit@{k}": m.mean(m.hit_at(r.rank, k) for r in ranked) for k in (1, 5, 10)}
    out["mrr@10"] = m.mean(m.reciprocal_rank(r.rank, RANK_DEPTH) for r in ranked)
    out["hit_curve"] = [m.mean(m.hit_at(r.rank, k) for r in ranked) for k in range(1, RANK_DEPTH + 1)]
    return out


def summarise(results: Sequence[QuestionResult], build_seconds: float | None) -> dict:
    out = retrieval_summary(results)
    answered = [r for r in results if r.answer is not None]
    ok = [r for r in answered if r.question.answerable]
    no = [r for r in answered if not r.question.answerable]
    cites = [c for r in answered for c in r.answer.citations]
    out.update(
        exact_match=m.mean(r.exact_match for r in ok),
        f1=m.mean(r.f1 for r in ok),
        contains_answer=m.mean(r.contains_answer for r in ok),
        short_exact_match=m.mean(r.short_exact_match for r in ok),
        short_f1=m.mean(r.short_f1 for r in ok),
        short_answered=m.mean(float(r.answer.short_answer is not None and not r.answer.refused) for r in ok),
        shown_hit=m.mean(r.shown_hit for r in ok),
        citation_precision=(sum(r.citations_correct for r in answered) / len(cites)) if cites else None,
        citation_recall=m.mean(r.citation_recall for r in ok),
        refusal_rate=m.mean(float(r.answer.refused) for r in ok),
        unanswerable_refusal_rate=m.mean(float(r.answer.refused) for r in no),
    )
    latencies = [r.latency_ms for r in results]
    out["latency_p50_ms"] = m.percentile(latencies, 50)
    out["latency_p95_ms"] = m.percentile(latencies, 95)
    out["build_seconds"] = build_seconds
    out["questions"] = len(results)
    out["answerable"] = sum(r.question.answerable for r in results)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def _bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="q", file=sys.stderr, disable=not enabled, leave=False)


def run_questions(questions: Sequence[EvalQuestion], corpus: dict[str, str], retriever: Retriever,
                  ask: Ask | None, *, desc: str = "questions", progress: bool = True) -> list[QuestionResult]:
    """Retrieve (and answer, unless ``ask`` is None) every question; latency is of ``ask``
    when answering, else of the retriever."""
    results = []
    with _bar(len(questions), desc, progress) as bar:
        for q in questions:
            t0 = time.perf_counter()
            passages = retriever(q.question, RANK_DEPTH)
            latency = (time.perf_counter() - t0) * 1000
            answer = None
            if ask is not None:
                t0 = time.perf_counter()
                answer = ask(q.question)
                latency = (time.perf_counter() - t0) * 1000
            results.append(score_question(q, passages, answer, latency, corpus))
            bar.update(1)
    return results


def evaluate(
    settings: Settings,
    corpus_path: Path,
    questions: Sequence[EvalQuestion],
    *,
    k: int = 5,
    answerer: str = "extractive",
    retrieval_only: bool = False,
    retriever: Retriever | None = None,
    ask: Ask | None = None,
    embedder=None,
    progress: bool = True,
) -> EvalRun:
    """Index ``corpus_path`` into its eval collection and score ``questions`` against it.

    ``settings`` should already name the eval collection (see :func:`eval_settings`).
    ``retriever`` defaults to :func:`qa.retrieval.retrieve` on the index (a given one is the
    assistant's too); ``ask`` to ``Assistant.ask``. :func:`qa.eval.baselines.evaluate_with_baselines`
    adds the baselines.
    """
    from ..retrieval import CHUNK_LEVEL, retrieve

    corpus = load_corpus(corpus_path)
    report = prepare_index(settings, corpus_path, embedder=embedder, show_progress=progress)
    reader = IndexReader(settings, embedder=embedder)
    if not retrieval_only and ask is None:
        ask = default_ask(settings, reader, answerer=answerer, k=k, retriever=retriever)
    retriever = retriever or (lambda query, n: retrieve(reader, query, n, config=CHUNK_LEVEL))
    results = run_questions(questions, corpus, retriever, None if retrieval_only else ask, progress=progress)
    summary = summarise(results, report.seconds)
    meta = dict(
        corpus=str(corpus_path), collection=settings.collection, chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap, chunker=settings.chunker, k=k,
        answerer=None if retrieval_only else answerer,
        questions=len(results), documents=report.documents_total, chunks=report.chunks_total,
        chunks_embedded=report.chunks_embedded, embedder=report.embedder,
    )
    return EvalRun(summary, results, meta)
