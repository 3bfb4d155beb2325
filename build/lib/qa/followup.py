"""Follow-up questions without an LLM: carry the earlier turn's key terms forward.

"And how many in March?" after "How many personnel were injured?" is retrieved and
answered as "And how many in March? personnel injured": the terms the new question
leaves out come from the turn it follows, at a lower weight than its own. A question
that opens like a follow-up ("and ...", "what about ..."), leans on a pronoun, or is
too short to stand alone is a follow-up; one with its own subject is a new topic.
(With an LLM configured, :func:`qa.llm_answerer.condense_question` rewrites it instead.)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from index import text as tokenizer

from .question import analyse, expected_type, function_stems
from .types import Turn

CARRIED_WEIGHT = 0.5  # weight of a carried-over term against the question's own
_ANAPHORA = re.compile(
    r"\b(?:it|its|they|them|their|theirs|he|him|his|she|her|hers|this|that|these|those|"
    r"there|then|the same|such|one|ones|former|latter|else|other|another)\b", re.I
)
_WH_ONLY = re.compile(r"^\W*(?:and\s+)?(?:who|what|when|where|why|how|which)\b\W*$", re.I)


@dataclass(frozen=True)
class Resolved:
    """What to retrieve and answer for a question, given the conversation so far."""

    question: str
    query: str  # the retrieval query
    followup: bool
    carried: tuple[str, ...] = ()  # words carried over from earlier turns
    term_weights: dict[str, float] = field(default_factory=dict)  # stem → weight
    expects: str | None = None  # the expected answer type, possibly inherited


def is_followup(question: str, history: Sequence[Turn]) -> bool:
    """Whether ``question`` depends on the previous turn to make sense."""
    if not history:
        return False
    q = analyse(question)
    if looks_like_followup(question) or _WH_ONLY.match(question):
        return True
    if len(q.terms) <= 1:
        return True  # "How many?", "Why?", "Where was it?"
    if _ANAPHORA.search(question) and len(q.terms) <= 3 and not q.key_terms:
        return True  # "When did they return to duty?"
    return False


def _topic_words(question: str) -> list[str]:
    """The content words of ``question`` in their written form (for a readable query)."""
    fs = function_stems()
    out = []
    for w in dict.fromkeys(re.findall(r"[\w][\w'’.-]*[\w]|\w", question)):
        stems = tokenizer.terms(w)
        if stems and not all(t in fs for t in stems):
            out.append(w)
    return out


def resolve(question: str, history: Sequence[Turn]) -> Resolved:
    """The retrieval query and term weights for ``question`` after ``history``."""
    question = " ".join(question.split())
    if not is_followup(question, history):
        return Resolved(question, question, False, expects=expected_type(question))
    # Walk back over a chain of follow-ups to the question that set the topic.
    own = set(analyse(question).terms)
    carried: list[str] = []
    expects = expected_type(question)
    names_own_subject = bool(analyse(question).key_terms)
    for i in range(len(history) - 1, -1, -1):
        earlier = history[i].question
        root = not is_followup(earlier, history[:i])
        if not root and names_own_subject:
            continue  # "What about Iraq?" after "And in Syria?": Iraq replaces Syria
        earlier_keys = analyse(earlier).key_terms
        for w in _topic_words(earlier):
            stems = set(tokenizer.terms(w))
            if names_own_subject and stems & earlier_keys:
                continue  # the new question's own names replace the earlier ones
            if stems and not stems <= own and w not in carried:
                carried.append(w)
        if expects is None:
            expects = expected_type(earlier)
        if root:
            break
    weights = {}
    for w in carried:
        for t in tokenizer.terms(w):
            if t not in own:
                weights[t] = CARRIED_WEIGHT
    query = f"{question} {' '.join(carried)}".strip()
    return Resolved(question, query, True, tuple(carried), weights, expects)


_FOLLOWUP_START = re.compile(
    r"^\W*(?:and|also|plus|then|but|so|or|what about|how about|same for|same question|"
    r"and what about|what of)\b", re.I
)


def looks_like_followup(question: str) -> bool:
    """Opens like a follow-up: "and ...", "what about ...", "also ..."."""
    return bool(_FOLLOWUP_START.match(question))
