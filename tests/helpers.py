"""Shared test helpers (not fixtures): corpora written on the fly, free ports, servers."""
from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
COVID = SHARED / "datasets" / "covid-qa" / "corpus.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def covid_docs(n: int, chars: int = 4000) -> list[dict]:
    """The first ``n`` covid-qa articles, cut to ``chars`` characters (small, real text)."""
    out = []
    with COVID.open() as f:
        for line in f:
            d = json.loads(line)
            out.append({"doc_id": d["doc_id"], "title": d.get("title", ""), "text": d["text"][:chars]})
            if len(out) == n:
                break
    return out


def write_jsonl(path: Path, docs: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return path
