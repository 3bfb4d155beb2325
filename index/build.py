"""Incremental, crash-safe rebuild of the index from a folder of documents.

What changed is found by content hash: only new chunks are embedded (and a chunk whose
embedded text is already stored anywhere in the collection reuses that vector), chunks of
removed or changed documents are retired. New records are written invisibly at the next
generation and published by one atomic pointer switch (see :mod:`index.store`), so a
question asked meanwhile sees the old index and ``kill -9`` at any moment leaves it intact.
A file lock lets one build run at a time. The files each generation has beside Chroma
(BM25, sentence vectors, entities) are :mod:`index.generation_files`' job.
"""
from __future__ import annotations

import sys
import time
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
from filelock import FileLock, Timeout

from . import document_texts, environment
from .chunking import chunk_document, embed_hash
from .embedder import Embedder, make_embedder
from .errors import BadRequest, BuildInProgress, EmbedderMismatch
from .generation_files import GenerationFiles, Progress
from .llama_chunking import llama_chunk_document
from .loaders import load_documents
from .models import BuildReport, SourceDocument, reading_order
from .settings import Settings
from .records import FOREVER, ChunkRecord, IndexState
from .store import ChromaStore

CHUNKER_VERSION = "s4"  # s2: table rows one sentence each, PDF page breaks inside chunks (issue 12); s3: "Fig.", "et al." end no sentence; s4: nor "Ae." before "albopictus"


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def chunking_signature(settings: Settings, embedder: Embedder) -> str:
    chunker = CHUNKER_VERSION if settings.chunker == "sentences" else settings.chunker
    return f"{chunker}/{settings.chunk_size}/{settings.chunk_overlap}/{embedder.max_tokens}"


def _tqdm_progress(enabled: bool) -> tuple[Progress | None, Callable[[], None]]:
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            unit = "sentence" if stage == "analysing sentences" else "chunk"
            bar = bars[stage] = tqdm(total=total, desc=stage, unit=unit, file=sys.stderr, leave=True)
        bar.update(done - bar.n)

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


def build_index(
    settings: Settings,
    *,
    source: Path | None = None,
    full: bool = False,
    embedder: Embedder | None = None,
    store: ChromaStore | None = None,
    progress: Progress | None = None,
    show_progress: bool | None = None,
    wait: float = 0.0,
) -> BuildReport:
    """Bring the index up to date with ``source`` (default ``settings.source_dir``).

    ``full`` rebuilds into a fresh collection (needed after changing the embedder).
    ``progress`` receives ``(stage, done, total)``; ``show_progress`` draws a terminal
    bar (default: when stderr is a terminal). ``wait`` seconds for another build's lock.
    """
    environment.configure()
    source = Path(source or settings.source_dir)
    if not source.exists():
        raise BadRequest(
            f"Source folder {source} does not exist. Put documents there or set QA_SOURCE_DIR / --source."
        )
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.lock_path))
    try:
        lock.acquire(timeout=wait)
    except Timeout as exc:
        raise BuildInProgress(
            f"Another build of '{settings.collection}' is running (lock {settings.lock_path}). "
            "Wait for it to finish and try again."
        ) from exc
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    bar, close_bar = _tqdm_progress(show_progress and progress is None)
    try:
        return _Build(settings, source, full, embedder, store, progress or bar).run()
    finally:
        close_bar()
        lock.release()


class _Build:
    def __init__(self, settings, source, full, embedder, store, progress):
        self.settings = settings
        self.source = source
        self.full = full
        self.embedder = embedder or make_embedder(settings)
        self.store = store or ChromaStore(settings)
        self.progress = progress
        self.t0 = time.perf_counter()
        self.files = GenerationFiles(settings, self.embedder, self.store, progress)

    def run(self) -> BuildReport:
        s, store, emb = self.settings, self.store, self.embedder
        state = store.read_state()
        if state and state.physical not in store.physicals():
            # The pointer names a collection that is gone (deleted by hand, a damaged
            # store): there is nothing to keep or reuse, so build afresh and re-point it.
            state = None
        if state and not self.full and state.embedder != emb.id:
            raise EmbedderMismatch(
                f"The index '{s.collection}' was built with embedder {state.embedder}, but "
                f"QA_EMBED_MODEL now gives {emb.id}. Run `python -m index build --full` to "
                "rebuild it with the new embedder."
            )
        signature = chunking_signature(s, emb)
        fresh = state is None or self.full
        # Orphan collections from crashed full builds (never the live one).
        for name in store.physicals():
            if state is None or name != state.physical:
                store.drop_physical(name)

        generation = state.generation if state else 0
        all_records = store.records(state.physical) if state else []
        live = [r for r in all_records if state and r.visible_at(generation)]
        live_by_source: dict[str, list[ChunkRecord]] = defaultdict(list)
        for r in live:
            live_by_source[r.chunk.source].append(r)

        # Another chunking (chunk size, overlap, chunker version) re-chunks every document, so
        # every file is read again: unchanged files' stand-ins carry no text to chunk.
        rechunk_all = fresh or (state is not None and state.chunking != signature)
        # A file is parsed again when a document of it has no whole text kept yet (an index
        # from before the viewer, a lost file), so the text is written below.
        texts_dir = document_texts.root(s.chroma_path, s.collection)
        known_files, previous_docs = self._unchanged_file_stand_ins(
            live_by_source, lambda doc_hash: document_texts.has(texts_dir, doc_hash))
        loaded = load_documents(
            self.source,
            known_file_hashes=None if rechunk_all else known_files,
            previous=None if rechunk_all else (lambda rel: previous_docs.get(rel, [])),
        )
        docs = {d.source: d for d in loaded.documents}
        for doc in docs.values():  # before the switch: a reader of the new generation finds them
            if doc.text:  # (an unchanged file's stand-ins carry none: theirs are kept already)
                document_texts.write(texts_dir, doc)
        keep_texts = {d.content_hash for d in docs.values()}

        added, changed, unchanged = [], [], []
        for src, doc in docs.items():
            old = live_by_source.get(src)
            if not old:
                added.append(doc)
            elif rechunk_all or any(r.doc_hash != doc.content_hash for r in old):
                changed.append(doc)
            else:
                unchanged.append(doc)
        removed = sorted(set(live_by_source) - set(docs))
        if fresh:
            added, changed = added + changed, []

        if state and not fresh and not added and not changed and not removed:
            self.files.ensure_bm25(state, live)
            self.files.ensure_sentences(state, live)
            self.files.ensure_entities(state, live)
            document_texts.prune(texts_dir, keep_texts)
            recorded = replace(state, source_dir=self._source_dir, documents=len(docs), chunks=len(live))
            if recorded != state:  # an index from before these were recorded, or built from elsewhere
                store.write_state(recorded)  # (same generation: readers see no change)
                state = recorded
            return self._report(loaded, [], [], [], len(unchanged), 0, 0, 0, len(live), len(docs), state)

        # Desired records for added/changed documents.
        now = _now()
        desired: dict[str, ChunkRecord] = {}
        for doc in added + changed:
            chunk = chunk_document if s.chunker == "sentences" else llama_chunk_document
            for c in chunk(doc, emb, s.chunk_size, s.chunk_overlap):
                desired[c.id] = ChunkRecord(
                    chunk=c, doc_hash=doc.content_hash, file=doc.file, file_hash=doc.file_hash,
                    embed_hash=embed_hash(c.title, c.text), indexed_at=now,
                )
        touched = {d.source for d in added + changed} | set(removed)
        if fresh:
            kept, retired = [], []
        else:
            kept = [r for r in live if r.chunk.source not in touched or r.chunk.id in desired]
        kept_ids = {r.chunk.id for r in kept}
        if not fresh:
            retired = [r for r in live if r.chunk.id not in kept_ids]
        new_records = [r for i, r in desired.items() if i not in kept_ids]

        physical = store.new_physical() if fresh else state.physical
        new_gen = generation + 1
        vectors = self._vectors(new_records, state, physical)
        stamped = [
            ChunkRecord(r.chunk, r.doc_hash, r.file, r.file_hash, r.embed_hash, r.indexed_at, new_gen, FOREVER)
            for r in new_records
        ]
        # Everything below, up to the switch, is invisible to readers of `generation`.
        store.add(physical, stamped, vectors)
        if not fresh:
            stamped_ids = {r.chunk.id for r in stamped}
            # Left by a crashed build: records of a generation never published (they would
            # surface at new_gen), and records retired by a build killed after its switch.
            orphans = [r.chunk.id for r in all_records
                       if (r.gen_from > generation or r.gen_to <= generation) and r.chunk.id not in stamped_ids]
            store.delete(physical, orphans)
            store.set_gen_to(physical, [r.chunk.id for r in retired], new_gen)
            store.set_gen_to(physical, [r.chunk.id for r in kept if r.gen_to != FOREVER], FOREVER)

        visible = sorted(kept + stamped, key=lambda r: reading_order(r.chunk))
        texts = self.files.texts(physical, visible)
        new_dir = self.files.write_bm25(physical, new_gen, visible, texts)
        sentences = self.files.write_sentences(state, physical, new_gen, visible, texts)
        entities = self.files.write_entities(None if fresh else state, physical, new_gen, visible, texts)

        new_state = IndexState(physical, new_gen, emb.id, emb.dim, signature, now,
                               self._source_dir, len(docs), len(visible))
        store.write_state(new_state)  # the switch: from here on, readers see new_gen

        if fresh:
            if state:
                store.drop_physical(state.physical)
        else:
            store.delete(physical, [r.chunk.id for r in retired])
            # Chunks kept from a changed document now belong to its new version.
            restamp = [(r.chunk.id, desired[r.chunk.id]) for r in kept if r.chunk.source in touched
                       and (r.doc_hash, r.file_hash) != (desired[r.chunk.id].doc_hash, desired[r.chunk.id].file_hash)]
            store.update_bookkeeping(physical, [i for i, _ in restamp],
                                     [{"doc_hash": d.doc_hash, "file_hash": d.file_hash, "file": d.file}
                                      for _, d in restamp])
        self.files.prune(new_dir, sentences, entities)
        document_texts.prune(texts_dir, keep_texts)
        deleted = len(retired) if not fresh else (len(live) if state else 0)
        return self._report(
            loaded, added, changed, removed, len(unchanged), self._embedded, self._reused,
            deleted, len(visible), len(docs), new_state,
        )

    # ---- helpers -----------------------------------------------------------------
    @property
    def _source_dir(self) -> str:
        """Recorded with the index, so a knowledge base is rebuilt from its own folder."""
        return str(Path(self.source).resolve())

    @staticmethod
    def _unchanged_file_stand_ins(live_by_source, text_kept=lambda doc_hash: True):
        """Per file: its indexed hash, and text-less stand-ins for its documents, so the
        loader need not parse an unchanged file again. A file whose records disagree
        (a build died half-way through its bookkeeping), or with a document whose whole
        text is not kept (``text_kept(doc_hash)``), gets none and is parsed again."""
        by_file: dict[str, list[SourceDocument]] = defaultdict(list)
        file_hashes: dict[str, set[str]] = defaultdict(set)
        inconsistent: set[str] = set()
        for src, recs in live_by_source.items():
            r = recs[0]
            for x in recs:
                file_hashes[x.file].add(x.file_hash)
            if any(x.doc_hash != r.doc_hash or x.file != r.file for x in recs) or not text_kept(r.doc_hash):
                inconsistent.add(r.file)
            by_file[r.file].append(SourceDocument(src, r.chunk.title, "", r.file, r.file_hash, r.doc_hash))
        known = {f: next(iter(h)) for f, h in file_hashes.items() if len(h) == 1 and f not in inconsistent}
        return known, {f: docs for f, docs in by_file.items() if f in known}

    def _vectors(self, records: list[ChunkRecord], state: IndexState | None, physical: str) -> np.ndarray:
        self._embedded = self._reused = 0
        if not records:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        cache: dict[str, np.ndarray] = {}
        if state and state.embedder == self.embedder.id:
            cache = self.store.embeddings_by_hash(state.physical, [r.embed_hash for r in records])
        todo: dict[str, tuple[str, str]] = {}
        for r in records:
            if r.embed_hash not in cache:
                todo.setdefault(r.embed_hash, (r.chunk.title, r.chunk.text))
        self._reused = sum(1 for r in records if r.embed_hash in cache)
        self._embedded = len(todo)
        if todo:
            done = 0
            total = len(todo)

            def tick(n: int) -> None:
                nonlocal done
                done += n
                if self.progress:
                    self.progress("embedding", done, total)

            if self.progress:
                self.progress("embedding", 0, total)
            vecs = self.files.embed(todo, progress=tick)
            cache.update(zip(todo.keys(), vecs))
        return np.stack([cache[r.embed_hash] for r in records]).astype(np.float32)

    def _report(self, loaded, added, changed, removed, unchanged, embedded, reused, deleted,
                total_chunks, total_docs, state) -> BuildReport:
        files = lambda docs: tuple(sorted({d.source for d in docs}))  # noqa: E731
        return BuildReport(
            files_added=files(added), files_changed=files(changed), files_removed=tuple(removed),
            files_unchanged=unchanged, skipped=tuple(loaded.skipped), warnings=tuple(loaded.warnings),
            chunks_embedded=embedded,
            chunks_reused=reused, chunks_deleted=deleted, chunks_total=total_chunks,
            documents_total=total_docs, seconds=round(time.perf_counter() - self.t0, 3),
            full=self.full, embedder=state.embedder if state else self.embedder.id,
            sentences_analysed=self.files.analysed,
        )
