"""The question's constraints must hold in the quoted evidence.

A question that names a year or a quarter ("How many minor injuries were there in 2022?",
"Tesla's revenue in Q1 2021") is not answered by a sentence about another one: a sentence
that states years (or quarters), none of them the asked one, *contradicts* the question;
one that states the asked one *agrees*; one that states none is neutral (its passage may
give the year elsewhere). An ordinal that picks one of a series is checked the same way:
"the first Prime Minister of Kenya" is not answered by "Kenya's second Prime Minister".
A unit the question asks in ("how many *pounds*", "how long … in *kilometres*") is one the
short answer must carry when a quoted phrase does (:func:`in_unit`). Both answerers use
this check (:func:`agreement`).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from .asking import Asked
from .periods import ORDINAL_WORDS, ordinals_in, quarters_in, years_in
from .citations import Claim
from .units import names_unit

AGREES, NEUTRAL, CONTRADICTS = 1, 0, -1
_WORDS = {v: k for k, v in ORDINAL_WORDS.items()}


def agreement(asked: Asked, text: str) -> int:
    """Whether ``text`` agrees with, says nothing of, or contradicts the question's years
    and quarters."""
    verdict = NEUTRAL
    pairs = [(asked.years, years_in(text)), (asked.quarters, quarters_in(text))]
    pairs += [(frozenset({n}), ordinals_in(text, noun)) for n, noun in asked.ordinals]
    for wanted, found in pairs:
        if not wanted or not found:
            continue
        if wanted & found:
            verdict = max(verdict, AGREES) if verdict != CONTRADICTS else CONTRADICTS
        else:
            return CONTRADICTS
    return verdict


def in_unit(asked: Asked, phrase: str) -> bool:
    """Whether ``phrase`` is written in the unit the question asks in ("4 kg (8.8 *lb*)"
    for "how many pounds"); True when the question asks in none."""
    return not asked.unit or names_unit(asked.unit, phrase)


def stated(asked: Asked, text: str) -> str:
    """What ``text`` states instead of the asked year/quarter, for a refusal ("2023")."""
    years = sorted(years_in(text) - asked.years) if asked.years else []
    quarters = sorted(quarters_in(text) - asked.quarters) if asked.quarters else []
    ordinals = [f"the {_nth(o)} {noun}" for n, noun in sorted(asked.ordinals)
                for o in sorted(ordinals_in(text, noun) - {n}, key=int)]
    parts = [f"Q{q}" for q in quarters] + years + ordinals
    return " ".join(parts)


def asked_for(asked: Asked) -> str:
    """The asked year/quarter/ordinal as the user would say it ("Q1 2021", "2022", "the first minister")."""
    return " ".join([f"Q{q}" for q in sorted(asked.quarters)] + sorted(asked.years)
                    + [f"the {_nth(n)} {noun}" for n, noun in sorted(asked.ordinals)])


def asks(asked: Asked) -> bool:
    """The question states a year, a quarter or an ordinal the evidence must agree with."""
    return bool(asked.years or asked.quarters or asked.ordinals)


def _nth(n: str) -> str:
    """"2" → "second", "21" → "21st"."""
    if n in _WORDS:
        return _WORDS[n]
    return n + ("th" if n[-2:] in ("11", "12", "13") else {"1": "st", "2": "nd", "3": "rd"}.get(n[-1], "th"))


def agreeing(asked: Asked, claims: Sequence[Claim]) -> tuple[list[Claim], tuple[str, ...]]:
    """The LLM's claims without the quotes that state another year, quarter or ordinal than the
    question asks (the same check as the extractive answer's); flags name the dropped. A
    claim left without quotes is dropped by :func:`qa.citations.compose`."""
    if not asks(asked):
        return list(claims), ()
    out, flags = [], []
    for claim in claims:
        marks = []
        for at, quotes in claim.marks:
            keep = []
            for q in quotes:
                if agreement(asked, q.quote) == CONTRADICTS:
                    flags.append(f"dropped citation of {q.source} at {q.start}-{q.end}: it states "
                                 f"{stated(asked, q.quote)}, not {asked_for(asked)}")
                else:
                    keep.append(q)
            marks.append((at, tuple(keep)))
        out.append(replace(claim, marks=tuple(marks)))
    return out, tuple(dict.fromkeys(flags))
