"""Sentence vectors stored by the build: right, carried over incrementally, used by answers,
and never needed for correctness (a missing file only costs model time)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from index import IndexReader, build_index
from index import sentence_vectors as sv
from index.store import ChromaStore
from qa.service import Assistant

from .conftest import SEEDS
from .helpers import indexed_sentences, seed_index

SEED = SEEDS / "us-strikes-iran-backed-groups-iraq.txt"
OTHER = (
    "The harbour museum opened in 1998. It keeps three steam cranes and a lighthouse lens. "
    "Visitors climb the tower on Sundays. The lens was made in Paris in 1871."
)


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed outside a build."""

    def __init__(self, inner):
        self.inner = inner
        self.id, self.dim, self.max_tokens = inner.id, inner.dim, inner.max_tokens
        self.embedded: list[str] = []

    def embed(self, texts, **kw):
        self.embedded.extend(texts)
        return self.inner.embed(texts, **kw)

    def embed_spans(self, texts, spans, **kw):
        return self.inner.embed_spans(texts, spans, **kw)

    def embed_query(self, text):
        self.embedded.append(text)
        return self.inner.embed_query(text)

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def token_spans(self, text):
        return self.inner.token_spans(text)


def _stored(settings):
    state = ChromaStore(settings).require_state()
    return state, sv.load(sv.path_for(settings.sentence_dir, state.physical, state.generation))




@pytest.fixture
def seeded(qa_settings_factory, embedder):
    return seed_index(qa_settings_factory(), embedder)


def test_every_sentence_gets_a_vector_that_means_that_sentence(seeded, embedder):
    _, stored = _stored(seeded)
    sentences = sorted(set(indexed_sentences(seeded)))
    vectors = stored.lookup(sentences)
    assert len(sentences) > 20 and all(v is not None for v in vectors)
    # pooled from the chunk's pass (so coloured by its neighbours), yet close to the
    # sentence embedded alone, and mostly nearest to it of all the sentences (chance: 1/29)
    alone = embedder.embed(sentences)
    pooled = np.stack(vectors)
    similarity = pooled @ alone.T
    assert np.median(np.diag(similarity)) >= 0.7
    assert (similarity.argmax(axis=1) == np.arange(len(sentences))).mean() >= 0.75
    assert np.allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-2)


def test_unknown_text_has_no_vector(seeded):
    _, stored = _stored(seeded)
    assert stored.lookup(["A sentence that is in no document at all."]) == [None]


def test_answers_embed_only_the_question(seeded, embedder):
    counting = CountingEmbedder(embedder)
    assistant = Assistant(seeded, reader=IndexReader(seeded, embedder=counting))
    answer = assistant.ask("How many personnel were injured in the ballistic missile attack?",
                           answerer="extractive")
    assert not answer.refused and "eight" in answer.text
    assert counting.embedded == ["How many personnel were injured in the ballistic missile attack?"]


def test_without_the_file_answers_are_the_same_and_the_next_build_restores_it(seeded, embedder):
    question = "What did the U.S. strikes target?"
    with_file = Assistant(seeded, reader=IndexReader(seeded, embedder=embedder)).ask(question, answerer="extractive")
    shutil.rmtree(seeded.sentence_dir)

    counting = CountingEmbedder(embedder)
    without = Assistant(seeded, reader=IndexReader(seeded, embedder=counting)).ask(question, answerer="extractive")
    assert without.refused == with_file.refused
    assert [c.quote for c in without.citations]  # answered from sentences embedded now
    assert len(counting.embedded) > 1  # the sentences had to be embedded at question time

    report = build_index(seeded, embedder=embedder)  # nothing changed: only the file is rewritten
    assert report.chunks_embedded == 0
    _, stored = _stored(seeded)
    assert stored is not None and all(v is not None for v in stored.lookup(indexed_sentences(seeded)))


def test_incremental_build_carries_vectors_over_and_drops_removed_documents(seeded, embedder):
    (seeded.source_dir / "harbour.txt").write_text(OTHER)
    counting = CountingEmbedder(embedder)
    spans_calls = []
    counting.embed_spans = lambda texts, spans, **kw: spans_calls.append(list(texts)) or embedder.embed_spans(texts, spans, **kw)
    report = build_index(seeded, embedder=counting)
    assert report.files_added == ("harbour.txt",)
    # only the new document went through the model
    assert spans_calls and all("harbour" in t.lower() or "lighthouse" in t or "Visitors" in t or "lens" in t
                               for batch in spans_calls for t in batch)
    _, stored = _stored(seeded)
    assert all(v is not None for v in stored.lookup(indexed_sentences(seeded)))
    assert stored.lookup(["Visitors climb the tower on Sundays."])[0] is not None

    (seeded.source_dir / "harbour.txt").unlink()
    build_index(seeded, embedder=embedder)
    state, stored = _stored(seeded)
    assert stored.lookup(["Visitors climb the tower on Sundays."]) == [None]
    assert all(v is not None for v in stored.lookup(indexed_sentences(seeded)))
    # one file: the live generation's
    assert [p.name for p in seeded.sentence_dir.iterdir()] == [sv.path_for(seeded.sentence_dir, state.physical, state.generation).name]


def test_a_damaged_file_is_ignored(seeded, embedder):
    state, _ = _stored(seeded)
    sv.path_for(seeded.sentence_dir, state.physical, state.generation).write_bytes(b"not numpy at all")
    counting = CountingEmbedder(embedder)
    answer = Assistant(seeded, reader=IndexReader(seeded, embedder=counting)).ask(
        "How many militants were killed in the two strikes?", answerer="extractive")
    assert "six" in answer.text and len(counting.embedded) > 1
