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
        if "-" in w or "'" in w or "’" in w or "." in w:
            out.append(w.replace("’", "'"))
            out.extend(p for p in _JOINER.split(w) if p)
        else:
            out.append(w)
    return out


_STEMS: dict[str, str] = {}  # word → stem: answering stems the same words again and again
_STEMS_MAX = 500_000


def terms(text: str) -> list[str]:
    """Stemmed content terms of ``text`` (stop words dropped) — what BM25 matches on."""
    sw = stopwords()
    kept = [w for w in words(text) if w not in sw and (len(w) > 1 or w.isdigit())]
    out = [_STEMS.get(w) for w in kept]
    if None in out:
        missing = [w for w, t in zip(kept, out) if t is None]
        with _lock:
            if len(_STEMS) > _STEMS_MAX:
                _STEMS.clear()
            fresh = dict(zip(missing, _stemmer().stemWords(missing)))
            _STEMS.update(fresh)
        out = [t if t is not None else fresh[w] for w, t in zip(kept, out)]
    return out
