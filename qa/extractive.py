"""The answer without an LLM: the sentences of the retrieved passages that answer best.

Every sentence of the top passages is a candidate (offsets from
:func:`index.sentences.sentence_spans`, so each one is a verbatim quote of its document).
A candidate's score mixes four signals:

* meaning — MiniLM cosine between the question and the sentence (all candidates are
  embedded in one batch with the question);
* words — the question's stemmed content terms found in the sentence, each weighted by
  its rarity among the candidates (IDF), and the same over the sentence with its
  neighbours (an answer sentence often says "it" where the question names the thing);
* answer type — "how many" wants a number, "when" a date, "who" a name, "where" a
  place, "why" a cause: a sentence holding one the question does not already say gains,
  one without loses;
* the passage's retrieval rank, as a small prior.

The best sentence is the answer; a second one joins it only when it supplies the answer
type the first lacks, or scores within 20% of it and comes from another place.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Mapping, Sequence

import numpy as np

from index import text as tokenizer
from index.cache import LRU
from index.sentences import sentence_spans

from .answer_types import defines, type_strength
from .matching import term_matches
from .question import Question
from .types import Passage


@dataclass(frozen=True)
class Weights:
    """How the signals add up (tuned on the xquad-en dev questions, see docs)."""

    dense: float = 0.45
    words: float = 0.35
    context: float = 0.15
    type_found: float = 0.10
    type_missing: float = -0.08
    definition: float = 0.10  # for "what is X?": the sentence defines X ("X is a ...")
    rank: float = 0.04
    # a second sentence: how close to the best it must score, and when it adds the type.
    # Within 20%, the evidence does not single out one sentence: quoting both finds the
    # answer more often (xquad dev, with refusals: 0.826 at 0.93, 0.849 at 0.82, 0.856 at
    # 0.80, 0.862 at 0.75) for longer answers (1.17, 1.34, 1.37, 1.44 sentences on average).
    second_close: float = 0.80
    second_for_type: float = 0.75
    min_words: int = 4
    embedded: int = 6  # sentences embedded per question: the latency (12 gains ~0.3 points)
    score_stored: bool = True  # also score every sentence whose vector the index stored
    second_gap: int = 0  # a close second must be more than this many sentences away
    continuation: float = 0.6  # a next sentence opening with "This"/"It" joins above this
    third_close: float | None = None  # a third sentence is quoted when it scores this share of the best


WEIGHTS = Weights()
# The same rules on the sentence ranker's probabilities (:mod:`qa.reading`): a second sentence
# is quoted when it is at least a tenth as likely to answer as the best one. Lower quotes two
# more often: covid contains 0.521 at 0.2, 0.531 at 0.15, 0.541 at 0.1 for 1.45, 1.52, 1.63
# sentences an answer (xquad 0.862, 0.868, 0.875; docs/evaluation.md).
# A third sentence on the same rule gains again (docs/evaluation.md, "A third sentence"):
# contains 0.895 → 0.913 on xquad and 0.544 → 0.561 on covid, text F1 0.246 → 0.236.
RANKED = replace(WEIGHTS, second_close=0.1, second_for_type=0.1, continuation=0.3, third_close=0.1)


@dataclass(frozen=True)
class Sentence:
    """A candidate sentence: ``text == document[start:end]`` of ``passage.source``."""

    passage: Passage
    start: int
    end: int
    text: str
    position: int  # reading order among the candidates of one document


@dataclass(frozen=True)
class Scored:
    sentence: Sentence
    score: float
    dense: float
    words: float  # IDF-weighted share of the question's terms in the sentence
    context: float  # the same over the sentence and its neighbours
    typed: bool  # holds the expected answer type (True when none is expected)
    matched: frozenset[str]  # the question's terms it contains
    strength: float = 1.0  # how clearly it gives the expected type (0.5: "dozens")
    recall_only: bool = False  # a third sentence, quoted in case it holds the answer: no support for one


@dataclass(frozen=True)
class Extraction:
    question: Question
    chosen: tuple[Scored, ...]  # best first
    ranked: tuple[Scored, ...]  # every candidate, best first
    idf: Mapping[str, float]
    sentences: tuple[Sentence, ...] = ()  # every sentence of the passages, in reading order


def candidates(passages: Sequence[Passage]) -> list[Sentence]:
    """Every sentence of ``passages`` once (chunks overlap), best-ranked passage kept."""
    seen: dict[tuple[str, int, int], Sentence] = {}
    for p in sorted(passages, key=lambda p: p.rank):
        for s, e in sentence_spans(p.text):
            key = (p.source, p.start + s, p.start + e)
            if key not in seen:
                seen[key] = Sentence(p, p.start + s, p.start + e, p.text[s:e], 0)
    ordered = sorted(seen.values(), key=lambda x: (x.passage.source, x.start))
    return [replace(x, position=i) for i, x in enumerate(ordered)]


def _idf(term_sets: Sequence[frozenset[str]], terms: Sequence[str]) -> dict[str, float]:
    n = len(term_sets)
    df = Counter(t for ts in term_sets for t in ts if t in terms)
    return {t: math.log((n + 1) / (df.get(t, 0) + 0.5)) for t in terms}


@lru_cache(maxsize=65536)
def _terms(sentence: str) -> frozenset[str]:
    """A sentence's BM25 terms (the same passages come back for question after question)."""
    return frozenset(tokenizer.terms(sentence))


@lru_cache(maxsize=65536)
def _word_count(sentence: str) -> int:
    return len(tokenizer.words(sentence))


def extract(
    question: Question,
    passages: Sequence[Passage],
    embedder,
    *,
    query_text: str | None = None,
    term_weights: Mapping[str, float] | None = None,
    weights: Weights = WEIGHTS,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    stored: Callable[[list[str]], list[np.ndarray | None]] | None = None,
) -> Extraction:
    """Score the sentences of ``passages`` for ``question`` and choose the answer.

    ``query_text`` is what is embedded for the meaning signal (default the question);
    ``term_weights`` lowers terms carried over from an earlier turn (default 1 each).
    Only the ``weights.embedded`` sentences that score best on words, type and rank are
    embedded (in one batch, with the query); ``embed`` replaces ``embedder.embed``.
    ``stored`` gives the vectors the index already holds for some sentences (None for
    the others): those sentences are all scored, at no model cost.
    """
    sentences = candidates(passages)
    if not sentences:
        return Extraction(question, (), (), {})
    texts = [s.text for s in sentences]
    raw_sets = [_terms(t) for t in texts]
    q_terms = list(question.terms)
    vocabulary = set().union(*raw_sets)
    matches = term_matches(q_terms, vocabulary)
    # a name misspelt by one letter is still the name ("Geegen" for "Gegeen"), as the refusal reads it
    names = sorted(question.key_terms & set(q_terms))
    for t, found in term_matches(names, vocabulary, typos=True).items():
        matches[t] = matches[t] | found
    # each sentence as the set of question terms it holds
    term_sets = [frozenset(t for t in q_terms if matches[t] & ts) for ts in raw_sets]
    tw = {t: (term_weights or {}).get(t, 1.0) for t in q_terms}
    idf = _idf(term_sets, q_terms)
    total = sum(idf[t] * tw[t] for t in q_terms) or 1.0

    def share(ts: frozenset[str]) -> float:
        return sum(idf[t] * tw[t] for t in q_terms if t in ts) / total

    by_doc_pos = {(s.passage.source, s.position): i for i, s in enumerate(sentences)}
    n_ranks = max(p.rank for p in passages)
    features = []
    for i, s in enumerate(sentences):
        window = set(term_sets[i])
        for d in (-1, 1):
            j = by_doc_pos.get((s.passage.source, s.position + d))
            if j is not None:
                window |= term_sets[j]
        words, context = share(term_sets[i]), share(frozenset(window))
        strength = type_strength(s.text, question.expects, question.words)
        partial = (
            weights.words * words
            + weights.context * context
            + (weights.type_found * strength if question.expects else 0.0)
            + (weights.type_missing if strength == 0 else 0.0)
            + (weights.definition if question.subject and defines(s.text, question.subject) else 0.0)
            + weights.rank * (1.0 - (s.passage.rank - 1) / max(n_ranks, 1))
        )
        if _word_count(s.text) < weights.min_words:
            partial -= 0.2  # headings, captions, "Breaking News"
        features.append((partial, words, context, strength))

    # Embedding is the expensive part: only the lexically most promising sentences, and
    # the neighbours that continue or introduce the best of them ("This is called ...").
    known = stored(texts) if stored is not None else [None] * len(texts)
    by_promise = sorted(range(len(sentences)), key=lambda i: -features[i][0])
    order = by_promise[: weights.embedded]
    if weights.score_stored:
        order += [i for i in by_promise[weights.embedded :] if known[i] is not None]
    for i in list(order[:3]):
        s = sentences[i]
        for d, needs in ((1, sentences), (-1, None)):
            j = by_doc_pos.get((s.passage.source, s.position + d))
            if j is None or j in order:
                continue
            if (d == 1 and ANAPHOR.match(sentences[j].text)) or (d == -1 and ANAPHOR.match(s.text)):
                order.append(j)
    fresh = [i for i in order if known[i] is None]
    vectors = (embed or _cached(embedder))([query_text or question.text, *(texts[i] for i in fresh)])
    by_index = dict(zip(fresh, vectors[1:]))
    dense = [float(vectors[0] @ (known[i] if known[i] is not None else by_index[i])) for i in order]
    scored = []
    for i, d in zip(order, dense):
        partial, words, context, strength = features[i]
        scored.append(
            Scored(sentences[i], partial + weights.dense * float(d), float(d), words, context, strength > 0,
                   frozenset(term_sets[i]), strength)
        )
    ranked = sorted(scored, key=lambda x: -x.score)
    return Extraction(question, tuple(choose(ranked, question, weights)), tuple(ranked), idf, tuple(sentences))


# Sentence vectors by (embedder, text): passages recur across questions.
_VECTORS: LRU[tuple[str, str], np.ndarray] = LRU(8192)


def _embed_cached(embedder, texts: list[str]) -> np.ndarray:
    key = getattr(embedder, "id", type(embedder).__name__)
    out: list[np.ndarray | None] = [_VECTORS.get((key, t)) for t in texts]
    todo = list(dict.fromkeys(t for t, v in zip(texts, out) if v is None))
    if todo:
        fresh = dict(zip(todo, embedder.embed(todo)))
        for t, v in fresh.items():
            _VECTORS.put((key, t), v)
        out = [v if v is not None else fresh[t] for t, v in zip(texts, out)]
    return np.stack(out)


def _cached(embedder) -> Callable[[list[str]], np.ndarray]:
    return lambda texts: _embed_cached(embedder, texts)


# A sentence that opens like this leans on the one before it.
ANAPHOR = re.compile(
    r"^[\"“'(]*(?:This|These|That|Those|It|Its|They|Their|Them|He|His|She|Her|Such|Both|"
    r"The latter|The former|Today,? this|Here)\b"
)


def choose(ranked: list[Scored], question: Question, weights: Weights = WEIGHTS) -> list[Scored]:
    """The best sentence, and at most two more; in reading order when the first two are neighbours."""
    best = ranked[0]
    at = {(x.sentence.passage.source, x.sentence.position): x for x in ranked}
    src, pos = best.sentence.passage.source, best.sentence.position
    after, before = at.get((src, pos + 1)), at.get((src, pos - 1))
    # "... evade the adaptive immune system." + "This is called antigenic variation."
    if after and ANAPHOR.match(after.sentence.text) and after.score >= weights.continuation * best.score:
        return [best, after]
    # "He also describes the distillation ..." lacks the name its predecessor gives
    if (before and ANAPHOR.match(best.sentence.text) and question.expects and not best.typed
            and before.typed):
        return [before, best]
    chosen = [best]
    for other in ranked[1:4]:
        if _near(best.sentence, other.sentence, 0):
            continue
        adds_type = question.expects and not best.typed and other.typed
        if adds_type and other.score >= weights.second_for_type * best.score:
            chosen.append(other)
            break
        elif other.strength < 1.0:
            continue  # a second answer must be a clear one ("eight", not "dozens")
        elif other.score >= weights.second_close * best.score and not _near(best.sentence, other.sentence, weights.second_gap):
            chosen.append(other)
            break
    if len(chosen) == 2 and weights.third_close is not None:  # the next likeliest, when it is likely too
        third = next((x for x in ranked[1:5] if x is not chosen[1] and x.strength == 1.0
                      and not any(_near(c.sentence, x.sentence, 0) for c in chosen)), None)
        if third is not None and third.score >= weights.third_close * best.score:
            chosen.append(replace(third, recall_only=True))
    if len(chosen) == 2 and _near(chosen[0].sentence, chosen[1].sentence, 1):
        chosen.sort(key=lambda x: x.sentence.start)
    return chosen


def _near(a: Sentence, b: Sentence, gap: int) -> bool:
    """Same sentence (gap 0) or within ``gap`` sentences of each other in one document."""
    if a.passage.source != b.passage.source:
        return False
    if a.start < b.end and b.start < a.end:
        return True
    return abs(a.position - b.position) <= gap
