"""Answer latency: ``Assistant.ask`` (extractive, offline) on a built index, and the
making of a large index for it without embedding.

:func:`replicate` copies an index's chunks — the same vectors — under new document ids
until it holds ``target`` chunks, writing them the way :mod:`index.build` does (Chroma
records at generation 1, the BM25 index of that generation, then the state pointer).
Copy ``n`` of a document is ``<doc_id>~n``; its texts have every digit shifted by ``n``
(same length, so offsets stay exact, and BM25 sees different numbers), its vectors are
the original's. Only latency is measured on it, never quality.
"""
from __future__ import annotations

import re
import statistics
import time
from datetime import datetime, timezone
from typing import Sequence

_DIGIT = re.compile(r"\d")


def _shift_digits(text: str, n: int) -> str:
    return _DIGIT.sub(lambda m: str((int(m.group(0)) + n) % 10), text) if n % 10 else text


def replicate(source_settings, target_settings, target: int, *, batch: int = 5000) -> dict:
    """Fill ``target_settings.collection`` with copies of the source index's chunks."""
    import numpy as np

    from index import bm25
    from index.build import chunking_signature
    from index.chunking import chunk_id
    from index.embedder import make_embedder
    from index.models import Chunk, reading_order
    from index.records import ChunkRecord, IndexState
    from index.store import ChromaStore

    t0 = time.perf_counter()
    src = ChromaStore(source_settings)
    state = src.require_state()
    # in reading order, as a build lists them in its keyword index (neighbours by position)
    records = sorted(src.visible_records(state, with_text=True), key=lambda r: reading_order(r.chunk))
    vectors = src.embeddings_by_hash(state.physical, [r.embed_hash for r in records])
    dst = ChromaStore(target_settings)
    dst.drop_all()
    physical = dst.new_physical()
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    ids: list[str] = []
    titles: list[str] = []
    texts: list[str] = []
    pending: list[ChunkRecord] = []
    pending_vecs: list[np.ndarray] = []
    copy = 0
    while len(ids) < target:
        for r in records:
            if len(ids) >= target:
                break
            c = r.chunk
            source = c.source if copy == 0 else f"{c.source}~{copy}"
            text = _shift_digits(c.text, copy)
            title = c.title if copy == 0 else f"{c.title} ({copy})"
            new = Chunk(chunk_id(source, c.start, c.end, text), source, title, text, c.start, c.end, c.ordinal, c.page)
            pending.append(ChunkRecord(new, r.doc_hash, r.file, r.file_hash, r.embed_hash, now, 1))
            pending_vecs.append(vectors[r.embed_hash])
            ids.append(new.id)
            titles.append(title)
            texts.append(text)
            if len(pending) >= batch:
                dst.add(physical, pending, np.stack(pending_vecs))
                pending, pending_vecs = [], []
        copy += 1
    if pending:
        dst.add(physical, pending, np.stack(pending_vecs))
    write_s = time.perf_counter() - t0
    bm25.BM25Index.build(ids, titles, texts).save(bm25.bm25_dir(target_settings.bm25_dir, physical, 1))
    _replicate_sentences(source_settings, state, target_settings, physical, copies=copy)
    _replicate_entities(source_settings, state, target_settings, physical, copies=copy)
    embedder = make_embedder(target_settings)
    dst.write_state(IndexState(physical, 1, state.embedder, state.dim,
                               chunking_signature(target_settings, embedder), now))
    return {"chunks": len(ids), "copies": copy, "write_seconds": round(write_s, 1),
            "seconds": round(time.perf_counter() - t0, 1)}


def _replicate_sentences(source_settings, state, target_settings, physical: str, *, copies: int) -> None:
    """The copies' sentence vectors, as a build would have stored them: the original's
    rows, keyed by each copy's chunk and sentence texts."""
    import numpy as np

    from index import sentence_vectors as sv
    from index.chunking import embed_hash
    from index.store import ChromaStore

    stored = sv.load(sv.path_for(source_settings.sentence_dir, state.physical, state.generation))
    if stored is None:
        return
    src = ChromaStore(source_settings)
    records = src.visible_records(state, with_text=True)
    parts = []
    for n in range(copies):
        for r in records:
            c = r.chunk
            title = c.title if n == 0 else f"{c.title} ({n})"
            text = _shift_digits(c.text, n)
            spans, _ = stored.for_chunk(embed_hash(c.title, c.text))
            rows = np.array(stored.records[stored.chunk_slice(embed_hash(c.title, c.text))])
            if not len(rows):
                continue
            rows["chunk"] = sv.chunk_key(embed_hash(title, text))
            rows["key"] = [sv.text_key(text[s:e]) for s, e in spans]
            parts.append(rows)
    records = np.concatenate(parts)
    sv.save(sv.path_for(target_settings.sentence_dir, physical, 1), records[np.argsort(records["chunk"], kind="stable")])


def _replicate_entities(source_settings, state, target_settings, physical: str, *, copies: int) -> None:
    """The copies' sentence entities and parses, as a build would have stored them: the
    original's rows, keyed by each copy's chunk and (digit-shifted, same-length) sentence
    texts (a digit for another digit changes neither the tokens nor their offsets)."""
    import numpy as np

    from index import sentence_entities as se
    from index import sentence_parses as sp
    from index.store import ChromaStore

    chunks = [r.chunk for r in ChromaStore(source_settings).visible_records(state, with_text=True)]
    root = se.root(source_settings.chroma_path)
    source = se.path_for(root, state.physical, state.generation)
    target = se.path_for(se.root(target_settings.chroma_path), physical, 1)
    stored = se.load(source)
    if stored is not None:
        rows = _copied_rows(np.asarray(stored.records), chunks, copies)
        if rows is not None:
            se.save(target, se.merge([rows]))  # one part: merge is per part
    parses = sp.load(source)
    if parses is not None:
        rows = _copied_rows(np.asarray(parses.records), chunks, copies)
        if rows is not None:
            sp.write(target, [rows], None, _copy_hashes(chunks, copies), sp.Strings(parses.strings))


def _copy_hashes(chunks, copies: int) -> list[str]:
    """The embed hash of every copy of every chunk."""
    from index.chunking import embed_hash

    return [embed_hash(c.title if n == 0 else f"{c.title} ({n})", _shift_digits(c.text, n))
            for c in chunks for n in range(copies)]


def _copied_rows(records, chunks, copies: int):
    """Rows keyed by (sentence text key, chunk key), repeated for every copy of their chunk."""
    import numpy as np

    from index.chunking import embed_hash
    from index.sentence_vectors import chunk_key, text_key
    from index.sentences import sentence_spans

    by_chunk: dict[int, np.ndarray] = {}
    order = np.argsort(records["chunk"], kind="stable")
    chunks_sorted = records["chunk"][order]
    parts = []
    for c in chunks:
        ck = chunk_key(embed_hash(c.title, c.text))
        if ck not in by_chunk:
            lo, hi = np.searchsorted(chunks_sorted, ck, "left"), np.searchsorted(chunks_sorted, ck, "right")
            by_chunk[ck] = records[order[lo:hi]]
        rows = by_chunk[ck]
        if not len(rows):
            continue
        spans = sentence_spans(c.text)
        for n in range(copies):
            title = c.title if n == 0 else f"{c.title} ({n})"
            text = _shift_digits(c.text, n)
            keys = {text_key(c.text[a:b]): text_key(text[a:b]) for a, b in spans}
            copy = rows.copy()
            copy["chunk"] = chunk_key(embed_hash(title, text))
            copy["key"] = [keys.get(int(k), int(k)) for k in rows["key"]]
            parts.append(copy)
    return np.concatenate(parts) if parts else None


def ask_latency(settings, questions: Sequence[str], *, warmup: int = 5) -> dict:
    """p50/p95/mean of ``Assistant.ask(q, answerer="extractive")`` over ``questions`` (ms)."""
    from index import IndexReader
    from qa.service import Assistant

    assistant = Assistant(settings, reader=IndexReader(settings))
    for q in questions[:warmup]:
        assistant.ask(q, answerer="extractive")
    times, refused = [], 0
    for q in questions:
        t0 = time.perf_counter()
        answer = assistant.ask(q, answerer="extractive")
        times.append((time.perf_counter() - t0) * 1000)
        refused += answer.refused
    times.sort()
    return {"n": len(times), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], 1),
            "mean_ms": round(statistics.fmean(times), 1), "refused": refused}


def retrieval_latency(settings, questions: Sequence[str], *, k: int = 5, warmup: int = 5) -> dict:
    """The same for :func:`qa.retrieval.retrieve` alone (to split the answer's time)."""
    from index import IndexReader
    from qa.retrieval import retrieve

    reader = IndexReader(settings)
    for q in questions[:warmup]:
        retrieve(reader, q, k)
    times = []
    for q in questions:
        t0 = time.perf_counter()
        retrieve(reader, q, k)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"n": len(times), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], 1)}
