"""When the retrieved evidence does not answer the question, say so instead of guessing.

No similarity threshold alone separates answerable from unanswerable questions: a
question about something the documents name ("When did the attack on al-Udeid happen?"
beside an article about al-Asad) retrieves passages as close as a real one does. So the
decision combines signals of the chosen sentence and its passages:

* key terms — a name, number or quoted phrase of the question that no retrieved passage
  contains means the documents are about something else (a name misspelt by one letter,
  or written without its dots, still counts as contained);
* focus — what the question asks about ("how many *civilians*", "the *commander* of")
  missing from the chosen sentences, more so when no document uses the word at all;
* coverage — how much of the question (IDF-weighted terms) the chosen sentence and its
  neighbours hold, and how close it is in meaning (MiniLM cosine);
* answer type — a "how many" question whose chosen sentences hold no number, a "when"
  question without a date, a "who" question without a name;
* unknown words — two or more of the question's content words that no indexed document
  contains at all ("How did Iran's *foreign ministry* respond?").

Each weakness lowers the support; below :data:`THRESHOLD` the answer is a refusal.

This module decides every refusal, for both answerers, and words it: one sentence,
:data:`NOT_FOUND` (the LLM is told to reply with exactly it; :func:`is_refusal` reads a
draft that says so in other words), followed by what the documents do give when that is
known. :func:`refused` builds the refused :class:`~qa.types.Answer`; its reasons are
:func:`empty_index`, :func:`conflict`, :func:`unsupported` (a :class:`Verdict`) and
:func:`unverified`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from index import text as tokenizer

from .asking import DIMENSIONS
from .extractive import Extraction
from .matching import term_matches
from .types import Answer
from .units import names_unit, unit_forms

NOT_FOUND = "I couldn't find that in the documents."

# Chosen by a grid over the recorded signals of the xquad-en and covid-qa dev questions and
# the seed questions (tests/seed_questions.jsonl), with every seed unanswerable refused: 5% /
# 3% of answerable dev questions are refused (docs/evaluation.md, "Refusal").
THRESHOLD = 0.35
W_DENSE, W_WORDS, W_CONTEXT = 0.5, 0.35, 0.15
P_MISSING_KEY = 0.15  # per name/number of the question that no passage contains
P_FOCUS = 0.20  # "how many *civilians*": the counted thing is not in the answer ...
P_FOCUS_KNOWN = 0.15  # ... though the documents use the word elsewhere
P_UNTYPED = 0.12  # no number for "how many", no date for "when", ...
P_UNKNOWN = 0.20  # two or more of the question's content words occur nowhere in the documents
UNKNOWN_MIN = 2  # one alone is too often a typo or a paraphrase ("surrender" for "gave up")


@dataclass(frozen=True)
class Verdict:
    refused: bool
    support: float
    reason: str = ""  # what was missing, for the user ("none of the passages mention …")
    missing: tuple[str, ...] = ()  # key words of the question found nowhere in the evidence


def _evidence_terms(ex: Extraction) -> set[str]:
    out: set[str] = set()
    seen = set()
    for s in ex.ranked:
        p = s.sentence.passage
        if p.chunk_id not in seen:
            seen.add(p.chunk_id)
            out.update(tokenizer.terms(p.title))
            out.update(tokenizer.terms(p.text))
    return out


_LINKS = r"(?:\W+(?:of|the|and|for|on|de|du|des|la|le))*\W+"  # "United States *of* America"


def _spelled_out(written: str, ex: Extraction) -> bool:
    """``written`` is an acronym ("AAA", "U.S.", "UMC") and a passage spells it out, each
    letter opening a capitalised word ("American Automobile Association")."""
    letters = written.replace(".", "")
    if not (2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()):
        return False
    pattern = re.compile(r"\b" + _LINKS.join(f"{c}[a-z]+" for c in letters) + r"\b")
    texts = {s.sentence.passage.chunk_id: s.sentence.passage.text for s in ex.ranked}
    return any(pattern.search(t) for t in texts.values())


_NAME = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w'’.-]*)+")  # "Graham Twigg", "Mask of Anarchy"


def _partly_named(term: str, question: str, found: dict) -> bool:
    """``term`` is one word of a name of several that the passages hold another word of:
    "Graham Twigg" where they say "Twigg", "The Mark of Anarchy" (sic) where they say
    "The Mask of Anarchy"."""
    for m in _NAME.finditer(question):
        terms = tokenizer.terms(m.group(0))
        if term in terms and any(found.get(t) for t in terms if t != term):
            return True
    return False


def _focus_missing(q, chosen_text: str) -> bool:
    """The chosen sentences don't name what the question asks about ("how many *civilians*").

    An agent noun is compared as written: the stemmer makes "commander" and "Command"
    one term, but a sentence about U.S. Central Command names no commander. A unit is
    named by its symbol too ("how many *pounds*": "4 kg (8.8 lb)"). A compound is named
    whole: "the speed limit" is not "the city limits"; "tuberculosis cases" may be "TB
    cases"."""
    if not q.focus:
        return False
    word = q.focus_word or ""
    unit = next((u for u in (q.focus, word.removesuffix("s")) if unit_forms(u)), None)
    if unit and names_unit(unit, chosen_text):
        return False
    if re.search(r"(?:er|or)s?$", word):
        singular = word[:-1] if word.endswith("s") else word
        return not ({singular, singular + "s"} & set(tokenizer.words(chosen_text)))
    terms = set(tokenizer.terms(chosen_text))
    if not term_matches([q.focus], terms)[q.focus]:
        return True
    acronyms = set(re.findall(r"\b[A-Z]{2,5}\b", chosen_text))
    return not all(_named(w, terms, acronyms) for w in q.focus_compounds)


def _named(word: str, terms: set[str], acronyms: set[str]) -> bool:
    """``word`` is among the ``terms`` of a text, or one of its ``acronyms`` abbreviates it."""
    return all(term_matches(tokenizer.terms(word), terms).values()) or any(_abbreviates(a, word) for a in acronyms)


def _abbreviates(short: str, word: str) -> bool:
    """``short`` ("TB") can abbreviate ``word`` ("tuberculosis"): the same first letter,
    and its other letters in order in the word (as Schwartz and Hearst's rule for
    abbreviations reads them)."""
    short, word = short.lower(), word.lower()
    if short[0] != word[0]:
        return False
    rest = iter(word[1:])
    return all(c in rest for c in short[1:])


def judge(ex: Extraction, key_words: dict[str, str] | None = None, unknown: tuple[str, ...] = ()) -> Verdict:
    """Whether ``ex`` answers its question. ``key_words`` maps key stems to their written
    form; ``unknown`` are the question's content terms that no indexed document contains."""
    if not ex.chosen:
        return Verdict(True, 0.0, "nothing was retrieved")
    q = ex.question
    # a sentence quoted for recall only (a third) does not make the answer supported
    ex = replace(ex, chosen=tuple(c for c in ex.chosen if not c.recall_only) or ex.chosen)
    best = ex.chosen[0]
    evidence = _evidence_terms(ex)
    found = term_matches(sorted(q.key_terms), evidence, typos=True)  # a misspelt name is still the name
    missing = tuple(t for t in _in_question_order(q) if t in found and not found[t]
                    and not _spelled_out((key_words or {}).get(t, ""), ex) and not _partly_named(t, q.text, found))
    typed = any(c.typed for c in ex.chosen)
    # a dimension needs no naming where a number of the asked kind is quoted ("the size of the endowment")
    focus_missing = _focus_missing(q, " ".join(c.sentence.text for c in ex.chosen)) and not (
        typed and q.expects == "number" and (q.focus_word or "").removesuffix("s") in DIMENSIONS)
    unknown = tuple(t for t in unknown if t not in missing)
    # An absent focus noun is absent from the coverage too, even when its stem is there
    # ("commander" and "Command" stem alike): the sentence is about something else.
    drop = _share(ex, q.focus) if focus_missing else 0.0

    def minus_focus(c) -> float:
        return drop if q.focus in c.matched else 0.0

    support = (
        W_DENSE * best.dense
        + W_WORDS * max(c.words - minus_focus(c) for c in ex.chosen)
        + W_CONTEXT * max(c.context - minus_focus(c) for c in ex.chosen)
        - P_MISSING_KEY * len(missing)
        - ((P_FOCUS if q.focus in unknown else P_FOCUS_KNOWN) if focus_missing else 0.0)
        - (P_UNTYPED if q.expects and not typed else 0.0)
        - (P_UNKNOWN if len(unknown) >= UNKNOWN_MIN else 0.0)
    )
    refused = support < THRESHOLD
    reason = ""
    if refused:
        def quoted(terms) -> str:  # as written, each word once ("interleukin-1Beta" is two terms)
            return ", ".join(f"“{w}”" for w in dict.fromkeys((key_words or {}).get(t, t) for t in terms))

        if missing:
            reason = "none of the passages I found mention " + quoted(missing)
        elif len(unknown) >= UNKNOWN_MIN:
            reason = "the documents never mention " + quoted(unknown)
        elif focus_missing:
            named = " ".join((*q.focus_compounds, q.focus_word or (key_words or {}).get(q.focus, q.focus)))
            reason = f"the closest passages don't mention “{named}”"
        elif q.expects and not typed:
            reason = f"the closest passages don't give {_WHAT[q.expects]}"
        else:
            reason = "the closest passages don't answer it"
    return Verdict(refused, round(support, 4), reason, missing)


def _share(ex: Extraction, term: str | None) -> float:
    """``term``'s part of the question's (IDF-weighted) terms, as the extractive scores count it."""
    total = sum(ex.idf.values())
    return ex.idf.get(term, 0.0) / total if term and total else 0.0


def _in_question_order(q) -> list[str]:
    order = {t: i for i, t in enumerate(q.terms)}
    return sorted(q.key_terms, key=lambda t: (order.get(t, len(order)), t))


_WHAT = {
    "number": "a number for it",
    "date": "a date or time for it",
    "person": "a name for it",
    "place": "a place for it",
    "reason": "a reason for it",
}


# --------------------------------------------------------------------------- wording

_DRAFT_REFUSAL = re.compile(
    r"^(?:sorry,?\s*)?(?:i\s+(?:can't|cannot|can\s+not|couldn't|could\s+not|was\s+unable\s+to|am\s+unable\s+to)"
    r"\s+find\b|i\s+(?:do\s+not|don't)\s+know\b|(?:the\s+)?(?:provided\s+|given\s+)?"
    r"(?:documents?|passages?|context|sources?)\s+(?:do|does)\s+not\s+"
    r"(?:contain|mention|say|answer|provide|include)\b|there\s+is\s+no\s+information\b)"
)


def is_refusal(text: str) -> bool:
    """Whether ``text`` (one sentence of an LLM draft) says the documents do not hold the answer."""
    norm = " ".join(text.lower().replace("’", "'").split())
    return bool(_DRAFT_REFUSAL.match(norm))


def refused(base: dict, detail: str = "", flags: tuple[str, ...] = ()) -> Answer:
    """The refused answer: :data:`NOT_FOUND`, then ``detail`` (what the documents do give,
    or what to do); ``base`` holds the answer's other fields (question, passages …). A
    question restricted to some documents (``base["sources"]``) says which were searched."""
    text = " ".join(part for part in (NOT_FOUND, detail, searched(base.get("sources") or ())) if part)
    return Answer(text=text, citations=(), refused=True, flags=tuple(flags), **base)


def searched(sources) -> str:
    """``I searched only report.pdf and notes.md.`` (nothing for a question over all documents)."""
    from .sources import listed

    return f"I searched only {listed(sources)}." if sources else ""


def empty_index(source_dir) -> str:
    return (f"The index has no documents yet: add some to {source_dir} and run "
            "`python -m index build`.")


def conflict(statement: str) -> tuple[str, tuple[str, ...]]:
    """A question about a year, quarter or ordinal the documents don't give ("The documents give 14
    minor injuries for 2023, not a figure for 2022.")."""
    return statement, ("refused: the documents state another year, quarter or ordinal",)


def unsupported(verdict: Verdict, ex: Extraction) -> tuple[str, tuple[str, ...]]:
    """The extractive answer's evidence does not answer: why, and the closest passage."""
    parts = []
    if verdict.reason:
        parts.append(verdict.reason[0].upper() + verdict.reason[1:] + ".")
    if ex.chosen:
        parts.append(f"The closest passage is in {ex.chosen[0].sentence.passage.source}.")
    return " ".join(parts), (f"refused: {verdict.reason} (support {verdict.support:.2f})",)


def unverified() -> tuple[str, tuple[str, ...]]:
    """No quote survived verification (the index changed under the answer): never answer unchecked."""
    return "", ("refused: no citation could be verified",)
