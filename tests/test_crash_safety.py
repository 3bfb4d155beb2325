"""A build killed with SIGKILL at any moment leaves the old index answering; questions
asked during a rebuild see one complete generation; the Chroma server mode works."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from index import IndexReader, build_index
from index.store import ChromaStore

from .conftest import ROOT
from .helpers import covid_docs, free_port, wait_for_port, write_jsonl

_BUILD_SCRIPT = """
import sys
from index import Settings, build_index
s = Settings(source_dir=sys.argv[1], chroma_path=sys.argv[2])
def progress(stage, done, total):
    print(f"{stage} {done} {total}", flush=True)
build_index(s, progress=progress)
print("DONE", flush=True)
"""


def _visible_sources(settings, embedder):
    store = ChromaStore(settings)
    state = store.require_state()
    return {r.chunk.source for r in store.visible_records(state)}, state.generation


def _kill_during_build(settings, when: str) -> str:
    """Run a build in a subprocess and SIGKILL it at ``when``; return what it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _BUILD_SCRIPT, str(settings.source_dir), str(settings.chroma_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line.strip())
            if line.startswith("embedding"):
                _, done, total = line.split()
                done, total = int(done), int(total)
                if when == "start" and done == 0:
                    break
                if when == "middle" and done >= total // 2:
                    break
                if when == "end" and done == total:
                    time.sleep(0.1)  # now writing to Chroma / BM25, maybe switching
                    break
            if line.startswith("DONE"):
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    return "\n".join(seen)


@pytest.mark.parametrize("when", ["start", "middle", "end"])
def test_sigkill_mid_build_keeps_old_index_and_next_build_completes(settings_factory, embedder, when):
    s = settings_factory()
    old = covid_docs(2, chars=3000)
    write_jsonl(s.source_dir / "corpus.jsonl", old)
    first = build_index(s, embedder=embedder)
    old_sources, gen = _visible_sources(s, embedder)
    assert old_sources == {d["doc_id"] for d in old}

    # a change big enough that the build takes a while: 12 more articles, one changed
    new = covid_docs(14, chars=6000)
    write_jsonl(s.source_dir / "corpus.jsonl", new)
    out = _kill_during_build(s, when)
    assert "DONE" not in out, "the build finished before it could be killed; make the corpus bigger"

    # the index answers from one complete generation: the previous one, exactly as before —
    # or, when the kill came after the atomic switch (possible for "end"), the whole new one
    sources, gen_after = _visible_sources(s, embedder)
    new_sources = {d["doc_id"] for d in new}
    if when != "end" or gen_after == gen:
        assert (sources, gen_after) == (old_sources, gen)
        assert sum(1 for _ in ChromaStore(s).visible_records(ChromaStore(s).require_state())) == first.chunks_total
    else:
        assert (sources, gen_after) == (new_sources, gen + 1)
    hits = IndexReader(s, embedder=embedder).search(old[0]["title"], dense_k=3, keyword_k=3)
    assert hits.dense and {h.chunk.source for h in hits.dense} <= sources

    # the next build completes and is correct
    report = build_index(s, embedder=embedder)
    sources, _ = _visible_sources(s, embedder)
    assert sources == {d["doc_id"] for d in new}
    again = build_index(s, embedder=embedder)
    assert again.chunks_embedded == 0 and again.chunks_total == report.chunks_total
    store = ChromaStore(s)
    assert store.count(store.require_state().physical) == report.chunks_total  # no orphans left


def test_questions_during_a_rebuild_see_one_whole_generation(settings_factory, embedder):
    s = settings_factory()
    doc = s.source_dir / "facts.txt"
    s.source_dir.mkdir(parents=True)
    old_lines = [f"The old harbour record number {i} mentions ships and the old lighthouse keeper." for i in range(40)]
    new_lines = [f"The new harbour record number {i} mentions ships and the new lighthouse keeper." for i in range(40)]
    doc.write_text("\n\n".join(old_lines))
    build_index(s, embedder=embedder)
    reader = IndexReader(s, embedder=embedder)
    doc.write_text("\n\n".join(new_lines))

    mixed, seen, stop = [], set(), threading.Event()

    def ask():
        while not stop.is_set():
            r = reader.search("harbour record lighthouse keeper", dense_k=20, keyword_k=20)
            words = {("old" if " old " in h.chunk.text else "new") for h in r.dense + r.keyword}
            seen.add(frozenset(words))
            if len(words) > 1:
                mixed.append(r.generation)

    t = threading.Thread(target=ask)
    t.start()
    try:
        build_index(s, embedder=embedder)
        time.sleep(0.5)
    finally:
        stop.set()
        t.join()
    assert not mixed, f"a search mixed generations {mixed}"
    assert frozenset({"new"}) in seen


def test_chroma_server_mode(tmp_path, settings_factory, embedder):
    chroma = ROOT / ".venv" / "bin" / "chroma"
    if not chroma.exists():
        chroma = "chroma"
    port = free_port()
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=60, proc=proc)
        from .conftest import SEEDS

        s = settings_factory(source_dir=SEEDS, chroma_host="127.0.0.1", chroma_port=port)
        r = build_index(s, embedder=embedder)
        assert r.chunks_embedded > 0
        # a second process-like reader with its own BM25 folder rebuilds BM25 from the server
        s2 = settings_factory(source_dir=SEEDS, chroma_host="127.0.0.1", chroma_port=port,
                              chroma_path=tmp_path / "other-machine")
        hits = IndexReader(s2, embedder=embedder).search("how many personnel were injured", dense_k=3, keyword_k=3)
        assert any("eight U.S. personnel" in h.chunk.text for h in hits.keyword + hits.dense)
        assert build_index(s, embedder=embedder).chunks_embedded == 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_unreachable_chroma_server_is_a_clear_error(settings_factory, embedder):
    from index import StoreUnavailable

    s = settings_factory(chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(StoreUnavailable, match="QA_CHROMA_HOST"):
        IndexReader(s, embedder=embedder).search("x", dense_k=1, keyword_k=1)
