"""Whether the evidence holds a question's words: stems, their other forms, typos.

The stemmer leaves some forms apart and irregular verbs far apart; :func:`term_matches`
joins them (irregular forms from spaCy's lemmatizer table, :func:`index.nlp.verb_forms`),
and :func:`unknown_terms` names the words that no indexed document holds in any form.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from functools import lru_cache

from index import text as tokenizer

from .units import unit_terms

__all__ = ["term_matches", "unknown_terms"]

@lru_cache(maxsize=1)
def _irregular_stems() -> dict[str, frozenset[str]]:
    """Stem of a form → stems of the words it should also match (its base and other forms):
    the irregular verbs the stemmer cannot join ("struck" / "strike"), from spaCy's
    lemmatizer (:func:`index.nlp.verb_forms`), not a hand-written list."""
    from index import nlp

    groups: dict[str, set[str]] = {}
    for form, base in nlp.verb_forms().items():
        groups.setdefault(base, {base}).add(form)
    out: dict[str, set[str]] = {}
    for words in groups.values():
        stems = {t for w in words for t in tokenizer.terms(w)}
        for t in stems:
            out.setdefault(t, set()).update(stems)
    return {k: frozenset(v) for k, v in out.items()}


def term_matches(terms, vocabulary, *, typos: bool = False) -> dict[str, frozenset[str]]:
    """For each question term, the vocabulary terms that count as it.

    The stemmer leaves some forms apart ("injured" → injur, "injuries" → injuri), so a
    term also matches one it is a prefix of (or that is a prefix of it) when both are at
    least 5 letters long and differ by at most 2; irregular verbs match their other
    forms ("struck" → strike); a small number matches its word ("2" → two) and a decade
    its years ("1980s" → 1984). With ``typos``, a term that matches nothing this way
    also matches a spelling one edit away ("Zeria" → zeira, "Geegen" → gegeen; terms of
    5+ letters) or the same letters without dots ("US" → u.s).
    """
    vocab = set(vocabulary)
    out = {}
    alphabet = None  # the vocabulary's characters: an edit may put in any of them
    for t in terms:
        found = {t} if t in vocab else set()
        found |= _other_forms(t) & vocab
        if len(t) >= 5:
            for v in vocab:
                if len(v) >= 5 and abs(len(v) - len(t)) <= 2 and (v.startswith(t) or t.startswith(v)):
                    found.add(v)
        if typos and not found:
            bare = t.replace(".", "")
            found = {v for v in vocab if "." in v and v.replace(".", "") == bare}
            if len(t) >= 5:
                alphabet = alphabet or "".join(set().union(*vocab))
                found |= _edits(t, alphabet) & vocab
        out[t] = frozenset(found)
    return out


def unknown_terms(terms, vocabulary: frozenset[str], ordered: Sequence[str]) -> tuple[str, ...]:
    """The ``terms`` that no form of occurs in ``vocabulary`` (matched as
    :func:`term_matches` does with ``typos``: "ctenphores" is ctenophores; ``ordered`` is the
    vocabulary sorted, for prefix search). A unit's symbol is a form of it here, but not in
    :func:`term_matches`: a sentence that gives some distance in km is not about the asked
    river for it."""
    out = []
    for t in terms:
        if t in vocabulary or (_other_forms(t) | unit_terms().get(t, frozenset())) & vocabulary:
            continue  # a unit the documents write as its symbol is known ("pounds": lb)
        if len(t) >= 5:
            if any(len(t) - k >= 5 and t[: len(t) - k] in vocabulary for k in (1, 2)):
                continue
            i = bisect.bisect_left(ordered, t)
            if i < len(ordered) and ordered[i].startswith(t) and len(ordered[i]) - len(t) <= 2:
                continue
            if any(v.startswith(t) and len(v) - len(t) <= 2 for v in ordered[i : i + 50]):
                continue
            if _edits(t) & vocabulary:  # a typo: "carageenan", "Zanamavir"
                continue
        out.append(t)
    return tuple(out)


@lru_cache(maxsize=1)
def _number_words() -> dict[str, str]:
    """"1" → the stem of "one", …, "20" → that of "twenty" (from the answer types' number words)."""
    from .answer_types import NUMBER_WORDS

    return {str(n): tokenizer.terms(w)[0] for n, w in enumerate(NUMBER_WORDS.split("|")[:20], 1)}


def _other_forms(t: str) -> frozenset[str]:
    """The terms that count as ``t`` besides itself: an irregular verb's other forms, a small
    number's word ("2" → two), a decade's years ("1980s" → 1980 … 1989)."""
    if t.isdigit():
        word = _number_words().get(t)
        return frozenset((word,)) if word else frozenset()
    if re.fullmatch(r"\d{3}0s", t):
        return frozenset(t[:3] + str(d) for d in range(10))
    return _irregular_stems().get(t, frozenset())


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _edits(t: str, alphabet: str = _LETTERS) -> set[str]:
    """Every spelling one inserted, deleted, replaced or swapped character away from ``t``
    (inserted and replacing characters from ``alphabet``): generated, so that a typo costs a
    set lookup each, not a pass over the vocabulary."""
    splits = [(t[:i], t[i:]) for i in range(len(t) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in alphabet}
            | {a + c + b for a, b in splits for c in alphabet})
