"""Long fault runs (``make reliability``): builds killed at random moments, and a Chroma
server restarted under a build.

* 20 SIGKILLs of ``build_index`` in a subprocess, at moments drawn from a seeded RNG over a
  build's measured duration, on the seed document plus covid-qa articles. After each kill
  the previous index answers the seed question with its verified citation and lists the
  same documents and chunks. The kills accumulate on one index (what a killed build leaves
  is what the next one starts from); when a build got past its switch the old index is put
  back, so every kill hits a real rebuild. Finally a build completes: its documents and
  chunks are exactly those of an undisturbed build (none lost, none duplicated, nothing
  left over in Chroma).
* A ``chroma run`` server restarted (or SIGKILLed) while a build runs: the build completes
  or fails with a QAError (no traceback); the index is then exactly the old or the new
  generation; an app process that was open all along answers again; the next build completes
  with the right counts.

Figures are printed (run with ``-s`` to see them as they come) and written to
tests/artifacts/faults-long.json; docs/reliability/faults.md quotes them.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from index import ChromaStore, IndexReader, build_index, list_documents
from qa import Assistant, Settings

from .conftest import ROOT
from .helpers import SEED_PATH, SEED_QUESTION, assert_cited, covid_docs, free_port, wait_for_port, write_jsonl

# pyproject's 600 s per-test timeout is for the ordinary tests; these runs are bounded here
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(3600)]

KILLS = 20
RNG_SEED = 20261125
OLD_ARTICLES = 2  # indexed before the kills
NEW_ARTICLES = 16  # the rebuild adds these: one build takes tens of seconds (≈ 40 s on a busy 2-core machine)
ARTICLE_CHARS = 12_000
ARTIFACT = ROOT / "tests" / "artifacts" / "faults-long.json"

_BUILD = """
import sys
from index import QAError, Settings, build_index
source, path, host, port, collection = sys.argv[1:6]
s = Settings(source_dir=source, chroma_path=path, chroma_host=host or None, chroma_port=int(port or 8000),
             collection=collection)
def progress(stage, done, total):
    print(f"{stage}|{done}|{total}", flush=True)
try:
    r = build_index(s, progress=progress)
except QAError as exc:  # what `python -m index build` does with it
    print(f"error: {exc}", file=sys.stderr, flush=True)
    sys.exit(1)
print(f"DONE|{r.documents_total}|{r.chunks_total}", flush=True)
"""


class BuildProcess:
    """``build_index`` in a subprocess; its progress lines are collected as they come."""

    def __init__(self, s: Settings, cwd: Path):
        self.lines: list[str] = []
        self.seen = threading.Condition()
        self._stderr = (cwd / f"build-{time.monotonic_ns()}.err").open("w+")  # a pipe could fill up
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BUILD, str(s.source_dir), str(s.chroma_path), s.chroma_host or "",
             str(s.chroma_port), s.collection],  # the same index as ``s`` names, on a server too
            cwd=cwd, stdout=subprocess.PIPE, stderr=self._stderr, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self.seen:
                self.lines.append(line.strip())
                self.seen.notify_all()
        with self.seen:  # the build ended
            self.seen.notify_all()

    def wait_for(self, predicate, timeout: float) -> bool:
        with self.seen:
            return self.seen.wait_for(lambda: predicate(self.lines) or self.proc.poll() is not None, timeout)

    @property
    def done(self) -> bool:
        return any(line.startswith("DONE") for line in self.lines)

    def phase(self) -> str:
        """Where the build was, from its last progress line."""
        progress = [line.split("|") for line in self.lines if line.count("|") == 2]
        if not progress:
            return "start-up, reading, chunking"
        stage, done, total = progress[-1]
        if stage == "DONE":
            return "done"
        if int(done) < int(total):
            return f"{stage}"  # "embedding" (chunks), rarely "sentence vectors"
        return "writing, switching"  # all embedded: Chroma, BM25, sentence vectors, the switch

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.finish(30)

    def finish(self, timeout: float) -> tuple[int, str]:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(10)
        self._stderr.seek(0)
        err = self._stderr.read()
        self._stderr.close()
        return code, err


@dataclass(frozen=True)
class Snapshot:
    """What a user can see of an index: its generation, chunks and documents."""

    generation: int
    chunk_ids: frozenset[str]
    documents: tuple[tuple[str, int], ...]  # (source, chunks), as `python -m index status` lists them
    stored: int  # records in the live Chroma collection, visible or not

    @classmethod
    def take(cls, s: Settings) -> "Snapshot":
        store = ChromaStore(s)
        state = store.require_state()
        visible = store.visible_records(state)
        ids = [r.chunk.id for r in visible]
        assert len(ids) == len(set(ids)), "a chunk id is visible twice"
        docs = tuple((d.source, d.chunks) for d in list_documents(store))
        return cls(state.generation, frozenset(ids), docs, store.count(state.physical))

    def same_content(self, other: "Snapshot") -> bool:
        return self.chunk_ids == other.chunk_ids and self.documents == other.documents


def corpus(directory: Path, articles: int) -> Path:
    """The seed document plus ``articles`` covid-qa articles, in one folder."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED_PATH, directory / SEED_PATH.name)
    if articles:  # covid_docs(0) would be all of them
        write_jsonl(directory / "covid.jsonl", covid_docs(articles, chars=ARTICLE_CHARS))
    return directory


def ask_seed_question(s: Settings, embedder) -> float:
    """Ask the seed question through a fresh reader (a new app process); seconds taken."""
    start = time.monotonic()
    answer = Assistant(s, reader=IndexReader(s, embedder=embedder)).ask(SEED_QUESTION, answerer="extractive")
    assert_cited(answer)
    return time.monotonic() - start


def record(name: str, figures: dict) -> None:
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
    data[name] = figures
    ARTIFACT.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\n{name}: {json.dumps(figures, indent=2)}", flush=True)


# --------------------------------------------------------------------------- SIGKILL


def test_random_sigkills_during_rebuilds(tmp_path, embedder):
    old_source = corpus(tmp_path / "old-docs", OLD_ARTICLES)
    new_source = corpus(tmp_path / "new-docs", OLD_ARTICLES + NEW_ARTICLES)
    pristine = Settings(source_dir=old_source, chroma_path=tmp_path / "pristine")
    build_index(pristine, embedder=embedder)
    old = Snapshot.take(pristine)

    # The undisturbed rebuild, in a subprocess like the killed ones: its duration is the
    # range of kill moments, its result the reference for the final build.
    reference = Settings(source_dir=new_source, chroma_path=tmp_path / "reference")
    shutil.copytree(pristine.chroma_path, reference.chroma_path)
    calibration = BuildProcess(reference, tmp_path)
    code, err = calibration.finish(900)
    assert code == 0 and calibration.done, err
    duration = time.monotonic() - calibration.started
    expected = Snapshot.take(reference)
    assert expected.generation == old.generation + 1 and len(expected.documents) == 1 + OLD_ARTICLES + NEW_ARTICLES

    s = Settings(source_dir=new_source, chroma_path=tmp_path / "index")
    shutil.copytree(pristine.chroma_path, s.chroma_path)
    rng = random.Random(RNG_SEED)
    kills, phases, answer_seconds, outcomes = [], Counter(), [], Counter()
    completed_first = restores = 0
    while len(kills) < KILLS:
        moment = rng.uniform(0.0, duration)
        build = BuildProcess(s, tmp_path)
        build.wait_for(lambda lines: False, moment)  # sleeps `moment`, or until the build exits
        if build.proc.poll() is not None:  # finished first: it must be complete and right
            code, err = build.finish(30)
            assert code == 0 and build.done, err
            after = Snapshot.take(s)
            assert after.same_content(expected) and after.stored == len(expected.chunk_ids)
            completed_first += 1
        else:
            phase = build.phase()
            build.kill()
            kills.append(round(moment, 2))
            phases[phase] += 1
            after = Snapshot.take(s)
            if after.generation == old.generation:  # killed before its switch: the old index, whole
                assert after.same_content(old), f"kill {len(kills)} ({phase}) changed the old index"
                outcomes["old index intact"] += 1
            else:  # killed after its switch: the whole new index, never a mix
                assert after.generation == old.generation + 1 and after.same_content(expected), phase
                outcomes["new index complete (killed after the switch)"] += 1
            answer_seconds.append(ask_seed_question(s, embedder))
        if Snapshot.take(s).generation != old.generation:  # put the old index back
            restores += 1  # in a new folder: this process's Chroma client keeps the old one open
            s = Settings(source_dir=new_source, chroma_path=tmp_path / f"index-{restores}")
            shutil.copytree(pristine.chroma_path, s.chroma_path)

    # the build after the last kill completes, with exactly the reference's chunks
    before = Snapshot.take(s)
    report = build_index(s, embedder=embedder)
    final = Snapshot.take(s)
    lost = len(expected.chunk_ids - final.chunk_ids)
    extra = len(final.chunk_ids - expected.chunk_ids)
    duplicated_docs = len(final.documents) - len({src for src, _ in final.documents})
    assert (report.documents_total, report.chunks_total) == (len(expected.documents), len(expected.chunk_ids))
    assert final.same_content(expected) and lost == extra == duplicated_docs == 0
    assert final.stored == report.chunks_total, "records left over in Chroma"
    ask_seed_question(s, embedder)

    record("sigkill", {
        "kills": len(kills), "rng_seed": RNG_SEED, "build_seconds_undisturbed": round(duration, 1),
        "corpus": {"documents": len(expected.documents), "chunks": len(expected.chunk_ids),
                   "old_documents": len(old.documents), "old_chunks": len(old.chunk_ids)},
        "kill_moments_s": kills, "phases_at_kill": dict(phases), "after_kill": dict(outcomes),
        "old_index_answered_with_citation": len(answer_seconds),
        "answer_after_kill_s_median": round(statistics.median(answer_seconds), 2),
        "builds_that_finished_before_their_kill_moment": completed_first,
        "old_index_restored": restores,
        "records_left_by_kills_before_final_build": before.stored - len(before.chunk_ids),
        "final_build_s": report.seconds, "final_chunks_embedded": report.chunks_embedded,
        "final_chunks_reused": report.chunks_reused,
        "documents_lost": len({src for src, _ in expected.documents} - {src for src, _ in final.documents}),
        "chunks_lost": lost, "chunks_extra": extra, "documents_duplicated": duplicated_docs,
        "records_left_after_final_build": final.stored - report.chunks_total,
    })


# --------------------------------------------------------------------------- Chroma server


class ChromaServer:
    def __init__(self, data: Path):
        self.data, self.port, self.proc = data, free_port(), None
        self.restarts: list[float] = []

    def start(self) -> None:
        chroma = ROOT / ".venv" / "bin" / "chroma"
        self.proc = subprocess.Popen(
            [str(chroma if chroma.exists() else "chroma"), "run", "--path", str(self.data),
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=120, proc=self.proc)

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)

    def restart(self, sig=signal.SIGTERM) -> None:
        start = time.monotonic()
        self.stop(sig)
        self.start()
        self.restarts.append(round(time.monotonic() - start, 2))


@pytest.fixture
def chroma_server(tmp_path):
    server = ChromaServer(tmp_path / "server-data")
    server.start()
    yield server
    server.stop()


RESTARTS = {  # name → (build phase, signal)
    "restart while the build embeds": ("embedding", signal.SIGTERM),
    "restart as the build writes": ("writing, switching", signal.SIGTERM),
    "SIGKILL of the server as the build writes": ("writing, switching", signal.SIGKILL),
}


def test_chroma_server_restarted_during_builds(tmp_path, chroma_server, embedder):
    old_source = corpus(tmp_path / "old-docs", 0)  # the seed document alone
    new_source = corpus(tmp_path / "new-docs", 3)
    figures = {}
    for n, (name, (when, sig)) in enumerate(RESTARTS.items()):
        base = dict(chroma_host="127.0.0.1", chroma_port=chroma_server.port, collection=f"trial{n}")
        s_old = Settings(source_dir=old_source, chroma_path=tmp_path / f"local-{n}", **base)
        build_index(s_old, embedder=embedder)
        old = Snapshot.take(s_old)
        app = Assistant(s_old, reader=IndexReader(s_old, embedder=embedder))  # open all along
        assert_cited(app.ask(SEED_QUESTION, answerer="extractive"))

        s = Settings(source_dir=new_source, chroma_path=tmp_path / f"local-{n}", **base)
        build = BuildProcess(s, tmp_path)
        reached = build.wait_for(lambda lines: build.phase() == when, 600)
        assert reached and build.proc.poll() is None, f"{name}: the build ended before '{when}'"
        chroma_server.restart(sig)
        code, err = build.finish(600)
        assert "Traceback" not in err, err
        outcome = "completed" if code == 0 else "failed with a message"
        if code != 0:  # the last line is the CLI's message
            last = err.strip().splitlines()[-1]
            assert last.startswith("error: ") and "QA_CHROMA_HOST" in last, err

        after = Snapshot.take(s)
        if code == 0:  # a build that says it completed has published its generation
            assert after.generation == old.generation + 1, f"{name}: the build completed but its index is not live"
        # the app process reconnects by itself
        assert_cited(app.ask(SEED_QUESTION, answerer="extractive"))
        report = build_index(s, embedder=embedder)
        final = Snapshot.take(s)
        assert final.stored == report.chunks_total == len(final.chunk_ids)
        assert len(final.documents) == 4 and report.documents_total == 4
        if after.generation == old.generation:
            assert after.same_content(old), f"{name}: the old generation changed"
            seen = "old generation"
        else:
            assert after.same_content(final), f"{name}: a mix of generations"
            seen = "new generation"
        assert_cited(app.ask(SEED_QUESTION, answerer="extractive"))
        figures[name] = {"build": outcome, "error": last[:300] if code else None,
                         "index after": seen, "restart_s": chroma_server.restarts[-1],
                         "next_build_s": report.seconds, "next_build_chunks": report.chunks_total,
                         "documents": report.documents_total}
    record("chroma_server_restart", figures)
