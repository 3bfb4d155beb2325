"""What a candidate phrase looks like next to the question: the features the span model
(:mod:`qa.span_model`) weighs, read from spaCy's parse of one sentence.

Each feature names one observation a reader would make, in the manner of the SQuAD
paper's logistic-regression reader (Rajpurkar et al. 2016): what kind of phrase it is and
whether that is the kind asked for; how much of it only repeats the question; how near it
stands to the question's words, in tokens and in dependency edges, and how many of them its
own clause and the words around it hold; whether it is the
object of the question's verb, the noun counted by "how many", a length in the asked unit,
a place after "in"; its length and part of speech.
"""
from __future__ import annotations

from dataclasses import dataclass

from .asking import NUMBER, PHRASE, PLACE, REASON, Asked, role
from .units import AREA, unit_forms

_LOCATIVE = frozenset("in at near from outside inside within across around throughout into on to".split())
_NAMING = frozenset("called named known termed dubbed titled as".split())
_DEPS = frozenset("nsubj nsubjpass dobj pobj attr appos conj compound ROOT npadvmod oprd acomp amod nmod".split())
_ROOT_DEPS = frozenset("dobj attr pobj nsubjpass nsubj oprd acomp npadvmod".split())
_POS = frozenset("NOUN PROPN NUM ADJ VERB".split())


def content(t) -> bool:
    return not t.is_punct and (not t.is_stop or t.like_num)  # "three" is a stop word to spaCy


def said(asked: Asked, t) -> bool:
    """The question already has this word."""
    return t.lemma_.lower() in asked.lemmas or t.lower_ in asked.words


def anchors(asked: Asked, doc) -> list[int]:
    """Tokens of the sentence whose lemma the question has."""
    return [t.i for t in doc if content(t) and said(asked, t)]


def echoes(asked: Asked, toks) -> float:
    """Share of the span's content tokens the question already says."""
    words = [t for t in toks if content(t)]
    if not words:
        return 1.0
    return sum(said(asked, t) for t in words) / len(words)


def _path(tok) -> list[int]:
    out = [tok.i]
    while tok.head.i != tok.i:
        tok = tok.head
        out.append(tok.i)
    return out


def tree_distance(a, b) -> int:
    """Edges between two tokens in the dependency tree."""
    pa, pb = _path(a), _path(b)
    where = {t: k for k, t in enumerate(pa)}
    for k, t in enumerate(pb):
        if t in where:
            return where[t] + k
    return len(pa) + len(pb)


def _path_labels(a, b) -> str:
    """The dependency labels from ``a`` up to the common head and down to ``b``."""
    pa, pb = _path(a), _path(b)
    common = next((t for t in pa if t in pb), None)
    if common is None:  # in two sentences of one text
        return "far"
    doc = a.doc
    up = [doc[t].dep_ for t in pa[: pa.index(common)]]
    down = [doc[t].dep_ for t in pb[: pb.index(common)]]
    return "^".join(up) + "|" + "^".join(reversed(down))


def glued(a, b) -> bool:
    """``b`` follows ``a`` with no space between them."""
    return a.idx + len(a.text) == b.idx


@dataclass(frozen=True)
class Span:
    """A candidate's tokens in its sentence, with how it was made."""

    toks: tuple  # spaCy tokens, in order
    label: str  # an entity label, "NP" (noun chunk) or "NPX" (a noun with its modifiers)
    cut: bool = False  # the question's own words were cut from its ends
    approx: bool = False  # "about", "around" … kept in front of a number
    kind_of: bool = False  # holds the focus noun with a modifier ("close-range ballistic missile")
    widened: bool = False  # an entity with the rest of its noun phrase ("Mayor W. Haydon Burns")
    part: bool = False  # the year of a longer date ("1943" of "7 January 1943")
    off_kind: bool = False  # not of the asked kind ("Students" for "who")


@dataclass(frozen=True)
class Sentence:
    """What is read once per sentence, for all its candidates."""

    doc: object  # the parsed sentence
    near: tuple[int, ...]  # the anchors: tokens whose lemma the question has
    cover: float  # the share of the question's content lemmas the sentence holds
    others: tuple[int, ...]  # proper nouns the question does not state, as objects of a preposition
    clauses: tuple[int, ...]  # for each token, the verb whose clause holds it (:func:`clause_of`)


def sentence(asked: Asked, doc) -> Sentence:
    held = {t.lemma_.lower() for t in doc if content(t)} & asked.lemmas
    others = tuple(t.i for t in doc if t.pos_ == "PROPN" and t.dep_ == "pobj" and not said(asked, t))
    return Sentence(doc, tuple(anchors(asked, doc)), len(held) / max(len(asked.lemmas), 1), others,
                    tuple(clause_of(t).i for t in doc))


def counted_noun(asked, doc, last):
    """The focus noun the number ending at ``last`` counts: written after it ("eight U.S.
    *personnel*"), or the noun it is coordinated with ("2,500 *troops* in Iraq and 900 in
    Syria": 900 counts troops too). None if it counts nothing the question asks about."""
    def focus(t) -> bool:
        return t.lemma_.lower() == asked.focus or t.lower_ == asked.focus_text

    for t in doc[last.i + 1 : last.i + 5]:
        if focus(t):
            return t
        if t.is_punct or t.pos_ == "VERB":
            break
    if last.dep_ == "conj" and focus(last.head):
        return last.head
    return None


def across_copula(asked: Asked, root) -> bool:
    """``root`` is one side of an "is" whose other side holds the question's focus: "What is
    the main cause of …?" ← "*Mother-to-child transmission* is the main cause of …"."""
    t = root
    while t.dep_ in ("appos", "conj", "compound") and t.head.i != t.i:
        t = t.head
    be = t.head
    if not asked.focus_across or be.lemma_ != "be" or t.dep_ not in ("nsubj", "attr"):
        return False
    return any(o.i != t.i and o.dep_ in ("nsubj", "attr") and o.lemma_.lower() == asked.focus
               for o in be.children)


def clause_of(tok):
    """The verb whose clause holds ``tok`` (the nearest verb up the tree, or the root)."""
    while tok.pos_ not in ("VERB", "AUX") and tok.head.i != tok.i:
        tok = tok.head
    return tok


def _vicinity(asked: Asked, seen: Sentence, trees, span: Span, root, f: dict[str, float]) -> None:
    """Where the question's words stand around the span, beyond the nearest one: the share
    of them in the span's own clause (the words whose nearest verb is the span's: "Miller
    stripped the ball, and the *fumble* was *recovered* by Ward"), within 5 and 10 tokens of it
    (the SQuAD paper's sliding window), and whether the noun asked about hangs on it ("the
    *chair*, Hoesung Lee")."""
    doc, clauses = seen.doc, seen.clauses
    first, last = span.toks[0].i, span.toks[-1].i
    outside = [(a, doc[a].lemma_.lower()) for a in seen.near if not first <= a <= last]
    n = max(len(asked.lemmas), 1)
    clause = clauses[root.i]
    f["clause_cover"] = len({lemma for a, lemma in outside if clauses[a] == clause}) / n
    for k in (5, 10):
        f[f"window{k}"] = len({lemma for a, lemma in outside if first - k <= a <= last + k}) / n
    if asked.focus and min((trees[a] for a, lemma in outside if lemma == asked.focus), default=99) <= 2:
        f["focus_near"] = 1.0


def features(asked: Asked, seen: Sentence, span: Span) -> dict[str, float]:
    """The observations about ``span`` in the sentence ``seen``."""
    doc, near = seen.doc, seen.near
    toks = span.toks
    first, last = toks[0], toks[-1]
    root = doc[first.i : last.i + 1].root
    trees = {a: tree_distance(root, doc[a]) for a in near}  # each anchor's edges to the span
    kind = asked.kind if asked.kind not in (None, REASON) else "clause"
    wh = asked.wh or "none"
    f: dict[str, float] = {"bias": 1.0, f"label={span.label}": 1.0, f"{kind}:{span.label}": 1.0,
                           f"{wh}:{span.label}": 1.0}
    f["sentence_cover"] = seen.cover
    # the words just around the span that the question has ("… was *designed by* X")
    f["left_said"] = sum(said(asked, t) for t in doc[max(first.i - 3, 0) : first.i] if content(t)) / 3
    f["right_said"] = sum(said(asked, t) for t in doc[last.i + 1 : last.i + 4] if content(t)) / 3
    if asked.labels:
        f["label_asked"] = float(span.label in asked.labels)
    echo = echoes(asked, toks)
    f["echo"] = echo
    f["echo_all"] = float(echo >= 1.0)
    if near:
        dist = min(min(abs(a - first.i), abs(a - last.i)) for a in near)
        f["linear"] = min(dist, 15) / 15
        f["tree"] = min(min(trees.values()), 8) / 8
        nearest: dict[str, int] = {}
        for a, d in trees.items():
            if first.i <= a <= last.i:
                continue
            key = doc[a].lemma_.lower()
            nearest[key] = min(nearest.get(key, 99), d)
        f["surround"] = sum(1.0 / (1 + d) for d in nearest.values()) / max(len(asked.lemmas), 1)
        f["before_anchor"] = float(all(a > last.i for a in near))
        _vicinity(asked, seen, trees, span, root, f)
        # a name the question states ("… in *Syria*") hangs on the answer: "900 in Syria"
        names = [a for a in near if doc[a].pos_ == "PROPN" and not first.i <= a <= last.i]
        if names and min(trees[a] for a in names) <= 3:
            f["name_attached"] = 1.0
    else:
        f["no_anchor"] = 1.0
    # a name the question does not state hangs on it instead: "2,500 troops in Iraq"
    other = min((tree_distance(root, doc[i]) for i in seen.others if not first.i <= i <= last.i), default=99)
    if other <= 3:
        f["other_name_attached"] = 1.0
    if near and asked.kind == NUMBER:
        # which is nearer, a name the question states or one it does not ("… 2,500 troops in
        # Iraq and 900 in Syria" for "in Syria"): the constraint the question names must hold
        stated = min((trees[a] for a in near if doc[a].pos_ == "PROPN" and not first.i <= a <= last.i), default=99)
        if min(stated, other) <= 3 and stated != other:
            f["stated_name_nearer" if stated < other else "other_name_nearer"] = 1.0
    head = root.head
    if asked.root and head.lemma_.lower() == asked.root and root.dep_ in _ROOT_DEPS:
        f["verb_slot"] = 1.0
    elif asked.root and head.head.lemma_.lower() == asked.root and root.dep_ == "pobj":
        f["verb_slot2"] = 1.0
    if asked.kind == NUMBER and asked.focus and counted_noun(asked, doc, last) is not None:
        f["counts_focus"] = 1.0
    if asked.wh_head:  # the place the wh-phrase has in the question ("*who* led" → the one who led)
        c_role, c_prep, c_head = role(root)
        if c_head == asked.wh_head:
            f["role_head"] = 1.0
            if c_role == asked.wh_role and (c_role != "prep" or c_prep == asked.wh_prep):
                f["role_same"] = 1.0
                f[f"{kind}:role_same"] = 1.0
            elif asked.wh_role == "subj" and c_role == "prep" and c_prep == "by":
                f["role_agent"] = 1.0  # "who led …" ← "… were led by X"
            elif asked.wh_role == "adv" and c_role == "prep":
                f[f"{kind}:role_adverbial"] = 1.0  # "where did he live" ← "lived in X"
    if across_copula(asked, root):
        f["across_copula"] = 1.0
    if span.off_kind:
        f["off_kind"] = 1.0
        f[f"{kind}:off_kind"] = 1.0
    if span.kind_of:
        f["kind_of"] = 1.0
    if span.label not in ("NP", "NPX"):
        f[f"{wh}:entity"] = 1.0
    coord = any(t.lower_ in ("and", "or") or t.text == "," for t in toks)
    f["coord"] = float(coord)
    if asked.many and coord:
        f["many_coord"] = 1.0
    prev = doc[first.i - 1] if first.i > 0 else None
    if prev is not None:
        if prev.lower_ in _LOCATIVE:
            f[f"{kind}:after_locative"] = 1.0
        if prev.lower_ in _NAMING:
            f["after_naming"] = 1.0
        if prev.text in "(":
            f["in_brackets"] = 1.0
        if prev.lower_ == "of":
            f["after_of"] = 1.0
    nxt = doc[last.i + 1] if last.i + 1 < len(doc) else None
    if nxt is not None:
        if nxt.text == "-" or (glued(last, nxt) and nxt.text.startswith("-")):
            f["modifier"] = 1.0  # "Iran" in "Iran-backed"
        if nxt.text == "(":
            f["before_brackets"] = 1.0
    units = unit_forms(asked.unit)
    if units:
        text = " ".join(t.text for t in toks).lower()
        if any(u in text for u in units) and not AREA.search(text):
            f["unit_match"] = 1.0
        elif span.label == "QUANTITY" or AREA.search(text):
            f["unit_miss"] = 1.0
    n = len(toks)
    f["len=1" if n == 1 else "len=2-3" if n <= 3 else "len=4-6" if n <= 6 else "len=7+"] = 1.0
    f[f"{kind}:len"] = min(n, 12) / 12
    propn = sum(t.pos_ == "PROPN" for t in toks) / n
    f["propn"] = propn
    f[f"{kind}:propn"] = propn
    f["number_in"] = float(any(t.like_num for t in toks))
    f[f"{kind}:number_in"] = f["number_in"]
    pos = root.pos_ if root.pos_ in _POS else "X"
    f[f"pos={pos}"] = 1.0
    f[f"{kind}:pos={pos}"] = 1.0
    dep = root.dep_ if root.dep_ in _DEPS else "other"
    f[f"dep={dep}"] = 1.0
    f[f"{wh}:dep={dep}"] = 1.0
    if near:  # the way from the span to the nearest of the question's words, as dependency labels
        a = min(trees, key=trees.get)
        f[f"path={_path_labels(root, doc[a]) if trees[a] <= 3 else 'far'}"] = 1.0
    f["position"] = first.i / max(len(doc), 1)
    if asked.focus and root.lemma_.lower() == asked.focus:
        f["focus_root"] = 1.0
    if span.cut:
        f["cut"] = 1.0
        f[f"{wh}:cut"] = 1.0
    if span.approx:
        f["approx"] = 1.0
    if span.widened:
        f["widened"] = 1.0
        f[f"{kind}:widened"] = 1.0
    if span.part:
        f["part"] = 1.0
        f[f"{wh}:part"] = 1.0
    if asked.kind == NUMBER and span.label == "DATE" and not (asked.wh or "").startswith("how long"):
        f["date_for_count"] = 1.0
    if asked.kind == PLACE and span.label in ("GPE", "LOC", "FAC"):
        f["place_entity"] = 1.0
    if asked.kind == PHRASE and span.label in ("NP", "NPX") and n > 6:
        f["long_phrase"] = 1.0
    if kind == "clause":
        _clause_features(asked, span, root, f)
    return f


_OPENERS = frozenset("by because to with through for as from in due since so using".split())


def _clause_features(asked: Asked, span: Span, root, f: dict[str, float]) -> None:
    """How a phrase answers "how did X …", "what did X do", "why …": what it opens with
    ("by …", "because …", "to …"), and whether it hangs on the question's verb."""
    first = span.toks[0]
    wh = asked.wh or "none"
    f[f"{wh}:opens={first.lower_ if first.lower_ in _OPENERS else first.pos_}"] = 1.0
    if asked.root and root.head.lemma_.lower() == asked.root and root.head.i != root.i:
        f[f"{wh}:on_verb"] = 1.0  # "formed *by erosion*" for "how was it formed"
    if asked.root and root.lemma_.lower() == asked.root:
        f[f"{wh}:is_verb"] = 1.0
