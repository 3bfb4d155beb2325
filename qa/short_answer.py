"""The phrase that answers, inside a quoted sentence: a number, a date, a name, a place,
a noun phrase — read from spaCy's entities and parse, never made up.

A sentence's candidates are its entities whose label the question asks for ("how many" →
CARDINAL/QUANTITY/…), or, for a "what" question, its noun chunks and entities. A candidate
that only repeats the question ("the ballistic missile" for "which missile …") is no
answer. Among the rest the one that stands where the question's words stand wins:

* **anchors** — tokens of the sentence whose lemma the question has; a candidate close to
  them (in tokens) is more likely the asked slot than one at the other end of the sentence;
* **attachment** — "how many *personnel*": the number whose noun is the counted one;
  the object or complement of the question's verb ("targeted → *an operations center*");
* **unit** — "how long … in kilometres" wants a length in km, not an area in km²;
* **kind** — for "what kind of missile", the chunk that holds "missile" with a modifier.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from .asking import NUMBER, PHRASE, PLACE, Asked, unit_forms

_SKIP_LABELS_FOR_PHRASE = frozenset({"CARDINAL", "ORDINAL", "PERCENT", "MONEY", "QUANTITY"})
_DETERMINERS = frozenset("the a an this that these those its their his her our some any".split())
NO_ANCHOR = 0.6  # a sentence without any of the question's words: below a neighbour's minimum
SURROUND = 2.0  # share of the question's words near it (by dependency distance)
LINEAR, TREE = 0.03, 0.08  # per token / per dependency edge between a candidate and the question's words
_UNIT_TOKENS = frozenset("% ° °C °F °c °f km m cm mm kg g mg lb lbs mph km/h ft mi ha acres percent".split())
_LOCATIVE = frozenset("in at near from outside inside within across around throughout into on to".split())
_AREA = re.compile(r"(?i)\bsquare\b|²|\bsq\b")


@dataclass(frozen=True)
class Candidate:
    start: int  # document offsets
    end: int
    text: str
    label: str
    score: float
    shown_start: int | None = None  # the phrase as the answer's lead shows it: "eight U.S.
    shown_end: int | None = None  # personnel", "close-range ballistic missile" (None: as ``text``)

    def shown(self, sentence: str, sentence_start: int) -> str:
        """The phrase as the lead shows it, cut from the sentence that holds it."""
        start, end = (self.shown_start, self.shown_end) if self.shown_end else (self.start, self.end)
        return sentence[start - sentence_start : end - sentence_start]


def _content(t) -> bool:
    return not t.is_punct and (not t.is_stop or t.like_num)  # "three" is a stop word to spaCy


def _anchors(asked: Asked, doc) -> list[int]:
    return [t.i for t in doc if _content(t) and (t.lemma_.lower() in asked.lemmas or t.lower_ in asked.words)]


def _echoes(asked: Asked, toks) -> float:
    """Share of the span's content tokens the question already says."""
    content = [t for t in toks if _content(t)]
    if not content:
        return 1.0
    said = sum(t.lemma_.lower() in asked.lemmas or t.lower_ in asked.words for t in content)
    return said / len(content)


def _trimmed(span):
    """A span without leading determiners and trailing punctuation, widened over what is
    written onto it ("£" "30" "m", "565" "°C", "27-30%"), and without an unbalanced
    bracket or quote ("commune (gmina" → "commune"). Offsets stay exact."""
    doc = span.doc
    toks = list(span)
    while toks and toks[0].i > 0 and _glued(doc[toks[0].i - 1], toks[0]) and (
            doc[toks[0].i - 1].text in "£$€¥" or (doc[toks[0].i - 1].like_num and toks[0].text in "-–")):
        toks.insert(0, doc[toks[0].i - 1])
    while toks and toks[-1].i + 1 < len(doc) and _written_on(toks[-1], doc[toks[-1].i + 1]):
        toks.append(doc[toks[-1].i + 1])
    while toks and (toks[0].lower_ in _DETERMINERS or toks[0].is_punct and toks[0].text not in "£$€¥"
                    or toks[0].lower_ in ("age", "aged")):
        toks = toks[1:]
    for i, t in enumerate(toks):  # "5 ft 3 in) broad gauge": start after a bracket that closes nothing
        if t.text in ")]}" and not any(u.text in "([{" for u in toks[:i]):
            toks = toks[i + 1:]
            break
    for i, t in enumerate(toks):  # cut at an opening bracket or quote that does not close
        if t.text in "([{\"“‘" and not any(u.text in ")]}\"”’" for u in toks[i + 1:]):
            toks = toks[:i]
            break
    while toks and toks[-1].is_punct and toks[-1].text not in "%)":
        toks = toks[:-1]
    return toks


def _path(tok) -> list[int]:
    out = [tok.i]
    while tok.head.i != tok.i:
        tok = tok.head
        out.append(tok.i)
    return out


def _tree_distance(a, b) -> int:
    """Edges between two tokens in the dependency tree."""
    pa, pb = _path(a), _path(b)
    where = {t: k for k, t in enumerate(pa)}
    for k, t in enumerate(pb):
        if t in where:
            return where[t] + k
    return len(pa) + len(pb)


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


def _written_on(a, b) -> bool:
    """``b`` belongs to the number ``a`` ends with: "30" "m", "27" "-30%", "565" "°C"."""
    if b.text in _UNIT_TOKENS and (a.like_num or a.text[-1:].isdigit()):
        return True
    if a.text == "°" and _glued(a, b) and b.text in ("C", "F", "K"):
        return True
    if not _glued(a, b) or not (a.like_num or a.text[-1:].isdigit() or a.text in "£$€¥-–"):
        return False
    return b.like_num or b.text in _UNIT_TOKENS or b.text in "-–%" or (b.is_alpha and len(b.text) <= 2)


def _unechoed(asked: Asked, toks: list) -> list:
    """``toks`` without the question's own words at either end: "what type of heating
    element" → "electric" of "electric heating element" (the SQuAD convention; the lead
    still shows the whole phrase). Unchanged when nothing else would remain."""
    def said(t) -> bool:
        return t.is_punct or t.lower_ in _DETERMINERS or (
            not t.like_num and (t.lemma_.lower() in asked.lemmas or t.lower_ in asked.words))

    i, j = 0, len(toks)
    while i < j and said(toks[i]):
        i += 1
    while j > i and said(toks[j - 1]):
        j -= 1
    if i == j or (i == 0 and j == len(toks)):
        return toks
    core = toks[i:j]
    while core and core[-1].is_punct:
        core = core[:-1]
    return core or toks


def _glued(a, b) -> bool:
    """``b`` follows ``a`` with no space between them."""
    return a.idx + len(a.text) == b.idx


def candidates(asked: Asked, doc, offset: int) -> list[Candidate]:
    """The answer candidates of one parsed sentence (``doc``), best first; ``offset`` is the
    sentence's start in its document."""
    if asked.kind is None or asked.kind == "reason":
        return []
    anchors = _anchors(asked, doc)
    spans = []
    if asked.labels:
        spans = [(e, e.label_) for e in doc.ents if e.label_ in asked.labels]
        if asked.many:  # "which two bodies", "who were the crew": "Grissom, White, and Chaffee"
            spans += _coordinated(doc, [e for e, _ in spans])
    if asked.focus and asked.wh in ("what", "which"):  # "which air base": "al-Asad Air Base"
        seen = {(e.start, e.end) for e, _ in spans}
        spans += [(c, "NP") for c in doc.noun_chunks
                  if c.root.lemma_.lower() == asked.focus and (c.start, c.end) not in seen
                  and any(t.pos_ == "PROPN" and t.lower_ not in asked.words for t in c)]
    if asked.kind == PHRASE or (not spans and not asked.labels):
        spans = [(e, e.label_) for e in doc.ents if e.label_ not in _SKIP_LABELS_FOR_PHRASE]
        seen = {(e.start, e.end) for e, _ in spans}
        spans += [(c, "NP") for c in doc.noun_chunks if (c.start, c.end) not in seen]
    units = unit_forms(asked.unit)
    out = []
    for span, label in spans:
        toks = _trimmed(span)
        if not toks:
            continue
        echo = _echoes(asked, toks)
        kind_of = asked.focus is not None and asked.wh in ("what", "which") and any(
            t.lemma_.lower() == asked.focus for t in toks)
        if echo >= 1.0 and not kind_of:
            continue
        if kind_of and len([t for t in toks if not t.is_stop]) < 2:
            continue  # "missile" alone says nothing new about "what kind of missile"
        score = 1.0 - 0.8 * echo
        if anchors:
            dist = min(min(abs(a - toks[0].i), abs(a - toks[-1].i)) for a in anchors)
            trees = {a: _tree_distance(span.root, doc[a]) for a in anchors}
            score -= LINEAR * min(dist, 15) + TREE * min(min(trees.values()), 8)
            # the question's words around it: each asked word counts once, nearer counts more
            near: dict[str, int] = {}
            for a, d in trees.items():
                if toks[0].i <= a <= toks[-1].i:
                    continue
                key = doc[a].lemma_.lower()
                near[key] = min(near.get(key, 99), d)
            score += SURROUND * sum(1.0 / (1 + d) for d in near.values()) / max(len(asked.lemmas), 1)
        else:
            score -= NO_ANCHOR
        end_i = toks[-1].i
        shown_start = shown_end = None
        core = _unechoed(asked, toks) if label == "NP" else toks  # a name is never cut
        if core is not toks:
            shown_start, shown_end = offset + toks[0].idx, offset + toks[-1].idx + len(toks[-1].text)
        if asked.kind == NUMBER and asked.focus:
            after = [t for t in doc[end_i + 1 : end_i + 5]]
            for t in after:
                if t.lemma_.lower() == asked.focus or t.lower_ == asked.focus_text:
                    score += 0.6
                    shown_start, shown_end = offset + toks[0].idx, offset + t.idx + len(t.text)
                    break
                if t.is_punct or t.pos_ == "VERB":
                    break
        head = span.root.head
        if asked.root and head.lemma_.lower() == asked.root and span.root.dep_ in (
                "dobj", "attr", "pobj", "nsubjpass", "nsubj", "oprd", "acomp", "npadvmod"):
            score += 0.3
        elif asked.root and head.head.lemma_.lower() == asked.root and span.root.dep_ == "pobj":
            score += 0.2
        if kind_of:
            score += 0.5
        if asked.many and any(t.lower_ in ("and", "or") or t.text == "," for t in toks):
            score += 0.3  # several asked for, several named together
        if asked.kind == PLACE:
            prev = doc[toks[0].i - 1] if toks[0].i > 0 else None
            if prev is not None and prev.lower_ in _LOCATIVE:
                score += 0.3
        nxt = doc[end_i + 1] if end_i + 1 < len(doc) else None
        if nxt is not None and (nxt.text == "-" or (_glued(toks[-1], nxt) and nxt.text.startswith("-"))):
            score -= 0.6  # "Iran" in "Iran-backed" is a modifier, not the answer
        if units:
            text = span.text.lower()
            if any(u in text for u in units) and not _AREA.search(text):
                score += 1.0
            elif label == "QUANTITY" or _AREA.search(text):
                score -= 1.5
        if asked.kind == PHRASE and label == "NP" and len(toks) > 6:
            score -= 0.3
        if asked.kind == NUMBER and label == "DATE" and not (asked.wh or "").startswith("how long"):
            score -= 0.5
        start = offset + core[0].idx
        end = offset + core[-1].idx + len(core[-1].text)
        out.append(Candidate(start, end, doc.text[core[0].idx : core[-1].idx + len(core[-1].text)],
                             label, round(score, 4), shown_start, shown_end))
    # several counts for the focus in one sentence make each a weaker answer ("23 … and 25 …")
    if asked.kind == NUMBER and len([c for c in out if c.shown_end]) > 1:
        out = [replace(c, score=c.score - 0.3) for c in out]
    return sorted(out, key=lambda c: -c.score)

