"""`python -m qa`, the one-shot `qa.answer()` and the pinned public surface."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import qa
from index import build_index
from qa import Settings

from .conftest import ROOT, SEEDS


@pytest.fixture(scope="module")
def seed_chroma(tmp_path_factory, embedder):
    path = tmp_path_factory.mktemp("cli") / "chroma"
    build_index(Settings(source_dir=SEEDS, chroma_path=path), embedder=embedder, show_progress=False)
    return path


def _run(*args, chroma, cwd=ROOT):
    env = {"QA_CHROMA_PATH": str(chroma), "QA_SOURCE_DIR": str(SEEDS), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_public_surface_is_pinned():
    assert sorted(qa.__all__) == sorted([
        "answer", "stream_answer", "Assistant", "Answer", "Citation", "Passage", "ShortAnswer", "Turn",
        "QAError", "BadRequest", "IndexMissing", "LLMUnavailable", "EmbedderMismatch", "EmbedderUnavailable",
        "Settings", "as_retriever", "as_query_engine", "ensure_index", "export_json", "export_markdown",
        "DocumentText", "NotFound", "document_text",
    ])
    for name in qa.__all__:
        assert getattr(qa, name) is not None


def test_cli_prints_answer_and_sources_then_json(seed_chroma, tmp_path):
    out = _run("how many personnel were injured?", chroma=seed_chroma)
    assert out.returncode == 0, out.stderr
    assert "eight U.S. personnel" in out.stdout
    assert '[1] us-strikes-iran-backed-groups-iraq.txt (chars ' in out.stdout

    history = tmp_path / "chat.json"
    history.write_text(json.dumps([{"question": "How many personnel were injured?", "answer": ""}]))
    out = _run("And how many in March?", "--json", "--k", "2", "--answerer", "extractive",
               "--history-file", str(history), chroma=seed_chroma)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= {"question", "text", "citations", "refused", "passages", "answerer", "notice",
                         "seconds", "retrieval_query", "flags"}
    assert "23 military personnel" in data["text"] and len(data["passages"]) == 2
    c = data["citations"][0]
    assert set(c) >= {"number", "source", "quote", "start", "end", "verified"} and c["verified"]
    text = (SEEDS / c["source"]).read_text()
    assert text[c["start"]:c["end"]] == c["quote"]


def test_cli_errors_are_one_line_and_exit_1(seed_chroma, tmp_path):
    out = _run("   ", chroma=seed_chroma)
    assert out.returncode == 1 and out.stderr.startswith("error: ") and "Traceback" not in out.stderr
    out = _run("who?", "--history-file", str(tmp_path / "nope.json"), chroma=seed_chroma)
    assert out.returncode == 1 and "history file" in out.stderr and "Traceback" not in out.stderr
    helped = _run("--help", chroma=seed_chroma)
    assert helped.returncode == 0 and "examples:" in helped.stdout and "--history-file" in helped.stdout


def test_one_shot_answer_reads_settings_and_reuses_the_assistant(seed_chroma, monkeypatch):
    monkeypatch.setenv("QA_CHROMA_PATH", str(seed_chroma))
    monkeypatch.setenv("QA_SOURCE_DIR", str(SEEDS))
    a = qa.answer("How many hostages did Hamas take?")
    assert "240" in a.text and a.citations[0].verified
    settings = Settings.from_env()
    assert qa._assistant(settings) is qa._assistant(Settings.from_env())
    *deltas, final = list(qa.stream_answer("How many hostages did Hamas take?", settings=settings))
    assert "".join(deltas) == final.text == a.text
