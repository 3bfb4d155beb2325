"""What the sentence ranker (:mod:`qa.sentence_model`) observes about a candidate sentence.

Every observation is one the extractive answerer already makes or can make for free:
the MiniLM cosine to the question (stored sentence vectors), the IDF-weighted share of the
question's terms in the sentence and in its neighbours, the answer type it holds, the
passage's retrieval rank, and from the build's stored parse whether it holds an entity of
the asked kind. Most of them are also given *relative to the best candidate of the same
question* ("3 points less cosine than the closest sentence"): what makes a sentence the
answer is how it compares with the other sentences retrieved for the question, not its
absolute cosine, which differs a lot from one set of documents to another.
"""
from __future__ import annotations

import math
import re
from typing import Sequence

from index import text as tokenizer

from . import constraints
from .answer_types import defines
from .asking import Asked
from .extractive import ANAPHOR, Extraction, Scored

# "CONCLUSION:", "Abstract: BACKGROUND:", "Text:": the section label a paper's sentence opens with
_LABEL = re.compile(r"^\s*(?:[A-Z][A-Za-z]*(?: [A-Za-z]+){0,3}: ?)+")


def label_found(asked: Asked, text: str, ents: Sequence) -> bool:
    """``text`` holds an entity of the asked kind that is not made of the question's words."""
    for label, s, e in ents:
        if label in asked.labels:
            words = set(text[s:e].lower().split())
            if not words <= asked.words:
                return True
    return False


def _sequence(text: str) -> list[str]:
    return list(tokenizer.terms(text))


def _run(question: list[str], sentence: list[str]) -> int:
    """The longest run of the question's terms that the sentence repeats in the same order."""
    best = 0
    prev = [0] * (len(sentence) + 1)
    for q in question:
        cur = [0] * (len(sentence) + 1)
        for j, s in enumerate(sentence, 1):
            if q == s:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def _bigrams(terms: list[str]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:]))


def observe(asked: Asked, ex: Extraction, pool: Sequence[Scored], ents: Sequence[Sequence]) -> list[dict[str, float]]:
    """The features of each sentence of ``pool`` (ranked by the extractive score, best
    first); ``ents`` are their entities ``(label, start, end)``."""
    if not pool:
        return []
    q = ex.question
    q_seq = _sequence(q.text)
    q_bi = _bigrams(q_seq)
    n_terms = max(len(q.terms), 1)
    best = {k: max(getattr(c, k) for c in pool) for k in ("score", "dense", "words", "context")}
    ranks = {id(c): i for i, c in enumerate(sorted(pool, key=lambda c: -c.dense))}
    at = {(c.sentence.passage.source, c.sentence.position): c for c in ex.ranked}
    out = []
    for i, (c, e) in enumerate(zip(pool, ents)):
        s = c.sentence
        seq = _sequence(s.text)
        n_words = max(len(tokenizer.words(s.text)), 1)
        verdict = constraints.agreement(asked, s.text)
        title = set(tokenizer.terms(s.passage.title)) if s.passage.title else set()
        f = {
            "bias": 1.0,
            "dense": c.dense, "dense_gap": c.dense - best["dense"],
            "words": c.words, "words_gap": c.words - best["words"],
            "context": c.context, "context_gap": c.context - best["context"],
            "context_more": c.context - c.words,  # what the neighbours add
            "score_gap": c.score - best["score"],
            "first": float(i == 0), "second": float(i == 1), "order": 1.0 / (i + 1),
            "dense_first": float(ranks[id(c)] == 0), "dense_order": 1.0 / (ranks[id(c)] + 1),
            "matched": len(c.matched) / n_terms,
            "run": _run(q_seq, seq) / max(len(q_seq), 1),
            "bigrams": len(q_bi & _bigrams(seq)) / max(len(q_bi), 1),
            "title": len(title & set(q.terms)) / n_terms,
            "passage_order": 1.0 / s.passage.rank,
            "log_words": math.log(n_words), "short": float(n_words < 8), "long": float(n_words > 45),
            "density": len(c.matched) / n_words,
            "doc_start": float(s.start < 300), "log_offset": math.log1p(s.start) / 10.0,
            "anaphor": float(bool(ANAPHOR.match(s.text))),
            "section_label": float(bool(_LABEL.match(s.text))),
            "agrees": float(verdict == constraints.AGREES),
            "contradicts": float(verdict == constraints.CONTRADICTS),
        }
        around = [at.get((s.passage.source, s.position + d)) for d in (-1, 1)]
        f["next_dense"] = around[1].dense if around[1] else 0.0
        f["prev_dense"] = around[0].dense if around[0] else 0.0
        f["next_words"] = around[1].words if around[1] else 0.0
        f["prev_words"] = around[0].words if around[0] else 0.0
        f["window_dense_gap"] = max([c.dense] + [a.dense for a in around if a]) - best["dense"]
        if q.expects:
            f["type_strength"] = c.strength
            f["type_missing"] = float(c.strength == 0)
        if asked.labels:
            f["kind_found"] = float(label_found(asked, s.text, e))
            f["kind_missing"] = 1.0 - f["kind_found"]
        if q.subject:
            f["defines"] = float(defines(s.text, q.subject))
        out.append(f)
    return out
