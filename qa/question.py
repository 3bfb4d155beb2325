"""What a question asks for: its expected answer type and its key terms.

The extractive answerer and the refusal check both need to know what an answer would
look like ("how many" wants a number, "when" a date or time, "who" a name) and which
of the question's words must be matched by the evidence (names, numbers, rare words).
Everything here is cheap string work: regular expressions and the index's own stemmer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index import bm25

NUMBER, DATE, PERSON, PLACE, REASON = "number", "date", "person", "place", "reason"

# (pattern on the lower-cased question, expected type); the first match wins.
_TYPE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), t)
    for p, t in (
        (r"\bhow (?:many|much)\b", NUMBER),
        (r"\bhow (?:old|far|long|tall|high|large|big|wide|deep|heavy|fast|often|frequently)\b", NUMBER),
        (r"\b(?:what|which) (?:is the |was the |were the )?(?:percentage|proportion|fraction|share|"
         r"number|amount|rate|ratio|population|size|length|cost|price|total|count|age)\b", NUMBER),
        (r"\b(?:in |during |by |since |until )?(?:what|which) (?:year|years|date|day|month|decade|"
         r"century|era|period|season|time of)\b", DATE),
        (r"^(?:\W*)(?:and |so |but |then )?(?:since )?when\b|\bwhen (?:did|was|were|is|are|do|does|will|had|has)\b", DATE),
        (r"\bwhat time\b|\bhow long ago\b", DATE),
        (r"\bwho(?:m|se)?\b", PERSON),
        (r"\b(?:what|which) (?:person|people|man|woman|player|author|writer|scientist|president|leader|"
         r"king|queen|emperor|company|group|organi[sz]ation|team|band|party|agency)\b", PERSON),
        (r"\bwhere\b", PLACE),
        (r"\b(?:in |at |from |to )?(?:what|which) (?:country|countries|city|cities|state|states|region|"
         r"place|location|area|continent|province|county|town|base|island|river|site)\b", PLACE),
        (r"\bwhy\b|\bwhat (?:caused|causes|led to|leads to|is the reason|was the reason|were the reasons)\b|"
         r"\bfor what reason\b|\bhow come\b", REASON),
    )
)

_NUMBER_WORDS = (
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
    NUMBER: re.compile(rf"(?i)(?<![\w-])(?:\d[\d,.]*\d|\d|{_NUMBER_WORDS})(?![\w])|%"),
    DATE: re.compile(
        rf"(?i)\b(?:1\d{{3}}|20\d{{2}})s?\b|\b(?:{_MONTHS})\b\.?|\b(?:{_DAYS})s?\b|"
        r"\b\d{1,2}(?:st|nd|rd|th)\b|\b(?:century|centuries|decade|decades|ago|yesterday|today|"
        r"tonight|tomorrow|morning|afternoon|evening|night|noon|midnight|weekend|spring|summer|"
        r"autumn|fall|winter|a\.m\.|p\.m\.|am|pm|bc|ad|bce|ce)\b|\b\d{1,2}:\d{2}\b|"
        r"\b(?:since|until|before|after|during|between) (?:the )?(?:early |late |mid-?)?\d"
    ),
    PERSON: re.compile(r"(?<![\w.])(?:[A-Z][\w'’.-]*[a-z]|[A-Z]\.(?:[A-Z]\.)+)(?:\s+(?:[A-Z][\w'’.-]*|of|de|van|von))*"),
    PLACE: re.compile(
        r"\b(?:in|at|near|from|to|into|across|outside|inside|throughout|within|around|on)\s+"
        r"(?:the\s+)?(?:[A-Z][\w'’.-]*|north|south|east|west|central)"
    ),
    REASON: re.compile(
        r"(?i)\b(?:because|due to|owing to|thanks to|as a result|resulted? in|results from|caused by|"
        r"causes?|leads? to|led to|in order to|so that|since|in response to|in retaliation|"
        r"retaliat\w*|therefore|thus|hence|reason|aimed? (?:at|to)|to (?:protect|deter|prevent|"
        r"avoid|ensure|allow|reduce|increase|help|support|provide|make|keep|stop))\b"
    ),
}

_FOLLOWUP_START = re.compile(
    r"^\W*(?:and|also|plus|then|but|so|or|what about|how about|same for|same question|"
    r"and what about|what of)\b", re.I
)
_QUOTED = re.compile(r"[\"“”‘’']([^\"“”‘’']{2,60})[\"“”‘’']")
_CAPITALISED = re.compile(r"\b(?:[A-Z][\w'’-]*[A-Za-z0-9]|[A-Z]\.(?:[A-Z]\.)+|[A-Z]{2,}\d*)")
_DIGITS = re.compile(r"\d[\d,.]*")
_QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how is are was were do does did can could would "
    "should will shall may might must has have had the a an in on at of for to name list give "
    "tell describe explain according and but so also then".split()
)


@dataclass(frozen=True)
class Question:
    """A question, analysed. ``terms`` are stemmed content terms in order, deduplicated."""

    text: str
    expects: str | None
    terms: tuple[str, ...]
    key_terms: frozenset[str]  # stems of names, numbers, quoted phrases
    words: frozenset[str]  # lower-cased words of the question (to tell new tokens from echoed ones)

    @property
    def short(self) -> bool:
        return len(self.terms) <= 2


def expected_type(question: str) -> str | None:
    q = " ".join(question.lower().split())
    for pattern, kind in _TYPE_RULES:
        if pattern.search(q):
            return kind
    return None


@lru_cache(maxsize=4096)
def analyse(question: str) -> Question:
    text = " ".join(question.split())
    terms = tuple(dict.fromkeys(bm25.terms(text)))
    return Question(
        text=text,
        expects=expected_type(text),
        terms=terms,
        key_terms=frozenset(key_terms(text)),
        words=frozenset(bm25.words(text)),
    )


def key_terms(text: str) -> list[str]:
    """Stems of the words the evidence must contain: names, numbers and quoted phrases.

    A capitalised word counts unless it opens the question or is a question word
    ("What", "How"); "U.S." and acronyms count wherever they are.
    """
    out: list[str] = []
    stripped = text.lstrip(" \"'“‘(")
    first_word_end = len(text) - len(stripped) + (len(stripped.split()[0]) if stripped.split() else 0)
    for m in _CAPITALISED.finditer(text):
        word = m.group(0)
        if m.start() < first_word_end and not (word.isupper() and len(word) > 1):
            continue
        if word.lower() in _QUESTION_WORDS:
            continue
        out.extend(bm25.terms(word))
    for m in _DIGITS.finditer(text):
        out.extend(bm25.terms(m.group(0)))
    for m in _QUOTED.finditer(text):
        out.extend(bm25.terms(m.group(1)))
    return list(dict.fromkeys(out))


def has_type(sentence: str, kind: str | None, question_words: frozenset[str] = frozenset()) -> bool:
    """Whether ``sentence`` holds a token of type ``kind`` that the question does not already say."""
    if kind is None:
        return True
    pattern = _TYPE_PATTERNS[kind]
    for m in pattern.finditer(sentence):
        found = bm25.words(m.group(0))
        if kind == REASON:
            return True
        if kind == PERSON and m.start() == 0 and len(found) == 1:
            continue  # a sentence's first word is capitalised anyway
        if kind == PLACE:
            found = found[1:]  # the preposition
        if any(w not in question_words and w not in _QUESTION_WORDS for w in found):
            return True
    return False


def looks_like_followup(question: str) -> bool:
    """Opens like a follow-up: "and ...", "what about ...", "also ..."."""
    return bool(_FOLLOWUP_START.match(question))
