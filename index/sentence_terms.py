"""The stemmed terms of each chunk's sentences, stored with the keyword index.

The re-rank (:mod:`qa.retrieval`) scores a chunk by its best sentence: the question's
terms it holds and how near each other. Tokenizing the ~60 chunks it re-ranks cost
~10 ms a question on a large index (few of them met before), so the build keeps every
chunk's sentences (their spans) and terms, and the keyword index (:mod:`index.bm25`),
which is made of the same terms, is built from them: the text is tokenized once.

The terms are :func:`index.text.terms` of each of :func:`sentence_units`' pieces. The
pieces are cut at whitespace only, so their terms, one after another, are the chunk's.
The file is an accelerator, never the truth: an index without it (written before it
was, or damaged) is re-ranked by tokenizing, as before, with the same result.
"""
from __future__ import annotations

import re
from array import array
from typing import Sequence

import numpy as np

from .text import terms

Sentences = tuple[tuple[tuple[int, int], list[str]], ...]  # ((start, end), terms) per sentence

# A cheap sentence split (Punkt costs ~10x more per chunk): the units only group terms.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(\s+)(?=[\"'“‘(\[]?[A-Z0-9])|\n\s*")


def sentence_units(text: str) -> list[tuple[int, int]]:
    """Rough sentence spans of ``text``: split after . ! ? before a capital or digit, and at line breaks."""
    spans, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        end = m.start(1) if m.group(1) is not None else m.start()
        if end > pos:
            spans.append((pos, end))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def tokenized(text: str) -> Sentences:
    """Each sentence unit of ``text`` with its terms (what the file stores)."""
    return tuple((span, terms(text[span[0] : span[1]])) for span in sentence_units(text))


class SentenceTerms:
    """Per chunk, by its position in the keyword index: its sentences and their terms.
    Chunks with the same text share one entry (``entries``: position → entry; an entry's
    sentences are rows ``firsts[e]:firsts[e + 1]`` of ``rows``: start, end and the slice
    of ``term_ids``, ids into ``vocab``)."""

    def __init__(self, vocab: list[str], term_ids: np.ndarray, rows: np.ndarray, firsts: np.ndarray,
                 entries: np.ndarray):
        self.vocab, self.term_ids, self.rows, self.firsts, self.entries = vocab, term_ids, rows, firsts, entries
        self._names = np.empty(len(vocab), dtype=object)  # term id → term, gathered in one call
        self._names[:] = vocab

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def build(cls, texts: Sequence[str]) -> "SentenceTerms":
        vocab: dict[str, int] = {}
        entry_of: dict[str, int] = {}
        term_ids, rows, firsts, entries = array("i"), array("i"), [0], array("i")
        for text in texts:
            e = entry_of.get(text)
            if e is None:
                e = entry_of[text] = len(firsts) - 1
                for (start, end), ts in tokenized(text):
                    rows.extend((start, end, len(term_ids), len(term_ids) + len(ts)))
                    term_ids.extend(vocab.setdefault(t, len(vocab)) for t in ts)
                firsts.append(len(rows) // 4)
            entries.append(e)
        return cls(list(vocab), np.asarray(term_ids, dtype=np.int32), np.asarray(rows, dtype=np.int32).reshape(-1, 4),
                   np.asarray(firsts, dtype=np.int64), np.asarray(entries, dtype=np.int32))

    def of(self, position: int) -> Sentences:
        """The sentences of the chunk at ``position``, as :func:`tokenized` gives them."""
        e = int(self.entries[position])
        rows = self.rows[self.firsts[e] : self.firsts[e + 1]].tolist()
        if not rows:
            return ()
        base = rows[0][2]
        names = self._names[self.term_ids[base : rows[-1][3]]].tolist()
        return tuple(((s, t), names[a - base : b - base]) for s, t, a, b in rows)

    def terms_of(self, position: int) -> list[str]:
        """All the terms of the chunk at ``position``, in order (its text's :func:`terms`)."""
        e = int(self.entries[position])
        rows = self.rows[self.firsts[e] : self.firsts[e + 1]]
        if not len(rows):
            return []
        return self._names[self.term_ids[rows[0, 2] : rows[-1, 3]]].tolist()

    def save(self, path) -> None:
        # terms hold no whitespace: the vocabulary is one string, a term a line
        vocab = np.frombuffer("\n".join(self.vocab).encode("utf-8", "surrogatepass"), dtype=np.uint8)
        with open(path, "wb") as f:
            np.savez(f, vocab=vocab, term_ids=self.term_ids, rows=self.rows, firsts=self.firsts, entries=self.entries)

    @classmethod
    def load(cls, path, chunks: int) -> "SentenceTerms | None":
        """The stored terms of a keyword index of ``chunks`` chunks; None when there is no
        file or it does not fit (damaged, another index's): the re-rank then tokenizes."""
        try:
            with np.load(path, allow_pickle=False) as f:
                vocab_bytes, term_ids, rows, firsts, entries = (
                    f["vocab"], f["term_ids"], f["rows"], f["firsts"], f["entries"])
            text = vocab_bytes.tobytes().decode("utf-8", "surrogatepass")
            vocab = text.split("\n") if text else []
            ok = (len(entries) == chunks and rows.ndim == 2 and rows.shape[1] == 4 and len(firsts) >= 1
                  and firsts[0] == 0 and firsts[-1] == len(rows) and bool(np.all(np.diff(firsts) >= 0))
                  and (not len(entries) or 0 <= entries.min() and entries.max() < len(firsts) - 1)
                  and (not len(rows) or 0 <= rows[:, 2].min() and rows[:, 3].max() <= len(term_ids))
                  and (not len(term_ids) or 0 <= term_ids.min() and term_ids.max() < len(vocab)))
        except Exception:  # numpy/zipfile raise many kinds of error on a damaged file
            return None
        return cls(vocab, term_ids, rows, firsts, entries) if ok else None
