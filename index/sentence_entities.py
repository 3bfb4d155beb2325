"""Named entities of every sentence, stored with each generation of the index (and, through
:mod:`index.sentence_parses`, their parse: one spaCy pass writes both).

The answerer checks a sentence's numbers, dates, names and places against the question.
Running spaCy over the evidence at question time would cost tens of milliseconds per
passage, so the build analyses every sentence once (:func:`index.nlp.entities`) and keeps
the result here, beside the sentence vectors (:mod:`index.sentence_vectors`).

One file per generation, ``<QA_CHROMA_PATH>/entities/<physical>-g<generation>.npy``: a
structured array written atomically and memory-mapped by readers, one row per entity,
sorted by the sentence's text key (:func:`index.sentence_vectors.text_key`) so a lookup
is a binary search. A sentence that was analysed and holds no entity has one row labelled
``NONE``: "no entities" is a fact, "no rows" means "not analysed" (the caller runs spaCy).
Rows also name the chunk they came from (its ``embed_hash``), as the sentence vectors do,
so a rebuild keeps the rows of the chunks it keeps without splitting them into sentences
again; a sentence in two chunks (they overlap) is analysed once and stored for each.
The file is an accelerator, never the truth: a reader without it analyses what it needs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from . import nlp
from . import sentence_parses as sp
from .nlp import LABELS, Entity
from .sentence_vectors import chunk_key, first_per_chunk, path_for, save, text_key  # noqa: F401  (path_for: same layout)
from .sentences import sentence_spans

NONE = ""  # the label of the row that says "analysed, no entities"
CODES = (NONE,) + LABELS  # a row's ``label`` indexes this tuple; append only, never reorder
_CODE = {label: i for i, label in enumerate(CODES)}
DTYPE = np.dtype([("key", "<u8"), ("chunk", "<u8"), ("start", "<i4"), ("end", "<i4"), ("label", "u1")])


def root(chroma_path: Path) -> Path:
    """Where each generation's entity file is kept."""
    return Path(chroma_path) / "entities"


def rows_for(embed_hash: str, sentences: Sequence[str], found: Mapping[int, tuple[Entity, ...]]) -> np.ndarray:
    """The rows of one chunk whose sentences are ``sentences``; ``found`` holds the entities
    of each sentence by text key (a sentence not in it gets no rows)."""
    ck = chunk_key(embed_hash)
    rows = []
    for key in dict.fromkeys(text_key(t) for t in sentences):
        ents = found.get(key)
        if ents is None:
            continue
        known = [e for e in ents if e.label in _CODE]
        if not known:
            rows.append((key, ck, 0, 0, 0))
        rows.extend((key, ck, e.start, e.end, _CODE[e.label]) for e in known)
    return np.array(rows, dtype=DTYPE)


def _sorted(records: np.ndarray) -> np.ndarray:
    return records[np.lexsort((records["start"], records["chunk"], records["key"]))]


class SentenceEntities:
    """Read side: the entities of sentences by their text."""

    def __init__(self, records: np.ndarray):
        self.records = records  # sorted by (key, chunk, start)
        self._keys = np.ascontiguousarray(records["key"])  # searched per question: not a strided view

    def __len__(self) -> int:
        return len(self.records)

    def lookup(self, texts: Sequence[str]) -> list[tuple[Entity, ...] | None]:
        """The entities of each text that is a stored sentence (``()`` when it has none),
        else None."""
        keys = [text_key(t) for t in texts]
        found = self.known(keys)
        return [found.get(k) for k in keys]

    def known(self, keys: Iterable[int]) -> dict[int, tuple[Entity, ...]]:
        """The stored entities of the sentences with these text keys (only those stored)."""
        keys = list(dict.fromkeys(keys))
        if not keys or not len(self.records):
            return {}
        wanted = np.array(keys, dtype="<u8")
        lo = np.searchsorted(self._keys, wanted, side="left").tolist()
        hi = np.searchsorted(self._keys, wanted, side="right").tolist()
        out = {}
        for key, a, b in zip(keys, lo, hi):
            if a < b:
                rows = np.asarray(self.records[a:b])
                rows = rows[rows["chunk"] == rows["chunk"][0]]  # a sentence in two chunks: once
                out[key] = tuple(Entity(CODES[label], start, end)
                                 for _, _, start, end, label in rows.tolist() if label)
        return out

    def chunk_keys(self) -> np.ndarray:
        return np.unique(np.asarray(self.records["chunk"]))


def merge(parts: Iterable[np.ndarray], keep_chunks: Iterable[str] | None = None) -> np.ndarray:
    """One record array sorted by sentence from ``parts``: each chunk's rows from the first
    part that has it, and only chunks in ``keep_chunks`` (embed hashes) when given."""
    out = first_per_chunk(parts, keep_chunks)
    return _sorted(np.concatenate(out)) if out else np.zeros(0, dtype=DTYPE)


def write(path: Path, chunks: Mapping[str, str], previous: SentenceEntities | None = None, *,
          previous_parses: sp.SentenceParses | None = None,
          spans: Mapping[str, Sequence[tuple[int, int]]] | None = None,
          progress: Callable[[int, int], None] | None = None) -> int:
    """Save the entities and the parse of every sentence of ``chunks`` (embed hash → text)
    at ``path`` and beside it (:mod:`index.sentence_parses`); return how many sentences went
    through spaCy.

    A chunk both previous files hold keeps its rows; the others are split into sentences (or
    their ``spans`` are used, when the embedding pass split them already) and each distinct
    sentence that the previous files do not know is analysed once, chunks overlap.
    ``progress`` receives ``(done, total)`` sentences.
    """
    spans = spans or {}
    have = set(previous.chunk_keys().tolist()) if previous is not None else set()
    have &= set(previous_parses.chunk_keys().tolist()) if previous_parses is not None else set()
    todo: dict[str, list[str]] = {}  # embed hash → the chunk's sentences
    for h, text in chunks.items():
        if chunk_key(h) not in have:
            own = spans.get(h)
            todo[h] = [text[a:b] for a, b in (sentence_spans(text) if own is None else own)]
    distinct = {text_key(t): t for sentences in todo.values() for t in sentences}
    found = previous.known(distinct) if previous is not None else {}
    parsed = previous_parses.known(distinct) if previous_parses is not None else {}
    ask = {k: t for k, t in distinct.items() if k not in found or k not in parsed}
    if ask:
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, len(ask))

        tick(0)
        for key, (ents, tokens) in zip(ask, nlp.analyse(list(ask.values()), progress=tick)):
            found[key], parsed[key] = ents, tokens
    rows = [rows_for(h, sentences, found) for h, sentences in todo.items()]
    parts = [np.concatenate(rows)] if rows else []
    parts += [previous.records] if previous is not None else []
    strings = sp.Strings(previous_parses.strings if previous_parses is not None else ())
    sp.write(path, [sp.rows_for(h, sentences, parsed, strings) for h, sentences in todo.items()],
             previous_parses, chunks, strings)
    save(path, merge(parts, keep_chunks=chunks))
    return len(ask)


def load(path: Path) -> SentenceEntities | None:
    """The saved entities, memory-mapped; None when missing or unreadable (then callers analyse)."""
    try:
        records = np.load(path, mmap_mode="r", allow_pickle=False)
        if records.dtype != DTYPE:
            return None
        return SentenceEntities(records)
    except (OSError, ValueError):
        return None
