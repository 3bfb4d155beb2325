"""What a question asks for, read with spaCy: the kind of phrase that answers it and the
constraints the evidence must agree with.

One parse of the question (tagger, parser, lemmatizer, NER of ``en_core_web_sm``) gives

* the wh-phrase and from it the answer's **kind** and the entity **labels** an answer may
  carry ("how many" → CARDINAL/QUANTITY/MONEY/PERCENT, "where" → GPE/LOC/FAC, "which
  military command" → ORG, "what year" → DATE);
* the **focus**: the noun asked about or counted ("how many *personnel*", "which military
  *command*"), as a lemma;
* a requested **unit** ("how long … in *kilometres*");
* the **constraints**: the years and quarters the question states ("in 2022", "Q1 2021"),
  which a quoted sentence must not contradict (:mod:`qa.constraints`; :mod:`qa.periods` reads
  them from a text).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index import text as tokenizer

from .periods import ORDINAL, ordinal_value, quarters_in, with_number_forms, years_in
from .units import DURATIONS, UNITS as _UNITS

NUMBER, DATE, PERSON, PLACE, REASON, PHRASE = "number", "date", "person", "place", "reason", "phrase"

COUNT_LABELS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
ABSOLUTE_LABELS = COUNT_LABELS - {"PERCENT"}  # a count, an amount of money, a measure
DATE_LABELS = frozenset({"DATE", "TIME"})
PERSON_LABELS = frozenset({"PERSON", "ORG", "NORP"})
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})

# Nouns that name a dimension of something ("the *size* of the endowment"): a quantity
# answers, and the sentence that gives it seldom names the dimension ("a $37.6 billion
# endowment"). A count ("the *population* of") is named where it is given.
DIMENSIONS = frozenset("size length age distance height weight speed depth width temperature".split())
MEASURES = DIMENSIONS | frozenset("number amount population total count".split())
# The head noun of "what/which X" → the labels its answer carries.
_NOUN_CLASSES: tuple[tuple[frozenset[str], str, frozenset[str]], ...] = (
    (frozenset("year years date day month decade century era season time period".split()), DATE, DATE_LABELS),
    (frozenset("country nation city state region place location area continent province county town "
               "village island river site district port capital street building venue stadium "
               "park state territory neighborhood neighbourhood mountain lake sea ocean airport "
               "base".split()), PLACE, PLACE_LABELS | {"ORG"}),
    (frozenset("person man woman player author writer scientist president leader king queen emperor "
               "general official member artist composer architect founder director actor singer "
               "musician poet philosopher minister chancellor pope coach captain engineer inventor "
               "explorer ruler governor mayor senator judge commander actress quarterback athlete "
               "pitcher champion winner scholar physicist chemist mathematician economist historian "
               "painter sculptor novelist theologian monk priest bishop saint prophet son daughter "
               "father mother wife husband brother sister teacher student professor doctor soldier "
               "individual character god goddess pharaoh sultan prince princess duke lord "
               "owner inventor designer manager chairman ceo".split()), PERSON, frozenset({"PERSON"})),
    (frozenset("company group organization organisation team band party agency university church "
               "newspaper network channel institution firm brand command army force militia "
               "school college club corporation department ministry council court committee "
               "association union league body".split()), PERSON, frozenset({"ORG", "NORP", "PERSON"})),
    (frozenset("percentage percent proportion fraction share rate ratio".split()), NUMBER, frozenset({"PERCENT", "CARDINAL"})),
    (frozenset("revenue income profit sales earnings budget salary cost price value worth fee "
               "funding".split()), NUMBER, frozenset({"MONEY", "CARDINAL"})),
    (MEASURES, NUMBER, COUNT_LABELS),
    (frozenset("language".split()), PHRASE, frozenset({"LANGUAGE", "NORP"})),
    (frozenset("nationality religion ethnicity".split()), PHRASE, frozenset({"NORP"})),
)
_CLAUSE_VERBS = frozenset("do happen say mean cause".split())
_MONEY_WORDS = frozenset("cost price pay spend worth money revenue budget fund salary fee value "
                         "dollar dollars".split())


@dataclass(frozen=True)
class Asked:
    """A question, read. ``labels`` empty means any phrase may answer (a "what" question)."""

    text: str
    wh: str | None  # "how many", "when", "who", "what", ...
    kind: str | None  # number, date, person, place, reason, phrase
    labels: frozenset[str]
    focus: str | None  # lemma of the noun asked about ("personnel", "command")
    focus_text: str | None  # as written
    unit: str | None  # a unit the answer must be in ("kilometre", "square mile")
    years: frozenset[str]
    quarters: frozenset[str]
    lemmas: frozenset[str]  # content lemmas of the question (lower case)
    words: frozenset[str]  # lower-cased tokens of the question
    root: str | None  # the main verb's lemma ("injure", "issue")
    ordinals: frozenset[tuple[str, str]] = frozenset()  # ("1", "minister") of "the first Prime Minister of"
    many: bool = False  # asks for several ("which two", "who were the crew members")
    # the wh-phrase's place in the question's parse: its role ("subj", "obj", "prep", "adv"),
    # its preposition ("in" of "in what year") and the lemma of the word it depends on
    # ("lead" of "who led …"): the answer takes the same place in the sentence
    wh_role: str | None = None
    wh_prep: str | None = None
    wh_head: str | None = None
    # a count or a measure ("how many people", "Warsaw's population", "the average family
    # size"), not asked in percent: a share ("56.2%") answers only where no count is given
    absolute: bool = False
    # "What is *the main cause* of X?": the wh-word and the focus stand on the two sides of
    # "is", so the answer stands across an "is" from the focus in the sentence
    focus_across: bool = False


def _ordinals(toks) -> frozenset[tuple[str, str]]:
    """The question's ordinals that pick one of a series: "the first Prime Minister of
    Kenya", not "the first American to win" (the earliest to do something) nor "the first
    time" or a game's "fourth quarter"."""
    out = set()
    for t in toks:
        head = t.head
        if not ORDINAL.fullmatch(t.text) or t.dep_ != "amod" or head.pos_ not in ("NOUN", "PROPN"):
            continue
        after = head.doc[head.i + 1].lower_ if head.i + 1 < len(head.doc) else ""
        if head.lemma_.lower() in ("time", "quarter", "half") or after in ("to", "who", "that") \
                or any(c.dep_ in ("acl", "relcl") for c in head.children):
            continue
        out.add((ordinal_value(t.text), head.lemma_.lower()))
    return frozenset(out)


@lru_cache(maxsize=1024)
def _parse(text: str):
    """Tags, parse and lemmas of the question; its entities are not needed (years and
    quarters are read from the text), so the recogniser does not run. Cached: the focus
    of the refusal (:func:`phrase_head`) reads the same parse as :func:`ask`."""
    from index import nlp

    return nlp.parse_sentences([text], [()])[0]


def phrase_head(text: str, phrase: str) -> str | None:
    """The syntactic head of ``phrase`` (lower case, a span of ``text``) as the parse reads
    it: "the *principle* shown in", "how many 2015 season *interceptions*". None when the
    phrase is not found or its head is no noun."""
    text = " ".join(text.split())
    at = text.lower().find(phrase)
    if at < 0:
        return None
    toks = [t for t in _parse(text) if at <= t.idx < at + len(phrase)]
    heads = [t for t in toks if not (at <= t.head.idx < at + len(phrase)) or t.head.i == t.i]
    nouns = [t for t in heads if t.pos_ in ("NOUN", "PROPN")]
    if not nouns and heads:  # "the principle shown": read as a clause, its subject is the noun
        nouns = [t for t in toks if t.head.i == heads[0].i and t.i != heads[0].i and t.pos_ in ("NOUN", "PROPN")]
    return nouns[0].lower_ if nouns else None


def compounds_of(text: str, word: str | None) -> tuple[str, ...]:
    """The common nouns that make ``word`` (a noun of ``text``, lower case) a compound, as
    the parse reads it: "speed" of "the *speed* limit", "admission" of "the admission rate"
    (a name, "*U.S.* troops", is a key term of its own)."""
    if not word:
        return ()
    head = next((t for t in _parse(" ".join(text.split())) if t.lower_ == word), None)
    if head is None:
        return ()
    return tuple(c.lower_ for c in head.children if c.dep_ == "compound" and c.pos_ in ("NOUN", "ADJ"))


_FUNCTION_POS = frozenset({"AUX", "PART", "PRON", "DET", "ADP", "CCONJ", "SCONJ", "PUNCT", "SYM", "INTJ"})


def content_terms_of(text: str) -> frozenset[str]:
    """The stems of the question's content words as its parse reads them: no auxiliary,
    particle or pronoun ("is" and "n't" of "isn't" are none)."""
    toks = _parse(" ".join(text.split()))
    return frozenset(t for tok in toks if tok.pos_ not in _FUNCTION_POS and not tok.is_stop
                     for t in tokenizer.terms(tok.text))


_NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"})


def _agent_class(lemma: str) -> tuple[str, frozenset[str]] | None:
    """A noun for a person by its suffix ("physicist", "historian")."""
    if len(lemma) > 5 and lemma.endswith(("ist", "ian")) and lemma not in ("christian",):
        return PERSON, frozenset({"PERSON"})
    return None


def _noun_class(lemma: str) -> tuple[str, frozenset[str]] | None:
    for nouns, kind, labels in _NOUN_CLASSES:
        if lemma in nouns:
            return kind, labels
    return None


_ASIDE = re.compile(r"\[[^\]]*\]")


@lru_cache(maxsize=4096)
def ask(question: str) -> Asked:
    """Read ``question`` (cached: follow-ups and the evaluation ask the same text again)."""
    # an aside in square brackets qualifies what is asked and is read as no part of it:
    # "What is Austria's estimated mean percentage [95% credible interval] of …" asks a percentage
    text = " ".join(_ASIDE.sub(" ", question).split())
    doc = _parse(text)
    toks = list(doc)
    lower = text.lower()
    wh = kind = focus = focus_text = unit = None
    across = False
    labels: frozenset[str] = frozenset()
    wh_tok = next((t for t in toks if t.tag_ in ("WDT", "WP", "WP$", "WRB")
                   and (t.i == 0 or t.doc[t.i - 1].whitespace_ or t.doc[t.i - 1].is_quote)
                   and not (t.i + 1 < len(toks) and toks[t.i + 1].text == ":")), None)  # not "$where:"
    if wh_tok is not None:
        wh = wh_tok.lower_
        nxt = toks[wh_tok.i + 1] if wh_tok.i + 1 < len(toks) else None
        if wh == "how" and nxt is not None and nxt.pos_ in ("ADJ", "ADV"):
            wh = f"how {nxt.lower_}"
    m = re.search(r"\b(?:in|into|as) (?:the )?(\w+?)(?:s)?\b(?=\W*$)", lower)
    if m and m.group(1) in _UNITS:
        unit = m.group(1)
    # the noun right after "how many/much", or the noun "what/which" determines
    if wh in ("how many", "how much"):
        kind, labels = NUMBER, COUNT_LABELS
        noun = next((t for t in toks[wh_tok.i + 2:] if t.pos_ in ("NOUN", "PROPN")), None)
        while noun is not None and noun.dep_ in ("compound", "amod", "nmod", "conj") \
                and noun.head.pos_ in ("NOUN", "PROPN") and noun.head.i > noun.i:
            noun = noun.head  # "how many *enemy* fighters" counts fighters
        if noun is not None and noun.i <= wh_tok.i + 6:
            focus, focus_text = noun.lemma_.lower(), noun.lower_
        if wh == "how much" and (focus in _MONEY_WORDS or any(t.lemma_.lower() in _MONEY_WORDS for t in toks)):
            labels = frozenset({"MONEY", "CARDINAL"})
    elif wh and wh.startswith("how ") and wh != "how come":
        rest = wh[4:]
        kind = NUMBER
        if rest in ("long",):
            labels = frozenset({"DATE", "TIME", "QUANTITY", "CARDINAL"})
        elif rest in ("old",):
            labels = frozenset({"DATE", "CARDINAL"})
        elif rest in ("often", "frequently"):
            labels = frozenset({"DATE", "CARDINAL", "TIME"})
        elif rest in ("far", "tall", "high", "deep", "wide", "big", "large", "heavy", "fast", "long"):
            labels = frozenset({"QUANTITY", "CARDINAL"})
        else:
            kind = None
    elif wh == "when":
        kind, labels = DATE, DATE_LABELS
    elif wh in ("who", "whom"):
        kind, labels = PERSON, PERSON_LABELS
        if wh_tok.dep_ in ("attr", "nsubj") and wh_tok.head.lemma_ == "be":  # "who is *the chair* of X"
            attr = next((t for t in toks if t.dep_ in ("attr", "nsubj") and t.pos_ == "NOUN"
                         and t.head.i == wh_tok.head.i and t.i > wh_tok.i), None)
            if attr is not None:
                focus, focus_text, across = attr.lemma_.lower(), attr.lower_, True
    elif wh == "whose":
        kind, labels = PERSON, PERSON_LABELS
    elif wh == "where":
        kind, labels = PLACE, PLACE_LABELS | {"ORG"}
    elif wh == "why":
        kind = REASON
    elif wh in ("what", "which") and wh_tok.dep_ in ("dobj", "attr") and wh_tok.head.lemma_.lower() == "do":
        pass  # "what did the company do", "what do pharmacies do": a clause answers (kind None)
    elif wh in ("what", "which"):
        root_verb = next((t.lemma_.lower() for t in toks if t.dep_ == "ROOT"), None)
        head = wh_tok.head if wh_tok.dep_ == "det" else None
        if head is None:  # "what is the name/number/percentage of X"
            attr = next((t for t in toks if t.dep_ in ("attr", "nsubj", "nsubjpass") and t.pos_ == "NOUN"
                         and t.i > wh_tok.i), None)
            head = attr
            across = attr is not None and attr.head.lemma_ == "be"  # "what is *the main cause* of X"
        if head is not None and head.pos_ in ("NOUN", "PROPN"):
            lemma = head.lemma_.lower()
            if lemma in ("kind", "type", "sort", "form") or lemma == "name":
                of = next((c for c in head.children if c.dep_ == "prep" and c.lower_ == "of"), None)
                obj = next((c for c in of.children if c.dep_ == "pobj"), None) if of is not None else None
                if obj is not None:
                    cls = _noun_class(obj.lemma_.lower()) or _agent_class(obj.lemma_.lower())
                    if lemma == "name" and cls is not None:
                        kind, labels = cls
                    elif lemma == "name":  # "the name of the stadium": some name answers
                        kind, labels = PHRASE, _NAME_LABELS
                    focus, focus_text = obj.lemma_.lower(), obj.lower_
            else:
                cls = _noun_class(lemma) or _agent_class(lemma)
                if cls is not None:
                    kind, labels = cls
                focus, focus_text = lemma, head.lower_
        if kind is None and not (head is None and root_verb in _CLAUSE_VERBS):
            kind = PHRASE  # "what did X do", "what happened": a clause answers, not a phrase
    if unit is None and wh in ("how many", "how much") and focus in _UNITS:
        unit = focus  # "how many *pounds* of steam": the count is in pounds
    if unit and re.search(rf"\b(?:square|sq|cubic) {unit}", lower):
        unit = "square " + unit  # "how many square miles": an area, not a length
    if unit and kind == NUMBER:  # a duration is a DATE or TIME to spaCy: "five days", "17 seconds"
        labels = frozenset({"QUANTITY", "CARDINAL"} | (DATE_LABELS if unit in DURATIONS else set()))
    root = next((t for t in toks if t.dep_ == "ROOT"), None)
    root_lemma = root.lemma_.lower() if root is not None and root.pos_ == "VERB" else None
    if root_lemma is None:  # "How many personnel were injured": the participle carries it
        verb = next((t for t in toks if t.pos_ == "VERB"), None)
        root_lemma = verb.lemma_.lower() if verb is not None else None
    lemmas = frozenset(
        t.lemma_.lower() for t in toks
        if not t.is_stop and not t.is_punct and t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ", "NUM", "ADV")
        and t.tag_ not in ("WDT", "WP", "WP$", "WRB")
    )
    wh_role = wh_prep = wh_head = None
    if wh_tok is not None:
        wh_role, wh_prep, wh_head = role(wh_tok)
    absolute = kind == NUMBER and (wh == "how many" or focus in _COUNTED) and not _IN_PERCENT.search(lower)
    return Asked(
        absolute=absolute, focus_across=across and focus is not None and wh_role in ("subj", "obj")
        and not _STRANDED.search(lower),
        wh_role=wh_role, wh_prep=wh_prep, wh_head=wh_head,
        text=text, wh=wh, kind=kind, labels=labels, focus=focus, focus_text=focus_text, unit=unit,
        years=years_in(text), quarters=quarters_in(text), ordinals=_ordinals(toks), lemmas=lemmas,
        words=with_number_forms(t.lower_ for t in toks), root=root_lemma,
        many=bool(re.search(r"\b(?:two|three|four|five|both|several)\b", lower))
        or (focus_text is not None and focus_text != focus and focus_text.endswith("s") and kind != NUMBER),
    )


_SUBJ = frozenset("nsubj csubj expl".split())
_OBJ = frozenset("dobj attr oprd dative nsubjpass acomp".split())


def role(tok) -> tuple[str | None, str | None, str | None]:
    """Where a phrase stands, from its head token: (role, preposition, lemma it depends on).
    The wh-word is climbed to the noun it determines ("what *year*", "how many *points*");
    an apposition or conjunct stands where its head stands."""
    t = tok
    while t.dep_ in ("det", "advmod", "amod", "npadvmod", "nummod", "appos", "conj", "compound") \
            and t.head.i != t.i and (t.dep_ in ("appos", "conj", "compound") or t.head.pos_ in ("NOUN", "PROPN", "ADJ", "ADV", "NUM")):
        t = t.head
    if t.dep_ in ("pobj", "pcomp") and t.head.dep_ in ("prep", "agent"):  # "by" of a passive is an agent
        return "prep", t.head.lower_, t.head.head.lemma_.lower()
    if t.dep_ in _SUBJ:
        return "subj", None, t.head.lemma_.lower()
    if t.dep_ in _OBJ:
        return "obj", None, t.head.lemma_.lower()
    if t.dep_ in ("advmod", "npadvmod"):
        return "adv", None, t.head.lemma_.lower()
    return None, None, None


_COUNTED = MEASURES - {"amount"}  # "what amount of the world's carbon": 10% answers
_IN_PERCENT = re.compile(r"\bper ?cent|\bpercentage|%")  # "how many percent", "in % of"
_STRANDED = re.compile(r"\b(?:of|for|in|on|to|with|by|from|at|about)\W*$")  # "what is 565 °C the limit of?"
_WH = re.compile(r"(?i)\b(?:what|which|who|whom|whose|when|where|why|how)\b")


def looks_asked(question: str) -> bool:
    """A question with its own wh-word ("and in 2021?" has none: read the rewritten one)."""
    return bool(_WH.search(question))
