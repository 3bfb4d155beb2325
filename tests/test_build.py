"""The index build: incremental add / change / delete, offsets, ids, locking, mismatch."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from filelock import FileLock

from index import BuildInProgress, EmbedderMismatch, IndexMissing, IndexReader, build_index, list_documents
from index.store import ChromaStore

from .conftest import ROOT, SEEDS

SEED = SEEDS / "us-strikes-iran-backed-groups-iraq.txt"

ALPHA = "The alpha reactor was commissioned in 1971 near the river. " * 3
BETA = "Beta cheese is aged in limestone caves for eleven months. It smells strongly. " * 2
GAMMA = "Gamma trains leave the northern station every twenty minutes on weekdays. " * 2


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def _records(settings):
    store = ChromaStore(settings)
    return store.visible_records(store.require_state(), with_text=True)


def test_add_change_delete_cycle_counts(settings_factory, embedder):
    s = settings_factory()
    docs = s.source_dir
    _write(docs, "alpha.txt", ALPHA)
    _write(docs, "beta.md", "# Beta\n\n" + BETA)

    r1 = build_index(s, embedder=embedder)
    assert r1.files_added == ("alpha.txt", "beta.md")
    assert r1.chunks_embedded == r1.chunks_total > 0
    assert (r1.chunks_reused, r1.chunks_deleted) == (0, 0)

    r2 = build_index(s, embedder=embedder)
    assert (r2.files_added, r2.files_changed, r2.files_removed) == ((), (), ())
    assert r2.files_unchanged == 2
    assert r2.chunks_embedded == 0 and r2.chunks_total == r1.chunks_total

    _write(docs, "gamma.txt", GAMMA)
    r3 = build_index(s, embedder=embedder)
    assert r3.files_added == ("gamma.txt",)
    gamma_chunks = sum(1 for r in _records(s) if r.chunk.source == "gamma.txt")
    assert r3.chunks_embedded == gamma_chunks and r3.chunks_deleted == 0
    assert r3.files_unchanged == 2

    alpha_before = {r.chunk.id for r in _records(s) if r.chunk.source == "alpha.txt"}
    _write(docs, "alpha.txt", ALPHA + "\n\nA new paragraph about the alpha reactor's decommissioning in 2020.")
    r4 = build_index(s, embedder=embedder)
    assert r4.files_changed == ("alpha.txt",) and r4.files_unchanged == 2
    alpha_now = [r for r in _records(s) if r.chunk.source == "alpha.txt"]
    # only the changed document's new chunks were embedded
    assert 0 < r4.chunks_embedded <= len(alpha_now)
    # exactly the old chunks the new text no longer has were retired; the others were kept
    retired = alpha_before - {r.chunk.id for r in alpha_now}
    assert r4.chunks_deleted == len(retired) > 0
    assert r4.chunks_total == r3.chunks_total - len(retired) + r4.chunks_embedded
    assert all(r.doc_hash == alpha_now[0].doc_hash for r in alpha_now)

    (docs / "beta.md").unlink()
    r5 = build_index(s, embedder=embedder)
    assert r5.files_removed == ("beta.md",)
    assert r5.chunks_embedded == 0 and r5.chunks_deleted > 0
    assert {r.chunk.source for r in _records(s)} == {"alpha.txt", "gamma.txt"}
    store = ChromaStore(s)
    assert store.count(store.require_state().physical) == r5.chunks_total  # garbage collected


def test_changed_document_reembeds_only_its_own_new_chunks(settings_factory, embedder):
    s = settings_factory(chunk_size=64, chunk_overlap=0)
    paragraphs = [f"Paragraph {i} talks about topic number {i} in some detail, with facts." for i in range(12)]
    _write(s.source_dir, "long.txt", "\n\n".join(paragraphs))
    _write(s.source_dir, "other.txt", GAMMA)
    r1 = build_index(s, embedder=embedder)
    n_long = sum(1 for r in _records(s) if r.chunk.source == "long.txt")
    assert n_long >= 3
    # change only the last paragraph: earlier chunks keep their text, so their vectors are reused
    paragraphs[-1] = "The final paragraph was rewritten entirely."
    _write(s.source_dir, "long.txt", "\n\n".join(paragraphs))
    r2 = build_index(s, embedder=embedder)
    assert r2.files_changed == ("long.txt",)
    assert r2.chunks_embedded == 1
    assert r2.chunks_total == r1.chunks_total


def test_offsets_round_trip_and_chunks_fit_the_embedder(settings_factory, embedder):
    from index.loaders import load_documents

    s = settings_factory(source_dir=SEEDS)
    build_index(s, embedder=embedder)
    text = {d.source: d.text for d in load_documents(SEEDS).documents}
    recs = _records(s)
    assert recs
    for r in recs:
        c = r.chunk
        assert text[c.source][c.start : c.end] == c.text
        assert embedder.count_tokens(f"{c.title}\n{c.text}") <= 256
    # sentence-aware: every chunk starts at a sentence start and ends at sentence punctuation or line end
    for r in recs:
        assert r.chunk.text[0].isupper() or r.chunk.text[0] in "\"“'"


def test_chunk_ids_are_stable_across_full_rebuilds(settings_factory, embedder):
    s = settings_factory(source_dir=SEEDS)
    build_index(s, embedder=embedder)
    ids1 = sorted(r.chunk.id for r in _records(s))
    r = build_index(s, embedder=embedder, full=True)
    assert r.full and r.chunks_reused == len(ids1) and r.chunks_embedded == 0
    assert sorted(x.chunk.id for x in _records(s)) == ids1
    store = ChromaStore(s)
    assert len(store.physicals()) == 1  # the old collection was dropped


def test_bad_files_are_listed_and_do_not_stop_the_build(settings_factory, embedder):
    s = settings_factory()
    _write(s.source_dir, "good.txt", ALPHA)
    (s.source_dir / "empty.txt").write_text("   \n")
    (s.source_dir / "blob.txt").write_bytes(b"\x00\x01\x02" * 100)
    (s.source_dir / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (s.source_dir / "data.xyz").write_text("unsupported")
    r = build_index(s, embedder=embedder)
    assert r.files_added == ("good.txt",)
    reasons = {sk.path: sk.reason for sk in r.skipped}
    assert set(reasons) == {"empty.txt", "blob.txt", "broken.pdf", "data.xyz"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["blob.txt"]
    assert "pdf" in reasons["broken.pdf"].lower() and "unsupported" in reasons["data.xyz"]


def test_second_build_while_one_runs_gets_a_clear_error(settings_factory, embedder):
    s = settings_factory(source_dir=SEEDS)
    s.chroma_path.mkdir(parents=True)
    with FileLock(str(s.lock_path)):
        with pytest.raises(BuildInProgress, match="Wait for it to finish"):
            build_index(s, embedder=embedder)
    assert build_index(s, embedder=embedder).chunks_total > 0


class _Renamed:
    """The same real model under another name, as if QA_EMBED_MODEL had changed."""

    def __init__(self, inner, id_):
        self._inner, self.id = inner, id_

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_embedder_mismatch_says_to_run_a_full_rebuild(settings_factory, embedder):
    s = settings_factory(source_dir=SEEDS)
    build_index(s, embedder=embedder)
    other = _Renamed(embedder, "local:some-other-model")
    with pytest.raises(EmbedderMismatch, match="--full"):
        IndexReader(s, embedder=other).search("injured", dense_k=3, keyword_k=3)
    with pytest.raises(EmbedderMismatch, match="--full"):
        build_index(s, embedder=other)
    r = build_index(s, embedder=other, full=True)
    assert r.chunks_embedded == r.chunks_total and r.embedder == "local:some-other-model"
    assert IndexReader(s, embedder=other).search("injured", dense_k=3, keyword_k=3).dense


def test_missing_index_and_missing_source_are_clear(settings_factory, embedder):
    from index import BadRequest

    s = settings_factory()
    with pytest.raises(IndexMissing, match="python -m index build"):
        IndexReader(s, embedder=embedder).search("x", dense_k=1, keyword_k=1)
    with pytest.raises(BadRequest, match="does not exist"):
        build_index(s, embedder=embedder)


def test_cli_build_json_status_and_help(tmp_path):
    env = {"QA_CHROMA_PATH": str(tmp_path / "c"), "QA_SOURCE_DIR": str(SEEDS), "PATH": "/usr/bin:/bin"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "index", *a], cwd=ROOT, env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=300)
    out = run("build", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["chunks_embedded"] > 0 and report["files_added"] == [SEED.name]
    again = json.loads(run("build", "--json").stdout.strip().splitlines()[-1])
    assert again["chunks_embedded"] == 0 and again["files_unchanged"] == 1
    status = run("status")
    assert SEED.name in status.stdout and "1 documents" in status.stdout
    helped = run("build", "--help")
    assert "--full" in helped.stdout and "--source" in helped.stdout
    bad = run("build", "--source", str(tmp_path / "nope"))
    assert bad.returncode == 1 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr


def test_status_lists_documents(settings_factory, embedder):
    s = settings_factory(source_dir=SEEDS)
    build_index(s, embedder=embedder)
    docs = list_documents(ChromaStore(s))
    assert [d.source for d in docs] == [SEED.name]
    assert docs[0].chunks == len(_records(s)) and docs[0].indexed_at


def test_collections_sharing_a_folder_keep_their_keyword_and_sentence_files(settings_factory, embedder, tmp_path):
    """Two collections in one QA_CHROMA_PATH: building (and rebuilding) one must not delete
    the other's saved BM25 index or sentence vectors (it once did: the other then answered
    without sentence vectors and rebuilt its BM25 from Chroma on the first question)."""
    from index import sentence_vectors as sv

    a = settings_factory(collection="alpha", source_dir=tmp_path / "a")
    b = settings_factory(collection="alpha_b", source_dir=tmp_path / "b")  # "alpha" is a prefix of it
    _write(a.source_dir, "alpha.txt", ALPHA)
    _write(b.source_dir, "beta.txt", BETA)
    build_index(a, embedder=embedder)
    build_index(b, embedder=embedder)
    _write(b.source_dir, "gamma.txt", GAMMA)
    build_index(b, embedder=embedder)  # a new generation of b: b's old files go, a's stay
    _write(a.source_dir, "gamma.txt", GAMMA)
    build_index(a, embedder=embedder)

    for s in (a, b):
        state = ChromaStore(s).require_state()
        assert sv.load(sv.path_for(s.sentence_dir, state.physical, state.generation)) is not None, s.collection
        assert (s.bm25_dir / f"{state.physical}-g{state.generation}").is_dir(), s.collection
    # and each collection keeps only its live generation's files
    assert len(list(a.sentence_dir.iterdir())) == 2
    assert len(list(a.bm25_dir.iterdir())) == 2


def test_another_chunking_rechunks_every_document_from_its_file(settings_factory, embedder):
    """A new chunk size (or chunker version) re-reads and re-chunks unchanged files: their
    stand-ins carry no text, and once re-chunked them to nothing (an empty index)."""
    s = settings_factory(chunk_size=64, chunk_overlap=0)
    paragraphs = [f"Paragraph {i} talks about topic number {i} in some detail, with facts." for i in range(12)]
    _write(s.source_dir, "long.txt", "\n\n".join(paragraphs))
    _write(s.source_dir, "other.txt", GAMMA)
    first = build_index(s, embedder=embedder)
    wider = s.model_copy(update={"chunk_size": 128})
    report = build_index(wider, embedder=embedder)
    records = _records(wider)
    assert report.documents_total == 2 and {r.chunk.source for r in records} == {"long.txt", "other.txt"}
    assert 0 < report.chunks_total < first.chunks_total  # bigger chunks, fewer of them
    text = (s.source_dir / "long.txt").read_text()
    assert all(text[r.chunk.start:r.chunk.end] == r.chunk.text for r in records if r.chunk.source == "long.txt")
    hits = IndexReader(wider, embedder=embedder).search("topic number 7", dense_k=3, keyword_k=3)
    assert hits.keyword and hits.dense
