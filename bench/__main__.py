"""``python -m bench [--quick]`` — ingest and answer benchmarks → docs/benchmarks.md.

All figures come from one run, on the covid-qa corpus, at the settings' chunking
(QA_CHUNK_SIZE / QA_CHUNK_OVERLAP), in a scratch folder (``--workdir``, default a new
temporary one under bench/out/):

  (a) full build vs the raw embedder alone on the same chunks, batched naively
  (b) full build vs the plain llama-index pipeline at the same chunk settings
  (c) no-change rebuild vs full build
  (d) one changed document: chunks re-embedded vs the document's chunks
  (e) peak RSS of the full build (its own subprocess)
  (f) Assistant.ask latency (extractive) on the covid-qa index and on a ~100k-chunk copy
  API latency: POST /api/ask of the running app, 1 and 8 concurrent clients (bench/api.py)

``--only api`` runs the API latency alone (building the covid-qa index first unless
``--workdir`` already holds it) and replaces its section of the report.

``--quick`` is a smoke test: 8 documents, a 10k-chunk copy, 30 questions. The scratch
folder is removed at the end unless ``--keep`` or ``--workdir`` is given.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

from . import api
from .ingest import ROOT, run_worker

DATASETS = ROOT.parent / "shared" / "datasets" / "covid-qa"
# issue 12: the build now analyses every sentence with spaCy (<= 1.3x the raw embedder), and an
# answer parses the question and the sentences it may quote (p50 <= 60 ms)
TARGETS = {"build_vs_raw": 1.3, "noop_speedup": 50, "peak_rss_mb": 1536, "p50_ms": 60, "p95_ms": 150}


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        import psutil

        ram_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "ram_gb": ram_gb, "python": platform.python_version(), "load_avg": os.getloadavg()}


def _copy_corpus(src: Path, dst: Path, limit: int | None) -> list[str]:
    dst.parent.mkdir(parents=True, exist_ok=True)
    lines = [line for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit:
        lines = lines[:limit]
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [json.loads(line)["doc_id"] for line in lines]


def _change_one_document(corpus: Path) -> str:
    """Reword one sentence in the middle of the middle document; returns its doc_id."""
    lines = corpus.read_text(encoding="utf-8").splitlines()
    i = len(lines) // 2
    doc = json.loads(lines[i])
    text = doc["text"]
    cut = text.find(". ", len(text) // 2)
    doc["text"] = text[: cut + 1] + " This sentence was added for the benchmark." + text[cut + 1 :]
    lines[i] = json.dumps(doc)
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return doc["doc_id"]


def _cmd(kind: str, params: dict) -> str:
    return f"python -m bench.ingest --worker {kind} --params {shlex.quote(json.dumps(params))}"


class Bench:
    def __init__(self, args):
        from index import Settings

        base = Settings.from_env()
        self.args = args
        self.work = Path(args.workdir or tempfile.mkdtemp(prefix="run-", dir=ROOT / "bench" / "out"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.params = {"chroma_path": str(self.work / "chroma"), "collection": "bench-covid",
                       "chunk_size": base.chunk_size, "chunk_overlap": base.chunk_overlap,
                       "batch_size": base.embed_batch_size}
        self.settings = Settings(chroma_path=self.work / "chroma", collection="bench-covid",
                                 chunk_size=base.chunk_size, chunk_overlap=base.chunk_overlap,
                                 embed_batch_size=base.embed_batch_size)
        self.rows: list[tuple[str, str, str, str]] = []  # figure, value, target, command
        self.results: dict = {}
        self.command = "python -m bench"
        self.api_section = ""

    def figure(self, name: str, value: str, target: str, command: str) -> None:
        self.rows.append((name, value, target, command))
        print(f"{name}: {value}   (target {target})\n    $ {command}", flush=True)

    def run(self) -> dict:
        a = self.args
        corpus = self.work / "src" / "corpus.jsonl"
        order = _copy_corpus(a.corpus, corpus, 8 if a.quick else None)
        p = dict(self.params, source=str(corpus))

        full = run_worker("build", **p, full=True)
        texts_file = self.work / "texts.json"
        run_worker("texts", **p, order=order, out=str(texts_file))
        raw = run_worker("raw", texts=str(texts_file), batch_size=p["batch_size"])
        ratio = full["seconds"] / raw["seconds"]
        self.figure("(a) full build / raw embedder (naive batches of 32)",
                    f"{ratio:.2f}x ({full['seconds']:.1f} s vs {raw['seconds']:.1f} s, {full['chunks_total']} chunks)",
                    f"<= {TARGETS['build_vs_raw']}x", f"{_cmd('build', dict(p, full=True))}  vs  "
                    f"{_cmd('raw', {'texts': str(texts_file), 'batch_size': p['batch_size']})}")

        lp = dict(p, collection="bench-llama")
        llama = run_worker("llama", **lp)
        self.figure("(b) full build / plain llama-index pipeline",
                    f"{full['seconds'] / llama['seconds']:.2f}x ({full['seconds']:.1f} s vs {llama['seconds']:.1f} s, "
                    f"{llama['chunks_total']} llama-index chunks)", "< 1x (faster)", _cmd("llama", lp))

        noop = run_worker("build", **p)
        self.figure("(c) full build / no-change rebuild", f"{full['seconds'] / noop['seconds']:.0f}x faster "
                    f"({noop['seconds']:.2f} s, {noop['chunks_embedded']} chunks embedded)",
                    f">= {TARGETS['noop_speedup']}x", _cmd("build", p))

        changed_doc = _change_one_document(corpus)
        changed = run_worker("build", **p)
        doc_chunks = run_worker("doc_chunks", **p, doc_id=changed_doc)["chunks"]
        self.figure("(d) one changed document", f"{changed['chunks_embedded']} chunks embedded of its {doc_chunks} "
                    f"(of {changed['chunks_total']} in the index); files changed {changed['files_changed']}; "
                    f"{changed['seconds']:.2f} s", "only its own chunks", _cmd("build", p) + "  (after editing " + changed_doc + ")")

        self.figure("(e) peak RSS of the full build", f"{full['peak_rss_mb']:.0f} MB",
                    f"<= {TARGETS['peak_rss_mb']} MB", _cmd("build", dict(p, full=True)))

        questions = [json.loads(line)["question"] for line in a.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
        questions = questions[: 30 if a.quick else a.latency_questions]
        lat = run_worker("latency", **p, questions=questions)
        small, small_r = lat["ask"], lat["retrieve"]
        self.figure(f"(f) answer latency, covid-qa index ({full['chunks_total']} chunks)",
                    f"p50 {small['p50_ms']} ms, p95 {small['p95_ms']} ms (retrieval alone p50 {small_r['p50_ms']} ms, "
                    f"p95 {small_r['p95_ms']} ms)", f"p50 <= {TARGETS['p50_ms']} ms, p95 <= {TARGETS['p95_ms']} ms",
                    f"python -m bench  (Assistant.ask extractive, {len(questions)} covid-qa questions)")

        target = 10_000 if a.quick else a.big_chunks
        big = run_worker("replicate", **dict(p, collection="bench-big"), replicate_from="bench-covid", target=target)
        lat = run_worker("latency", **dict(p, collection="bench-big"), questions=questions)
        large, large_r = lat["ask"], lat["retrieve"]
        self.figure(f"(f) answer latency, {big['chunks']}-chunk index",
                    f"p50 {large['p50_ms']} ms, p95 {large['p95_ms']} ms (retrieval alone p50 {large_r['p50_ms']} ms, "
                    f"p95 {large_r['p95_ms']} ms; index written in {big['seconds']} s)",
                    f"p50 <= {TARGETS['p50_ms']} ms, p95 <= {TARGETS['p95_ms']} ms",
                    f"python -m bench  (same questions; {big['copies']} copies of the corpus, same vectors)")
        self.results = {"full": full, "raw": raw, "llama": llama, "noop": noop, "changed": changed,
                        "changed_doc_chunks": doc_chunks, "latency": small, "retrieval_latency": small_r,
                        "big": big, "big_latency": large, "big_retrieval_latency": large_r}
        self.results["api"] = self.api_latency(corpus, questions)
        return self.results

    def api_latency(self, corpus: Path, questions: list[str]) -> dict:
        """``POST /api/ask`` of ``python -m ui`` serving the covid-qa index (bench/api.py)."""
        started, load = time.strftime("%Y-%m-%d %H:%M"), os.getloadavg()
        result = api.api_latency(dict(self.params, source=str(corpus)), corpus,
                                 questions[: 20 if self.args.quick else self.args.api_questions], self.work)
        self.api_section = api.section(result, self.command, started, load)
        print(self.api_section, flush=True)
        return result

    def run_api_only(self) -> dict:
        a = self.args
        corpus = self.work / "src" / "corpus.jsonl"
        if not corpus.exists():
            _copy_corpus(a.corpus, corpus, 8 if a.quick else None)
        build = run_worker("build", **dict(self.params, source=str(corpus)))  # incremental: a no-op when built
        print(f"covid-qa index: {build['chunks_total']} chunks ({build['seconds']:.1f} s to build or check)", flush=True)
        questions = [json.loads(line)["question"] for line in a.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
        self.results = {"api": self.api_latency(corpus, questions)}
        return self.results


def render(bench: Bench, info: dict, command: str, started: float) -> str:
    rows = "\n".join(f"| {n} | {v} | {t} |" for n, v, t, _ in bench.rows)
    commands = "\n".join(f"- {n}: `{c}`" for n, _, _, c in bench.rows)
    s = bench.settings
    return f"""# Benchmarks

Produced by `{command}` in one run ({time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, {time.time() - started:.0f} s).

Machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), {info['ram_gb']} GB RAM,
Python {info['python']}; load average at the start {', '.join(f'{x:.1f}' for x in info['load_avg'])},
at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())} (figures taken on a busy machine are noisy).

Corpus: covid-qa ({bench.results['full']['documents']} articles) at chunk size {s.chunk_size}, overlap
{s.chunk_overlap}, embedder all-MiniLM-L6-v2 int8 ONNX, batch {s.embed_batch_size}.

| figure | measured | target |
|---|---|---|
{rows}

How each was produced (workers run in their own Python process; times are measured inside it,
from the call, so process start-up and imports are not counted, model loading is):

{commands}

Notes:
- (a) The raw embedder embeds every chunk text (title + text) in corpus order, in fixed batches
  of 32 padded to the batch's longest text, on the same ONNX session type. The build sorts texts
  by length before batching (less padding) and skips duplicate texts, which pays for its
  chunking, Chroma writes and BM25.
- (b) The llama-index pipeline: `SentenceSplitter` (same chunk size/overlap, counted in the same
  word-pieces) + `VectorStoreIndex.from_documents` into a Chroma collection, same embedder.
- (f) The large index repeats the covid-qa chunks with new document ids (digits shifted per copy)
  and the same vectors, so only latency is meaningful on it. It is written by one worker and
  measured by another, as an app reads an index that a build wrote. Latency: 5 questions to
  warm up, then every question once; the answer is timed first, then retrieval alone.

Raw results:

```json
{json.dumps(bench.results, indent=2)}
```

{bench.api_section}"""


def main(argv: list[str] | None = None) -> int:
    from index import environment

    environment.configure()
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke test: 8 documents, 10k-chunk copy, 30 questions")
    p.add_argument("--corpus", type=Path, default=DATASETS / "corpus.jsonl")
    p.add_argument("--questions", type=Path, default=DATASETS / "questions.jsonl")
    p.add_argument("--big-chunks", type=int, default=100_000)
    p.add_argument("--latency-questions", type=int, default=200)
    p.add_argument("--api-questions", type=int, default=100, help="questions for the API latency")
    p.add_argument("--only", choices=["api"], help="run only this part (api: the API latency)")
    p.add_argument("--workdir", type=Path, help="scratch folder (default: a new one under bench/out/)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder (kept anyway with --workdir)")
    p.add_argument("--out", type=Path, help="markdown report (default docs/benchmarks.md; --quick: none)")
    args = p.parse_args(argv)
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    command = "python -m bench" + (" " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])) if (argv or sys.argv[1:]) else "")
    started = time.time()
    info = machine()
    print(f"machine: {info}", flush=True)
    bench = Bench(args)
    bench.command = command
    try:
        bench.run_api_only() if args.only == "api" else bench.run()
    finally:
        if not (args.keep or args.workdir):
            import shutil

            shutil.rmtree(bench.work, ignore_errors=True)
    out = args.out or (None if args.quick else ROOT / "docs" / "benchmarks.md")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.only == "api":  # its own section, the other figures kept
            old = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
            out.write_text(api.splice(old, bench.api_section), encoding="utf-8")
        else:
            out.write_text(render(bench, info, command, started), encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
