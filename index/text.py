"""The app's tokenizer: words, stemmed content terms, the stemmer.

The index's BM25 matches on :func:`terms`; answering (question analysis, sentence
scoring, grounding, refusal) tokenizes with the same functions so a question's terms and
the index's terms always agree.
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Sequence

_WORD = re.compile(r"[^\W_]+(?:[-'’.][^\W_]+)*", re.UNICODE)
_JOINER = re.compile(r"[-'’.]")
_DECADE = re.compile(r"\d{3}0['’]s")  # "1980's" is the decade, not a possessive: the term is 1980s
_lock = threading.Lock()  # PyStemmer objects are not thread-safe


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stem_words(words: Sequence[str]) -> list[str]:
    """The English (Snowball) stem of each word, in order; safe from any thread."""
    with _lock:
        return _stemmer().stemWords(list(words))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def words(text: str) -> list[str]:
    """Lower-cased words; hyphenated and dotted forms are split into their parts too."""
    out: list[str] = []
    for w in _WORD.findall(text.lower()):
        if w.isalnum():  # no joiner: the common case, one C call
            out.append(w)
        elif _DECADE.fullmatch(w):
            out.append(w[:4] + "s")
        else:
            out.append(w.replace("’", "'"))
            out.extend(p for p in _JOINER.split(w) if p)
    return out


# word → its stem, or "" for a stop word: answering tokenizes the same words again and again
_TERMS: dict[str, str] = {}
_TERMS_MAX = 500_000


def terms(text: str) -> list[str]:
    """Stemmed content terms of ``text`` (stop words dropped) — what BM25 matches on."""
    ws = words(text)
    got = [_TERMS.get(w) for w in ws]
    if None in got:
        sw = stopwords()
        missing = list({w for w, t in zip(ws, got) if t is None})
        kept = [w for w in missing if w not in sw and (len(w) > 1 or w.isdigit())]
        with _lock:
            stems = dict(zip(kept, _stemmer().stemWords(kept)))
            if len(_TERMS) > _TERMS_MAX:
                _TERMS.clear()
            for w in missing:
                _TERMS[w] = stems.get(w, "")
        got = [stems.get(w, "") if t is None else t for w, t in zip(ws, got)]
    return [t for t in got if t]
