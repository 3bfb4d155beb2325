"""Offline evaluation of retrieval and answers on a question set (``python -m qa.eval``).

    from qa.eval import evaluate, eval_settings, load_questions
    settings = eval_settings(Settings.from_env(), corpus)
    run = evaluate(settings, corpus, load_questions([questions]))
    run.summary["hit@5"], run.summary["f1"]
"""
from __future__ import annotations

from .data import EvalQuestion, collection_name, load_corpus, load_questions
from .metrics import (
    citation_correct, citation_supports, contains_answer, exact_match, f1_score, first_hit_rank,
    hit_at, normalize_answer, passage_hits, reciprocal_rank,
)
from .runner import SUMMARY_KEYS, EvalRun, QuestionResult, eval_settings, evaluate

__all__ = [
    "EvalQuestion", "EvalRun", "QuestionResult", "SUMMARY_KEYS", "citation_correct", "citation_supports",
    "collection_name", "contains_answer", "eval_settings", "evaluate", "exact_match", "f1_score",
    "first_hit_rank", "hit_at", "load_corpus", "load_questions", "normalize_answer", "passage_hits",
    "reciprocal_rank",
]
