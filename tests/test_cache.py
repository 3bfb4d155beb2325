"""index.cache: one LRU helper, and what a reader keeps in memory keyed by the index
generation — so an index deleted and rebuilt under the same name (its generation back at
1) never serves the old one's documents, vocabulary or sentence vectors."""
from __future__ import annotations

import pytest

from index import IndexReader, build_index, text
from index.cache import LRU
from index.store import ChromaStore
from qa import Assistant
from qa.retrieval import retrieve

from .helpers import indexed_sentences, write_jsonl

A = [
    {"doc_id": "notes", "title": "Mount Ember",
     "text": "Mount Ember is an active stratovolcano on the northern island. Its last major eruption "
             "happened in 1783 and buried three villages under ash. Geologists in Paris monitor sulphur "
             "dioxide emissions from the summit crater every week."},
    {"doc_id": "more", "title": "Ember island",
     "text": "The northern island has two harbours. Ferries from the volcano coast leave twice a day."},
]
B = [
    {"doc_id": "notes", "title": "Barley soup",
     "text": "Barley soup is cooked slowly with carrots, leeks and celery. The grains need about "
             "ninety minutes to soften completely. Many families in Oslo serve it with rye bread."},
    {"doc_id": "more", "title": "Rye bread",
     "text": "Rye bread keeps for a week. Bakers in the north shape the dough into round loaves."},
]


def test_lru_keeps_the_most_recent_and_caches_none():
    cache: LRU[str, int | None] = LRU(2)
    made = []

    def make(value):
        return lambda: made.append(value) or value

    assert cache.get_or_make("a", make(1)) == 1
    assert cache.get_or_make("b", make(None)) is None
    assert cache.get_or_make("b", make(2)) is None  # None is a value too
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)  # evicts b
    assert cache.get("b", "gone") == "gone" and cache.get("a") == 1 and len(cache) == 2
    cache.discard("a")
    assert cache.get("a") is None and made == [1, None]
    with pytest.raises(ValueError):
        LRU(0)


def _text(docs, source):
    return next(d["text"] for d in docs if d["doc_id"] == source)


def _read_everything(reader: IndexReader, sentences: list[str]):
    """What the reader caches: search, BM25 and its vocabulary, neighbours, a document's
    chunks, the stored sentence vectors and entities."""
    passages = retrieve(reader, "What happened in the eruption, and how long does the soup cook?", 3)
    vocabulary, _ = reader.vocabulary()
    chunks = reader.document_chunks("notes")
    around = reader.neighbourhoods(chunks[:1], 1)
    vectors = reader.stored_sentence_vectors(sentences)
    entities = reader.sentence_entities(sentences)
    return passages, vocabulary, chunks, around, vectors, entities


def test_an_index_deleted_and_rebuilt_under_its_name_serves_only_the_new_documents(qa_settings_factory, embedder):
    s = qa_settings_factory(collection="cache-test", chunk_size=64, chunk_overlap=16)
    corpus = s.source_dir / "corpus.jsonl"
    write_jsonl(corpus, A)
    build_index(s, embedder=embedder, show_progress=False)
    reader = IndexReader(s, embedder=embedder)
    old = reader.state()
    assert Assistant(s, reader=reader).ask("When did Mount Ember last erupt?", answerer="extractive").citations
    a_sentences = sorted(set(indexed_sentences(s)))
    passages, vocabulary, chunks, _, vectors, entities = _read_everything(reader, a_sentences)
    assert all(p.text in _text(A, p.source) for p in passages) and passages
    assert text.terms("stratovolcano")[0] in vocabulary
    assert "".join(c.text for c in chunks).startswith("Mount Ember")
    assert all(v is not None for v in vectors) and all(e is not None for e in entities)

    # Deleted by another store object (another process would do the same). Deleting the whole
    # QA_CHROMA_PATH under a process holding it open is not possible: chromadb keeps one client
    # per path, which can then no longer write.
    ChromaStore(s).drop_all()
    write_jsonl(corpus, B)
    build_index(s, embedder=embedder, show_progress=False)
    new = ChromaStore(s).require_state()
    assert new.generation == old.generation == 1 and new.physical != old.physical

    b_sentences = sorted(set(indexed_sentences(s)))
    assert not set(a_sentences) & set(b_sentences)
    for r in (reader, IndexReader(s, embedder=embedder)):  # the same reader, and a new one
        answer = Assistant(s, reader=r).ask("How long does barley soup cook?", answerer="extractive")
        assert answer.citations and all(c.quote in _text(B, c.source) for c in answer.citations)
        passages, vocabulary, chunks, around, vectors, entities = _read_everything(r, a_sentences + b_sentences)
        assert passages and all(p.text in _text(B, p.source) for p in passages)
        assert text.terms("barley")[0] in vocabulary and text.terms("stratovolcano")[0] not in vocabulary
        assert r.vocabulary()[1] == tuple(sorted(vocabulary))
        assert "".join(c.text for c in chunks).startswith("Barley soup")
        assert all(c.text in _text(B, "notes") for c in around["notes"])
        assert [d.title for d in r.documents()] == ["Rye bread", "Barley soup"]
        a_vectors, b_vectors = vectors[: len(a_sentences)], vectors[len(a_sentences):]
        assert all(v is None for v in a_vectors) and all(v is not None for v in b_vectors)
        a_entities, b_entities = entities[: len(a_sentences)], entities[len(a_sentences):]
        assert all(e is None for e in a_entities) and all(e is not None for e in b_entities)


def test_chunks_read_by_id_are_read_once_per_generation(qa_settings_factory, embedder, monkeypatch):
    s = qa_settings_factory(collection="chunk-cache", chunk_size=64, chunk_overlap=16)
    corpus = s.source_dir / "corpus.jsonl"
    write_jsonl(corpus, A)
    build_index(s, embedder=embedder, show_progress=False)
    reader = IndexReader(s, embedder=embedder)
    read: list[str] = []
    real = reader.store.chunks
    monkeypatch.setattr(reader.store, "chunks", lambda state, ids: read.extend(ids) or real(state, ids))
    question = "What happened in the eruption, and how long does the soup cook?"
    first = retrieve(reader, question, 3)
    assert read  # keyword hits and neighbours come from the store ...
    read.clear()
    assert retrieve(reader, question, 3) == first and read == []  # ... once

    write_jsonl(corpus, [A[0], {**A[1], "text": "The northern island has three harbours now."}])
    build_index(s, embedder=embedder, show_progress=False)  # a new generation: read again
    around = reader.neighbourhoods(reader.document_chunks("more"), 1)
    assert [c.text for c in around["more"]] == ["The northern island has three harbours now."]
