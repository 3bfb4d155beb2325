"""Whether passages support a claim: its numbers, names, negation, words and meaning.

:func:`support` is the LLM path's check of one drafted sentence (a :class:`Statement`)
against the passages it cites (:class:`Source`); :mod:`qa.grounding` applies it to a whole
draft. The rules are listed in :mod:`qa.grounding`'s docstring. :func:`gives_orders` is
shared with the extractive answerer: a sentence that gives the reader orders (prompt
injection) never answers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.text import terms, words
from index.sentences import sentence_spans

from .types import Passage

__all__ = ["Source", "Statement", "Support", "best_sentence", "content_terms", "gives_orders",
           "names", "negated", "numbers", "support"]

# Support thresholds (fractions of the claim's content terms found in the cited passages;
# cosines of all-MiniLM-L6-v2 between the claim and one passage sentence).
LEX_STRONG = 0.6  # most content words are in the passage: supported on words alone
LEX_MIN = 0.3  # fewer words in common: a paraphrase only if the meaning is close too
SEM_MIN = 0.6
CONTRIBUTE_LEX = 0.25  # one of several cited passages must hold at least this much
CONTRIBUTE_SEM = 0.5

_NAME = re.compile(r"(?<![\w'’-])[A-Z][\w'’-]*")
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_NUMBER_WORDS = {
    w: str(i) for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {w: str(10 * i) for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)}
_NEGATIONS = frozenset("not no never neither nor cannot".split())
# Sentences that give the model orders instead of stating facts (prompt injection).
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,80}?\b(?:instructions?|prompts?|rules"
    r"|questions?|documents?|passages?|context)\b"
    r"|\b(?:reply|respond|answer|say|write|output|print)\b[^.!?\n]{0,30}?\b(?:the\s+(?:word|phrase"
    r"|text)|exactly)\b"
    r"|\byou\s+(?:are|must|should|will)\s+now\b|\b(?:system|developer)\s+(?:prompt|message)\b"
    r"|\bnew\s+instructions?\b",
    re.I,
)


def gives_orders(text: str) -> bool:
    """The sentence tells the reader what to do ("ignore all previous instructions …")."""
    return bool(_INSTRUCTION.search(text))


# --------------------------------------------------------------------------- analysis


def numbers(text: str, *, words_too: bool = False) -> set[str]:
    found = set()
    for m in _NUMBER.finditer(text):
        whole = m.group(1).replace(",", "").lstrip("0") or "0"
        found.add(f"{whole}.{m.group(2)}" if m.group(2) else whole)
    if words_too:
        found.update(_NUMBER_WORDS[w] for w in words(text) if w in _NUMBER_WORDS)
    return found


def negated(text: str) -> bool:
    return any(w in _NEGATIONS or w.endswith("n't") for w in words(text))


def content_terms(text: str) -> set[str]:
    """Content terms, without the whole form of hyphenated words ("covid-19" → covid, 19):
    counting both would let one compound outweigh the rest of a claim."""
    return {t for t in terms(text) if not any(ch in t for ch in "-'’.")}


@dataclass
class Source:
    """One passage, split into sentences, with their terms (and vectors, if embedded)."""

    passage: Passage
    spans: list[tuple[int, int]]
    sentences: list[str]
    terms: list[set[str]]
    all_terms: set[str]
    numbers: set[str]
    sentence_numbers: list[set[str]]
    title_terms: set[str]  # a chunk often leaves its subject to the document's title
    vectors: np.ndarray | None = None

    @classmethod
    def of(cls, p: Passage) -> "Source":
        spans = sentence_spans(p.text) or ([(0, len(p.text))] if p.text else [])
        sentences = [p.text[s:e] for s, e in spans]
        sterms = [content_terms(s) for s in sentences]
        return cls(p, spans, sentences, sterms, set().union(*sterms),
                   numbers(p.text, words_too=True),
                   [numbers(s, words_too=True) for s in sentences], content_terms(p.title))


@dataclass
class Statement:
    """One sentence of the draft, its markers and what it claims."""

    raw: str
    gap: str  # whitespace before it in the draft
    markers: list[tuple[re.Match, list[int]]]
    claim: str
    terms: set[str]
    numbers: set[str]
    names: dict[str, set[str]]  # capitalised words inside the sentence -> their terms
    vector: np.ndarray | None = None


@dataclass
class Support:
    supported: bool
    score: float  # 0..1: word coverage, averaged with the cosine when there are vectors
    quotes: dict[int, int]  # passage rank -> index of its best sentence
    reason: str = ""


def names(text: str) -> dict[str, set[str]]:
    """Capitalised words after the first word ("… is in Paris"): names, which a
    supported claim cannot introduce."""
    out = {}
    for m in _NAME.finditer(text):
        if m.start() == 0:
            continue
        stems = content_terms(m.group(0))
        if stems:
            out[m.group(0)] = stems
    return out


# --------------------------------------------------------------------------- support


def _cos(claim: Statement, src: Source) -> np.ndarray:
    if claim.vector is None or src.vectors is None or not len(src.vectors):
        return np.zeros(len(src.sentences), dtype=np.float32)
    return src.vectors @ claim.vector


def best_sentence(claim: Statement, src: Source) -> tuple[int, float]:
    """Index of the sentence of ``src`` that best supports the claim, and its cosine."""
    cos = _cos(claim, src)
    n_terms = max(1, len(claim.terms))
    n_nums = max(1, len(claim.numbers))
    best, best_score = 0, -1.0
    for i, st in enumerate(src.terms):
        score = (len(claim.terms & st) / n_terms + float(cos[i])
                 + 0.5 * len(claim.numbers & src.sentence_numbers[i]) / n_nums)
        if score > best_score:
            best, best_score = i, score
    return best, float(cos[best]) if len(cos) else 0.0


def support(claim: Statement, sources: list[Source]) -> Support:
    if not claim.terms:
        return Support(False, 0.0, {}, "no content words to check")
    missing = claim.numbers - set().union(*(s.numbers for s in sources))
    if missing:
        return Support(False, 0.0, {}, f"number {', '.join(sorted(missing))} not in the cited passage")
    found = claim.terms & set().union(*(s.all_terms | s.title_terms for s in sources))
    names = [n for n, stems in claim.names.items() if not stems <= found]
    if names:
        return Support(False, 0.0, {}, f"name {', '.join(names)} not in the cited passage")
    lex = len(found) / len(claim.terms)
    quotes: dict[int, int] = {}
    sem = 0.0
    for src in sources:
        if not src.sentences:
            continue
        idx, cos = best_sentence(claim, src)
        lex_p = len(claim.terms & src.all_terms) / len(claim.terms)
        if len(sources) > 1 and lex_p < CONTRIBUTE_LEX and cos < CONTRIBUTE_SEM and not (
            claim.numbers & src.numbers
        ):
            continue  # this passage adds nothing to the claim: its citation is dropped
        quotes[src.passage.rank] = idx
        sem = max(sem, cos)
    if not quotes:
        return Support(False, 0.0, {}, "no cited passage holds it")
    if not (lex >= LEX_STRONG or (lex >= LEX_MIN and sem >= SEM_MIN)):
        return Support(False, lex, {}, f"only {lex:.0%} of its words are in the cited passage")
    if negated(claim.claim) != any(
        negated(src.sentences[quotes[src.passage.rank]])
        for src in sources if src.passage.rank in quotes
    ):
        return Support(False, lex, {}, "its negation does not match the cited passage")
    if all(_INSTRUCTION.search(src.sentences[quotes[src.passage.rank]])
           for src in sources if src.passage.rank in quotes):
        return Support(False, lex, {}, "it rests on an instruction inside a document, not a fact")
    strength = lex if claim.vector is None else (lex + max(sem, 0.0)) / 2
    return Support(True, round(min(1.0, strength), 4), quotes)
