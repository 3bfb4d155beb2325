"""The keyword side of the index: BM25 (bm25s) over stemmed terms (:func:`index.text.terms`),
saved to disk.

The build writes one BM25 index per generation next to the local Chroma data
(``<QA_CHROMA_PATH>/bm25/<physical>-g<generation>``); a process that finds none for the
live generation (a Chroma server shared by several machines) builds it once from the
stored chunks and saves it. Questions never rebuild it.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from .sentence_terms import Sentences, SentenceTerms
from .text import terms


SENTENCE_TERMS = "sentence_terms.npz"  # beside the model: each chunk's sentence terms


class BM25Index:
    """Chunk ids plus a bm25s model over their texts; ``sources`` (when known) names each
    chunk's document, position for position (saved as ``sources.json`` beside ``ids.json``),
    so a search can be restricted to some documents; ``sentences`` (when kept) are the
    terms of each chunk's sentences (:mod:`index.sentence_terms`, ``sentence_terms.npz``)."""

    def __init__(self, ids: Sequence[str], model, sources: Sequence[str] | None = None,
                 sentences: SentenceTerms | None = None):
        self.ids = list(ids)
        self._model = model
        self._vocab = getattr(model, "vocab_dict", None) or {}
        self.sources = list(sources) if sources is not None and len(sources) == len(self.ids) else None
        self.sentences = sentences if sentences is not None and len(sentences) == len(self.ids) else None

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every term some indexed chunk contains."""
        return frozenset(self._vocab)

    @cached_property
    def positions(self) -> dict[str, int]:
        """Each chunk id's position in ``ids`` (the ids of the generation: all its chunks)."""
        return {chunk_id: i for i, chunk_id in enumerate(self.ids)}

    def sentence_terms(self, ids: Sequence[str]) -> dict[str, Sentences]:
        """Per chunk id: its sentences' spans and terms (absent: not a chunk of this index,
        or an index kept without them)."""
        if self.sentences is None:
            return {}
        positions = self.positions
        return {i: self.sentences.of(positions[i]) for i in ids if i in positions}

    @classmethod
    def build(cls, ids: Sequence[str], titles: Sequence[str], texts: Sequence[str],
              sources: Sequence[str] | None = None) -> "BM25Index":
        """Over each chunk's title and text (:func:`index.chunking.embedding_text`'s terms:
        the title's, then the text's, taken from its sentences' terms)."""
        import bm25s

        sentences = SentenceTerms.build(texts)
        model = bm25s.BM25(k1=1.2, b=0.75)
        # Term ids, not term lists: bm25s given strings keeps every chunk's terms and their
        # ids at once (≈ 0.5 GB more at peak for 100k chunks). The ids share the vocabulary's
        # int objects, so a chunk costs one pointer per term.
        vocab: dict[str, int] = {}
        title_terms: dict[str, list[str]] = {}
        token_ids = []
        for i, title in enumerate(titles):
            ts = title_terms.get(title)
            if ts is None:
                ts = title_terms[title] = terms(title)
            token_ids.append([vocab.setdefault(w, len(vocab)) for w in ts + sentences.terms_of(i) or ["\u2205"]])
        if token_ids:
            model.index((token_ids, vocab), show_progress=False)
        return cls(ids, model, sources, sentences)

    def search(self, query: str, k: int, only: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The top ``k`` (id, score) with a positive score; ``only``: the positions (in
        ``ids``) of the chunks allowed, the others' scores are masked out first."""
        if not self.ids:
            return []
        q = [t for t in terms(query) if t in self._vocab]
        if not q:
            return []
        scores = self._model.get_scores(q)
        if only is None:
            k = min(k, len(self.ids))
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top], kind="stable")]
            return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
        allowed = scores[only]
        k = min(k, len(allowed))
        if k < 1:
            return []
        top = np.argpartition(-allowed, k - 1)[:k]
        top = top[np.argsort(-allowed[top], kind="stable")]
        return [(self.ids[only[i]], float(allowed[i])) for i in top if allowed[i] > 0]

    def save(self, directory: Path) -> None:
        """Write atomically: a reader sees the whole index or none."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{directory.name}-", dir=directory.parent))
        try:
            self._model.save(str(tmp), show_progress=False)
            (tmp / "ids.json").write_text(json.dumps(self.ids))
            if self.sources is not None:
                (tmp / "sources.json").write_text(json.dumps(self.sources))
            if self.sentences is not None:
                self.sentences.save(tmp / SENTENCE_TERMS)
            if directory.exists():
                shutil.rmtree(directory)
            os.replace(tmp, directory)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> "BM25Index | None":
        """The saved index, or None when there is none or it is damaged (truncated,
        overwritten, from another version): the caller then rebuilds it from Chroma,
        which holds the same texts, so a damaged file never costs more than a rebuild."""
        import bm25s

        directory = Path(directory)
        ids_file = directory / "ids.json"
        if not ids_file.exists():
            return None
        try:
            ids = json.loads(ids_file.read_text(encoding="utf-8"))
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                return None
            if not ids:
                return cls([], None, [])
            model = bm25s.BM25.load(str(directory), show_progress=False, mmap=False)
            scores = model.scores
            consistent = (
                int(scores["num_docs"]) == len(ids)
                and len(scores["data"]) == len(scores["indices"]) == int(scores["indptr"][-1])
                and (len(scores["indices"]) == 0 or 0 <= int(scores["indices"].min())
                     and int(scores["indices"].max()) < len(ids))
            )
        except Exception:  # bm25s/numpy/json raise many kinds of error on a damaged file
            return None
        if not consistent:
            return None
        sentences = SentenceTerms.load(directory / SENTENCE_TERMS, len(ids))
        return cls(ids, model, _sources(directory / "sources.json", len(ids)), sentences)


def _sources(path: Path, n: int) -> list[str] | None:
    """The saved chunk sources, or None (an index saved before they were, or a damaged file:
    the reader then reads them from the store)."""
    try:
        sources = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(sources, list) and len(sources) == n and all(isinstance(s, str) for s in sources)
    return sources if ok else None


def bm25_dir(root: Path, physical: str, generation: int) -> Path:
    return Path(root) / f"{physical}-g{generation}"
