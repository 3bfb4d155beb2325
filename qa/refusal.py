"""When the retrieved evidence does not answer the question, say so instead of guessing.

No similarity threshold alone separates answerable from unanswerable questions: a
question about something the documents name ("When did the attack on al-Udeid happen?"
beside an article about al-Asad) retrieves passages as close as a real one does. So the
decision combines signals of the chosen sentence and its passages:

* key terms — a name, number or quoted phrase of the question that no retrieved passage
  contains means the documents are about something else;
* coverage — how much of the question (IDF-weighted terms) the chosen sentence and its
  neighbours hold, and how close it is in meaning (MiniLM cosine);
* answer type — a "how many" question whose chosen sentences hold no number, a "when"
  question without a date, a "who" question without a name.

Each weakness lowers the support; below :data:`THRESHOLD` the answer is a refusal.
"""
from __future__ import annotations

from dataclasses import dataclass

from index import bm25

from .extractive import Extraction

THRESHOLD = 0.40


@dataclass(frozen=True)
class Verdict:
    refused: bool
    support: float
    reason: str = ""  # what was missing, for the user ("none of the passages mention …")
    missing: tuple[str, ...] = ()  # key words of the question found nowhere in the evidence


def _evidence_terms(ex: Extraction) -> set[str]:
    out: set[str] = set()
    seen = set()
    for s in ex.ranked:
        p = s.sentence.passage
        if p.chunk_id not in seen:
            seen.add(p.chunk_id)
            out.update(bm25.terms(p.title))
            out.update(bm25.terms(p.text))
    return out


def judge(ex: Extraction, key_words: dict[str, str] | None = None) -> Verdict:
    """Whether ``ex`` answers its question. ``key_words`` maps key stems to their written form."""
    if not ex.chosen:
        return Verdict(True, 0.0, "nothing was retrieved")
    q = ex.question
    best = ex.chosen[0]
    evidence = _evidence_terms(ex)
    missing = tuple(t for t in sorted(q.key_terms) if t not in evidence)
    typed = any(c.typed for c in ex.chosen)
    words = max(c.words for c in ex.chosen)
    context = max(c.context for c in ex.chosen)
    support = 0.5 * best.dense + 0.35 * words + 0.15 * context
    if q.expects and not typed:
        support -= 0.12
    if missing:
        support -= 0.25 * len(missing)
    refused = support < THRESHOLD
    reason = ""
    if refused:
        if missing:
            names = [(key_words or {}).get(t, t) for t in missing]
            reason = "none of the passages I found mention " + ", ".join(f"“{n}”" for n in names)
        elif q.expects and not typed:
            reason = f"the closest passages don't give {_WHAT[q.expects]}"
        else:
            reason = "the closest passages don't answer it"
    return Verdict(refused, round(support, 4), reason, missing)


_WHAT = {
    "number": "a number for it",
    "date": "a date or time for it",
    "person": "a name for it",
    "place": "a place for it",
    "reason": "a reason for it",
}
