"""Sentence entities stored by the build: right offsets, carried over by rebuilds (spaCy
reads each sentence once), kept per collection, and absent only for what was never analysed."""
from __future__ import annotations

import shutil

import pytest

import index.nlp
from index import IndexReader, QAError, build_index
from index import sentence_entities as se
from index import sentence_parses as sp
from index import sentence_vectors as sv
from index.store import ChromaStore

from .conftest import SEEDS
from .helpers import covid_docs, indexed_sentences, seed_index

SEED = SEEDS / "us-strikes-iran-backed-groups-iraq.txt"
EIGHT = "U.S. Central Command said the ballistic missile attack caused injuries to eight U.S. personnel and minor damage to infrastructure."
PLAIN = "Officials say those injured have since returned to duty."
OTHER = (
    "The harbour museum opened in 1998. It keeps three steam cranes and a lighthouse lens. "
    "Visitors climb the tower on Sundays. The lens was made in Paris in 1871."
)


@pytest.fixture
def analysed(monkeypatch):
    """Every text the build hands to spaCy (which still runs)."""
    seen: list[str] = []
    real = index.nlp.analyse

    def counting(texts, **kw):
        seen.extend(texts)
        return real(texts, **kw)

    monkeypatch.setattr(index.nlp, "analyse", counting)
    return seen


@pytest.fixture
def seeded(settings_factory, embedder):
    return seed_index(settings_factory(), embedder)


def _entity_files(settings) -> list[str]:
    return sorted(p.name for p in se.root(settings.chroma_path).iterdir())




def _split(text: str) -> list[str]:
    spans, _ = sv.chunk_sentences("", text)
    return [text[s:e] for s, e in spans]


def _reader(settings, embedder) -> IndexReader:
    return IndexReader(settings, embedder=embedder)


def test_every_sentence_is_analysed_at_build_with_exact_offsets(seeded, embedder):
    reader = _reader(seeded, embedder)
    sentences = indexed_sentences(seeded)
    stored = reader.sentence_entities(sentences)
    assert len(sentences) > 20 and all(e is not None for e in stored)

    [eight] = reader.sentence_entities([EIGHT])
    assert ("CARDINAL", "eight") in {(e.label, EIGHT[e.start:e.end]) for e in eight}
    assert any(e.label in ("ORG", "GPE") and EIGHT[e.start:e.end].startswith("U.S.") for e in eight)
    # the same entities as spaCy gives the sentence now (same model, same text)
    assert eight == index.nlp.entities([EIGHT])[0]
    # analysed and holding no entity is not the same as unknown
    assert reader.sentence_entities([PLAIN, "A sentence that is in no document at all."]) == [(), None]


def test_a_rebuild_reads_only_new_sentences_with_spacy(seeded, embedder, analysed):
    report = build_index(seeded, embedder=embedder)  # nothing changed
    assert analysed == [] and report.sentences_analysed == 0

    (seeded.source_dir / "harbour.txt").write_text(OTHER)
    report = build_index(seeded, embedder=embedder)
    assert report.files_added == ("harbour.txt",)
    assert analysed and set(analysed) <= set(_split(OTHER)) and len(analysed) == len(set(analysed))
    assert report.sentences_analysed == len(analysed)
    reader = _reader(seeded, embedder)
    assert all(e is not None for e in reader.sentence_entities(indexed_sentences(seeded)))  # the seed's, carried over
    [paris] = reader.sentence_entities(["The lens was made in Paris in 1871."])
    assert {("GPE", "Paris"), ("DATE", "1871")} <= {(e.label, "The lens was made in Paris in 1871."[e.start:e.end]) for e in paris}

    state = ChromaStore(seeded).require_state()
    entity_file = se.path_for(se.root(seeded.chroma_path), state.physical, state.generation)
    assert _entity_files(seeded) == sorted([entity_file.name] + [p.name for p in sp.paths(entity_file)])


def test_a_changed_document_gets_its_new_sentences_analysed_and_loses_its_old(seeded, embedder, analysed):
    path = seeded.source_dir / SEED.name
    added = "On Thursday, 40 engineers from Norway repaired the runway in Erbil."
    path.write_text(path.read_text().replace(PLAIN, added))
    report = build_index(seeded, embedder=embedder)
    assert report.files_changed == (SEED.name,)
    assert added in analysed
    # chunks overlap, and unchanged chunks keep their rows: far fewer than all sentences
    assert len(analysed) < len(set(indexed_sentences(seeded))) and EIGHT not in analysed

    reader = _reader(seeded, embedder)
    [new], [old] = reader.sentence_entities([added]), reader.sentence_entities([PLAIN])
    assert {"40", "Norway", "Erbil"} <= {added[e.start:e.end] for e in new}
    assert old is None


def test_a_lost_file_is_written_again_by_the_next_build(seeded, embedder, analysed):
    shutil.rmtree(se.root(seeded.chroma_path))
    reader = _reader(seeded, embedder)
    assert reader.sentence_entities([EIGHT]) == [None]  # callers then run spaCy themselves

    report = build_index(seeded, embedder=embedder)
    assert report.chunks_embedded == 0 and analysed
    assert all(e is not None for e in _reader(seeded, embedder).sentence_entities(indexed_sentences(seeded)))


def test_a_damaged_file_reads_as_unknown(seeded, embedder):
    state = ChromaStore(seeded).require_state()
    se.path_for(se.root(seeded.chroma_path), state.physical, state.generation).write_bytes(b"not numpy")
    assert _reader(seeded, embedder).sentence_entities([EIGHT, PLAIN]) == [None, None]


def test_another_collections_entities_survive_a_rebuild(seeded, settings_factory, embedder):
    other = settings_factory(collection="other-docs", source_dir=seeded.source_dir.parent / "other")
    other.source_dir.mkdir()
    (other.source_dir / "harbour.txt").write_text(OTHER)
    build_index(other, embedder=embedder)

    (seeded.source_dir / "harbour.txt").write_text(OTHER)
    build_index(seeded, embedder=embedder)
    build_index(seeded, embedder=embedder, full=True)

    assert len(_entity_files(seeded)) == 2 * 4  # each collection's entities and parse (tokens, index, strings)
    assert _reader(other, embedder).sentence_entities(["The lens was made in Paris in 1871."])[0]
    assert _reader(seeded, embedder).sentence_entities([EIGHT])[0]



def test_forked_workers_find_what_one_process_finds():
    sentences = list(dict.fromkeys(t for d in covid_docs(12, chars=8000) for t in _split(d["text"])))
    assert len(sentences) > index.nlp.TASK_SIZE  # more than one task, so the workers share them
    done = []
    parallel = index.nlp.entities(sentences, processes=2, progress=done.append)
    assert parallel == index.nlp.entities(sentences, processes=1)
    assert sum(done) == len(sentences) and sum(map(len, parallel)) > len(sentences) // 2


def test_a_missing_model_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(index.nlp, "MODEL", "en_core_web_sm_not_installed")
    with pytest.raises(QAError, match="make run"):
        index.nlp._Pipeline(()).get()


# ---- the stored parse -------------------------------------------------------------------

def _reading(doc) -> list[tuple]:
    return [(t.idx, t.text, t.whitespace_, t.tag_, t.pos_, t.dep_, t.head.i, t.lemma_) for t in doc] + \
        [(e.label_, e.start_char, e.end_char) for e in doc.ents]


def test_a_stored_sentence_is_rebuilt_exactly_as_spacy_parses_it(seeded, embedder):
    sentences = list(dict.fromkeys(indexed_sentences(seeded)))
    reader = _reader(seeded, embedder)
    tokens, ents = reader.sentence_parses(sentences), reader.sentence_entities(sentences)
    assert all(t for t in tokens)  # every sentence of the index has its parse
    rebuilt = index.nlp.parse_sentences(sentences, ents, tokens)
    parsed = list(index.nlp.parse_pipeline().pipe(sentences))
    assert [_reading(d) for d in rebuilt] == [_reading(d) for d in parsed]
    assert any(t.lemma_ == "strike" and t.text == "struck" for d in rebuilt for t in d)  # a stored lemma
    [one] = index.nlp.parse_sentences([EIGHT], None, reader.sentence_parses([EIGHT]))  # no entities given
    assert _reading(one) == _reading(index.nlp.parse_pipeline()(EIGHT))


def test_stored_tokens_that_do_not_spell_the_sentence_are_parsed_again(seeded, embedder):
    [tokens] = _reader(seeded, embedder).sentence_parses([EIGHT])
    wrong = "U.S. Central Command said the attack caused injuries to eight U.S. personnel."
    [doc] = index.nlp.parse_sentences([wrong], None, [tokens])
    assert doc.text == wrong and _reading(doc) == _reading(index.nlp.parse_pipeline()(wrong))


def test_a_rebuild_keeps_the_parse_of_unchanged_chunks_and_a_damaged_file_reads_as_unknown(seeded, embedder,
                                                                                          analysed):
    (seeded.source_dir / "harbour.txt").write_text(OTHER)
    build_index(seeded, embedder=embedder)
    reader = _reader(seeded, embedder)
    assert all(reader.sentence_parses(indexed_sentences(seeded)))  # old and new sentences
    assert EIGHT not in analysed
    state = ChromaStore(seeded).require_state()
    tokens_file, index_file, strings_file = sp.paths(se.path_for(se.root(seeded.chroma_path), state.physical, state.generation))
    strings_file.write_text("[]")  # rows that point past their strings
    assert _reader(seeded, embedder).sentence_parses([EIGHT]) == [None]
    index_file.write_bytes(b"not a numpy file")
    assert _reader(seeded, embedder).sentence_parses([EIGHT]) == [None]
    tokens_file.write_bytes(b"not a numpy file")
    assert _reader(seeded, embedder).sentence_parses([EIGHT]) == [None]
    analysed.clear()
    build_index(seeded, embedder=embedder)  # written again
    assert analysed and all(_reader(seeded, embedder).sentence_parses(indexed_sentences(seeded)))


def test_forked_workers_parse_as_one_process_does():
    sentences = list(dict.fromkeys(t for d in covid_docs(12, chars=8000) for t in _split(d["text"])))
    assert len(sentences) > index.nlp.TASK_SIZE
    assert index.nlp.analyse(sentences, processes=2) == index.nlp.analyse(sentences, processes=1)
