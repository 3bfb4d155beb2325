"""qa.retrieval: score fusion, the best-sentence re-rank and neighbour windows, on a small
real index (real Chroma, real MiniLM) and on hand-made scored chunks."""
from __future__ import annotations

import json

import pytest

from index import IndexReader, ScoredChunk, build_index
from index.models import Chunk
from index.sentence_terms import sentence_units
from qa.retrieval import CHUNK_LEVEL, RetrievalConfig, _fuse, _rerank, rank_chunks, retrieve

DOCS = {
    "volcano": ("Mount Ember", "Mount Ember is an active stratovolcano on the northern island. "
                "Its last major eruption happened in 1783 and buried three villages under ash. "
                "Geologists monitor sulphur dioxide emissions from the summit crater every week. "
                "The mountain rises 2,950 metres above sea level."),
    "recipe": ("Barley soup", "Barley soup is cooked slowly with carrots, leeks and celery. "
               "The grains need about ninety minutes to soften completely. "
               "Many families serve it with rye bread during the cold months."),
    "chess": ("Endgame study", "In a rook endgame the defending king should stay in front of the pawn. "
              "The Philidor position shows how to draw with the rook on the sixth rank. "
              "Grandmasters practise these positions for hours."),
    "long": ("Harbour history", " ".join(
        f"In year {1800 + i} the harbour received {i + 3} new ships and the pier was extended by {i + 1} metres."
        for i in range(40))),
}


def _chunk(cid, text, source="doc", start=0):
    return Chunk(id=cid, source=source, title="", text=text, start=start, end=start + len(text), ordinal=0)


@pytest.fixture(scope="module")
def reader(tmp_path_factory, embedder):
    from index import Settings

    root = tmp_path_factory.mktemp("retrieval")
    corpus = root / "docs" / "corpus.jsonl"
    corpus.parent.mkdir()
    corpus.write_text("".join(json.dumps({"doc_id": d, "title": t, "text": x}) + "\n" for d, (t, x) in DOCS.items()))
    settings = Settings(source_dir=corpus.parent, chroma_path=root / "chroma", collection="retrieval-test",
                        chunk_size=64, chunk_overlap=30)
    build_index(settings, embedder=embedder, show_progress=False)
    return IndexReader(settings, embedder=embedder)


# ---- fusion on hand-made lists -----------------------------------------------------------
def test_fusion_keeps_score_margins_and_floors_missing_entries():
    keyword = [("a", 30.0), ("b", 3.0), ("c", 2.0)]  # a far ahead
    dense = [("b", 0.52), ("c", 0.50), ("a", 0.49)]  # all close
    fused = _fuse(keyword, dense, RetrievalConfig())
    assert [i for i, _ in fused] == ["a", "b", "c"]  # RRF would tie a and b
    # a chunk only the dense side found gets the keyword list's lowest z, not zero
    fused = _fuse(keyword, dense + [("d", 0.95)], RetrievalConfig())
    by_id = dict(fused)
    assert by_id["d"] < by_id["a"]
    # weights: dense only
    only_dense = _fuse(keyword, dense, RetrievalConfig(keyword_weight=0.0, dense_weight=1.0))
    assert only_dense[0][0] == "b"


def test_fusion_with_one_empty_list():
    fused = _fuse([], [("a", 0.3), ("b", 0.6)], RetrievalConfig())
    assert [i for i, _ in fused] == ["b", "a"]


def test_rerank_prefers_the_chunk_whose_one_sentence_holds_the_question():
    q = "When did the northern lighthouse close?"
    together = _chunk("t", "Boats were painted. The northern lighthouse did close in 1931. Fish were sold.")
    scattered = _chunk("s", "The northern road was long. A lighthouse stood there. Shops close early.")
    filler = [_chunk(f"f{i}", f"Unrelated text number {i} about gardens.") for i in range(3)]
    hits = [ScoredChunk(scattered, 1.0), ScoredChunk(together, 1.0)] + [ScoredChunk(f, 0.0) for f in filler]
    out = {h.chunk.id: h.score for h in _rerank(q, hits, RetrievalConfig())}
    assert out["t"] > out["s"] > out["f0"]


def test_rerank_prefers_the_chunk_that_defines_what_a_what_is_question_asks():
    q = "What is KATNAL1?"
    defining = _chunk("d", "Mice were bred in 2010. KATNAL1 is a microtubule severing enzyme. Brains were imaged.")
    mentioning = _chunk("m", "Mice were bred in 2010. Mice lacking KATNAL1 were imaged. Brains were imaged.")
    hits = [ScoredChunk(mentioning, 1.0), ScoredChunk(defining, 1.0)]
    out = {h.chunk.id: h.score for h in _rerank(q, hits, RetrievalConfig())}
    assert out["d"] > out["m"]
    level = {h.chunk.id: h.score for h in _rerank(q, hits, RetrievalConfig(definition_weight=0))}
    assert level["d"] == level["m"]  # the definition is the only difference


def test_sentence_units_split_and_keep_offsets():
    text = 'It began in 1783. "Ash fell." Then came rain!\nNew line here'
    units = [text[s:e] for s, e in sentence_units(text)]
    assert units == ["It began in 1783.", '"Ash fell."', "Then came rain!", "New line here"]


def test_config_is_validated():
    with pytest.raises(ValueError):
        RetrievalConfig(candidates=0)


# ---- on a real index ----------------------------------------------------------------------
def test_keyword_match_wins(reader):
    top = retrieve(reader, "When did Mount Ember last erupt?", 3, config=CHUNK_LEVEL)
    assert top[0].source == "volcano" and "1783" in top[0].text
    assert [p.rank for p in top] == [1, 2, 3]


def test_paraphrase_found_by_the_dense_side(reader):
    # no content word shared with the soup document, but the same meaning
    top = retrieve(reader, "a warm meal of grain and vegetables for winter", 2, config=CHUNK_LEVEL)
    assert top[0].source == "recipe"


def test_exact_number_in_a_long_document(reader):
    top = retrieve(reader, "In which year did the harbour receive 20 new ships?", 1, config=CHUNK_LEVEL)
    assert top[0].source == "long" and "1817" in top[0].text


def test_passages_are_exact_document_text_with_windows(reader):
    text = DOCS["long"][1]
    chunked = retrieve(reader, "pier extended by 21 metres", 3, config=CHUNK_LEVEL)
    windowed = retrieve(reader, "pier extended by 21 metres", 3, config=RetrievalConfig(window=1))
    for p in chunked + windowed:
        source_text = DOCS[p.source][1]
        assert source_text[p.start : p.end] == p.text
    assert windowed[0].chunk_id == chunked[0].chunk_id
    assert len(windowed[0].text) > len(chunked[0].text)  # context added around the match
    # merged windows never overlap one another
    spans = sorted((p.start, p.end) for p in windowed if p.source == "long")
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert text  # the long document is several chunks
    assert len(reader.document_chunks("long")) > 3


def test_k_larger_than_the_index_and_no_keyword_match(reader):
    total = sum(len(reader.document_chunks(d)) for d in DOCS)
    got = rank_chunks(reader, "zzzz qqqq", 500)
    assert 0 < len(got) <= total
    assert retrieve(reader, "anything", 0) == []


def test_neighbours_are_found_by_position_in_reading_order(reader):
    """The keyword index lists chunks in reading order, so a chunk's neighbours are read by
    id — and they are exactly the document's own neighbours."""
    doc = reader.document_chunks("long")
    middle = doc[len(doc) // 2]
    around = reader.neighbourhoods([middle, doc[0]], 1)
    i = len(doc) // 2
    assert [c.id for c in around["long"]] == [c.id for c in doc[:2] + doc[i - 1 : i + 2]]
    assert reader.neighbourhoods([middle], 0)["long"] == [middle]


def test_an_index_out_of_reading_order_reads_the_whole_document(reader):
    from index import bm25 as kw
    from index.cache import generation_key

    state = reader.state()
    shuffled = IndexReader(reader.settings, store=reader.store, embedder=reader.embedder)
    index = reader._keyword_index(state)
    doc = reader.document_chunks("long")
    ids = [i for i in index.ids if i != doc[2].id]
    ids.insert(ids.index(doc[3].id) + 2, doc[2].id)  # doc[2] no longer just before doc[3]
    shuffled._bm25.put(generation_key(reader.store, state), kw.BM25Index(ids, index._model))
    assert shuffled.neighbourhoods([doc[3]], 1) == {"long": None}
    from qa.windows import windows

    ranked = rank_chunks(reader, "pier extended by 21 metres", 9, config=CHUNK_LEVEL)
    assert any(h.chunk.source == "long" for h in ranked)
    assert windows(shuffled, ranked, 1, 3) == windows(reader, ranked, 1, 3)


# ---- what the ranking reads ---------------------------------------------------------------
QUESTIONS = ("When did Mount Ember last erupt?", "In which year did the harbour receive 20 new ships?",
             "How long does barley need to soften?", "a warm meal of grain and vegetables for winter")


def test_only_the_reranked_chunks_and_the_top_k_are_read(reader, monkeypatch):
    """The searches give ids and scores; chunks are read for the re-rank's head and the
    top k only, and the ranking is the one of a search that reads every hit."""
    read: list[str] = []
    real = reader.read
    monkeypatch.setattr(reader, "read", lambda found, ids: read.extend(ids) or real(found, ids))
    config = RetrievalConfig(rerank_depth=3, window=0)
    got = rank_chunks(reader, QUESTIONS[1], 2, config=config)
    found = reader.search_ids(QUESTIONS[1], dense_k=80, keyword_k=80)
    assert len({i for i, _ in found.dense + found.keyword}) > 10 >= len(read) and len(set(read)) <= 3 + 2

    class Whole:  # an Evidence without search_ids: every hit read with the search
        def __getattr__(self, name):
            if name in ("search_ids", "read"):
                raise AttributeError(name)
            return getattr(reader, name)

    assert [(h.chunk, h.score) for h in rank_chunks(Whole(), QUESTIONS[1], 2, config=config)] \
        == [(h.chunk, h.score) for h in got]


def test_the_rerank_reads_the_stored_sentence_terms(reader, monkeypatch):
    """The build keeps each chunk's sentence terms with the keyword index: the re-rank
    tokenizes nothing, and ranks as it does by tokenizing (an index kept without them)."""
    from index import bm25 as kw
    from index.cache import generation_key
    from qa import retrieval

    state = reader.state()
    index = reader._keyword_index(state)
    assert index.sentences is not None
    bare = IndexReader(reader.settings, store=reader.store, embedder=reader.embedder)
    bare._bm25.put(generation_key(reader.store, state), kw.BM25Index(index.ids, index._model, index.sources))

    def rankings(r):
        retrieval._sentences.clear()
        return [[(h.chunk.id, h.score) for h in rank_chunks(r, q, 6, config=CHUNK_LEVEL)] for q in QUESTIONS]

    tokenized = retrieval.tokenized
    with monkeypatch.context() as m:
        m.setattr(retrieval, "tokenized", lambda text: pytest.fail("tokenized a stored chunk"))
        stored = rankings(reader)
    calls = []
    monkeypatch.setattr(retrieval, "tokenized", lambda text: calls.append(text) or tokenized(text))
    assert rankings(bare) == stored and calls


def test_a_search_whose_chunks_a_rebuild_deleted_meanwhile_is_run_again(reader, monkeypatch):
    config = RetrievalConfig(window=0)
    want = rank_chunks(reader, QUESTIONS[0], 3, config=config)
    real, calls = reader.read, []

    def deleting(found, ids):
        got = real(found, ids)
        calls.append(len(ids))
        if len(calls) == 1:
            got.pop(ids[0])  # a rebuild deleted it after the search
        return got

    monkeypatch.setattr(reader, "read", deleting)
    assert rank_chunks(reader, QUESTIONS[0], 3, config=config) == want and len(calls) >= 2
