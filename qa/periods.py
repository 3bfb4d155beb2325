"""What a text states of periods and of the place in a series: the years ("1980", not the
decade "1980s"), the quarters of a year ("Q1", "first quarter of 2021", not a game's "fourth
quarter") and the ordinals before a noun ("Kenya's *second* Prime Minister"), and a small number in
both its forms ("3", "three"). The question's
constraints (:mod:`qa.constraints`) compare what the question and a quote state.
"""
from __future__ import annotations

import re

from .answer_types import NUMBER_WORDS

_YEAR = re.compile(r"(?<![\w.-])(1[5-9]\d\d|20\d\d)(?![\w-])(?!['’]?s\b)")  # not a decade, "1980's"
# "Q1", "first quarter of 2021", "2021's second quarter"; not a game's "fourth quarter"
_QUARTER = re.compile(r"(?i)\bq([1-4])\b|\b(first|second|third|fourth) quarter(?= (?:of )?(?:fiscal )?(?:19|20)\d\d)")
_ORDINAL_Q = {"first": "1", "second": "2", "third": "3", "fourth": "4"}
# an ordinal that names one of a series ("Kenya's *second* Prime Minister"), as a number
ORDINAL_WORDS = {w: str(i) for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split(), 1)}
_ORDINAL_ALT = "|".join(ORDINAL_WORDS) + r"|\d{1,3}(?:st|nd|rd|th)"
ORDINAL = re.compile(r"(?i)\b(" + _ORDINAL_ALT + r")\b")
_ONE_ORDINAL = r"\b(?:" + _ORDINAL_ALT + r")\b"
# "second", "second, third, and fourth": the ordinals before a noun
_ORDINAL_LIST = _ONE_ORDINAL + r"(?:\s*,\s*" + _ONE_ORDINAL + r")*(?:,?\s+(?:and|or)\s+" + _ONE_ORDINAL + ")?"


def years_in(text: str) -> frozenset[str]:
    return frozenset(_YEAR.findall(text))


def quarters_in(text: str) -> frozenset[str]:
    return frozenset(q or _ORDINAL_Q[o.lower()] for q, o in _QUARTER.findall(text))


def ordinal_value(word: str) -> str:
    """"second" → "2", "21st" → "21"."""
    return ORDINAL_WORDS.get(word.lower()) or re.sub(r"\D", "", word)


def ordinals_in(text: str, noun: str) -> frozenset[str]:
    """The ordinals ``text`` gives one of the series ``noun`` ("second" of "Kenya's second
    Prime Minister" for "minister", all three of "the second, third, and fourth timelines"):
    ordinals up to two words before the noun."""
    plural = re.escape(noun[:-1]) + "(?:y|ies)" if noun.endswith("y") else re.escape(noun) + "(?:s|es)?"
    pattern = "(" + _ORDINAL_LIST + r")\s+(?:[\w'’.-]+\s+){0,2}?" + plural + r"\b"
    return frozenset(ordinal_value(o) for m in re.finditer(pattern, text, re.I) for o in ORDINAL.findall(m.group(1)))


_SMALL_NUMBERS = NUMBER_WORDS.split("|")[:20]  # one … twenty
_NUMBER_FORMS = {**{w: str(n) for n, w in enumerate(_SMALL_NUMBERS, 1)},
                 **{str(n): w for n, w in enumerate(_SMALL_NUMBERS, 1)}}


def with_number_forms(words) -> frozenset[str]:
    """The question's words, a small number in both its forms: a question that says "3
    layers" has said "three", which is then no answer to "evolved into how many layers"."""
    out = set(words)
    return frozenset(out | {_NUMBER_FORMS[w] for w in out if w in _NUMBER_FORMS})
