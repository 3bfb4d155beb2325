"""Faults the user did not cause: a damaged index on disk, an LLM endpoint that fails.

* A damaged or missing local index gives a :class:`QAError` whose message says how to
  rebuild (through ``qa.answer``, ``python -m qa``, ``python -m index status`` and the UI's
  ask path), never a traceback; following the message brings the answers back in the same
  process. A damaged keyword (BM25) index is rebuilt from Chroma without the user noticing.
* The LLM endpoint (the real llama.cpp server behind :mod:`tests.fault_proxy`) failing with
  HTTP 500, malformed JSON, a reply slower than the timeout, a stream that stalls, a
  closed port, or the real server stopped: every question gets the extractive answer with
  verified citations and a notice saying what failed, within timeout × (retries + 1) plus slack.

The long runs (SIGKILLed builds, a Chroma server restarted mid-build) are in
tests/test_faults_long.py.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from index import IndexReader, QAError, StoreUnavailable, build_index
from index.bm25 import BM25Index
from qa import Assistant

from .conftest import ROOT, SEEDS
from .fault_proxy import fault_proxy
from .helpers import SEED_QUESTION, assert_cited
from .conftest import require_llama_cpp
from .llm_server import llama_server

QUESTION = SEED_QUESTION
REBUILD_HINT = "python -m index build"
ARTIFACT = ROOT / "tests" / "artifacts" / "faults.json"


def record(group: str, name: str, figures: dict) -> None:
    """Keep what a fault did (message, seconds) for docs/reliability/faults.md; ``-s`` prints it."""
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
    data.setdefault(group, {})[name] = figures
    ARTIFACT.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{group} / {name}: {json.dumps(figures, ensure_ascii=False)}", flush=True)


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, embedder) -> Path:
    """A local index of seeds/, built once; tests damage copies of it."""
    from index import Settings

    root = tmp_path_factory.mktemp("seed-index")
    build_index(Settings(source_dir=SEEDS, chroma_path=root / "chroma"), embedder=embedder)
    return root / "chroma"


# --------------------------------------------------------------------------- damaged index

def _only_bm25_dir(chroma: Path) -> Path:
    (found,) = [d for d in (chroma / "bm25").iterdir() if d.is_dir()]
    return found


def _delete_physical(chroma: Path) -> None:
    import chromadb

    client = chromadb.PersistentClient(path=str(chroma), settings=chromadb.Settings(anonymized_telemetry=False))
    for col in client.list_collections():
        if "__" in col.name:  # the data, not the pointer
            client.delete_collection(col.name)


def _rewrite(path: Path, transform) -> None:
    path.write_bytes(transform(path.read_bytes()))


DAMAGE = {
    "deleted chroma dir": lambda c: shutil.rmtree(c),
    "empty chroma.sqlite3": lambda c: (c / "chroma.sqlite3").write_bytes(b""),
    "truncated chroma.sqlite3": lambda c: _rewrite(c / "chroma.sqlite3", lambda b: b[: len(b) // 2]),
    "garbage chroma.sqlite3": lambda c: _rewrite(c / "chroma.sqlite3", lambda b: os.urandom(len(b))),
    "garbage header of chroma.sqlite3": lambda c: _rewrite(c / "chroma.sqlite3", lambda b: bytes(100) + b[100:]),
    "deleted physical collection": _delete_physical,
}
SELF_HEALING = {
    "deleted bm25 dir": lambda c: shutil.rmtree(c / "bm25"),
    "garbage bm25 files": lambda c: [f.write_bytes(os.urandom(300)) for f in _only_bm25_dir(c).iterdir()],
    "truncated bm25 arrays": lambda c: [_rewrite(f, lambda b: b[: len(b) // 2])
                                        for f in _only_bm25_dir(c).glob("*.npy")],
    "bm25 ids of another index": lambda c: (_only_bm25_dir(c) / "ids.json").write_text(json.dumps(["x", "y"])),
}


@pytest.fixture
def damaged(seed_index, ui_settings_factory, tmp_path):
    """Settings over a damaged copy of the seed index; no documents folder (so nothing is
    rebuilt behind the user's back)."""

    def make(how: str):
        s = ui_settings_factory(chroma_path=tmp_path / "chroma")
        shutil.copytree(seed_index, s.chroma_path)
        (DAMAGE | SELF_HEALING)[how](s.chroma_path)
        return s

    return make


def _cli(main, argv, capsys) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_index_says_how_to_rebuild_and_the_rebuild_works(how, damaged, embedder, monkeypatch, capsys):
    import qa
    from index.__main__ import main as index_main
    from qa.__main__ import main as qa_main
    from ui.handlers import Handlers

    s = damaged(how)

    start = time.monotonic()
    with pytest.raises(QAError, match=REBUILD_HINT.replace(" ", r"\s")) as err:
        qa.answer(QUESTION, settings=s)
    message = str(err.value)
    record("damaged index", how, {"error": type(err.value).__name__, "message": message,
                                  "seconds": round(time.monotonic() - start, 2)})
    if "sqlite3" in how and how != "empty chroma.sqlite3":  # unreadable: must be deleted first
        assert isinstance(err.value, StoreUnavailable) and "Delete that folder" in message

    monkeypatch.setenv("QA_CHROMA_PATH", str(s.chroma_path))
    monkeypatch.setenv("QA_SOURCE_DIR", str(s.source_dir))
    for main, argv in ((index_main, ["status"]), (qa_main, [QUESTION])):
        code, stderr = _cli(main, argv, capsys)
        assert code == 1 and stderr.startswith("error: ") and REBUILD_HINT in stderr, stderr
        assert "Traceback" not in stderr

    ui = Handlers(s, Assistant(s), None)  # a long-running app process
    with pytest.raises(QAError, match=REBUILD_HINT):
        ui.ask(QUESTION)
    *_, (_, messages, _) = ui.chat(QUESTION, [], [], "extractive", 5)
    assert 'class="qa-error"' in messages[-1]["content"] and REBUILD_HINT in messages[-1]["content"]

    # do what the message says; the same process then answers again
    if "Delete that folder" in message:
        shutil.rmtree(s.chroma_path)
    shutil.copytree(SEEDS, s.source_dir)
    report = build_index(s, embedder=embedder)
    assert report.documents_total == 1 and report.chunks_total > 0
    assert_cited(ui.assistant.ask(QUESTION, answerer="extractive"))
    assert_cited(qa.answer(QUESTION, settings=s))


@pytest.mark.parametrize("how", list(SELF_HEALING))
def test_damaged_keyword_index_is_rebuilt_from_chroma(how, damaged, embedder):
    s = damaged(how)
    reader = IndexReader(s, embedder=embedder)
    assert_cited(Assistant(s, reader=reader).ask(QUESTION, answerer="extractive"))
    repaired = BM25Index.load(_only_bm25_dir(s.chroma_path))  # saved again, whole
    live = reader.store.visible_records(reader.state())
    assert repaired is not None and sorted(repaired.ids) == sorted(r.chunk.id for r in live)


# --------------------------------------------------------------------------- failing LLM

TIMEOUT, RETRIES = 1.0, 1  # for faults the proxy produces itself, without the server
REAL_TIMEOUT = 90.0  # the real server reads a prompt in 30-40 s on a busy 2-core machine
OPENAI_MAX_BACKOFF = 8.0  # the openai client waits at most this long between retries
SLACK = 30.0  # retrieval and the extractive answer on a busy 2-core machine; a no-hang check


@pytest.fixture
def proxy(llm_server):
    with fault_proxy(llm_server.base_url, delay=TIMEOUT + 4) as p:
        yield p


@pytest.fixture
def llm_settings(proxy, llm_server, seed_index, ui_settings_factory):
    def make(timeout: float = TIMEOUT):
        return ui_settings_factory(chroma_path=seed_index, openai_base_url=proxy.base_url,
                                openai_api_key=llm_server.api_key, llm_model="smollm2-135m",
                                llm_timeout=timeout, llm_retries=RETRIES,
                                top_k=2)  # a short prompt: the server reads it fast

    return make


def test_the_proxy_passes_a_healthy_server_through(proxy, llm_settings):
    """The control: without a fault the real server answers through the proxy."""
    from qa.llm import LLM

    llm = LLM(llm_settings(REAL_TIMEOUT))
    hello = [{"role": "user", "content": "Say hello."}]
    assert llm.chat(hello, max_tokens=4).strip()
    assert "".join(llm.chat(hello, stream=True, max_tokens=4)).strip()
    assert proxy.requests == 2


FAULTS = {  # (mode, streamed) → (client timeout, what the notice says, requests the client makes)
    ("http500", False): (TIMEOUT, "failed with HTTP 500", RETRIES + 1),
    ("http500", True): (TIMEOUT, "failed with HTTP 500", RETRIES + 1),
    ("slow", False): (TIMEOUT, f"did not answer within {TIMEOUT:g}s", RETRIES + 1),
    ("slow", True): (TIMEOUT, f"did not answer within {TIMEOUT:g}s", RETRIES + 1),
    ("stopped", False): (TIMEOUT, "connection refused", None),
    ("stopped", True): (TIMEOUT, "connection refused", None),
    ("malformed", False): (REAL_TIMEOUT, "a reply that is not valid JSON", 1),
    ("malformed", True): (REAL_TIMEOUT, "a stream event that is not valid JSON", 1),
    ("stall", True): (2 * TIMEOUT, "stopped answering mid-reply", 1),  # after the first event
}


@pytest.mark.parametrize("mode, streamed", list(FAULTS),
                         ids=[f"{m}-{'stream' if s else 'ask'}" for m, s in FAULTS])
def test_failing_llm_gives_the_extractive_answer_with_a_notice(mode, streamed, proxy, llm_settings, embedder):
    timeout, said, requests = FAULTS[mode, streamed]
    settings = llm_settings(timeout)
    if mode == "stopped":
        proxy.stop()
    else:
        proxy.mode = mode
    assistant = Assistant(settings, reader=IndexReader(settings, embedder=embedder))
    start = time.monotonic()
    if streamed:
        *deltas, answer = list(assistant.stream(QUESTION))
        assert all(isinstance(d, str) for d in deltas)
    else:
        answer = assistant.ask(QUESTION)
    elapsed = time.monotonic() - start
    bound = timeout * (RETRIES + 1) + OPENAI_MAX_BACKOFF * RETRIES + SLACK
    record("failing LLM", f"{mode}-{'stream' if streamed else 'ask'}", {
        "timeout_s": timeout, "retries": RETRIES, "requests": proxy.requests, "seconds": round(elapsed, 2),
        "bound_s": bound, "notice": answer.notice, "citations": len(answer.citations)})

    assert answer.answerer == "extractive"
    assert answer.notice and answer.notice.startswith("The LLM could not answer"), answer.notice
    assert said in answer.notice and "extractive answer" in answer.notice, answer.notice
    assert settings.openai_api_key.get_secret_value() not in answer.notice
    assert_cited(answer)
    if requests is not None:
        assert proxy.requests == requests
    assert elapsed < bound, f"{mode}: {elapsed:.1f}s (bound {bound:.0f}s)"


def test_real_llm_server_stopped_gives_the_extractive_answer(tmp_path, seed_index, qa_settings_factory, embedder):
    """No proxy: a llama.cpp server of its own, reachable, then stopped the way an operator
    stops it. Questions then get the extractive answer with a notice at once."""
    require_llama_cpp()
    with llama_server(tmp_path) as server:
        settings = qa_settings_factory(chroma_path=seed_index, openai_base_url=server.base_url,
                                    openai_api_key=server.api_key, llm_model="smollm2-135m",
                                    llm_timeout=TIMEOUT, llm_retries=RETRIES, top_k=2)
        server.stop()
        assistant = Assistant(settings, reader=IndexReader(settings, embedder=embedder))
        for streamed in (False, True):
            start = time.monotonic()
            answer = list(assistant.stream(QUESTION))[-1] if streamed else assistant.ask(QUESTION)
            elapsed = time.monotonic() - start
            record("failing LLM", f"real server stopped-{'stream' if streamed else 'ask'}", {
                "timeout_s": TIMEOUT, "retries": RETRIES, "seconds": round(elapsed, 2),
                "notice": answer.notice, "citations": len(answer.citations)})
            assert answer.answerer == "extractive" and "connection refused" in (answer.notice or "")
            assert server.api_key not in answer.notice
            assert_cited(answer)
            assert elapsed < TIMEOUT * (RETRIES + 1) + OPENAI_MAX_BACKOFF * RETRIES + SLACK


def test_malformed_llm_reply_in_the_ui_is_a_notice_not_an_error(proxy, llm_settings, embedder):
    """The chat streams; a broken stream event used to escape as a JSONDecodeError."""
    from ui.handlers import Handlers

    proxy.mode = "malformed"
    settings = llm_settings(REAL_TIMEOUT)
    ui = Handlers(settings, Assistant(settings, reader=IndexReader(settings, embedder=embedder)), None)
    *_, (_, messages, turns) = ui.chat(QUESTION, [], [], "llm", 2)
    html = messages[-1]["content"]
    assert 'class="qa-error"' not in html and 'class="qa-notice"' in html
    assert "not valid JSON" in html and "personnel" in html and len(turns) == 1


# --------------------------------------------------------------------------- build cut short

class _Killed(BaseException):
    """Stands for SIGKILL at one exact step (nothing catches a BaseException there)."""


def test_build_killed_after_its_switch_leaves_no_dead_records(settings_factory, embedder):
    """The last step of a build deletes the records it retired. A build killed between its
    switch and that step used to leave them in Chroma for good; the next build removes them."""
    from index import ChromaStore

    s = settings_factory()
    s.source_dir.mkdir()
    (s.source_dir / "a.txt").write_text("The Alpha harbour has twelve ships. " * 30)
    (s.source_dir / "b.txt").write_text("The Beta lighthouse keeper lives alone. " * 30)
    build_index(s, embedder=embedder)

    class DiesAfterSwitch(ChromaStore):
        switched = False

        def write_state(self, state):
            super().write_state(state)
            self.switched = True

        def delete(self, physical, ids):
            if self.switched:
                raise _Killed
            super().delete(physical, ids)

    (s.source_dir / "a.txt").write_text("The Alpha harbour has thirteen boats now. " * 30)
    with pytest.raises(_Killed):
        build_index(s, embedder=embedder, store=DiesAfterSwitch(s))
    store = ChromaStore(s)
    state = store.require_state()
    assert {r.chunk.source for r in store.visible_records(state)} == {"a.txt", "b.txt"}
    assert store.count(state.physical) > len(store.visible_records(state))  # the dead ones

    (s.source_dir / "c.txt").write_text("The Gamma station houses forty scientists. " * 30)
    report = build_index(s, embedder=embedder)
    assert store.count(store.require_state().physical) == report.chunks_total
