"""The dependency parse of every sentence, stored with each generation of the index.

The answerer reads its evidence with spaCy: the tag, part of speech, lemma, dependency label
and head of every word of the sentences it may quote. The build parses every sentence once
(:func:`index.nlp.analyse`, the same pass that finds the entities kept by
:mod:`index.sentence_entities`) and keeps the tokens here, so a question costs the parse of
the question only: a stored sentence's ``Doc`` is rebuilt from its tokens in a fraction of
a millisecond (:func:`index.nlp.parse_sentences`), against ~4 ms to parse it again.

Three files per generation, beside the entity file: ``<physical>-g<generation>.parses.npy``,
a structured array memory-mapped by readers (one row per token, sorted by the sentence's
text key, then chunk, then position); ``….parses.index.npy``, three contiguous rows (each
sentence's key, sorted, and its first and past-last token row), so a lookup is a binary
search that touches a few pages even at 100k chunks (a search over the token file's key
column would copy the whole column on every call); and ``….parses.json``, the strings its
rows point into (tags, parts of speech, dependency labels, the lemmas that are neither the
word nor its lower case). Strings are only ever
appended, so a rebuild keeps the previous file's rows as they are. Like the entity file,
rows name their chunk (its ``embed_hash``) and a sentence in two chunks is stored for each;
the files are an accelerator, never the truth: a reader without them parses what it needs.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from .nlp import Token
from .sentence_vectors import chunk_key, first_per_chunk, save, text_key

DTYPE = np.dtype([("key", "<u8"), ("chunk", "<u8"), ("start", "<i4"), ("end", "<i4"), ("space", "u1"),
                  ("tag", "<u4"), ("pos", "<u4"), ("dep", "<u4"), ("head", "<i4"), ("lemma", "<i4")])
SAME, LOWER = -1, -2  # a lemma that is the word itself, or its lower case


def paths(entity_path: Path) -> tuple[Path, Path, Path]:
    """The token file, its sentence index and its strings, beside a generation's entity file."""
    stem = Path(entity_path).with_suffix("")
    return tuple(stem.with_name(stem.name + suffix) for suffix in (".parses.npy", ".parses.index.npy", ".parses.json"))


class Strings:
    """The strings the rows point into; new ones are appended."""

    def __init__(self, values: Sequence[str] = ()):
        self.values = list(values)
        self._code = {v: i for i, v in enumerate(self.values)}

    def code(self, value: str) -> int:
        i = self._code.get(value)
        if i is None:
            i = self._code[value] = len(self.values)
            self.values.append(value)
        return i


def rows_for(embed_hash: str, sentences: Sequence[str], found: Mapping[int, tuple[Token, ...]],
             strings: Strings) -> np.ndarray:
    """The rows of one chunk whose sentences are ``sentences``; ``found`` holds the tokens of
    each sentence by text key (a sentence not in it gets no rows)."""
    ck = chunk_key(embed_hash)
    rows = []
    for key, text in {text_key(t): t for t in sentences}.items():
        tokens = found.get(key)
        if tokens is None:
            continue
        for t in tokens:
            word = text[t.start:t.end]
            lemma = SAME if t.lemma == word else LOWER if t.lemma == word.lower() else strings.code(t.lemma)
            rows.append((key, ck, t.start, t.end, t.space, strings.code(t.tag), strings.code(t.pos),
                         strings.code(t.dep), t.head, lemma))
    return np.array(rows, dtype=DTYPE)


class SentenceParses:
    """Read side: the tokens of sentences by their text."""

    def __init__(self, records: np.ndarray, strings: Sequence[str], index: np.ndarray | None = None):
        self.records = records  # sorted by (key, chunk, start)
        self.strings = list(strings)
        self.index = _index(records) if index is None else index  # (3, sentences): key, first row, end

    def __len__(self) -> int:
        return len(self.records)

    def lookup(self, texts: Sequence[str]) -> list[tuple[Token, ...] | None]:
        """The tokens of each text that is a stored sentence, else None."""
        keys = [text_key(t) for t in texts]
        found = self.known(dict(zip(keys, texts)))
        return [found.get(k) for k in keys]

    def known(self, texts: Mapping[int, str]) -> dict[int, tuple[Token, ...]]:
        """The stored tokens of these sentences (text key → text; only those stored)."""
        keys = list(texts)
        if not keys or not len(self.records):
            return {}
        sentence_keys = self.index[0]
        at = np.searchsorted(sentence_keys, np.array(keys, dtype="<u8")).tolist()
        s, out = self.strings, {}
        for key, i in zip(keys, at):
            if i >= len(sentence_keys) or int(sentence_keys[i]) != key:
                continue
            rows = np.asarray(self.records[int(self.index[1][i]):int(self.index[2][i])])
            rows = rows[rows["chunk"] == rows["chunk"][0]]  # a sentence in two chunks: once
            text = texts[key]
            try:
                out[key] = tuple(
                    Token(start, end, bool(space), s[tag], s[pos], s[dep], head,
                          text[start:end] if lemma == SAME else text[start:end].lower() if lemma == LOWER
                          else s[lemma])
                    for _, _, start, end, space, tag, pos, dep, head, lemma in rows.tolist()
                )
            except IndexError:  # rows and strings of different writes: parse it instead
                continue
        return out

    def chunk_keys(self) -> np.ndarray:
        return np.unique(np.asarray(self.records["chunk"]))


def _sorted(records: np.ndarray) -> np.ndarray:
    return records[np.lexsort((records["start"], records["chunk"], records["key"]))]


def _index(records: np.ndarray) -> np.ndarray:
    """Each sentence's key and its rows ``[first, end)`` in ``records`` (sorted by key)."""
    keys = np.asarray(records["key"])
    if not len(keys):
        return np.zeros((3, 0), dtype="<u8")
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return np.ascontiguousarray(np.stack([keys[starts], starts.astype("<u8"), ends.astype("<u8")]))


def write(entity_path: Path, rows: Iterable[np.ndarray], previous: SentenceParses | None,
          keep_chunks: Iterable[str], strings: Strings) -> None:
    """Save this build's ``rows`` (coded with ``strings``, which extend the previous file's)
    and the previous file's rows of the chunks still kept."""
    npy, index_path, strings_path = paths(entity_path)
    parts = [r for r in rows if len(r)]
    parts = [np.concatenate(parts)] if parts else []
    parts += [previous.records] if previous is not None else []
    kept = first_per_chunk(parts, keep_chunks)
    records = _sorted(np.concatenate(kept)) if kept else np.zeros(0, dtype=DTYPE)
    _save_json(strings_path, strings.values)  # first: the rows never point past the strings
    save(index_path, _index(records))
    save(npy, records)


def _save_json(path: Path, values: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.stem}-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(values, f)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(entity_path: Path) -> SentenceParses | None:
    """The saved tokens, memory-mapped; None when missing or unreadable (then callers parse)."""
    npy, index_path, strings_path = paths(entity_path)
    try:
        records = np.load(npy, mmap_mode="r", allow_pickle=False)
        # a file written before the index was: made here, one pass over the keys
        index = np.load(index_path, mmap_mode="r", allow_pickle=False) if index_path.exists() else _index(records)
        strings = json.loads(strings_path.read_text(encoding="utf-8"))
        if records.dtype != DTYPE or not isinstance(strings, list) or index.ndim != 2 or index.shape[0] != 3:
            return None
        if index.shape[1] and int(index[2][-1]) != len(records):
            return None  # the index of another write
        return SentenceParses(records, strings, index)
    except (OSError, ValueError):
        return None
