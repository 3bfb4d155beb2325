"""What kind of answer a sentence holds: a number, a date, a name, a place, a reason.

The question's expected kind comes from :mod:`qa.question`; this module says how well a
sentence supplies it (:func:`type_strength`, :func:`has_type`) and whether a sentence
defines a subject ("X is a …", :func:`defines`). Regular expressions over the sentence's
own text; the index's tokenizer for words.
"""
from __future__ import annotations

import re
from functools import lru_cache

from index import text as tokenizer

__all__ = ["DATE", "NUMBER", "PERSON", "PLACE", "QUESTION_WORDS", "REASON", "defines",
           "has_type", "type_strength"]

NUMBER, DATE, PERSON, PLACE, REASON = "number", "date", "person", "place", "reason"


NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    "hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|dozen|dozens|"
    "half|once|twice|several|single|double|triple|percent|per cent|none|zero"
)


_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)


_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"


# Each pattern finds candidate answer tokens of one type in a sentence (original case).
_TYPE_PATTERNS: dict[str, re.Pattern[str]] = {
    NUMBER: re.compile(rf"(?i)(?<![\w-])(?:\d[\d,.]*\d|\d|{NUMBER_WORDS})(?![\w])|%"),
    DATE: re.compile(
        rf"(?i)\b(?:1\d{{3}}|20\d{{2}})s?\b|\b(?:{_MONTHS})\b\.?|\b(?:{_DAYS})s?\b|"
        r"\b\d{1,2}(?:st|nd|rd|th)\b|\b(?:century|centuries|decade|decades|ago|yesterday|today|"
        r"tonight|tomorrow|morning|afternoon|evening|night|noon|midnight|weekend|spring|summer|"
        r"autumn|fall|winter|a\.m\.|p\.m\.|am|pm|bc|ad|bce|ce)\b|\b\d{1,2}:\d{2}\b|"
        r"\b(?:since|until|before|after|during|between) (?:the )?(?:early |late |mid-?)?\d"
    ),
    PERSON: re.compile(r"(?<![\w.])(?:[A-Z][\w'’.-]*[a-z]|[A-Z]\.(?:[A-Z]\.)+)(?:\s+(?:[A-Z][\w'’.-]*|of|de|van|von))*"),
    PLACE: re.compile(
        r"(?:\b(?:in|at|near|from|to|into|across|outside|inside|throughout|within|around|on|of)\s+"
        r"(?:the\s+)?)?(?:(?<![\w.])[A-Z][\w'’.-]*[a-z](?:\s+[A-Z][\w'’.-]*)*|\b(?:north|south|east|west|"
        r"central|northern|southern|eastern|western)\w*)"
    ),
    REASON: re.compile(
        r"(?i),\s+as\b|\b(?:because|due to|owing to|thanks to|as a result|resulted? in|results from|caused by|"
        r"causes?|leads? to|led to|in order to|so that|since|in response to|in retaliation|"
        r"retaliat\w*|therefore|thus|hence|reason|aimed? (?:at|to)|to (?:protect|deter|prevent|"
        r"avoid|ensure|allow|reduce|increase|help|support|provide|make|keep|stop))\b"
    ),
}


QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how is are was were do does did can could would "
    "should will shall may might must has have had the a an in on at of for to name list give "
    "tell describe explain according and but so also then".split()
)


def defines(text: str, subject: str) -> bool:
    """Whether ``text`` holds a definition of ``subject``: "X is/are a ...", "X, a ...",
    "X refers to / is defined as / stands for ...", or an expansion of an abbreviation,
    "long form (X)" and "X (long form)"."""
    return _definition_pattern(subject).search(text) is not None


@lru_cache(maxsize=1024)
def _definition_pattern(subject: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in subject.split()]
    # plurals either way: "coronaviruses" defined as "Coronaviruses are" or "A coronavirus is"
    last = words[-1]
    stem = last[:-2] if last.lower().endswith("es") else last[:-1] if last.lower().endswith("s") else last
    x = r"\s+".join(words[:-1] + [rf"(?:{last}|{stem}(?:e?s)?)"])
    copula = (
        r"(?:is|are|was|were)\s+(?:(?:also|usually|often|generally|now|thus)\s+)?"
        r"(?:an?|the|one|two|three|several|any|(?:known|defined|described|regarded|classified)\s+as|"
        r"considered|characteri[sz]ed\s+by|part\s+of|members?\s+of|composed\s+of|made\s+(?:up\s+)?of|"
        r"responsible\s+for|\w+(?:al|ic|ive|ous|ent|ant|ar|ble)\b)"
        r"|refers?\s+to|means?\b|stands?\s+for|denotes?|consists?\s+of|represents?"
    )
    abbreviation = r"\(\s*(?:the\s+)?" + x + r"\s*[);,]" if subject.replace("-", "").isalnum() else r"(?!)"
    expansion = x + r"\s*\(\s*[A-Za-z][\w-]*(?:\s+[\w-]+){1,8}\s*\)"
    return re.compile(
        rf"(?<![\w-]){x}(?![\w-])\s*(?:\([^()]{{1,80}}\)\s*)?,?\s*(?:{copula})|"
        rf"(?<![\w-]){x}\s*,\s*(?:an?|the|one)\s+\w+|{abbreviation}|(?<![\w-]){expansion}",
        re.IGNORECASE,
    )


_PREPOSITIONS = frozenset(
    "in at near from to into across outside inside throughout within around on of the".split()
)


_CALENDAR = re.compile(rf"^(?:{_MONTHS}|{_DAYS})$")


_VAGUE = re.compile(
    r"(?i)^(?:dozens?|hundreds|thousands|millions|billions|several|once|twice|single|double|"
    r"triple|half|none|one)$"
)


def type_strength(sentence: str, kind: str | None, question_words: frozenset[str] = frozenset()) -> float:
    """How well ``sentence`` supplies an answer of type ``kind`` the question doesn't already say.

    1.0 for a clear token (a count, a year, a name), 0.5 for a vague one ("dozens",
    "one"), 0.0 for none; always 1.0 when no type is expected.
    """
    if kind is None:
        return 1.0
    best = 0.0
    for m in _TYPE_PATTERNS[kind].finditer(sentence):
        if kind == REASON:
            return 1.0
        found = tokenizer.words(m.group(0))
        if kind == PERSON and m.start() == 0 and len(found) == 1:
            continue  # a sentence's first word is capitalised anyway
        if kind in (PERSON, PLACE):
            found = [w for w in found if w not in _PREPOSITIONS]
            if kind == PERSON and all(_CALENDAR.match(w) for w in found):
                continue  # "Monday", "March"
        if kind == PLACE and m.start() == 0 and len(found) == 1:
            continue
        new = [w for w in found if w not in question_words and w not in QUESTION_WORDS]
        if not new:
            continue
        if kind == NUMBER and all(_VAGUE.match(w) for w in new):
            best = max(best, 0.5)
        else:
            return 1.0
    return best


def has_type(sentence: str, kind: str | None, question_words: frozenset[str] = frozenset()) -> bool:
    """Whether ``sentence`` holds a token of type ``kind`` that the question does not already say."""
    return type_strength(sentence, kind, question_words) > 0
