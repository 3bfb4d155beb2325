"""QA_CHUNKER=llama-sentence-splitter: llama-index's SentenceSplitter in the embedder's
word-pieces, with exact offsets, the 256 word-piece window, pages, and a real index over it."""
from __future__ import annotations

import random

import pytest

from index import BadRequest, IndexReader, build_index
from index.chunking import chunk_document, chunk_id, embedding_text
from index.llama_chunking import llama_chunk_document
from index.loaders import load_documents
from index.models import Page, SourceDocument
from index.settings import Settings
from qa import Assistant
from qa.eval.data import collection_name

from .helpers import SEED_PATH, SEED_QUESTION, assert_cited, seed_index

LLAMA = "llama-sentence-splitter"
WORDS = ("reactor river commissioned northern station twenty minutes weekdays limestone caves "
         "eleven months antidisestablishmentarianism pneumonoultramicroscopic coronavirus "
         "SARS-CoV-2 ACE2 receptor-binding 1971 3.5% (n=412) U.S. e.g. i.e.").split()


def _long_document(repeats: bool = False) -> SourceDocument:
    """Paragraphs of normal sentences, run-on sentences of 300-700 words with no full
    stop, a comma-only blob, a very long unbroken token and near-repeated sentences (or,
    with ``repeats``, one sentence repeated word for word)."""
    rng = random.Random(11)
    parts = []
    for i in range(12):
        kind = i % 4
        if kind == 0:
            parts.append(" ".join(" ".join(rng.choices(WORDS, k=rng.randint(6, 25))) + "." for _ in range(8)))
        elif kind == 1:
            parts.append(" ".join(rng.choices(WORDS, k=rng.randint(300, 700))))
        elif kind == 2:
            parts.append(", ".join(" ".join(rng.choices(WORDS, k=3)) for _ in range(200)))
        else:
            again = ("The same sentence again and again. " * 40 if repeats else
                     " ".join(f"The same sentence again, number {n}." for n in range(40)))
            parts.append("x" * 900 + " " + again)
    text = "\n\n".join(parts)
    return SourceDocument("long.txt", "A long generated document about many things", text,
                          "long.txt", "f", "c")


def _seed_document() -> SourceDocument:
    return load_documents(SEED_PATH.parent).documents[0]


def _check(doc: SourceDocument, chunks, embedder, limit: int = 256) -> None:
    assert chunks, "no chunks"
    for n, c in enumerate(chunks):
        assert doc.text[c.start:c.end] == c.text and c.text.strip() == c.text != ""
        assert embedder.count_tokens(embedding_text(c.title, c.text)) <= limit, (n, c.text[:80])
        assert (c.ordinal, c.source, c.id) == (n, doc.source, chunk_id(doc.source, c.start, c.end, c.text))
    starts = [c.start for c in chunks]
    assert starts == sorted(set(starts)), "chunks out of reading order"
    # every non-blank character of the document is in some chunk
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(ch.isspace() for i, ch in enumerate(doc.text) if i not in covered)


@pytest.fixture
def no_fallback(monkeypatch):
    """The splitter's own chunks are used (not the fallback to our chunker)."""
    from index import llama_chunking

    def fail(*args, **kwargs):
        raise AssertionError("fell back to index.chunking.chunk_document")

    monkeypatch.setattr(llama_chunking, "chunk_document", fail)


def test_seed_document_round_trips_within_the_window(embedder, no_fallback):
    doc = _seed_document()
    chunks = llama_chunk_document(doc, embedder, 256, 48)
    _check(doc, chunks, embedder)
    assert chunks[0].title == chunk_document(doc, embedder, 256, 48)[0].title
    assert len(chunks) > 1 and chunks[1].start < chunks[0].end  # the overlap is kept


@pytest.mark.parametrize("size,overlap", [(256, 48), (64, 16), (32, 0)])
def test_long_sentences_are_cut_to_the_window(embedder, no_fallback, size, overlap):
    doc = _long_document()
    chunks = llama_chunk_document(doc, embedder, size, overlap)
    _check(doc, chunks, embedder, limit=size)
    assert len(chunks) > 10


def test_a_passage_repeated_word_for_word_still_gets_exact_chunks(embedder):
    doc = _long_document(repeats=True)
    _check(doc, llama_chunk_document(doc, embedder, 256, 48), embedder)


def test_pages_and_page_breaks_are_the_document_offsets(embedder, no_fallback):
    pages_text = [" ".join(f"Page {p} sentence {i} says something about page {p}." for i in range(20))
                  for p in range(1, 5)]
    text, pages, pos = "", [], 0
    for number, body in enumerate(pages_text, 1):
        text += body + "\n"
        pages.append(Page(number, pos, pos + len(body)))
        pos = len(text)
    doc = SourceDocument("m.pdf", "Manual", text, "m.pdf", "f", "c", tuple(pages))
    chunks = llama_chunk_document(doc, embedder, 96, 16)
    _check(doc, chunks, embedder, limit=96)
    for c in chunks:
        assert c.page == max(p.number for p in pages if p.start <= c.start)
        assert c.page_breaks == tuple((p.start, p.number) for p in pages if c.start < p.start < c.end)
    assert any(c.page_breaks for c in chunks) and {c.page for c in chunks} == {1, 2, 3, 4}


def test_blank_document_has_no_chunks(embedder):
    assert llama_chunk_document(SourceDocument("b.txt", "", " \n\n ", "b.txt", "f", "c"), embedder, 256, 48) == []


def test_setting_names_the_chunker_and_rejects_others(monkeypatch):
    assert Settings().chunker == "sentences"
    monkeypatch.setenv("QA_CHUNKER", " Llama-Sentence-Splitter ")
    assert Settings.from_env(env_file=None).chunker == LLAMA
    monkeypatch.setenv("QA_CHUNKER", "paragraphs")
    with pytest.raises(BadRequest, match="QA_CHUNKER.*llama-sentence-splitter"):
        Settings.from_env(env_file=None)


def test_eval_collections_differ_per_chunker(tmp_path):
    corpus = tmp_path / "covid-qa" / "corpus.jsonl"
    assert collection_name(corpus, 256, 48) == "eval-covid-qa-256-48"
    assert collection_name(corpus, 256, 48, LLAMA) == "eval-covid-qa-256-48-llama"
    assert len(collection_name(tmp_path / ("x" * 80 + ".jsonl"), 256, 48, LLAMA)) <= 50


def test_index_built_with_the_option_answers_the_seed_question(qa_settings_factory, embedder, no_fallback):
    s = seed_index(qa_settings_factory(chunker=LLAMA), embedder)
    reader = IndexReader(s, embedder=embedder)
    doc = _seed_document()
    want = [(c.start, c.end) for c in llama_chunk_document(doc, embedder, s.chunk_size, s.chunk_overlap)]
    from index.store import ChromaStore

    store = ChromaStore(s)
    stored = sorted((r.chunk.start, r.chunk.end) for r in store.visible_records(store.require_state()))
    assert stored == want  # the build used the llama chunker
    assert_cited(Assistant(s, reader=reader).ask(SEED_QUESTION))


def test_switching_the_chunker_rechunks_the_index(settings_factory, embedder):
    s = seed_index(settings_factory(), embedder)
    report = build_index(s.model_copy(update={"chunker": LLAMA}), embedder=embedder)
    assert report.files_changed == (SEED_PATH.name,)  # the chunker is part of the chunking signature
    assert build_index(s.model_copy(update={"chunker": LLAMA}), embedder=embedder).files_changed == ()
