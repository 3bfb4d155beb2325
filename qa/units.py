"""The units a question may ask its answer in, and how a text names one.

"How long is the river *in kilometres*", "how many *pounds* of steam": the answer must be
a quantity in that unit, which documents often write as a symbol ("550 km", "8.8 lb").
"""
from __future__ import annotations

import re
from functools import lru_cache

from index import text as tokenizer

UNITS = {
    "kilometre": ("km", "kilometre", "kilometer"), "kilometer": ("km", "kilometre", "kilometer"),
    "km": ("km", "kilometre", "kilometer"), "mile": ("mile", "mi"), "metre": ("m", "metre", "meter"),
    "meter": ("m", "metre", "meter"), "foot": ("foot", "feet", "ft"), "feet": ("foot", "feet", "ft"),
    "kilogram": ("kg", "kilogram"), "pound": ("pound", "lb"), "ton": ("ton", "tonne"),
    "hour": ("hour", "hr"), "minute": ("minute", "min"), "second": ("second", "sec"),
    "day": ("day",), "week": ("week",), "month": ("month",), "year": ("year",),
    "percent": ("percent", "%", "per cent"), "dollar": ("dollar", "$", "usd"), "euro": ("euro", "€"),
}

DURATIONS = frozenset("hour minute second day week month year".split())  # of a time
AREA = re.compile(r"(?i)\bsquare\b|²|\bsq\b|\bcubic\b|³")  # of a unit of length


def unit_forms(unit: str | None) -> tuple[str, ...]:
    """The words and symbols of ``unit`` ("square mile": those of mile)."""
    return UNITS.get((unit or "").removeprefix("square "), ())


def names_unit(unit: str | None, text: str) -> bool:
    """Whether ``text`` names ``unit`` by a word or symbol of it ("pounds", "8.8 lb"); an
    area or a volume is not in a unit of length ("7,000,000 square kilometres"), nor a
    length in one of area ("square mile")."""
    if bool(AREA.search(text)) != (unit or "").startswith("square "):
        return False
    exact, suffixes, phrases = _written_forms(unit or "")
    written = set(tokenizer.words(text)) | set(tokenizer.terms(text))
    return bool(written & exact) or any(p in text.lower() for p in phrases) \
        or any(w.endswith(s) for w in written for s in suffixes)  # with a prefix: "1.5 gigatons"


def is_unit(unit: str | None, text: str) -> bool:
    """Whether ``text`` is nothing but ``unit``'s own word or symbol ("seconds", "lb" for
    pounds): not a prefixed one ("gigatons" says more than "tons") nor an area."""
    if not unit or unit.startswith("square ") or AREA.search(text):
        return False
    exact, _, phrases = _written_forms(unit)
    terms = set(tokenizer.terms(text))
    return (bool(terms) and terms <= exact) or text.lower() in phrases or text.lower() in unit_forms(unit)


@lru_cache(maxsize=64)
def _written_forms(unit: str) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """A unit's words and symbols with their stems; the stems a prefixed word may end in;
    its forms of several words ("per cent")."""
    forms = unit_forms(unit)
    stems = frozenset(t for f in forms for t in tokenizer.terms(f))
    return frozenset(forms) | stems, frozenset(t for t in stems if len(t) > 2), tuple(f for f in forms if " " in f)


@lru_cache(maxsize=1)
def unit_terms() -> dict[str, frozenset[str]]:
    """The stem of a unit's word → the terms of its other words and symbols ("pound" → lb):
    words and symbols of letters only ("per cent" is no "per"; "m" is too often no metre)."""
    out: dict[str, frozenset[str]] = {}
    for unit, forms in UNITS.items():
        stems = tokenizer.terms(unit)
        if stems:
            terms = frozenset(t for f in forms if f.isalpha() and len(f) > 1 for t in tokenizer.terms(f))
            out[stems[0]] = out.get(stems[0], frozenset()) | (terms - {stems[0]})
    return out
