"""``python -m bench.scale --chunks 100000`` — a ≥100k-chunk index through a Chroma server.

The corpus is the shared datasets' corpora (covid-qa + xquad-en) replicated: copy ``n`` is
one ``.jsonl`` file whose documents are the originals under the ids ``<doc_id>~n`` (same
title, same text), as many copies as reach ``--chunks``. Everything runs the way a user
would run it against a server, on loopback:

1. ``chroma run`` on a free port;
2. ``python -m index build --json`` with ``QA_CHROMA_HOST/QA_CHROMA_PORT`` — the full build
   (time, chunks, how many were embedded: one per distinct chunk text, since identical
   texts share a vector; the build's and the Chroma server's peak RSS);
3. the same command again, nothing changed (the no-op check over ≥100k records);
4. one more copy added: an incremental build whose vectors all come from the store;
5. ``python -m ui`` on the server, ``/ask`` (gradio_client, extractive) over
   ``--questions`` dataset questions: p50/p95/max, the first question apart — once beside
   the build (its local BM25 and sentence-vector files), once with an empty local folder
   as on another machine (the first question then builds BM25 from the server's records).

``--reuse --workdir W`` skips 1-3 on the index an earlier ``--workdir W`` run left (4 adds
the next copy). Only time and memory mean something here: the copies share vectors, so
dense search returns copies of one chunk and answer quality is not measured.
Figures are printed, with the commands; ``--json`` writes them to a file.
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .procs import ROOT, PeakRSS, app_env, chroma_server, percentile, ui_server

DATASETS = ROOT.parent / "shared" / "datasets"
CORPORA = ("covid-qa", "xquad-en")


def _originals(names, limit: int | None) -> list[dict]:
    docs = []
    for name in names:
        lines = (DATASETS / name / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
        docs += [json.loads(line) for line in lines if line.strip()][:limit]
    return docs


def chunks_per_copy(docs: list[dict], settings) -> int:
    """How many chunks one copy makes, counted with the build's own chunker."""
    from index.chunking import chunk_document
    from index.embedder import make_embedder
    from index.loaders import content_hash
    from index.models import SourceDocument

    emb = make_embedder(settings)
    return sum(len(chunk_document(SourceDocument(d["doc_id"], d.get("title") or d["doc_id"], d["text"], "x", "",
                                                 content_hash(d["text"])), emb,
                                  settings.chunk_size, settings.chunk_overlap)) for d in docs)


def write_copy(source: Path, docs: list[dict], n: int) -> Path:
    path = source / f"copy-{n:03d}.jsonl"
    path.write_text("".join(json.dumps({"doc_id": d["doc_id"] if n == 0 else f"{d['doc_id']}~{n}",
                                        "title": d.get("title") or d["doc_id"], "text": d["text"]}) + "\n"
                            for d in docs), encoding="utf-8")
    return path


def run_build(env: dict[str, str], watch_pid: int) -> dict:
    """``python -m index build --json`` in its own process: its report, the CPU seconds and
    peak RSS of it and of the Chroma server (``watch_pid``). CPU seconds are given beside
    wall time because the machine is shared: wall time alone mostly measures the others."""
    import psutil

    cmd = [sys.executable, "-m", "index", "build", "--json", "--no-progress"]
    server = psutil.Process(watch_pid)
    server_cpu0, children0 = sum(server.cpu_times()[:2]), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=Path(env["QA_SOURCE_DIR"]).parent, env=app_env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    with PeakRSS(proc.pid) as build_rss, PeakRSS(watch_pid) as server_rss:
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the build, now reaped
    build_cpu = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    server_cpu = sum(server.cpu_times()[:2]) - server_cpu0
    if proc.returncode != 0:
        raise RuntimeError(f"build failed ({proc.returncode}):\n{err[-3000:]}")
    report = json.loads(out.strip().splitlines()[-1])
    return {"wall_seconds": round(wall, 1), "seconds": report["seconds"], "chunks_total": report["chunks_total"],
            "chunks_embedded": report["chunks_embedded"], "chunks_reused": report["chunks_reused"],
            "documents": report["documents_total"], "files_added": len(report["files_added"]),
            "build_cpu_seconds": round(build_cpu, 1), "chroma_cpu_seconds": round(server_cpu, 1),
            "build_peak_rss_mb": round(build_rss.peak_mb), "chroma_peak_rss_mb": round(server_rss.peak_mb)}


def questions(n: int) -> list[str]:
    """``n`` dataset questions, alternating covid-qa and xquad-en (answerable ones)."""
    pools = []
    for name in CORPORA:
        lines = (DATASETS / name / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        pools.append([q["question"] for q in map(json.loads, filter(str.strip, lines))
                      if not q.get("is_impossible")])
    out = []
    for i in range(n):
        pool = pools[i % len(pools)]
        out.append(pool[(i // len(pools)) % len(pool)])
    return out


def ask_latency(url: str, qs: list[str]) -> dict:
    from gradio_client import Client

    client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
    t0 = time.perf_counter()
    first = client.predict(qs[0], api_name="/ask")
    first_ms = (time.perf_counter() - t0) * 1000
    times, refused, uncited = [], 0, 0
    for q in qs:
        t0 = time.perf_counter()
        a = client.predict(q, api_name="/ask")
        times.append((time.perf_counter() - t0) * 1000)
        refused += bool(a["refused"])
        uncited += not a["refused"] and not a["citations"]
    times.sort()
    return {"first_question_ms": round(first_ms), "first_refused": first["refused"], "n": len(times),
            "p50_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 0.95), 1),
            "max_ms": round(times[-1], 1), "refused": refused, "answered_without_citation": uncited}


def _latency(work: Path, env: dict[str, str], name: str, local: Path, qs: list[str]) -> dict:
    """``/ask`` latency of ``python -m ui`` on the server, with ``local`` as its QA_CHROMA_PATH."""
    ui_dir = work / f"ui-{name}"
    ui_dir.mkdir(exist_ok=True)
    with ui_server(ui_dir, dict(env, QA_CHROMA_PATH=str(local))) as ui, PeakRSS(ui.proc.pid) as ui_rss:
        lat = ask_latency(ui.url, qs)
    lat["ui_peak_rss_mb"] = round(ui_rss.peak_mb)
    lat["ui_lifetime_peak_rss_mb"] = round(ui_rss.lifetime_peak_mb)
    print(f"answers through the app ({name}): {lat}", flush=True)
    return lat


def run(args) -> dict:
    from index import Settings

    work = Path(args.workdir or tempfile.mkdtemp(prefix="scale-", dir=ROOT / "bench" / "out")).resolve()
    source = work / "src"
    results: dict = {}
    docs = _originals(CORPORA, args.docs)
    if args.reuse:
        if not (work / "chroma-server").is_dir():
            raise SystemExit(f"--reuse needs the --workdir of an earlier run ({work} has no chroma-server/)")
        copies = len(list(source.glob("copy-*.jsonl")))
    else:
        source.mkdir(parents=True, exist_ok=True)
        per_copy = chunks_per_copy(docs, Settings())
        copies = max(1, math.ceil(args.chunks / per_copy))
        for n in range(copies):
            write_copy(source, docs, n)
        print(f"corpus: {len(docs)} documents x {copies} copies, {per_copy} chunks per copy "
              f"(~{per_copy * copies} chunks) in {source}", flush=True)
        results.update({"documents_per_copy": len(docs), "chunks_per_copy": per_copy, "copies": copies})
    with chroma_server(work / "chroma-server") as chroma:
        env = {"QA_CHROMA_HOST": "127.0.0.1", "QA_CHROMA_PORT": str(chroma.port), "QA_COLLECTION": "scale",
               "QA_SOURCE_DIR": str(source), "QA_CHROMA_PATH": str(work / "build-local")}
        if not args.reuse:
            print(f"chroma run on {chroma.url}; building ...", flush=True)
            results["full_build"] = full = run_build(env, chroma.proc.pid)
            print(f"full build: {full}", flush=True)
            results["noop_build"] = noop = run_build(env, chroma.proc.pid)
            print(f"no-change rebuild: {noop}", flush=True)
        write_copy(source, docs, copies)
        results["one_more_copy"] = more = run_build(env, chroma.proc.pid)
        print(f"one more copy (copy {copies}): {more}", flush=True)
        qs = questions(args.questions)
        # Beside the build (its BM25 and sentence files), and as another machine would run
        # it: an empty local folder, so the first question builds BM25 from the server.
        results["latency"] = _latency(work, env, "beside-build", work / "build-local", qs)
        fresh = work / "ui-elsewhere-local"
        shutil.rmtree(fresh, ignore_errors=True)
        results["latency_elsewhere"] = _latency(work, env, "elsewhere", fresh, qs)
    if not (args.keep or args.workdir):
        shutil.rmtree(work, ignore_errors=True)
    return results


def summary(r: dict) -> str:
    lines = []
    more = r["one_more_copy"]
    if "full_build" in r:
        full, noop = r["full_build"], r["noop_build"]
        lines += [
            f"index: {full['chunks_total']} chunks ({r['copies']} copies x {r['chunks_per_copy']} chunks, "
            f"{full['documents']} documents)",
            f"full build: {full['seconds']:.0f} s (CPU: build {full.get('build_cpu_seconds')} s, chroma "
            f"{full.get('chroma_cpu_seconds')} s), {full['chunks_embedded']} distinct chunk texts embedded; "
            f"build peak RSS {full['build_peak_rss_mb']} MB, chroma server {full['chroma_peak_rss_mb']} MB",
            f"no-change rebuild: {noop['seconds']:.1f} s ({noop['chunks_embedded']} embedded)",
        ]
    lines.append(f"one more copy: {more['seconds']:.1f} s (CPU: build {more['build_cpu_seconds']} s, chroma "
                 f"{more['chroma_cpu_seconds']} s; {more['chunks_embedded']} embedded, {more['chunks_reused']} reused, "
                 f"{more['chunks_total']} chunks), build peak RSS {more['build_peak_rss_mb']} MB, "
                 f"chroma server {more['chroma_peak_rss_mb']} MB")
    for key, label in (("latency", "beside the build"), ("latency_elsewhere", "empty local folder")):
        lat = r[key]
        lines.append(f"answers (/ask, {label}): first {lat['first_question_ms']} ms, p50 {lat['p50_ms']} ms, "
                     f"p95 {lat['p95_ms']} ms, max {lat['max_ms']} ms over {lat['n']}; refused {lat['refused']}, "
                     f"cited-less {lat['answered_without_citation']}; UI peak RSS {lat['ui_lifetime_peak_rss_mb']} MB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from index import environment

    environment.configure()
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chunks", type=int, default=100_000, help="at least this many chunks (default 100000)")
    p.add_argument("--docs", type=int, help="only the first N documents of each corpus (a quick run)")
    p.add_argument("--questions", type=int, default=100, help="questions asked through the app (default 100)")
    p.add_argument("--workdir", type=Path, help="scratch folder (default: a new one under bench/out/, removed)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--reuse", action="store_true",
                   help="no full build: add one more copy to the index an earlier run left in --workdir, "
                   "then measure answers")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args(argv)
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    command = "python -m bench.scale " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    started = time.time()
    results = run(args)
    results["command"] = command.strip()
    results["run_seconds"] = round(time.time() - started)
    print(f"\n$ {results['command']}")
    print(summary(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
