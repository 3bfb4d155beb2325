"""API latency: ``POST /api/ask`` on the covid-qa index, as HTTP clients see it.

``python -m bench --only api`` runs this alone (it writes its section into docs/benchmarks.md);
a full ``python -m bench`` runs it last. The index is the benchmark's covid-qa one (built, or
brought up to date, by the ``build`` worker in the scratch folder); ``python -m ui`` serves it
on a free loopback port (no login: loopback clients may call the API).

Measured with httpx, each client its own connection, timed around the request (so the JSON
encoding, the HTTP round trip and any wait for the limiter on questions answered at once, 4,
are included; the answer itself is the extractive one):

* 1 client: the questions one after another;
* 8 clients at once: the same questions shared out, twice over (every client busy throughout).

5 questions are asked first to warm up (not counted).
"""
from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .procs import percentile, ui_server

SECTION = "## API latency"
WARMUP = 5


def _timed_ask(client, question: str) -> float:
    t0 = time.perf_counter()
    r = client.post("/api/ask", json={"question": question, "answerer": "extractive"})
    elapsed = time.perf_counter() - t0
    if r.status_code != 200:
        raise RuntimeError(f"/api/ask answered {r.status_code}: {r.text[:300]}")
    return elapsed


def _summary(seconds: list[float], wall: float) -> dict:
    s = sorted(x * 1000 for x in seconds)
    return {"requests": len(s), "p50_ms": round(percentile(s, 0.5), 1), "p95_ms": round(percentile(s, 0.95), 1),
            "mean_ms": round(statistics.fmean(s), 1), "max_ms": round(s[-1], 1),
            "requests_per_s": round(len(s) / wall, 2)}


def measure(url: str, questions: list[str], clients: int) -> dict:
    """``clients`` concurrent httpx clients asking ``questions`` (each once per client round)."""
    import httpx

    work = list(questions) * (2 if clients > 1 else 1)
    lock, latencies = threading.Lock(), []

    def client_loop(i: int) -> None:
        with httpx.Client(base_url=url, timeout=600) as c:
            for q in work[i::clients]:
                t = _timed_ask(c, q)
                with lock:
                    latencies.append(t)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client_loop, range(clients)))
    return _summary(latencies, time.perf_counter() - t0)


def api_latency(params: dict, corpus: Path, questions: list[str], workdir: Path) -> dict:
    """Serve the covid-qa index of ``params`` (the bench's worker parameters) and time
    ``/api/ask`` with 1 and 8 clients."""
    import httpx

    env = {"QA_CHROMA_PATH": params["chroma_path"], "QA_COLLECTION": params["collection"],
           "QA_SOURCE_DIR": str(corpus.parent), "QA_CHUNK_SIZE": str(params["chunk_size"]),
           "QA_CHUNK_OVERLAP": str(params["chunk_overlap"]), "QA_EMBED_BATCH_SIZE": str(params["batch_size"]),
           "QA_ANSWERER": "extractive"}
    with ui_server(workdir, env) as server:
        with httpx.Client(base_url=server.url, timeout=600) as c:
            for q in questions[:WARMUP]:
                _timed_ask(c, q)
            health = c.get("/api/health").json()
        one = measure(server.url, questions, 1)
        eight = measure(server.url, questions, 8)
    return {"index": health, "questions": len(questions), "clients_1": one, "clients_8": eight}


def section(result: dict, command: str, when: str, load: tuple[float, ...]) -> str:
    one, eight, index = result["clients_1"], result["clients_8"], result["index"]

    def row(n: int, r: dict) -> str:
        return (f"| {n} | {r['requests']} | {r['p50_ms']} | {r['p95_ms']} | {r['mean_ms']} | {r['max_ms']} "
                f"| {r['requests_per_s']} |")

    return f"""{SECTION}

`POST /api/ask` (extractive) against `python -m ui` on loopback, covid-qa index ({index['documents']}
documents, {index['chunks']} chunks), {result['questions']} covid-qa questions; timed by each httpx client
around its request (HTTP, JSON and the wait for one of the 4 answering slots included). 8 clients ask the
questions twice over between them. Produced by `{command}` ({when}; load average at the start
{', '.join(f'{x:.1f}' for x in load)}).

| clients | requests | p50 ms | p95 ms | mean ms | max ms | requests/s |
|---|---|---|---|---|---|---|
{row(1, one)}
{row(8, eight)}

With more clients than cores (and than answering slots) a request mostly waits for the others:
its latency is about clients / requests per second; requests per second is what more clients buy.
"""


def splice(report: str, new_section: str) -> str:
    """``report`` with its API latency section replaced by ``new_section`` (appended if none)."""
    start = report.find(SECTION + "\n")
    if start < 0:
        return report.rstrip("\n") + "\n\n" + new_section
    end = report.find("\n## ", start + len(SECTION))
    rest = report[end + 1:] if end >= 0 else ""
    return report[:start] + new_section.rstrip("\n") + "\n" + ("\n" + rest if rest else "")
