"""The scoring functions of the evaluation: pure, small, tested on hand-made cases.

Answers are graded SQuAD-style (lower case, no punctuation, no articles, single
spaces) by exact match, token F1 and "gold answer contained in the answer". A retrieved
passage *hits* when it comes from a gold document and either overlaps a gold answer span
(character offsets into that document) or contains a gold answer's text.
"""
from __future__ import annotations

import math
import re
import string
from collections import Counter
from typing import Iterable, Mapping, Sequence

from ..types import Citation, Passage
from .data import EvalQuestion

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = frozenset(string.punctuation) | frozenset("‘’“”–—…")


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, drop punctuation and articles, squeeze spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(g) for g in golds))


def _f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, golds: Sequence[str]) -> float:
    """Token F1 against the best-matching gold answer."""
    return max((_f1(prediction, g) for g in golds), default=0.0)


def contains_answer(prediction: str, golds: Sequence[str]) -> float:
    """1 when a (normalised, non-empty) gold answer occurs in the (normalised) prediction."""
    pred = f" {normalize_answer(prediction)} "
    return float(any(n and f" {n} " in pred for n in map(normalize_answer, golds)))


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def passage_hits(passage: Passage, question: EvalQuestion) -> bool:
    """The passage is from a gold document and overlaps a gold span or contains an answer."""
    if passage.source not in question.gold_doc_ids:
        return False
    if _overlaps(passage.start, passage.end, question.gold_spans(passage.source)):
        return True
    text = f" {normalize_answer(passage.text)} "
    return any(n and f" {n} " in text for n in map(normalize_answer, question.answers))


def first_hit_rank(passages: Sequence[Passage], question: EvalQuestion) -> int | None:
    """1-based rank of the first hitting passage, or None."""
    for i, p in enumerate(passages, 1):
        if passage_hits(p, question):
            return i
    return None


def hit_at(rank: int | None, k: int) -> float:
    return float(rank is not None and rank <= k)


def reciprocal_rank(rank: int | None, k: int = 10) -> float:
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def citation_correct(citation: Citation, corpus: Mapping[str, str]) -> bool:
    """The quote is verbatim in its source document at its offsets (checked on the corpus)."""
    text = corpus.get(citation.source)
    if text is None or not citation.quote:
        return False
    return 0 <= citation.start < citation.end <= len(text) and text[citation.start : citation.end] == citation.quote


def citation_supports(citations: Sequence[Citation], question: EvalQuestion) -> bool:
    """Some citation is from a gold document and overlaps a gold span or contains an answer."""
    for c in citations:
        if c.source not in question.gold_doc_ids:
            continue
        if _overlaps(c.start, c.end, question.gold_spans(c.source)):
            return True
        quote = f" {normalize_answer(c.quote)} "
        if any(n and f" {n} " in quote for n in map(normalize_answer, question.answers)):
            return True
    return False


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0..100), as numpy's default; None if empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def mean(values: Iterable[float]) -> float | None:
    xs = list(values)
    return sum(xs) / len(xs) if xs else None
