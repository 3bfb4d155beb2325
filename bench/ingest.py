"""Ingest benchmarks: each measured in its own subprocess (own peak RSS, cold caches).

Workers (``python -m bench.ingest --worker KIND --params JSON`` prints ``RESULT {json}``):

* ``build``  :func:`index.build_index` on a source (full or incremental), timed from the
  call (embedder construction included) to its return
* ``raw``    the raw embedder alone on given texts, batched naively: fixed batches of 32
  in corpus order, each padded to its longest text, straight on the ONNX session of
  :class:`~index.onnx_embedder.OnnxMiniLM` (tokenizer load and session creation timed too)
* ``llama``  the plain llama-index pipeline (:mod:`index.llama`) built from scratch
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _settings(p: dict):
    from qa import Settings  # the latency worker asks questions

    return Settings(chroma_path=Path(p["chroma_path"]), collection=p["collection"],
                    chunk_size=p["chunk_size"], chunk_overlap=p["chunk_overlap"],
                    embed_batch_size=p.get("batch_size", 32))


def _build(p: dict) -> dict:
    from index import build_index

    settings = _settings(p)
    t0 = time.perf_counter()
    report = build_index(settings, source=Path(p["source"]), full=p.get("full", False), show_progress=False)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "chunks_total": report.chunks_total, "chunks_embedded": report.chunks_embedded,
            "chunks_reused": report.chunks_reused, "chunks_deleted": report.chunks_deleted,
            "files_changed": list(report.files_changed), "documents": report.documents_total}


def _raw(p: dict) -> dict:
    import numpy as np

    from index.onnx_embedder import OnnxMiniLM

    texts = json.loads(Path(p["texts"]).read_text(encoding="utf-8"))
    batch = p.get("batch_size", 32)
    t0 = time.perf_counter()
    emb = OnnxMiniLM(batch_size=batch)
    encodings = emb._tok.encode_batch(texts)
    parts = [emb._run(encodings[i : i + batch]) for i in range(0, len(encodings), batch)]
    vectors = np.concatenate(parts)
    seconds = time.perf_counter() - t0
    lengths = [len(e.ids) for e in encodings]
    padded = sum(max(lengths[i : i + batch]) * len(lengths[i : i + batch]) for i in range(0, len(lengths), batch))
    return {"seconds": seconds, "texts": len(texts), "dim": int(vectors.shape[1]),
            "padding_waste": round(1 - sum(lengths) / padded, 4)}


def _llama(p: dict) -> dict:
    from index.onnx_embedder import OnnxMiniLM
    from qa.eval.llama_pipeline import LlamaPipeline

    settings = _settings(p)
    t0 = time.perf_counter()
    pipeline = LlamaPipeline(settings, embedder=OnnxMiniLM(batch_size=settings.embed_batch_size))
    build = pipeline.build(Path(p["source"]), fresh=True)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "chunks_total": build.chunks}


def _texts(p: dict) -> dict:
    texts = chunk_texts(_settings(p), p["order"])
    Path(p["out"]).write_text(json.dumps(texts), encoding="utf-8")
    return {"texts": len(texts)}


def _doc_chunks(p: dict) -> dict:
    from index.store import ChromaStore

    store = ChromaStore(_settings(p))
    return {"chunks": len(store.document_chunks(store.require_state(), p["doc_id"]))}


def _latency(p: dict) -> dict:
    from bench.latency import ask_latency, retrieval_latency

    settings = _settings(p)
    return {"ask": ask_latency(settings, p["questions"]), "retrieve": retrieval_latency(settings, p["questions"])}


def _replicate(p: dict) -> dict:
    """Write the ~100k-chunk copy. Its own process: an app reads an index another process
    wrote, and a client that just wrote 100k records measures slower for a while."""
    from bench.latency import replicate

    return replicate(_settings(dict(p, collection=p["replicate_from"])), _settings(p), p["target"])


# Every step that touches Chroma runs in its own process: a chromadb client caches the
# collections it has opened, and would not see what another process changed since.
WORKERS = {"build": _build, "raw": _raw, "llama": _llama, "texts": _texts, "doc_chunks": _doc_chunks,
           "latency": _latency, "replicate": _replicate}


def run_worker(kind: str, **params) -> dict:
    """Run one worker in a fresh Python and return its result (plus ``peak_rss_mb``)."""
    cmd = [sys.executable, "-m", "bench.ingest", "--worker", kind, "--params", json.dumps(params, default=str)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
    raise RuntimeError(f"bench worker {kind} failed (exit {proc.returncode}):\n{tail}")


def chunk_texts(settings, corpus_order: list[str]) -> list[str]:
    """What the build embedded, in corpus order: title + text of every visible chunk."""
    from index.chunking import embedding_text
    from index.store import ChromaStore

    store = ChromaStore(settings)
    records = store.visible_records(store.require_state(), with_text=True)
    position = {doc: i for i, doc in enumerate(corpus_order)}
    records.sort(key=lambda r: (position.get(r.chunk.source, len(position)), r.chunk.start))
    return [embedding_text(r.chunk.title, r.chunk.text) for r in records]


def main() -> None:
    from index import environment

    environment.configure()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", choices=sorted(WORKERS), required=True)
    p.add_argument("--params", required=True, help="JSON object")
    args = p.parse_args()
    result = WORKERS[args.worker](json.loads(args.params))
    result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
