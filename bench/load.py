"""``python -m bench.load --sessions 50`` — concurrent chat sessions while the index rebuilds.

One run, all on loopback, in a scratch folder (``--workdir``; default a new one under
bench/out/, removed at the end unless ``--keep``):

1. a modest corpus: the seed document plus the first ``--docs`` covid-qa articles (cut to
   ``--doc-chars`` characters); ``python -m ui`` on a free port builds its index at start;
2. a quiet pass: every candidate question asked once through ``/ask``. The questions whose
   quiet answer is cited (and, for the seed questions, states the known fact) form the pool:
   the load then checks that load and rebuilds do not change that;
3. the load: ``--sessions`` gradio_client sessions (each its own ``Client``, so its own
   Gradio session), at most ``--concurrency`` at once, each asking ``--turns`` questions in a
   row; meanwhile a loop adds ``--add-per-rebuild`` more covid-qa articles to the source
   folder and presses the app's "Rebuild index" (the browser's own event, see
   :mod:`bench.rebuild_button`), again and again until the sessions end. Everything is
   bounded by ``--timeout`` seconds; a question not answered by then is an error.

Printed: sessions, questions, errors, uncited answers (refused, no citation, no ``[n]`` in
the text, or an unverified quote), answers that lost the seed fact, latency p50/p95/max
(as a client sees it: queueing included), rebuilds and how many answers overlapped one,
and the UI process's peak RSS (process + children, sampled every 0.2 s).

The app's public API (``/ask``) takes one question without the conversation; follow-ups with
history exist only in the browser chat, whose event gradio_client may not call. So a
session here is one client asking several questions in a row.
"""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .procs import ROOT, PeakRSS, percentile, ui_server
from .rebuild_button import press_rebuild

COVID = ROOT.parent / "shared" / "datasets" / "covid-qa"
SEED_QUESTIONS = ROOT / "tests" / "seed_questions.jsonl"


# ---- the corpus and the questions -----------------------------------------------------------

def covid_articles(doc_chars: int) -> list[dict]:
    lines = (COVID / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    return [{"doc_id": d["doc_id"], "title": d.get("title") or d["doc_id"], "text": d["text"][:doc_chars]}
            for d in map(json.loads, filter(str.strip, lines))]


def write_articles(source: Path, name: str, docs: list[dict]) -> None:
    (source / name).write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")


def candidate_questions(docs: list[dict], per_doc: int = 3) -> list[tuple[str, str | None]]:
    """(question, fact) pairs: the answerable seed questions with their facts, and covid-qa questions
    whose answer lies inside the (cut) text of an indexed article."""
    out = [(q["question"], q["fact"]) for q in map(json.loads, filter(str.strip,
           SEED_QUESTIONS.read_text(encoding="utf-8").splitlines())) if not q.get("unanswerable")]
    texts = {d["doc_id"]: d["text"] for d in docs}
    taken: dict[str, int] = {}
    for q in map(json.loads, filter(str.strip, (COVID / "questions.jsonl").read_text(encoding="utf-8").splitlines())):
        doc = (q.get("gold_doc_ids") or [""])[0]
        if doc in texts and not q.get("is_impossible") and q["answers"] and q["answers"][0].strip() in texts[doc]:
            if taken.get(doc, 0) < per_doc:
                taken[doc] = taken.get(doc, 0) + 1
                out.append((q["question"], None))
    return out


def problems(answer: dict, fact: str | None) -> list[str]:
    """What is wrong with an answer that should be cited (empty: nothing)."""
    if answer.get("refused"):
        return ["refused"]
    cites = answer.get("citations") or []
    out = []
    if not cites:
        out.append("no citation")
    if cites and not any(f"[{c['number']}]" in answer.get("text", "") for c in cites):
        out.append("no [n] marker")
    if any(not c.get("verified") for c in cites):
        out.append("unverified quote")
    if fact and fact.lower() not in answer.get("text", "").lower():
        out.append(f"lost the fact {fact!r}")
    return out


# ---- the run --------------------------------------------------------------------------------

@dataclass
class Ask:
    session: int
    question: str
    started: float
    seconds: float
    error: str | None = None
    issues: list[str] = field(default_factory=list)


@dataclass
class Rebuilds:
    intervals: list[tuple[float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    documents_added: int = 0

    def overlaps(self, start: float, end: float) -> bool:
        return any(s < end and start < e for s, e in self.intervals)


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False)


def _session(i: int, url: str, pool: list[tuple[str, str | None]], turns: int, deadline: float) -> list[Ask]:
    asks: list[Ask] = []
    try:
        client = _client(url)
    except Exception as exc:  # a session that cannot connect is an error for each of its turns
        now = time.time()
        return [Ask(i, "(connect)", now, 0.0, f"connect: {type(exc).__name__}: {exc}") for _ in range(turns)]
    for t in range(turns):
        question, fact = pool[(i * turns + t) % len(pool)]
        started = time.time()
        if started >= deadline:
            asks.append(Ask(i, question, started, 0.0, "not asked before the time bound"))
            continue
        try:
            answer = client.submit(question, api_name="/ask").result(timeout=max(1.0, deadline - started))
            asks.append(Ask(i, question, started, time.time() - started, issues=problems(answer, fact)))
        except Exception as exc:
            asks.append(Ask(i, question, started, time.time() - started, f"{type(exc).__name__}: {exc}"[:300]))
    return asks


def _rebuild_loop(url: str, source: Path, waiting: list[dict], per_rebuild: int, stop: threading.Event,
                  deadline: float, out: Rebuilds) -> None:
    n = 0
    while not stop.is_set() and time.time() < deadline:
        batch, waiting[:] = waiting[:per_rebuild], waiting[per_rebuild:]
        if batch:
            write_articles(source, f"added-{n:03d}.jsonl", batch)
        n += 1
        start = time.time()
        try:
            report_html, _ = press_rebuild(url, timeout=max(30.0, deadline - start))
            if "qa-error" in report_html:
                out.errors.append(report_html[:300])
            elif batch and f"added-{n - 1:03d}.jsonl" not in report_html and batch[0]["doc_id"] not in report_html:
                out.errors.append(f"the report does not mention the added documents: {report_html[:300]}")
            out.documents_added += len(batch)
        except Exception as exc:
            out.errors.append(f"{type(exc).__name__}: {exc}"[:300])
        out.intervals.append((start, time.time()))


def run(args) -> dict:
    work = Path(args.workdir or tempfile.mkdtemp(prefix="load-", dir=ROOT / "bench" / "out")).resolve()
    source = work / "docs"
    source.mkdir(parents=True, exist_ok=True)
    for f in (ROOT / "seeds").iterdir():
        shutil.copy(f, source / f.name)
    articles = covid_articles(args.doc_chars)
    initial, waiting = articles[: args.docs], articles[args.docs:]
    write_articles(source, "covid.jsonl", initial)
    env = {"QA_SOURCE_DIR": str(source), "QA_CHROMA_PATH": str(work / "chroma")}
    results: dict = {}
    try:
        t0 = time.time()
        with ui_server(work, env) as ui:
            results["startup_seconds"] = round(time.time() - t0, 1)  # includes the first build
            print(f"app on {ui.url} (started and indexed in {results['startup_seconds']} s)", flush=True)
            quiet = _client(ui.url)
            pool, quiet_ms = [], []
            for question, fact in candidate_questions(initial)[: args.max_questions]:
                q0 = time.perf_counter()
                answer = quiet.predict(question, api_name="/ask")
                quiet_ms.append((time.perf_counter() - q0) * 1000)
                if not problems(answer, fact):
                    pool.append((question, fact))
            quiet_ms.sort()
            results["pool"] = len(pool)
            results["quiet_p50_ms"] = round(statistics.median(quiet_ms), 1)
            print(f"quiet pass: {len(pool)} of {len(quiet_ms)} candidate questions answered with citations; "
                  f"p50 {results['quiet_p50_ms']} ms", flush=True)
            if not pool:
                raise RuntimeError("no question was answered with citations even without load")

            deadline = time.time() + args.timeout
            stop, rebuilds = threading.Event(), Rebuilds()
            with PeakRSS(ui.proc.pid) as rss:
                loop = threading.Thread(target=_rebuild_loop, daemon=True, args=(
                    ui.url, source, waiting, args.add_per_rebuild, stop, deadline, rebuilds))
                loop.start()
                load_t0 = time.time()
                with ThreadPoolExecutor(args.concurrency, thread_name_prefix="session") as pool_ex:
                    futures = [pool_ex.submit(_session, i, ui.url, pool, args.turns, deadline)
                               for i in range(args.sessions)]
                    asks = [a for f in futures for a in f.result()]
                load_seconds = time.time() - load_t0
                stop.set()
                loop.join(max(1.0, deadline - time.time() + 60))
            alive = ui.proc.poll() is None
    finally:
        if not (args.keep or args.workdir):
            shutil.rmtree(work, ignore_errors=True)

    answered = [a for a in asks if a.error is None]
    times = sorted(a.seconds * 1000 for a in answered)
    errors = [a for a in asks if a.error]
    uncited = [a for a in answered if any(i for i in a.issues if not i.startswith("lost"))]
    lost = [a for a in answered if any(i.startswith("lost") for i in a.issues)]
    results.update({
        "sessions": args.sessions, "concurrency": args.concurrency, "turns": args.turns,
        "questions": len(asks), "answered": len(answered), "errors": len(errors),
        "uncited": len(uncited), "lost_fact": len(lost),
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p95_ms": round(percentile(times, 0.95), 1) if times else None,
        "max_ms": round(times[-1], 1) if times else None,
        "throughput_per_s": round(len(answered) / load_seconds, 2), "load_seconds": round(load_seconds, 1),
        "rebuilds": len(rebuilds.intervals), "rebuild_errors": len(rebuilds.errors),
        "rebuild_seconds": [round(e - s, 1) for s, e in rebuilds.intervals],
        "documents_added": rebuilds.documents_added,
        "answered_during_rebuild": sum(rebuilds.overlaps(a.started, a.started + a.seconds) for a in answered),
        "ui_peak_rss_mb": round(rss.peak_mb), "ui_lifetime_peak_rss_mb": round(rss.lifetime_peak_mb),
        "ui_alive_after": alive,
        "error_samples": sorted({a.error for a in errors})[:5] + rebuilds.errors[:5],
        "uncited_samples": [(a.question, a.issues) for a in uncited[:5]],
        "lost_fact_samples": [(a.question, a.issues) for a in lost[:5]],
    })
    return results


def report(r: dict) -> str:
    return "\n".join([
        f"sessions {r['sessions']} (at most {r['concurrency']} at once, {r['turns']} questions each), "
        f"questions {r['questions']}, answered {r['answered']}",
        f"errors {r['errors']}, uncited answers {r['uncited']}, answers that lost the seed fact {r['lost_fact']}",
        f"latency p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, max {r['max_ms']} ms "
        f"(quiet p50 {r['quiet_p50_ms']} ms); {r['throughput_per_s']} answers/s over {r['load_seconds']} s",
        f"rebuilds {r['rebuilds']} ({r['rebuild_errors']} failed; {r['documents_added']} documents added; "
        f"seconds {r['rebuild_seconds']}), answers that overlapped a rebuild {r['answered_during_rebuild']}",
        f"UI peak RSS {r['ui_peak_rss_mb']} MB (process + children, sampled during the load; the process's "
        f"high-water mark since start {r['ui_lifetime_peak_rss_mb']} MB); app alive after: {r['ui_alive_after']}",
        *(f"  error: {e}" for e in r["error_samples"]),
        *(f"  uncited: {q!r}: {i}" for q, i in r["uncited_samples"]),
        *(f"  lost fact: {q!r}: {i}" for q, i in r["lost_fact_samples"]),
    ])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=50, help="chat sessions (default 50)")
    p.add_argument("--concurrency", type=int, help="sessions running at once (default: all of them)")
    p.add_argument("--turns", type=int, default=4, help="questions per session (default 4)")
    p.add_argument("--docs", type=int, default=10, help="covid-qa articles indexed before the load (default 10)")
    p.add_argument("--doc-chars", type=int, default=6000, help="each article cut to this many characters")
    p.add_argument("--add-per-rebuild", type=int, default=3, help="articles added before each rebuild (default 3)")
    p.add_argument("--max-questions", type=int, help="at most this many candidate questions (default all)")
    p.add_argument("--timeout", type=float, default=900, help="time bound of the load, seconds (default 900)")
    p.add_argument("--workdir", type=Path, help="scratch folder (default: a new one under bench/out/, removed)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    return p


def main(argv: list[str] | None = None) -> int:
    from index import environment

    environment.configure()
    args = parser().parse_args(argv)
    args.concurrency = args.concurrency or args.sessions
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    results = run(args)
    results["command"] = ("python -m bench.load " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))).strip()
    print(f"\n$ {results['command']}\n{report(results)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    ok = results["errors"] == 0 and results["uncited"] == 0 and results["rebuild_errors"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
