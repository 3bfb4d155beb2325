"""The phrase that answers, inside a quoted sentence: a number, a date, a name, a place,
a noun phrase — read from spaCy's entities and parse, never made up.

A sentence's candidates are its entities, its noun chunks and its nouns with their
modifiers ("the Great Exhibition of 1851"), each also without the question's own words at
its ends ("electric" of "electric heating element" for "what type of heating element")
and, for a number, with the "about" in front of it. A typed question ("how many", "who",
"when", "where") gets only entities of its kind, each also with the rest of its noun phrase
("Major General James Abercrombie") and, for a date, its year alone ("1943" of "7 January
1943"). A question a clause answers ("how did X …", "what did X do", "why …") gets, beside
the noun phrases, verb phrases, clauses and prepositional phrases (:func:`_clauses`). A
candidate that only repeats the question is no answer. The rest are scored by the span
model (:mod:`qa.span_model`) from what they look like next to the question
(:mod:`qa.span_features`), and ranked by what the likely ones agree on (:func:`consensus`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from . import span_model
from .asking import ABSOLUTE_LABELS, DATE, DATE_LABELS, NUMBER, PERSON, PHRASE, PLACE, REASON, Asked
from .units import names_unit
from .phrase_edges import trimmed, unechoed, without_unit
from .span_features import Span, counted_noun, echoes, features, sentence

_APPROX = frozenset("about around approximately nearly almost roughly some over under".split())
_CUTTABLE = frozenset("NP NPX VP CL PP DATE TIME CARDINAL QUANTITY ORDINAL".split())  # "20th" of "20th century"
_CLAUSE_WH = frozenset("how what which why".split())  # "how did X …", "what did X do", "why …"
_CLAUSE_DEPS = frozenset("advcl ccomp xcomp pcomp conj relcl acl".split())
_PREP_DEPS = frozenset("prep agent".split())
_WORD_POS = frozenset("VERB ADJ ADV".split())  # "asphyxiated", "homologous", "individually"
MAX_CLAUSE = 20  # tokens: a clause longer than this is most of the sentence
TEMPERATURE = 0.5  # of the softmax that weighs candidates by consensus (5-fold CV by document: 0.2-0.7 all help)
CONSENSUS_TOP = 10  # candidates weighed against each other
_YEARISH = re.compile(r"^\d{4}s?$")  # 1954, 1970s
# a number that points elsewhere in the paper: "[44]", "Figure 1", "Table 2", "Eq. 3"
_POINTERS = frozenset("figure figures fig figs table tables ref refs reference references eq equation "
                      "appendix supplementary".split())
_LIST_MARKS = frozenset(", ; - – —".split())
MAX_PHRASE = 14  # tokens: a noun with its modifiers longer than this is a clause, not an answer
# "who" and "where" are often answered by a name spaCy's small model labels otherwise ("the
# Broncos" PRODUCT, "Newton" GPE) or by a common noun ("Students", "charter schools"):
# these kinds also get such phrases, marked as of another kind, never a number or a date
_LOOSE_KINDS = frozenset({PERSON, PLACE})
_NUMERIC = frozenset("CARDINAL QUANTITY MONEY PERCENT ORDINAL DATE TIME".split())


@dataclass(frozen=True)
class Candidate:
    start: int  # document offsets
    end: int
    text: str
    label: str
    score: float  # the span model's log-odds that this is the answer
    shown_start: int | None = None  # the phrase as the answer's lead shows it: "eight U.S.
    shown_end: int | None = None  # personnel", "close-range ballistic missile" (None: as ``text``)
    off_kind: bool = False  # not of the asked kind: a name labelled otherwise, a common noun

    def shown(self, sentence: str, sentence_start: int) -> str:
        """The phrase as the lead shows it, cut from the sentence that holds it."""
        start, end = (self.shown_start, self.shown_end) if self.shown_end else (self.start, self.end)
        return sentence[start - sentence_start : end - sentence_start]


def _coordinated(doc, ents: list) -> list:
    """Runs of entities of one label joined by ", ", "and", "or" ("Hmong or Laotian"), as
    one span each (labelled like their parts)."""
    out = []
    i = 0
    ents = sorted(ents, key=lambda e: e.start)
    while i < len(ents):
        j = i
        while j + 1 < len(ents) and ents[j + 1].label_ == ents[i].label_ and all(
                t.lower_ in (",", "and", "or", "&") for t in doc[ents[j].end : ents[j + 1].start]) \
                and ents[j + 1].start > ents[j].end:
            j += 1
        if j > i:
            out.append((doc[ents[i].start : ents[j].end], ents[i].label_))
        i = j + 1
    return out


def _clauses(doc) -> list:
    """What answers "how did X …", "what did X do", "why …": a verb with what follows it
    ("installed electrical arc light based illumination systems"), a clause ("to coordinate
    the response", "because one can include …") also without its "because", a
    prepositional phrase ("by erosion", "with common rules for coal and steel") also
    without its preposition, and a lone verb, adjective or adverb ("failed", "homologous")."""
    out = []
    for t in doc:
        if t.pos_ in ("VERB", "AUX") and t.right_edge.i > t.i and t.right_edge.i - t.i < MAX_CLAUSE:
            out.append((doc[t.i : t.right_edge.i + 1], "VP"))
        if t.dep_ in _CLAUSE_DEPS and t.pos_ in ("VERB", "AUX"):
            left, right = t.left_edge.i, t.right_edge.i
            if right - left < MAX_CLAUSE:
                out.append((doc[left : right + 1], "CL"))
                if doc[left].dep_ in ("mark", "aux") and doc[left].lower_ != "to" and right > left:
                    out.append((doc[left + 1 : right + 1], "CL"))
        if t.dep_ in _PREP_DEPS and t.right_edge.i > t.i and t.right_edge.i - t.i < MAX_CLAUSE:
            out.append((doc[t.i : t.right_edge.i + 1], "PP"))
            out.append((doc[t.i + 1 : t.right_edge.i + 1], "PP"))
        if t.pos_ in _WORD_POS and not t.is_stop:
            out.append((doc[t.i : t.i + 1], t.pos_))
    return out


def _pointer(doc, toks) -> bool:
    """A reference marker, a figure's number or a citation's year ("[44]", "[3, 4]", "Figure 1",
    "et al., 2001"): never an answer."""
    if not all(t.like_num or t.is_punct for t in toks):
        return False
    before = doc[toks[0].i - 1] if toks[0].i > 0 else None
    if before is not None and before.lower_.rstrip(".") in _POINTERS:
        return True
    k = toks[0].i - 1
    while k >= 0 and doc[k].text in (",", "."):
        k -= 1
    if 0 <= k < toks[0].i - 1 and doc[k].lower_ in ("al", "al."):
        return True  # a citation: "(Lander et al., 2001)"
    left = toks[0].i if toks[0].text.startswith("[") else toks[0].i - 1
    right = toks[-1].i if toks[-1].text.endswith("]") else toks[-1].i + 1
    while left >= 0 and (doc[left].like_num or doc[left].text in _LIST_MARKS):
        left -= 1
    while right < len(doc) and (doc[right].like_num or doc[right].text in _LIST_MARKS):
        right += 1
    return left >= 0 and doc[left].text.endswith("[") and right < len(doc) and doc[right].text.startswith("]")


def spans(asked: Asked, doc) -> list[Span]:
    """Every candidate span of one parsed sentence, once each (an entity's label wins over
    a noun chunk's)."""
    clause = asked.kind is None or asked.kind == REASON
    if clause and asked.wh not in _CLAUSE_WH:
        return []
    typed = bool(asked.labels) and asked.kind != PHRASE  # a number, a date, a name, a place
    off: list = []  # phrases of another kind, after those of the asked kind
    raw = [(e, e.label_) for e in doc.ents if not typed or e.label_ in asked.labels]
    if asked.kind == NUMBER and "CARDINAL" in asked.labels:  # a number the tagger did not label: "… and 900 in Syria"
        raw += [(doc[t.i : t.i + 1], "CARDINAL") for t in doc if t.pos_ == "NUM" and t.like_num and not t.ent_type_]
    if asked.many:  # "which two bodies", "who were the crew": "Grissom, White, and Chaffee"
        raw += _coordinated(doc, [e for e, _ in raw])
    widened: list = []
    if typed:
        if asked.focus and asked.wh in ("what", "which"):  # "which air base": "al-Asad Air Base"
            raw += [(c, "NP") for c in doc.noun_chunks if c.root.lemma_.lower() == asked.focus
                    and any(t.pos_ == "PROPN" and t.lower_ not in asked.words for t in c)]
        # an entity with the words its noun phrase puts around it: "Major General James
        # Abercrombie", "US President Barack Obama"; labelled as the entity
        ents = [(e, label) for e, label in raw if label != "NP"]
        widened = [(c, label) for c in doc.noun_chunks for e, label in ents
                   if c.start <= e.start and e.end <= c.end and (c.start, c.end) != (e.start, e.end)]
        if asked.kind in _LOOSE_KINDS:
            off = [(e, e.label_) for e in doc.ents if e.label_ not in asked.labels and e.label_ not in _NUMERIC]
            off += [(c, "NP") for c in doc.noun_chunks if c.root.pos_ in ("NOUN", "PROPN")]
    else:
        raw += [(c, "NP") for c in doc.noun_chunks]
        for t in doc:  # a noun with what modifies it: "the Mamluks of Egypt", "Great Exhibition of 1851"
            if t.pos_ in ("NOUN", "PROPN") and any(c.dep_ in ("prep", "conj", "appos") for c in t.children):
                left, right = t.left_edge.i, t.right_edge.i
                if right - left < MAX_PHRASE:
                    raw.append((doc[left : right + 1], "NPX"))
        if clause:
            raw += _clauses(doc)
    out: dict[tuple[int, int], Span] = {}

    def add(toks, label, **how) -> None:
        key = (toks[0].i, toks[-1].i)
        if toks and key not in out:
            out[key] = Span(tuple(toks), label, **how)

    for n, (span, label) in enumerate([*raw, *widened]):
        toks = trimmed(span)
        if not toks or _pointer(doc, toks):
            continue
        wide = n >= len(raw)
        kind_of = asked.focus is not None and asked.wh in ("what", "which") and any(
            t.lemma_.lower() == asked.focus for t in toks)
        if kind_of and len([t for t in toks if not t.is_stop]) < 2:
            continue  # "missile" alone says nothing new about "what kind of missile"
        if echoes(asked, toks) >= 1.0 and not kind_of:
            continue
        if toks[0].lower_ in _APPROX and len(toks) > 1 and any(t.like_num for t in toks[1:]):
            add(toks, label, approx=True, kind_of=kind_of)  # "about 340 miles" and "340 miles"
            add(toks[1:], label, kind_of=kind_of)
        else:
            add(toks, label, kind_of=kind_of, widened=wide)
        if label in _CUTTABLE or wide:  # a name is never cut, the words around it are
            core = unechoed(asked, toks)
            if core is not toks:
                add(core, label, cut=True, widened=wide)
        if label == "DATE" and len(toks) > 1:  # "early 1954", "7 January 1943", "fall of 2015": the year
            years = [t for t in toks if _YEARISH.match(t.text)]
            if len(years) == 1:
                if asked.focus == "year":  # "what year did Tesla die": the year, not the day
                    out.pop((toks[0].i, toks[-1].i), None)
                add(years, label, part=True)
        prev = doc[toks[0].i - 1] if toks[0].i > 0 else None
        if prev is not None and prev.lower_ in _APPROX and any(t.like_num for t in toks):
            add([prev, *toks], label, approx=True)
    for span, label in off:  # of another kind, after all of the asked kind: as it is, never cut
        toks = trimmed(span)
        if toks and echoes(asked, toks) < 1.0 and not any(t.like_num for t in toks):
            add(toks, label, off_kind=True)
    found = list(out.values())
    if asked.absolute and any(s.label in ABSOLUTE_LABELS for s in found):
        found = [s for s in found if s.label != "PERCENT"]  # "out of 711,988 inhabitants 56.2% were …"
    if asked.kind == DATE and any(_dated(s) for s in found):
        found = [s for s in found if s.label not in DATE_LABELS or _dated(s)]  # "A decade after …, the 1981 …"
    return found


def _dated(span: Span) -> bool:
    """A date that names its time ("1981", "March", "the 19th century"), not one that only
    measures from another ("a decade after", "two years later")."""
    return span.label in DATE_LABELS and any(
        any(ch.isdigit() for ch in t.text) or t.pos_ == "PROPN" or t.lower_ in ("century", "centuries")
        for t in span.toks)


def candidates(asked: Asked, doc, offset: int) -> list[Candidate]:
    """The answer candidates of one parsed sentence (``doc``), best first; ``offset`` is the
    sentence's start in its document."""
    scored = [replace(c, score=span_model.score(f)) for c, f in observations(asked, doc, offset)]
    return [replace(c, score=round(c.score, 4)) for c in consensus(scored, doc, offset)]


def consensus(scored: list[Candidate], doc, offset: int) -> list[Candidate]:
    """``scored`` best first by the answer a reader expects to match most: each of the top
    candidates is weighed by how much it overlaps the others (token F1), each of those by
    the span model's probability (a softmax of its log-odds over :data:`TEMPERATURE`), so
    that "Great Exhibition of 1851" beats "Great Exhibition" when "Exhibition of 1851"
    is likely too (minimum Bayes risk decoding). The best keeps the sentence's best score,
    so sentences still compare by the span model; the others lose ``TEMPERATURE·log`` of
    their share of the best one's expected overlap."""
    ranked = sorted(scored, key=lambda c: -c.score)
    top, rest = ranked[:CONSENSUS_TOP], ranked[CONSENSUS_TOP:]
    if len(top) < 2:
        return ranked
    words = [{t.i for t in doc if not t.is_punct and c.start <= offset + t.idx < c.end} for c in top]
    best = top[0].score
    weight = [math.exp((c.score - best) / TEMPERATURE) for c in top]

    def overlap(a: set, b: set) -> float:
        both = len(a & b)
        return 2 * both / (len(a) + len(b)) if both else 0.0

    expected = [sum(w * overlap(a, b) for w, b in zip(weight, words)) for a in words]
    most = max(expected)
    rescored = [replace(c, score=best + TEMPERATURE * math.log(e / most)) if e > 0 else replace(c, score=c.score - 99)
                for c, e in zip(top, expected)]
    floor = min(c.score for c in rescored)
    return sorted(rescored, key=lambda c: -c.score) + [replace(c, score=min(c.score, floor)) for c in rest]


def observations(asked: Asked, doc, offset: int) -> list[tuple[Candidate, dict[str, float]]]:
    """The candidates of one sentence with their features, unscored (what the span model
    is trained on and scores)."""
    found = spans(asked, doc)
    if not found:
        return []
    seen = sentence(asked, doc)
    text = doc.text  # spaCy joins the tokens again on every access
    out = []
    counted: set[int] = set()  # the numbers that count the focus ("at least 150" and "150" are one)
    for span in found:
        toks = span.toks
        f = features(asked, seen, span)
        shown_start = shown_end = None
        if span.cut:  # the lead shows the whole phrase: "electric heating element"
            whole = next((s for s in found if not s.cut and s.toks[0].i <= toks[0].i and toks[-1].i <= s.toks[-1].i), None)
            if whole is not None:
                shown_start, shown_end = offset + whole.toks[0].idx, offset + whole.toks[-1].idx + len(whole.toks[-1].text)
        if "counts_focus" in f:  # "eight U.S. personnel"
            noun = counted_noun(asked, doc, toks[-1])
            if noun.i > toks[-1].i:
                shown_start, shown_end = offset + toks[0].idx, offset + noun.idx + len(noun.text)
            if "widened" not in f:
                counted.add(toks[-1].i)
        if asked.unit and span.label in _NUMERIC:  # "how many seconds": "17" of "17 seconds", shown whole
            number = without_unit(asked.unit, list(toks))
            if len(number) < len(toks):
                shown_start = offset + toks[0].idx if shown_start is None else shown_start
                shown_end = offset + toks[-1].idx + len(toks[-1].text) if shown_end is None else shown_end
                toks = number
        start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
        out.append((Candidate(offset + start, offset + end, text[start:end], span.label, 0.0,
                              shown_start, shown_end, span.off_kind), f))
    if asked.unit:  # a phrase in another unit is of another kind ("27-30%" for "how many pounds")
        out = [(c if names_unit(asked.unit, c.shown(text, offset)) else replace(c, off_kind=True), f) for c, f in out]
    if asked.kind == NUMBER:  # several counts of the focus make each a weaker answer ("23 … and 25 …")
        if len(counted) > 1:
            for _, f in out:
                f["several_counts"] = 1.0
    return out
