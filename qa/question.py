"""What a question asks for: its expected answer type and its key terms.

The extractive answerer and the refusal check both need to know what an answer would
look like ("how many" wants a number, "when" a date or time, "who" a name) and which
of the question's words must be matched by the evidence (names, numbers, rare words).
Most of it is cheap string work: regular expressions and the index's own stemmer. The
focus of a phrase of several words is the head spaCy's parse gives it (:func:`focus_word`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index import text as tokenizer

from .answer_types import DATE, NUMBER, NUMBER_WORDS, PERSON, PLACE, QUESTION_WORDS, REASON
from .asking import ask, compounds_of, phrase_head

_ADJ = r"(?:[\w-]+ ){0,2}"  # "which two dynasties", "what Western country"
_PLACE_NOUNS = (
    r"country|countries|nation|city|cities|state|states|region|place|location|area|continent|"
    r"province|county|counties|town|village|base|island|river|site|district|neighbou?rhood|port|"
    r"capital|street|building|venue|stadium|park"
)
_NAME_NOUNS = (
    r"person|people|man|woman|men|women|player|players|author|writer|scientist|president|leader|"
    r"king|queen|emperor|company|companies|group|organi[sz]ations?|team|teams|band|party|agency|"
    r"dynasty|dynasties|university|church|newspaper|network|channel|body|institution|family|tribe|"
    r"empire|general|official|officials|member|members|artist|composer|architect|brand|firm"
)
# (pattern on the lower-cased question, expected type); the first match wins.
_TYPE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), t)
    for p, t in (
        (r"\bhow (?:many|much)\b", NUMBER),
        (r"\bhow (?:old|far|long|tall|high|large|big|wide|deep|heavy|fast|often|frequently)\b", NUMBER),
        (r"\b(?:what|which) (?:is |was |were |are )?(?:the )?(?:percentage|proportion|fraction|share|"
         r"number|amount|rate|ratio|population|size|length|cost|price|total|count|age)\b", NUMBER),
        (rf"\b(?:in |during |by |since |until )?(?:what|which) {_ADJ}(?:year|years|date|day|month|decade|"
         r"century|era|season|time of)\b", DATE),
        (r"^\W*(?:and |so |but |then )?(?:since |until )?when (?:did|was|were|is|are|do|does|will|"
         r"had|has|would|could|can|should|might)\b|^\W*(?:and )?when\W*$", DATE),
        (r"\bwhat time\b|\bhow long ago\b", DATE),
        (r"^\W*(?:and |so |but |then )?who(?:m|se)?\b|\b(?:by|to|for|with|from) whom\b|"
         r"\bwho (?:is|was|were|are|did|does|do|has|had|will|would|can)\b", PERSON),
        (rf"\b(?:what|which) {_ADJ}(?:{_NAME_NOUNS})\b", PERSON),
        (r"\bwhat (?:is|was|are|were) (?:the )?(?:full |last |first )?names? of\b", PERSON),
        (r"\bwhere\b", PLACE),
        (rf"\b(?:what|which) {_ADJ}(?:{_PLACE_NOUNS})\b", PLACE),
        (r"\bwhy\b|\bwhat (?:caused|causes|led to|leads to|is the reason|was the reason|were the reasons)\b|"
         r"\bfor what reason\b|\bhow come\b", REASON),
    )
)


_QUOTED = re.compile(r"[\"“”‘’']([^\"“”‘’']{2,60})[\"“”‘’']")
_CAPITALISED = re.compile(r"\b(?:[A-Z][\w'’-]*[A-Za-z0-9]|[A-Z]\.(?:[A-Z]\.)+|[A-Z]{2,}\d*)")
_DIGITS = re.compile(r"\d[\d,.]*(?:(?<=0)['’]?s\b)?")  # a decade whole: "1980's"


# Function words and question frames: never content terms of a question.
_FUNCTION_WORDS = (
    "a about above after again against all also am an and any are aren't as at be been before being "
    "below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't "
    "down during each either else ever few for from further had hadn't has hasn't have haven't having "
    "he he'd he'll he's her here here's hers herself him himself his how how's however i i'd i'll i'm "
    "i've if in into is isn't it it's its itself just let's me more most much many mustn't my myself "
    "no nor not of off on once only or other ought our ours ourselves out over own same shan't she "
    "she'd she'll she's should shouldn't so some such than that that's the their theirs them "
    "themselves then there there's these they they'd they'll they're they've this those through to "
    "too under until up very was wasn't we we'd we'll we're we've were weren't what what's when "
    "when's where where's which while who who's whom whose why why's will with won't would "
    "wouldn't you you'd you'll you're you've your yours yourself yourselves may might must shall "
    "please tell say says said according happen happened happens name named called kind sort "
    "give list describe explain exactly approximately roughly"
)


@lru_cache(maxsize=1)
def function_stems() -> frozenset[str]:
    words = _FUNCTION_WORDS.split()
    return frozenset(words) | frozenset(tokenizer.stem_words(words))


def content_terms(text: str) -> list[str]:
    """Stemmed content terms of a question: the index's terms minus function words."""
    fs = function_stems()
    return [t for t in tokenizer.terms(text) if t not in fs]


@dataclass(frozen=True)
class Question:
    """A question, analysed. ``terms`` are stemmed content terms in order, deduplicated."""

    text: str
    expects: str | None
    terms: tuple[str, ...]
    key_terms: frozenset[str]  # stems of names, numbers, quoted phrases
    words: frozenset[str]  # lower-cased words of the question (to tell new tokens from echoed ones)
    focus: str | None = None  # stem of what is counted or asked about: "how many *soldiers*"
    focus_word: str | None = None  # that word as written, lower-cased ("soldiers")
    focus_compounds: tuple[str, ...] = ()  # nouns that make it a compound: "*speed* limit"
    subject: str | None = None  # what a "what is X?" question asks to define ("KATNAL1")

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
    terms = tuple(dict.fromkeys(content_terms(text)))
    return Question(
        text=text,
        expects=expected_type(text),
        terms=terms,
        key_terms=frozenset(key_terms(text)),
        words=frozenset(tokenizer.words(text)),
        focus=focus_term(text),
        focus_word=(word := focus_word(text)),
        focus_compounds=compounds_of(text, word),
        subject=definition_subject(text),
    )


# "What is X?" / "What are Xs?" with a short X that is not a description ("the main cause
# of ..."): the question asks for a definition.
_DEFINITION_QUESTION = re.compile(
    r"^\W*(?:and |so )?what (?:is|are) (?:an? )?(?!the\b|this\b|that\b|these\b|those\b|it\b|they\b)"
    r"([^?.,;:]{1,50}?)\s*\?*\s*$",
    re.IGNORECASE,
)


# Words that, after X's first word, make "what is X ..." a question about X, not its
# definition ("What is toltrazuril *used* to treat", "What is CHIKV marked *by*").
_DEFINITION_NOT_NOUNS = frozenset(
    "by to for with from in on of at used called known made based found caused marked labeled "
    "labelled shown seen done needed about like treat cause do does".split()
)


def definition_subject(question: str) -> str | None:
    """X in "What is X?" when X is a name or a short term (at most four words), else None."""
    m = _DEFINITION_QUESTION.match(" ".join(question.split()))
    if not m:
        return None
    subject = m.group(1).strip(" \"'“”‘’")
    words = subject.split()
    lower = [w.lower() for w in words]
    if not words or len(words) > 4 or any(
        w in _DEFINITION_NOT_NOUNS or (w.endswith("ed") and len(w) > 4) for w in lower[1:]
    ):
        return None  # "What is CHIKV marked by", "What is toltrazuril used to treat"
    return subject


_AUX = r"(?:did|do|does|were|was|are|is|have|has|had|will|would|can|could|should|might|must|may)"
_FOCUS = (
    re.compile(rf"\bhow (?:many|much) (.+?)(?: {_AUX}\b| of\b| in\b| on\b| at\b| for\b|\?|$)"),
    re.compile(r"^\W*(?:what|which) (?:is|was|are|were) the (.+?)(?: of\b| for\b| in\b| at\b| on\b|\?|$)"),
    re.compile(r"^\W*who (?:is|was|are|were) the (.+?)(?: of\b| for\b| in\b| at\b| on\b|\?|$)"),
)
_GENERIC_FOCUS = frozenset(
    "name kind type sort part one term way thing number amount percentage proportion last first "
    "main other".split()
)

_NUMBER_WORD = re.compile(rf"\d[\d,.]*|{NUMBER_WORDS}")
_GENERIC_STEMS = frozenset(t for w in _GENERIC_FOCUS for t in tokenizer.terms(w))  # "parts" is "part"


def focus_term(question: str) -> str | None:
    """The stem of the noun a "how many X" / "what is the X of" question asks about."""
    word = focus_word(question)
    stems = tokenizer.terms(word) if word else []
    return stems[-1] if stems else None


def focus_word(question: str) -> str | None:
    """The noun a "how many X" / "what is the X of" / "who is the X of" question asks
    about, lower-cased as written.

    The phrase is found by its shape ("how many X", "what is the X of"); a number and a
    generic noun ("the three *parts*", "the *name*") are no focus. Of several words, the
    focus is the noun the question's parse makes the phrase's head ("the *principle* shown
    in"). Where the parse gives none, the shape decides: a plural is the counted thing ("how
    many Examination *Boards* exist"); otherwise the first word after "how many/much" ("how
    much *time* remained") and the last one before "of" in "what is the X of" ("the primary
    *race* of"). "How much did it *cost*" asks about its verb. A phrase of more than three
    words is a clause, not a noun phrase: no focus, except the noun the parse finds "how many"
    counts ("how many *students* attend …", :func:`_counted`).
    """
    q = " ".join(question.lower().split())
    for pattern in _FOCUS:
        m = pattern.search(q)
        if not m:
            continue
        fs = function_stems()
        phrase = m.group(1)
        if pattern is _FOCUS[1] and phrase in ("name", "names"):  # "the name of the pilot"
            rest = re.match(r"\s*of (?:the |a |an |this |that )?([\w-]+(?: [\w-]+)?)", q[m.end(1):])
            phrase = rest.group(1) if rest else phrase
        raw = tokenizer.words(phrase)
        words = [w for w in raw if w not in fs and (ts := tokenizer.terms(w)) and ts[0] not in _GENERIC_STEMS
                 and not _NUMBER_WORD.fullmatch(w)]  # "the three *parts*": a number is no focus
        if not words:
            return None
        if pattern is _FOCUS[0] and raw[0] in fs:  # "how much did the strikes *cost*"
            return words[-1]
        if len(phrase.split()) > 3:  # "the reason the court gave that resulted in": a clause
            return _counted(question) if pattern is _FOCUS[0] else None
        if len(phrase.split()) > 1 and len(words) > 1:  # "the principle shown in": the parse knows the head
            head = phrase_head(question, phrase)
            if head in words:
                return head
        if pattern is _FOCUS[0]:
            plural = [w for w in words if w.endswith("s") and not w.endswith("ss")]
            return plural[-1] if plural else words[0]
        return words[-1]
    return _counted(question)


def _counted(question: str) -> str | None:
    """The noun "how many" / "how much" counts where the shape gives none, as the question's
    parse reads it: "how many *students* attend the University of Chicago" (a verb other than
    an auxiliary follows the noun)."""
    asked = ask(question)
    word = asked.focus_text if asked.wh in ("how many", "how much") else None
    if not word or not (stems := tokenizer.terms(word)) or stems[-1] in _GENERIC_STEMS:
        return None
    return word


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
        if word.lower() in QUESTION_WORDS:
            continue
        out.extend(content_terms(word))
    for m in _DIGITS.finditer(text):
        out.extend(tokenizer.terms(m.group(0)))
    for m in _QUOTED.finditer(text):
        out.extend(content_terms(m.group(1)))
    return list(dict.fromkeys(out))


