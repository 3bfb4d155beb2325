"""index.sentence_terms: each chunk's sentence terms, kept with the keyword index by the
build, are what tokenizing gives, and the keyword index made from them is the one made
from the texts; a damaged file is only a missing one."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from index import IndexReader, build_index
from index import bm25 as kw
from index.chunking import embedding_text
from index.sentence_terms import SentenceTerms, tokenized
from index.text import terms

TEXTS = ["Mount Ember erupted in 1783. Ash fell on three villages!\nGeologists watch it.",
         "", "U.S. troops left. The pier, 2,950 metres long, was re-built in 1931.",
         "Mount Ember erupted in 1783. Ash fell on three villages!\nGeologists watch it."]


def test_each_texts_sentences_and_terms_are_kept_once():
    st = SentenceTerms.build(TEXTS)
    assert len(st) == 4 and len(st.firsts) - 1 == 3  # the repeated text shares an entry
    for i, text in enumerate(TEXTS):
        assert st.of(i) == tokenized(text)
        assert st.terms_of(i) == terms(text)  # pieces cut at whitespace: the text's terms


def test_saved_and_loaded_or_none_when_damaged(tmp_path):
    st = SentenceTerms.build(TEXTS)
    path = tmp_path / "st.npz"
    st.save(path)
    back = SentenceTerms.load(path, len(TEXTS))
    assert [back.of(i) for i in range(4)] == [st.of(i) for i in range(4)]
    assert SentenceTerms.load(path, 3) is None  # another index's
    path.write_bytes(path.read_bytes()[:100])
    assert SentenceTerms.load(path, len(TEXTS)) is None
    assert SentenceTerms.load(tmp_path / "none.npz", 4) is None


@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder):
    from index import Settings

    root = tmp_path_factory.mktemp("sentence-terms")
    corpus = root / "docs" / "corpus.jsonl"
    corpus.parent.mkdir()
    docs = {f"d{i}": (f"Title {i}", " ".join(TEXTS[i % 4] or "Short." for _ in range(6))) for i in range(4)}
    corpus.write_text("".join(json.dumps({"doc_id": d, "title": t, "text": x}) + "\n" for d, (t, x) in docs.items()))
    settings = Settings(source_dir=corpus.parent, chroma_path=root / "chroma", collection="terms-test",
                        chunk_size=48, chunk_overlap=16)
    build_index(settings, embedder=embedder, show_progress=False)
    return IndexReader(settings, embedder=embedder)


def test_the_build_keeps_them_and_the_keyword_index_is_made_of_them(built):
    state = built.state()
    index = built._keyword_index(state)
    records = {r.chunk.id: r.chunk for r in built.store.visible_records(state, with_text=True)}
    assert index.sentences is not None and len(index.sentences) == len(records) > 4
    assert built.chunk_sentence_terms(list(records.values())) == {i: tokenized(c.text) for i, c in records.items()}
    for i, chunk_id in enumerate(index.ids):
        c = records[chunk_id]
        assert terms(c.title) + index.sentences.terms_of(i) == terms(embedding_text(c.title, c.text))
    # the same BM25 as one over the embedded texts (what the build indexed before)
    import bm25s

    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(w, len(vocab)) for w in terms(embedding_text(records[i].title, records[i].text))]
           for i in index.ids]
    model = bm25s.BM25(k1=1.2, b=0.75)
    model.index((ids, vocab), show_progress=False)
    assert model.vocab_dict == index._model.vocab_dict
    for key in ("data", "indices", "indptr"):
        assert np.array_equal(model.scores[key], index._model.scores[key])


def test_a_damaged_file_leaves_the_keyword_index_without_them(built, tmp_path):
    state = built.state()
    directory = kw.bm25_dir(built.settings.bm25_dir, state.physical, state.generation)
    copy = tmp_path / "copy"
    shutil.copytree(directory, copy)
    assert kw.BM25Index.load(copy).sentences is not None
    (copy / "sentence_terms.npz").write_bytes(b"not a zip")
    damaged = kw.BM25Index.load(copy)
    assert damaged is not None and damaged.sentences is None and damaged.sentence_terms(damaged.ids) == {}
    assert damaged.search("Ember erupted", 3) == kw.BM25Index.load(directory).search("Ember erupted", 3)


def test_sentence_spans_are_the_same_from_the_block_cache():
    """Blocks are split once and kept: a block's sentences depend on its text alone."""
    from index.sentences import _block_spans, sentence_spans

    text = "Intro line.\n\nDr. Smith came. He left at 5 p.m. and returned.\n\nA | B | C\n\nIntro line."
    _block_spans.cache_clear()
    first = sentence_spans(text)
    assert [text[s:e] for s, e in first] == ["Intro line.", "Dr. Smith came.", "He left at 5 p.m. and returned.",
                                            "A | B | C", "Intro line."]
    assert _block_spans.cache_info().hits == 1  # the repeated paragraph
    assert sentence_spans("  " + text) == [(s + 2, e + 2) for s, e in first]


def test_a_rebuild_with_no_change_adds_them_to_an_index_kept_without(built):
    state = built.state()
    path = kw.bm25_dir(built.settings.bm25_dir, state.physical, state.generation) / kw.SENTENCE_TERMS
    path.unlink()
    report = build_index(built.settings, embedder=built.embedder, show_progress=False)
    assert report.chunks_embedded == 0 and path.is_file() and built.state().generation == state.generation
    again = kw.BM25Index.load(path.parent)
    kept = built._keyword_index(state).sentence_terms(again.ids)
    assert again.sentences is not None and again.sentence_terms(again.ids) == kept
