"""Knowledge bases: several collections in one Chroma, each built from its own folder.

Listed (Python and ``python -m index list``), answered from separately, rebuilt separately,
created from uploaded files, and named by Chroma's rules.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from index import (
    BadRequest, ChromaStore, KnowledgeBase, Settings, build_index, check_collection_name, collection_settings,
    list_collections, list_documents,
)

from .conftest import ROOT
from .helpers import free_port, wait_for_port

REACTOR = "The alpha reactor was commissioned in 1971 near the river. It was shut down in 2004.\n"
CHEESE = "Beta cheese is aged in limestone caves for eleven months. It smells strongly of hazelnut.\n"
TRAINS = "Gamma trains leave the northern station every twenty minutes on weekdays.\n"


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


@pytest.fixture
def two_bases(ui_settings_factory, embedder, tmp_path):
    """The default knowledge base (tmp/docs) and "cheese" (tmp/knowledge-bases/cheese), built."""
    s = ui_settings_factory()
    _write(s.source_dir, "reactor.txt", REACTOR)
    build_index(s, embedder=embedder)
    cheese = collection_settings(s, "cheese")
    _write(cheese.source_dir, "cheese.txt", CHEESE)
    build_index(cheese, embedder=embedder)
    return s, cheese


def _handlers(settings, embedder):
    from qa import Assistant
    from ui.handlers import Handlers

    return Handlers(settings, Assistant(settings, embedder=embedder), None)


def test_list_collections_names_the_logical_ones_with_their_folders_and_counts(two_bases, tmp_path):
    s, cheese = two_bases
    assert cheese.collection == "cheese" and cheese.source_dir == tmp_path / "knowledge-bases" / "cheese"
    kbs = list_collections(s)
    assert [kb.name for kb in kbs] == ["cheese", "documents"]  # not their physical collections
    by_name = {kb.name: kb for kb in kbs}
    assert by_name["documents"].source_dir == str((tmp_path / "docs").resolve())
    assert by_name["cheese"].source_dir == str(cheese.source_dir.resolve())
    for kb, settings in ((by_name["documents"], s), (by_name["cheese"], cheese)):
        docs = list_documents(ChromaStore(settings))
        assert (kb.documents, kb.chunks) == (len(docs), sum(d.chunks for d in docs)) == (1, 1)
        assert kb.built_at.startswith("20")
    physicals = [c.name for c in ChromaStore(s)._client.list_collections()]
    assert len(physicals) == 4 and sum("__" in n for n in physicals) == 2
    assert KnowledgeBase(**by_name["cheese"].to_dict()) == by_name["cheese"]


def test_an_index_from_before_the_folder_was_recorded_is_counted_then_recorded(two_bases, embedder):
    s, _ = two_bases
    store = ChromaStore(s)
    old = replace(store.require_state(), source_dir="", documents=None, chunks=None)
    store._client.delete_collection(s.collection)  # the pointer as an older build wrote it
    store.write_state(old)
    assert store.read_state() == old
    kb = next(kb for kb in list_collections(s) if kb.name == s.collection)
    assert (kb.source_dir, kb.documents, kb.chunks) == ("", 1, 1)  # counted from the records
    report = build_index(s, embedder=embedder)  # nothing changed: the same generation, now recorded
    assert report.chunks_embedded == 0
    state = store.require_state()
    assert (state.generation, state.physical) == (old.generation, old.physical)
    assert (state.source_dir, state.documents, state.chunks) == (str(s.source_dir.resolve()), 1, 1)


def test_cli_list_prints_the_knowledge_bases_and_json(two_bases, tmp_path):
    s, cheese = two_bases
    env = {"QA_CHROMA_PATH": str(s.chroma_path), "QA_SOURCE_DIR": str(s.source_dir), "PATH": "/usr/bin:/bin"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "index", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    out = run("list", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == [kb.to_dict() for kb in list_collections(s)]
    out = run("list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["name", "folder", "documents", "chunks", "built"]
    assert lines[1].split()[:4] == ["cheese", str(cheese.source_dir.resolve()), "1", "1"]
    assert lines[2].split()[:2] == ["documents", "*"]  # QA_COLLECTION's
    assert lines[-1] == "2 knowledge bases (* QA_COLLECTION)"
    assert "python -m index list" in run("--help").stdout

    # build another one by name from a folder; later its name alone rebuilds from that folder
    trains = _write(tmp_path / "trains", "trains.txt", TRAINS).parent
    out = run("build", "--collection", "trains", "--source", str(trains), "--json", "--no-progress")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["files_added"] == ["trains.txt"]
    _write(trains, "more.txt", CHEESE)
    out = run("build", "--collection", "trains", "--json", "--no-progress")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.splitlines()[-1])
    assert (report["files_added"], report["files_unchanged"]) == (["more.txt"], 1)
    out = run("status", "--collection", "trains", "--json")
    assert [d["source"] for d in json.loads(out.stdout)] == ["more.txt", "trains.txt"]
    assert [kb.name for kb in list_collections(s)] == ["cheese", "documents", "trains"]
    out = run("build", "--collection", "no__good")
    assert out.returncode == 1 and out.stderr.startswith("error: 'no__good' is not a valid name"), out.stderr


def test_each_knowledge_base_answers_from_its_own_documents(two_bases, embedder):
    s, _ = two_bases
    h = _handlers(s, embedder)
    question = "How long is the beta cheese aged?"
    default = h.ask(question, answerer="extractive")
    assert default["refused"] and not default["citations"]  # the reactor document has no cheese
    answer = h.ask(question, answerer="extractive", collection="cheese")
    assert not answer["refused"], answer
    assert {c["source"] for c in answer["citations"]} == {"cheese.txt"}
    assert "eleven months" in answer["text"]
    back = h.ask("When was the alpha reactor commissioned?", answerer="extractive", collection="documents")
    assert {c["source"] for c in back["citations"]} == {"reactor.txt"} and "1971" in back["text"]

    cheese = h.on("cheese")
    assert h.on("cheese") is cheese and cheese.on(None) is cheese and cheese.on("documents") is h
    assert cheese.assistant is not h.assistant and cheese.settings.collection == "cheese"
    assert cheese.assistant.reader.embedder is embedder  # one embedder for every knowledge base
    assert "cheese.txt" in h.documents("cheese") and "reactor.txt" not in h.documents("cheese")
    assert h.document_names("cheese") == ["cheese.txt"] and h.document_names() == ["reactor.txt"]
    assert h.knowledge_base_names() == ["documents", "cheese"]
    # streamed in the chat too
    *_, (_, messages, turns) = h.chat(question, [], [], "extractive", 5, None, "cheese")
    assert "eleven months" in messages[-1]["content"] and "cheese.txt" in messages[-1]["content"]
    assert len(turns) == 1


def test_each_knowledge_base_rebuilds_incrementally_from_its_own_folder(two_bases, embedder):
    s, cheese = two_bases
    h = _handlers(s, embedder)
    before = ChromaStore(s).require_state()
    _write(cheese.source_dir, "trains.txt", TRAINS)
    _write(s.source_dir, "not-yet.txt", TRAINS)  # the default's folder: not this rebuild's
    _, report = h.upload([str(_write(s.chroma_path.parent / "up", "more-cheese.txt", CHEESE + TRAINS))],
                         collection="cheese")
    assert "saved more-cheese.txt" in report and (cheese.source_dir / "more-cheese.txt").exists()
    progress = []
    html, documents = h.rebuild(lambda *a, **k: progress.append(k.get("desc")), collection="cheese")
    assert "Index rebuilt" in html and "added: more-cheese.txt, trains.txt" in html, html
    assert "not-yet.txt" not in html and "trains.txt" in documents and "reactor.txt" not in documents
    assert progress and progress[0] == "reading documents"
    assert ChromaStore(s).require_state() == before  # the default knowledge base is untouched
    again = build_index(collection_settings(s, "cheese"), embedder=embedder)  # from the recorded folder
    assert again.files_unchanged == 3 and again.chunks_embedded == 0
    kb = next(kb for kb in list_collections(s) if kb.name == "cheese")
    assert (kb.documents, kb.chunks) == (3, 3)


def test_a_new_knowledge_base_is_created_from_uploaded_files(ui_settings_factory, embedder, tmp_path):
    s = ui_settings_factory(kb_root=tmp_path / "bases")
    _write(s.source_dir, "reactor.txt", REACTOR)
    h = _handlers(s, embedder)
    upload = [str(_write(tmp_path / "up", "cheese notes.txt", CHEESE)),
              str(_write(tmp_path / "up", "photo.exe", "MZ"))]
    html, name = h.create_knowledge_base(" cheese-notes ", upload, lambda *a, **k: None)
    assert name == "cheese-notes", html
    assert "Created the knowledge base cheese-notes" in html and "added: cheese_notes.txt" in html
    assert "rejected photo.exe" in html
    assert (tmp_path / "bases" / "cheese-notes" / "cheese_notes.txt").read_text() == CHEESE
    assert [kb.name for kb in h.knowledge_bases()] == ["cheese-notes"]  # the default was never built
    assert h.knowledge_base_names() == ["documents", "cheese-notes"]
    answer = h.ask("How long is the beta cheese aged?", answerer="extractive", collection="cheese-notes")
    assert {c["source"] for c in answer["citations"]} == {"cheese_notes.txt"}

    with pytest.raises(BadRequest, match="already exists"):
        h.new_knowledge_base("cheese-notes", upload)
    with pytest.raises(BadRequest, match="already exists"):
        h.new_knowledge_base("documents", upload)  # the default's name, built or not
    with pytest.raises(BadRequest, match="Choose the files"):
        h.new_knowledge_base("empty-one", [])
    with pytest.raises(BadRequest, match="None of the files can be indexed.*photo.exe"):
        h.new_knowledge_base("exe-only", upload[1:])
    html, name = h.create_knowledge_base("bad name", upload, lambda *a, **k: None)
    assert name is None and "not a valid name" in html and "qa-error" in html
    assert sorted(p.name for p in (tmp_path / "bases").iterdir()) == ["cheese-notes"]


@pytest.mark.parametrize("name", ["ab", "x" * 50, "-lead", "trail_", "two__underscores", "with space",
                                  "dot.ted", "naïve", "", "a/b"])
def test_a_bad_name_is_a_clear_bad_request(name, settings_factory):
    with pytest.raises(BadRequest, match="is not a valid name: use 3 to 49 letters, digits.*without '__'"):
        check_collection_name(name)
    with pytest.raises(BadRequest, match="collection: .*not a valid name"):
        Settings.from_env(env_file=None, collection=name)
    with pytest.raises(BadRequest, match="not a valid name"):
        collection_settings(settings_factory(), name)


def test_good_names_and_unknown_knowledge_bases(two_bases, embedder):
    for name in ("abc", "x" * 49, "research-notes", "Notes_2024", "a_b-c"):
        assert check_collection_name(f" {name}") == name
        assert Settings(collection=name).collection == name
    s, _ = two_bases
    h = _handlers(s, embedder)
    with pytest.raises(BadRequest, match="no knowledge base named 'missing'. Pick one of: documents, cheese"):
        h.on("missing")
    assert "no knowledge base named" in h.documents("missing")
    with pytest.raises(BadRequest, match="not a valid name"):
        h.ask("How long is the beta cheese aged?", collection="no such")
    *_, (_, messages, _) = h.chat("How long?", [], [], "extractive", 5, None, "missing")
    assert "qa-error" in messages[-1]["content"] and "no knowledge base named" in messages[-1]["content"]


def test_knowledge_bases_on_a_chroma_server(settings_factory, embedder, tmp_path):
    chroma = Path(sys.executable).parent / "chroma"
    port = free_port()
    proc = subprocess.Popen(
        [str(chroma) if chroma.exists() else "chroma", "run", "--path", str(tmp_path / "server-data"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=60, proc=proc)
        s = settings_factory(chroma_host="127.0.0.1", chroma_port=port)
        _write(s.source_dir, "reactor.txt", REACTOR)
        build_index(s, embedder=embedder)
        trains = collection_settings(s, "trains")
        _write(trains.source_dir, "trains.txt", TRAINS)
        _write(trains.source_dir, "cheese.txt", CHEESE)
        build_index(trains, embedder=embedder)
        kbs = list_collections(s)
        assert [(kb.name, kb.documents) for kb in kbs] == [("documents", 1), ("trains", 2)]
        assert kbs[1].source_dir == str(trains.source_dir.resolve())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
