"""Reading the extracted sentences: which ones to quote, and the phrase that answers.

:func:`qa.extractive.extract` ranks sentences by meaning and shared words. Here they are
read for what the question asks (:mod:`qa.asking`):

1. **Never quote** a question, a heading or navigation line, a reference-list entry, a
   caption the document repeats, or a fragment without a verb.
2. **The sentence ranker** (:mod:`qa.sentence_model`) re-scores the best sentences as the
   probability that each holds the answer, from what :mod:`qa.sentence_features` observes:
   meaning, shared words, the answer kind (a number for "how many", a place for "where"),
   the passage's rank. A sentence that states another year, quarter or ordinal than the asked one
   loses to one that agrees (:mod:`qa.constraints`); when every close sentence
   contradicts, the answer is a refusal that says what the documents do give.
3. **How many to quote**: the best sentence, and a second one when it is at least a tenth
   as likely to answer (:data:`qa.extractive.RANKED`).
4. **Neighbours**: when the answer phrase is not in the chosen sentence but in the one just
   before or after, or the chosen sentence refers back ("the command said …"), that
   sentence is quoted too; so is the one after a sentence that counts what is asked
   without naming it ("a number of advantages", :mod:`qa.announcing`), and, when a
   description answers ("what is the advantage of …", "why …"), the one or two after the
   best sentence that go on with it ("They are also …", "Moreover, …"; :mod:`qa.discourse`).
5. **Short answer**: the best candidate phrase (:mod:`qa.short_answer`) of the quoted
   sentences, verbatim at its document offsets.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable, Sequence

from . import constraints, discourse, sentence_features, sentence_model
from .announcing import announces
from .asking import DATE, NUMBER, PERSON, PHRASE, PLACE, REASON, Asked
from .extractive import Extraction, Scored, Sentence
from .support import gives_orders
from .short_answer import Candidate, candidates

POOL = 20  # ranked sentences re-read by the sentence ranker
BEST_SENTENCE_BONUS = 0.5  # log-odds of the span model
OFF_KIND_MARGIN = 0.5  # log-odds by which a phrase of another kind must beat the best of the asked kind
# questions a description answers ("what is the advantage of …", "how …", "why …"), not a
# phrase of one kind: their answer may go on in the next sentence
_DESCRIBED = frozenset({None, REASON, PHRASE})
GOES_ON_MAX = 2  # sentences quoted after the best one, at most (3: one more gain, one loss)
NEIGHBOUR_MIN = 0.3  # span-model log-odds a neighbour's phrase needs: the top 18% of candidates (as 0 was for the old pointwise fit)

EntitiesOf = Callable[[list[str]], list[tuple]]  # sentence texts -> entities (label, start, end)
Parse = Callable[[list[str]], list]  # sentence texts -> spaCy docs

# A reference-list entry: "[12] Smith J, Lee K. …", "… 2020; 12(3): 45–67", a DOI or a link.
# ("et al." alone is not one: a finding is often reported as "Smith et al. showed …".)
_REFERENCE = re.compile(
    r"^\s*\[?\d{1,3}[\].)]\s+[A-Z][\w'-]+,? [A-Z]{1,3}\b|\bdoi\s*:|https?://|\b(?:19|20)\d\d;\s*\d+(?:\(\d+\))?:\s*\d+|"
    r"^\s*[A-Z][a-z]+ [A-Z]{1,3}(?:, [A-Z][a-z]+ [A-Z]{1,3})+"
)
_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Reading:
    chosen: tuple[Scored, ...]  # the sentences to quote, in the order to quote them
    short: Candidate | None
    short_in: int | None  # index in ``chosen`` of the sentence holding ``short``
    typed: bool  # a phrase of the asked kind was found (always True when none is asked)
    conflict: str | None = None  # "The documents give … for 2023, not … for 2022." when all contradict
    agrees: bool = True  # a quoted sentence states the asked year/quarter (True when none is asked)


def unquotable(text: str, repeated: bool = False) -> bool:
    """A question, heading, navigation line, reference entry or repeated caption."""
    t = text.strip().strip("\"'“”‘’ ")
    if t.endswith("?") or repeated:
        return True
    words = _WORD.findall(t)
    if len(words) < 4 and not t.endswith((".", "!")):
        return True
    return bool(_REFERENCE.search(t))


def _adjacent(a: Sentence, b: Sentence) -> bool:
    return a.passage.source == b.passage.source and abs(a.position - b.position) == 1


def _place(c: Scored) -> tuple[str, int]:
    return c.sentence.passage.source, c.sentence.start


def _has_verb(doc) -> bool:
    return any(t.pos_ in ("VERB", "AUX") for t in doc)


def observe(asked: Asked, ex: Extraction, entities_of: EntitiesOf) -> list[tuple[Scored, dict[str, float]]]:
    """The sentences the ranker re-reads (the best :data:`POOL` of ``ex`` that may be
    quoted) with their features (:func:`qa.sentence_features.observe`)."""
    counts: dict[tuple[str, str], int] = {}
    for s in ex.sentences:
        counts[(s.passage.source, s.text)] = counts.get((s.passage.source, s.text), 0) + 1
    pool = [c for c in ex.ranked[:POOL]
            if not unquotable(c.sentence.text, counts.get((c.sentence.passage.source, c.sentence.text), 1) > 1)]
    pool = pool or list(ex.ranked[:1])
    ents = entities_of([c.sentence.text for c in pool])
    return list(zip(pool, sentence_features.observe(asked, ex, pool, ents)))


def read(asked: Asked, ex: Extraction, entities_of: EntitiesOf, parse: Parse,
         choose: Callable[[list[Scored]], list[Scored]],
         covered: Callable[[Asked, object], bool] = lambda asked, passage: True) -> Reading:
    """Re-read ``ex``'s best sentences for ``asked``; ``choose`` picks the quoted ones from
    a ranked list (the extractive answerer's own rule); ``covered(asked, passage)`` says
    whether the passage's document, or the work it is a part of, states one of the asked
    years or quarters anywhere (a year that only its context gives, "the 2015 season" two
    paragraphs up, is no reason to refuse; a document that never names the year is about
    other years)."""
    if not ex.ranked:
        return Reading((), None, None, not asked.labels)
    # the sentence ranker's probability replaces the extractive score from here on
    observed = observe(asked, ex, entities_of)
    # each sentence's year / quarter verdict, as its features observed it
    verdicts = {_place(c): constraints.AGREES if f["agrees"] else constraints.CONTRADICTS
                if f["contradicts"] else constraints.NEUTRAL for c, f in observed}
    rescored = sorted((replace(c, score=sentence_model.probability(f)) for c, f in observed),
                      key=lambda c: -c.score)
    # a fragment without a verb is no answer: parse the leaders until one has a verb
    docs = _Docs(parse)
    verbless = set()
    for c in rescored[:3]:
        if _has_verb(docs.one(c.sentence)):
            break
        verbless.add(_place(c))
    kept = [c for c in rescored if _place(c) not in verbless] or rescored
    chosen = choose(kept)
    best = chosen[0]
    by_pos = {(s.passage.source, s.position): s for s in ex.sentences}
    src, pos = best.sentence.passage.source, best.sentence.position
    before, after = by_pos.get((src, pos - 1)), by_pos.get((src, pos + 1))
    following, announced = _following(asked, best, after, chosen, by_pos, docs)
    if following:
        chosen = [best, *(_alongside(f, best, best.typed) for f in following), *chosen[1:]]
    conflict = None
    agrees = True
    if constraints.asks(asked):
        agrees = any(verdicts.get(_place(c)) == constraints.AGREES for c in chosen)
        if all(verdicts.get(_place(c)) == constraints.CONTRADICTS for c in kept[:3]):
            conflict = _conflict_text(asked, best, docs)
        elif (asked.years or asked.quarters) and not agrees and not _states(asked, best.sentence.passage, ex) \
                and not covered(asked, best.sentence.passage):
            # the answering document never states the asked year: it is about other years
            # (an ordinal is often not written out: "the first chair" is "chaired … from 1988")
            conflict = _conflict_text(asked, best, docs)
    # the phrase: in the chosen sentences, else in the neighbours of the best one
    # only the best sentence's document answers (see below): its phrases compete, no other's
    source = best.sentence.passage.source
    cands = [c for c in _phrases(asked, chosen, docs) if chosen[c[1]].sentence.passage.source == source]
    if announced and asked.kind in _DESCRIBED:
        # "Two vaccinia vectors were developed …" counts what is asked without naming it: no
        # phrase of it answers "what vaccinia vectors …", and the sentences after it name
        # them one by one, which no one phrase is either: the quote is the answer
        cands = []
    short, short_in = _pick([c for c in cands if not c[0].off_kind])
    # a phrase of another kind ("Students" for "who", "the Broncos" labelled PRODUCT) answers
    # when no quoted or neighbouring sentence has one of the asked kind, or when it is much
    # the likelier answer
    other, other_in = _pick([c for c in cands if c[0].off_kind])
    fallback = other if short is None else None
    of_kind = short is not None  # the quotes hold a phrase of the asked kind
    refers_back = before is not None and discourse.refers_back(best.sentence.text, before.text)
    if short is not None and short_in:  # the sentence that answers is quoted first
        if not any(_adjacent(a.sentence, b.sentence) for a, b in zip(chosen, chosen[1:])):
            chosen = [chosen[short_in], *chosen[:short_in], *chosen[short_in + 1:]]
    if (short is None and asked.labels) or refers_back or asked.kind in (PLACE, PERSON, DATE):
        for nb, where in ((before, "before"), (after, "after")):
            if nb is None or any(c.sentence.start == nb.start for c in chosen) or unquotable(nb.text):
                continue
            continues = where == "after" and asked.kind in (PLACE, PERSON, DATE) \
                and discourse.continues(nb.text, best.sentence.text)
            if where == "after" and not (short is None and asked.labels) and not continues:
                continue
            nb_cands = [c for c in _candidates(asked, nb, docs) if not c.off_kind] if asked.kind else []
            if continues and nb_cands and short is not None:
                # "… two facilities in Iraq." + "The U.S. strikes targeted … near Al Anbar": quote it too
                chosen = [*chosen, _alongside(nb, best, True)]
                break
            nb_cands = [c for c in nb_cands if c.score >= NEIGHBOUR_MIN]
            if (nb_cands and short is None) or (where == "before" and refers_back):
                extra = _alongside(nb, best, bool(nb_cands))
                chosen = [extra, *chosen] if where == "before" else [*chosen, extra]
                if short is None and nb_cands:
                    short = nb_cands[0]
                elif nb_cands and refers_back and where == "before" and short is not None \
                        and nb_cands[0].score > short.score + BEST_SENTENCE_BONUS:
                    short = nb_cands[0]
                if where == "after":
                    break
    if short is None:
        short = fallback
    elif other is not None and not asked.unit and other.score > short.score + OFF_KIND_MARGIN:
        short = other
    if short is not None:
        short_in = next((i for i, c in enumerate(chosen)
                         if c.sentence.start <= short.start and short.end <= c.sentence.end
                         and c.sentence.passage.source == best.sentence.passage.source), None)
        if short_in is None:  # only from the best sentence's document, always inside a quote
            short = None
    answering = chosen[short_in] if short is not None else best
    named = [c for c in (best, answering) if verdicts.get(_place(c)) == constraints.CONTRADICTS]
    if asked.ordinals and conflict is None and not agrees and named:
        # "the first Prime Minister": the quoted sentence names another of the series
        conflict = _conflict_text(asked, named[0], docs)
    typed = not asked.labels or of_kind or (short is not None and not short.off_kind)
    return Reading(tuple(chosen), short, short_in, typed, conflict, agrees)


def _following(asked: Asked, best: Scored, after: Sentence | None, chosen: Sequence[Scored], by_pos: dict,
               docs: "_Docs") -> tuple[list[Sentence], bool]:
    """The sentences after ``best`` to quote with it, and whether ``best`` announces them:
    the one that names what ``best`` counts without naming ("a number of advantages",
    :mod:`qa.announcing`), and, when a description answers, each next one that goes on with
    it ("They are also …"), up to :data:`GOES_ON_MAX` in all."""
    src, pos = best.sentence.passage.source, best.sentence.position
    quoted = {c.sentence.start for c in chosen if c.sentence.passage.source == src}
    out: list[Sentence] = []
    announced = after is not None and after.start not in quoted and not unquotable(after.text) \
        and announces(asked, docs.one(best.sentence))
    if announced:
        out.append(after)  # "… have a number of advantages as vaccine vectors." + the one that names them
    if asked.kind not in _DESCRIBED:
        return out, announced
    while len(out) < GOES_ON_MAX:
        nxt = by_pos.get((src, pos + 1 + len(out)))
        if nxt is None or nxt.start in quoted or unquotable(nxt.text) or not discourse.goes_on(nxt.text):
            break
        out.append(nxt)  # "E. coli is a commensal …" + "They are also a much safer option …"
    return out, announced


def _alongside(neighbour: Sentence, best: Scored, typed: bool) -> Scored:
    """A neighbouring sentence quoted with ``best``, scored just below it."""
    return Scored(neighbour, best.score * 0.9, best.dense, best.words, best.context, typed, frozenset(), 1.0)


class _Docs:
    """Parsed sentences of one answer, each parsed once, several in one batch."""

    def __init__(self, parse: Parse):
        self._parse = parse
        self._docs: dict[tuple[str, int], object] = {}

    def many(self, sentences: Sequence[Sentence]) -> list:
        todo = [s for s in dict.fromkeys(sentences) if (s.passage.source, s.start) not in self._docs]
        if todo:
            for s, d in zip(todo, self._parse([s.text for s in todo])):
                self._docs[(s.passage.source, s.start)] = d
        return [self._docs[(s.passage.source, s.start)] for s in sentences]

    def one(self, sentence: Sentence):
        return self.many([sentence])[0]


def _candidates(asked: Asked, sentence: Sentence, docs: _Docs) -> list[Candidate]:
    """The candidate phrases of one sentence; a sentence that gives orders (a prompt
    injection) may be quoted but never answers."""
    if gives_orders(sentence.text):
        return []
    return candidates(asked, docs.one(sentence), sentence.start)


def _phrases(asked: Asked, chosen: Sequence[Scored], docs: _Docs) -> list[tuple[Candidate, int]]:
    docs.many([c.sentence for c in chosen])  # parsed in one batch
    out = []
    for i, c in enumerate(chosen):
        for cand in _candidates(asked, c.sentence, docs):
            bonus = BEST_SENTENCE_BONUS if i == 0 else 0.0
            out.append((replace(cand, score=cand.score + bonus), i))
    return out


def _pick(cands: list[tuple[Candidate, int]]) -> tuple[Candidate | None, int | None]:
    if not cands:
        return None, None
    cand, i = max(cands, key=lambda x: x[0].score)
    return cand, i


def _states(asked: Asked, passage, ex: Extraction) -> bool:
    """A retrieved passage of the same document, or of a part of the same work (same
    title: an article indexed paragraph by paragraph), states an asked year or quarter."""
    seen = set()
    for s in ex.sentences:
        p = s.passage
        if p.chunk_id in seen or not (p.source == passage.source or (p.title and p.title == passage.title)):
            continue
        seen.add(p.chunk_id)
        if constraints.agreement(asked, p.title + "\n" + p.text) == constraints.AGREES:
            return True
    return False


def _conflict_text(asked: Asked, best: Scored, docs: _Docs) -> str:
    """What the documents give instead, from the closest contradicting sentence."""
    other = constraints.stated(asked, best.sentence.text)
    doc = docs.one(best.sentence)
    unyeared = replace(asked, years=frozenset(), quarters=frozenset(), ordinals=frozenset())
    cands = [c for c in candidates(unyeared, doc, best.sentence.start)
             if not constraints.years_in(c.text) and c.label != "DATE" and not c.off_kind]
    wanted = constraints.asked_for(asked)
    if cands and other and asked.labels:
        text = cands[0].shown(best.sentence.text, best.sentence.start)
        what = "a figure for " if asked.kind == NUMBER else ""  # "not a figure for 2022", "not the first minister"
        return f"The documents give {text} for {other} ({best.sentence.passage.source}), not {what}{wanted}."
    if other:
        return f"The closest passages are about {other}, not {wanted}."
    return f"The closest passages don't say anything for {wanted}."
