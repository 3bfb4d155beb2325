"""The edges of an answer phrase: where a candidate starts and ends in its sentence.

A phrase does not start on a determiner, a focusing particle ("only") or the words that
introduce it ("such as", "e.g.", a relative "which"), nor end on a preposition or a
possessive; it keeps what is written onto its number ("£30m", "565 °C"); the question's own
words are cut from its ends, and the asked unit from its number ("17" of "17 seconds").
Offsets stay exact: every function returns a run of the span's own tokens.
"""
from __future__ import annotations

from .asking import Asked
from .span_features import glued, said
from .units import is_unit

_DETERMINERS = frozenset("the a an this that these those its their his her our some any".split())
_UNIT_TOKENS = frozenset("% ° °C °F °c °f km m cm mm kg g mg lb lbs mph km/h ft mi ha acres percent".split())
# words that focus a phrase without being part of it ("*only* 100–150", "*both* BSkyB"); a
# bound is part of it and stays ("up to 30%", "over half", "at least four")
_PARTICLES = frozenset("only just even both merely solely".split())
# tags of words that only join: a phrase does not start or end on "or", "of", "the", "'s" ("gave up" may)
_JOINING = frozenset("CC IN DT POS".split())
# words that introduce the answer after them ("e.g., immunoglobulins")
_INTRODUCING = frozenset("e.g. e.g i.e. i.e including namely viz.".split())


def trimmed(span):
    """A span without leading determiners, focusing particles ("only") and conjunctions, a
    trailing possessive, conjunction, preposition and punctuation, widened over what is
    written onto it ("£" "30" "m", "565" "°C", "27-30%"), and without an unbalanced
    bracket or quote ("commune (gmina" → "commune"). Offsets stay exact."""
    doc = span.doc
    toks = list(span)
    while toks and toks[0].i > 0 and glued(doc[toks[0].i - 1], toks[0]) and (
            doc[toks[0].i - 1].text in "£$€¥" or (doc[toks[0].i - 1].like_num and toks[0].text in "-–")):
        toks.insert(0, doc[toks[0].i - 1])
    while toks and toks[-1].i + 1 < len(doc) and written_on(toks[-1], doc[toks[-1].i + 1]):
        toks.append(doc[toks[-1].i + 1])
    while toks and (toks[0].lower_ in _DETERMINERS or toks[0].is_punct and toks[0].text not in "£$€¥"
                    or toks[0].lower_ in ("age", "aged") or (toks[0].lower_ in _PARTICLES and len(toks) > 1)
                    or toks[0].pos_ == "CCONJ" or toks[0].tag_ == "POS"):  # "and inner", "'s role"
        toks = toks[1:]
    toks = introduced(toks)
    for i, t in enumerate(toks):  # "5 ft 3 in) broad gauge": start after a bracket that closes nothing
        if t.text in ")]}" and not any(u.text in "([{" for u in toks[:i]):
            toks = toks[i + 1:]
            break
    for i, t in enumerate(toks):  # cut at an opening bracket or quote that does not close
        if t.text in "([{\"“‘" and not any(u.text in ")]}\"”’" for u in toks[i + 1:]):
            toks = toks[:i]
            break
    # trailing punctuation, and a possessive: "John C. Messenger's" → "John C. Messenger"
    # and what leaves it unfinished: "with itself 22 or", "development of lesions in"
    while toks and ((toks[-1].is_punct and toks[-1].text not in "%)")
                    or (len(toks) > 1 and toks[-1].tag_ in _JOINING)):
        toks = toks[:-1]
    return toks


def introduced(toks: list) -> list:
    """``toks`` without the words that introduce an example or a relative clause: "such as",
    "e.g.", "including", "which" (the answer is what follows)."""
    while len(toks) > 1:
        first = toks[0]
        if first.lower_ == "such" and len(toks) > 2 and toks[1].lower_ == "as":
            toks = toks[2:]
        elif first.lower_ in _INTRODUCING or first.tag_ in ("WDT", "WP") or first.text in ",:;":
            toks = toks[1:]  # and the comma after "e.g."
        else:
            break
    return toks


def without_unit(unit: str, toks: list) -> list:
    """The number of ``toks`` without the asked unit written after it: "17" of "17 seconds",
    "8.8" of "8.8 lb" for "how many pounds" (unchanged when the unit says more than the
    question: "1.5 gigatons" for "how many tons", "8,646 sq mi" for "how many square miles")."""
    for k in range(len(toks) - 1, 0, -1):
        if toks[k].like_num:
            break
        suffix = toks[k:]
        text = toks[0].doc.text[suffix[0].idx : suffix[-1].idx + len(suffix[-1].text)]
        if is_unit(unit, text) and any(t.like_num for t in toks[:k]):
            return toks[:k]
    return toks


def written_on(a, b) -> bool:
    """``b`` belongs to the number ``a`` ends with: "30" "m", "27" "-30%", "565" "°C"."""
    if b.text in _UNIT_TOKENS and (a.like_num or a.text[-1:].isdigit()):
        return True
    if a.text == "°" and glued(a, b) and b.text in ("C", "F", "K"):
        return True
    if not glued(a, b) or not (a.like_num or a.text[-1:].isdigit() or a.text in "£$€¥-–"):
        return False
    return b.like_num or b.text in _UNIT_TOKENS or b.text in "-–%" or (b.is_alpha and len(b.text) <= 2)


def unechoed(asked: Asked, toks: list) -> list:
    """``toks`` without the question's own words at either end: "what type of heating
    element" → "electric" of "electric heating element" (the SQuAD convention; the lead
    still shows the whole phrase). Unchanged when nothing else would remain."""
    def echoed(t) -> bool:  # or a word that only joins: "outer and inner membranes" → "inner"
        return t.is_punct or t.lower_ in _DETERMINERS or t.tag_ in _JOINING or (not t.like_num and said(asked, t))

    i, j = 0, len(toks)
    while i < j and echoed(toks[i]):
        i += 1
    while j > i and echoed(toks[j - 1]):
        j -= 1
    if i == j or (i == 0 and j == len(toks)):
        return toks
    core = introduced(toks[i:j])
    while core and core[-1].is_punct:
        core = core[:-1]
    return core or toks
