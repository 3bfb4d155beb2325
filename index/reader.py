"""Read access to the index for answering: dense and BM25 search at one generation.

:meth:`IndexReader.search_ids` reads the live generation and runs both searches in it:
ids and scores only, the dense hits kept to the chunks of that generation's keyword index.
:meth:`IndexReader.read` then reads the few chunks the caller keeps, at that generation;
one a rebuild deleted meanwhile is missing, and the caller searches again. So one question
never mixes the old and the new index.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import bm25, document_texts, environment
from . import sentence_entities as se
from . import sentence_parses as sp
from . import sentence_vectors as sv
from .cache import LRU, generation_key
from .chunking import embed_hash
from .embedder import Embedder, make_embedder
from .errors import EmbedderMismatch, NotFound, QAError
from .models import Chunk, DocumentText, IndexedDocument, ScoredChunk, reading_order
from .nlp import Entity, Token
from .settings import Settings
from .records import IndexState
from .sentence_terms import Sentences
from .store import ChromaStore


@dataclass(frozen=True)
class SearchResult:
    dense: tuple[ScoredChunk, ...]
    keyword: tuple[ScoredChunk, ...]
    generation: int


@dataclass(frozen=True)
class ScoredIds:
    """A search's hits before any chunk is read: (chunk id, score), best first, and the
    state of the generation searched (:meth:`IndexReader.read` reads them there)."""

    dense: tuple[tuple[str, float], ...]
    keyword: tuple[tuple[str, float], ...]
    state: IndexState

    @property
    def generation(self) -> int:
        return self.state.generation


CHUNK_CACHE = 10_000


class IndexReader:
    """One per process is enough; thread-safe. Expensive parts can be passed in."""

    def __init__(self, settings: Settings, *, store: ChromaStore | None = None, embedder: Embedder | None = None):
        environment.configure()
        self.settings = settings
        self.store = store or ChromaStore(settings)
        self._embedder = embedder
        # Per generation (index.cache.generation_key): the live one's only, except documents.
        self._bm25: LRU[tuple, bm25.BM25Index] = LRU(1)
        self._sentences: LRU[tuple, sv.SentenceVectors | None] = LRU(1)
        self._entities: LRU[tuple, se.SentenceEntities | None] = LRU(1)
        self._parses: LRU[tuple, sp.SentenceParses | None] = LRU(1)
        self._vocab: LRU[tuple, tuple[frozenset[str], tuple[str, ...]]] = LRU(1)
        self._by_source: LRU[tuple, dict[str, np.ndarray]] = LRU(1)  # source → its BM25 positions
        self._documents: LRU[tuple, list[Chunk]] = LRU(128)  # by generation and source
        self._texts: LRU[tuple, DocumentText] = LRU(8)  # whole texts (the viewer), by generation and source
        self._queries: LRU[str, np.ndarray] = LRU(64)  # by text (one embedder per reader)
        # chunks read by id (hits, neighbours), by generation and id: ~20 MB at most
        self._chunk_cache: LRU[tuple, Chunk] = LRU(CHUNK_CACHE)
        self._last_state: IndexState | None = None
        self._bm25_lock = threading.Lock()  # one thread loads (or builds) a generation's BM25

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    def state(self) -> IndexState:
        state = self.store.require_state()
        if state.embedder != self.embedder.id:
            raise EmbedderMismatch(
                f"The index '{self.settings.collection}' was built with {state.embedder}, but "
                f"QA_EMBED_MODEL gives {self.embedder.id}. Run `python -m index build --full` "
                f"to rebuild it, or set QA_EMBED_MODEL back."
            )
        return state

    def _keyword_index(self, state: IndexState) -> bm25.BM25Index:
        key = generation_key(self.store, state)
        found = self._bm25.get(key)
        if found is not None:
            return found
        with self._bm25_lock:
            return self._bm25.get_or_make(key, lambda: self._load_keyword_index(state))

    def _load_keyword_index(self, state: IndexState) -> bm25.BM25Index:
        directory = bm25.bm25_dir(self.settings.bm25_dir, state.physical, state.generation)
        index = bm25.BM25Index.load(directory)
        if index is None:  # e.g. a Chroma server built from another machine
            records = sorted(self.store.visible_records(state, with_text=True),
                             key=lambda r: reading_order(r.chunk))
            index = bm25.BM25Index.build(
                [r.chunk.id for r in records], [r.chunk.title for r in records],
                [r.chunk.text for r in records], [r.chunk.source for r in records],
            )
            index.save(directory)
        return index

    def sentence_index(self, state: IndexState) -> sv.SentenceVectors | None:
        """The stored sentence vectors of ``state``'s generation, if the build wrote them."""
        path = sv.path_for(self.settings.sentence_dir, state.physical, state.generation)
        return self._sentences.get_or_make(generation_key(self.store, state), lambda: sv.load(path))

    def chunk_sentence_vectors(self, chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
        """Per chunk id: the vectors of its sentences the build stored (chunks without any,
        or an index without the file, are absent)."""
        try:
            stored = self.sentence_index(self.recent_state())
        except QAError:
            return {}
        if stored is None:
            return {}
        found = stored.chunk_vectors([embed_hash(c.title, c.text) for c in chunks])
        return {c.id: vectors for c, vectors in zip(chunks, found) if len(vectors)}

    def chunk_sentence_terms(self, chunks: Sequence[Chunk]) -> dict[str, Sentences]:
        """Per chunk id: its sentences' spans and terms, as the build kept them with the
        keyword index (:mod:`index.sentence_terms`; absent where it kept none)."""
        try:
            return self._keyword_index(self.recent_state()).sentence_terms([c.id for c in chunks])
        except QAError:
            return {}

    def recent_state(self) -> IndexState:
        """The state the last search ran at (saves a Chroma round trip), else the live one.
        For accelerators and signals only: a generation behind is harmless there."""
        return self._last_state or self.state()

    def vocabulary(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """The terms of the live generation's chunks, as a set and sorted (for prefix search)."""
        state = self.recent_state()

        def make() -> tuple[frozenset[str], tuple[str, ...]]:
            terms = self._keyword_index(state).vocabulary
            return terms, tuple(sorted(terms))

        return self._vocab.get_or_make(generation_key(self.store, state), make)

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector; the last few are kept (retrieval and answering share them)."""
        return self._queries.get_or_make(text, lambda: self.embedder.embed_query(text))

    def stored_sentence_vectors(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """The vectors the build stored for these sentences of indexed chunks (None for
        a text it holds none for: not a sentence of the index, or no file was written)."""
        texts = list(texts)
        try:
            stored = self.sentence_index(self.recent_state())
        except QAError:  # the index moved or is gone: the caller embeds
            stored = None
        return stored.lookup(texts) if stored is not None else [None] * len(texts)

    def sentence_entities(self, texts: Sequence[str]) -> list[tuple[Entity, ...] | None]:
        """The named entities the build stored for these sentences of indexed chunks: ``()``
        for one without any, None for a text it did not analyse (not a sentence of the
        index, or no file was written): the caller runs :func:`index.nlp.entities` on those."""
        return self._analysed(texts, self._entities, se.load)

    def sentence_parses(self, texts: Sequence[str]) -> list[tuple[Token, ...] | None]:
        """The parse the build stored for these sentences of indexed chunks (their tokens),
        None for a text it did not parse: :func:`index.nlp.parse_sentences` takes both."""
        return self._analysed(texts, self._parses, sp.load)

    def _analysed(self, texts: Sequence[str], cache: LRU, load) -> list:
        """What the live generation's analysis file (read by ``load``) holds for ``texts``."""
        texts = list(texts)
        try:
            state = self.recent_state()
        except QAError:  # the index moved or is gone: the caller analyses
            return [None] * len(texts)
        path = se.path_for(se.root(self.settings.chroma_path), state.physical, state.generation)
        stored = cache.get_or_make(generation_key(self.store, state), lambda: load(path))
        return stored.lookup(texts) if stored is not None else [None] * len(texts)

    def _source_positions(self, state: IndexState) -> dict[str, np.ndarray]:
        """Per document of ``state``'s generation: the positions of its chunks in the keyword
        index (from its saved sources; an index saved without them reads them from the store once)."""

        def make() -> dict[str, np.ndarray]:
            index = self._keyword_index(state)
            sources = index.sources
            if sources is None:
                by_id = {r.chunk.id: r.chunk.source for r in self.store.visible_records(state)}
                sources = [by_id.get(i, "") for i in index.ids]
            grouped: dict[str, list[int]] = defaultdict(list)
            for position, source in enumerate(sources):
                grouped[source].append(position)
            return {source: np.asarray(p, dtype=np.int64) for source, p in grouped.items() if source}

        return self._by_source.get_or_make(generation_key(self.store, state), make)

    def source_names(self) -> tuple[str, ...]:
        """The names of the documents of the live generation, sorted."""
        return tuple(sorted(self._source_positions(self.state())))

    def search_ids(self, query: str, *, dense_k: int, keyword_k: int,
                   sources: Sequence[str] | None = None) -> ScoredIds:
        """The ids and scores of the dense and BM25 hits for ``query``, best first, all of
        the live generation: the dense hits are kept to the chunks its keyword index lists,
        so a rebuild switching meanwhile mixes nothing in. No chunk is read (:meth:`read`
        reads those the caller keeps). ``sources`` (exact document names) restricts both
        to those documents (None or empty: all)."""
        vector = self.embed_query(query)
        state = self.state()
        index = self._keyword_index(state)
        dense = self.store.nearest(state, vector, dense_k, index.positions, sources) if dense_k else []
        if not keyword_k:
            hits = []
        elif sources:
            positions = self._source_positions(state)
            only = np.unique(np.concatenate([positions.get(s, np.zeros(0, np.int64)) for s in sources]))
            hits = index.search(query, keyword_k, only=only)
        else:
            hits = index.search(query, keyword_k)
        self._last_state = state
        return ScoredIds(tuple(dense), tuple(hits), state)

    def read(self, found: ScoredIds, ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks of these ids at the generation ``found`` was searched at (absent: one
        a rebuild deleted since, when that generation is no longer live: search again)."""
        return self._read_chunks(found.state, ids)

    def search(self, query: str, *, dense_k: int, keyword_k: int, sources: Sequence[str] | None = None,
               attempts: int = 3) -> SearchResult:
        """Dense and BM25 hits for ``query`` with their chunks (:meth:`search_ids`, every
        hit read; searched again if a rebuild deleted some of them meanwhile); ``sources``
        (exact document names) restricts both to those documents."""
        for _ in range(attempts):
            found = self.search_ids(query, dense_k=dense_k, keyword_k=keyword_k, sources=sources)
            chunks = self.read(found, list(dict.fromkeys(i for i, _ in found.dense + found.keyword)))
            dense = tuple(ScoredChunk(chunks[i], s) for i, s in found.dense if i in chunks)
            keyword = tuple(ScoredChunk(chunks[i], s) for i, s in found.keyword if i in chunks)
            if len(dense) + len(keyword) == len(found.dense) + len(found.keyword):
                break
        return SearchResult(dense, keyword, found.generation)

    def _read_chunks(self, state: IndexState, ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks of these ids visible at ``state``'s generation: those read for an
        earlier question of the same generation from memory, the rest from the store."""
        key = generation_key(self.store, state)
        out, missing = {}, []
        for i in ids:
            chunk = self._chunk_cache.get((key, i))
            if chunk is None:
                missing.append(i)
            else:
                out[i] = chunk
        if missing:
            for i, chunk in self.store.chunks(state, missing).items():
                self._chunk_cache.put((key, i), chunk)
                out[i] = chunk
        return out

    def neighbourhoods(self, chunks: Sequence[Chunk], window: int) -> dict[str, list[Chunk] | None]:
        """Per source of ``chunks``: those chunks and up to ``window`` chunks before and
        after each, in reading order — or None for a source whose neighbours are not where
        they should be (an index written before its keyword index kept reading order):
        read that document whole (:meth:`document_chunks`).

        The keyword index lists chunks in reading order, so neighbours are found by their
        position there and read by id: a few ms, where reading a whole document is a
        metadata scan (~60 ms on a 100k-chunk index)."""
        state = self.recent_state()
        index = self._keyword_index(state)
        ids, positions = index.ids, index.positions
        wanted: set[str] = set()
        for c in chunks:
            i = positions.get(c.id)
            if i is not None:
                wanted.update(ids[max(0, i - window) : i + window + 1])
        found = self._read_chunks(state, sorted(wanted)) if window and wanted else {}
        asked: dict[str, list[Chunk]] = {}
        for c in chunks:
            asked.setdefault(c.source, []).append(c)
        by_source = {source: {c.id: c for c in cs} for source, cs in asked.items()}
        for c in found.values():
            if c.source in by_source:
                by_source[c.source][c.id] = c
        out: dict[str, list[Chunk] | None] = {}
        for source, members in by_source.items():
            ordinals = {c.ordinal for c in members.values()}
            in_order = not window or all(c.ordinal == 0 or c.ordinal - 1 in ordinals for c in asked[source])
            out[source] = sorted(members.values(), key=lambda c: c.start) if in_order else None
        return out

    def document_chunks(self, source: str) -> list[Chunk]:
        """All chunks of one document at the live generation, in reading order. The last
        documents read are kept: reading one is a Chroma metadata scan (~60 ms on a
        100k-chunk index), and the same documents come up again."""
        state = self.state()
        key = (*generation_key(self.store, state), source)
        return list(self._documents.get_or_make(key, lambda: self.store.document_chunks(state, source)))

    def work_chunks(self, title: str) -> list[Chunk]:
        """All chunks of the documents titled ``title`` (a work indexed part by part: an
        article one paragraph a line of a .jsonl corpus), by document and in reading order."""
        state = self.state()
        key = (*generation_key(self.store, state), "title", title)
        return list(self._documents.get_or_make(key, lambda: self.store.document_chunks(state, title, field="title")))

    def document_text(self, source: str) -> DocumentText:
        """The whole text of document ``source`` at the live generation, as indexed (the
        build keeps it: :mod:`index.document_texts`), with its pages and the file it came
        from; pieced together from its chunks (``exact=False``) when the build kept none.
        Raises :class:`NotFound` for a name that is not an indexed document."""
        state = self.state()
        key = (*generation_key(self.store, state), source)
        return self._texts.get_or_make(key, lambda: self._read_text(state, source))

    def _read_text(self, state: IndexState, source: str) -> DocumentText:
        records = [r for r in self.store.records(state.physical, where={"source": source})
                   if r.visible_at(state.generation)]
        if not records:
            raise NotFound(f"No indexed document is called {source!r}: "
                           "`python -m index status` lists the indexed documents.")
        first = records[0]
        folder = document_texts.root(self.settings.chroma_path, self.settings.collection)
        kept = document_texts.load(folder, first.doc_hash)
        # a document that is a whole file (not a line of a .jsonl corpus) can be opened as it is
        path = self.settings.source_dir / first.file if first.file == source else None
        if kept is not None:
            text, pages = kept
            return DocumentText(source, first.chunk.title, text, pages, path)
        text, pages = document_texts.pieced(self.document_chunks(source))
        return DocumentText(source, first.chunk.title, text, pages, path, exact=False)

    def documents(self) -> list[IndexedDocument]:
        from .knowledge_bases import list_documents

        return list_documents(self.store)
