"""The files each generation of the index has beside Chroma — its BM25 index, sentence
vectors and sentence entities: written by the build for the generation it publishes
(carried over from the previous generation for chunks it kept), written for the live one
when missing, and pruned when no generation needs them (:mod:`index.sidecars`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from . import bm25, sidecars
from . import sentence_entities as se
from . import sentence_parses as sp
from . import sentence_vectors as sv
from .chunking import embedding_text
from .embedder import Embedder
from .models import reading_order
from .records import ChunkRecord, IndexState
from .settings import Settings
from .store import ChromaStore

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class GenerationFiles:
    """One build's writer of the files beside Chroma. With an embedder that pools spans,
    the sentence vectors of the chunks it embeds are kept from the same pass."""

    def __init__(self, settings: Settings, embedder: Embedder, store: ChromaStore, progress: Progress | None):
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.progress = progress
        self.sentence_rows: list[np.ndarray] = []
        self.chunk_spans: dict[str, list[tuple[int, int]]] = {}  # embed hash → sentence spans
        self.analysed = 0  # sentences spaCy analysed

    def write_bm25(self, physical: str, generation: int, visible: list[ChunkRecord],
                   texts: dict[str, str]) -> Path:
        """The BM25 index of generation ``generation`` (chunks in reading order)."""
        index = bm25.BM25Index.build(
            [r.chunk.id for r in visible], [r.chunk.title for r in visible],
            [texts[r.chunk.id] for r in visible], [r.chunk.source for r in visible],
        )
        new_dir = bm25.bm25_dir(self.settings.bm25_dir, physical, generation)
        index.save(new_dir)
        return new_dir

    def embed(self, todo: dict[str, tuple[str, str]], progress=None) -> np.ndarray:
        """Vectors of ``todo`` (embed hash → (title, text)); with an embedder that pools
        spans, the sentence vectors of the same pass are kept in ``self.sentence_rows``."""
        texts = [embedding_text(title, text) for title, text in todo.values()]
        if not hasattr(self.embedder, "embed_spans"):
            return self.embedder.embed(texts, progress=progress)
        spans = [sv.chunk_sentences(title, text) for title, text in todo.values()]
        vecs, pooled = self.embedder.embed_spans(texts, [shifted for _, shifted in spans], progress=progress)
        for (h, (_, text)), (own, _), pv in zip(todo.items(), spans, pooled):
            self.sentence_rows.append(sv.rows_for(h, text, own, pv, self.embedder.dim))
            self.chunk_spans[h] = own  # the entity stage splits no chunk twice
        return vecs

    def write_sentences(self, state: IndexState | None, physical: str, generation: int,
                        visible: list[ChunkRecord], texts: dict[str, str]) -> Path | None:
        """The sentence vectors of generation ``generation``: this build's, the previous
        generation's for kept chunks, and a model pass for any chunk still without."""
        if not hasattr(self.embedder, "embed_spans"):
            return None
        root = self.settings.sentence_dir
        same_model = state is not None and state.embedder == self.embedder.id
        previous = sv.load(sv.path_for(root, state.physical, state.generation)) if same_model else None
        wanted = {r.embed_hash for r in visible}
        have = set(np.unique(np.concatenate([r["chunk"] for r in self.sentence_rows])).tolist()) if self.sentence_rows else set()
        if previous is not None:
            have |= set(previous.chunk_keys().tolist())
        missing = {}
        for r in visible:
            if r.embed_hash not in missing and sv.chunk_key(r.embed_hash) not in have:
                missing[r.embed_hash] = (r.chunk.title, texts[r.chunk.id])
        if missing:  # an index from before sentence vectors, or a lost file
            done = 0

            def tick(n: int) -> None:
                nonlocal done
                done += n
                if self.progress:
                    self.progress("sentence vectors", done, len(missing))

            self.embed(missing, progress=tick)
        # this build's rows (one chunk each, all distinct) first: they win over the previous file's
        parts = [np.concatenate(self.sentence_rows)] if self.sentence_rows else []
        parts += [previous.records] if previous is not None else []
        path = sv.path_for(root, physical, generation)
        sv.save(path, sv.merge(self.embedder.dim, parts, keep_chunks=wanted))
        return path

    def write_entities(self, state: IndexState | None, physical: str, generation: int,
                       visible: list[ChunkRecord], texts: dict[str, str]) -> Path:
        """The sentence entities of generation ``generation``, carried over from ``state``'s
        (None: analyse every chunk, as a full build does) and spaCy for the rest."""
        root = se.root(self.settings.chroma_path)
        before = se.path_for(root, state.physical, state.generation) if state else None
        previous, parses = (se.load(before), sp.load(before)) if before else (None, None)
        path = se.path_for(root, physical, generation)
        tick = (lambda done, total: self.progress("analysing sentences", done, total)) if self.progress else None
        self.analysed += se.write(path, {r.embed_hash: texts.get(r.chunk.id, "") for r in visible},
                                  previous, previous_parses=parses, spans=self.chunk_spans, progress=tick)
        return path

    def texts(self, physical: str, visible: list[ChunkRecord]) -> dict[str, str]:
        texts = {r.chunk.id: r.chunk.text for r in visible if r.chunk.text}
        missing = [r.chunk.id for r in visible if r.chunk.id not in texts]
        if missing:
            for rec in self.store.records(physical, with_text=True):
                if rec.chunk.id in texts or not rec.chunk.text:
                    continue
                texts[rec.chunk.id] = rec.chunk.text
        return texts

    def ensure_bm25(self, state: IndexState, live: list[ChunkRecord]) -> None:
        directory = bm25.bm25_dir(self.settings.bm25_dir, state.physical, state.generation)
        # (an index from before sentence terms were kept gets them: the same BM25, rebuilt)
        if not (directory / "ids.json").exists() or not (directory / bm25.SENTENCE_TERMS).exists():
            live = sorted(live, key=lambda r: reading_order(r.chunk))
            texts = self.texts(state.physical, live)
            bm25.BM25Index.build(
                [r.chunk.id for r in live], [r.chunk.title for r in live], [texts[r.chunk.id] for r in live],
                [r.chunk.source for r in live],
            ).save(directory)

    def ensure_sentences(self, state: IndexState, live: list[ChunkRecord]) -> None:
        path = sv.path_for(self.settings.sentence_dir, state.physical, state.generation)
        if hasattr(self.embedder, "embed_spans") and sv.load(path) is None:
            self.write_sentences(None, state.physical, state.generation, live, self.texts(state.physical, live))

    def ensure_entities(self, state: IndexState, live: list[ChunkRecord]) -> None:
        path = se.path_for(se.root(self.settings.chroma_path), state.physical, state.generation)
        if se.load(path) is None or sp.load(path) is None:
            self.write_entities(None, state.physical, state.generation, live, self.texts(state.physical, live))

    def prune(self, bm25_dir: Path, sentences: Path | None, entities: Path) -> None:
        """Remove this collection's files that no generation but the new one needs."""
        s = self.settings
        sidecars.prune(s.bm25_dir, s.collection, keep={bm25_dir.name})
        sidecars.prune(s.sentence_dir, s.collection, keep={sentences.name} if sentences else set())
        sidecars.prune(se.root(s.chroma_path), s.collection,
                       keep={entities.name} | {p.name for p in sp.paths(entities)})
