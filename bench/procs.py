"""The processes a load or scale run drives: ``python -m ui``, ``chroma run``, and a
sampler of their memory.

Everything listens on a free loopback port and gets its own environment (no developer
``.env``: the processes run in the run's scratch folder), so a run never touches the
repository's index or a port someone else uses.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUIET_ENV = {"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False",
             "ORT_DISABLE_TELEMETRY": "1", "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None,
                  log: Path | None = None) -> None:
    """Until something listens on 127.0.0.1:``port``; fails at once if ``proc`` exits (with
    the end of its ``log``)."""
    def log_end() -> str:
        return f":\n{tail(log)}" if log is not None else ""

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:3]} exited with code {proc.returncode}{log_end()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s{log_end()}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def app_env(settings_env: dict[str, str]) -> dict[str, str]:
    """The caller's environment minus every QA_/OPENAI_ setting, plus ``settings_env``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "OPENAI_"))}
    env.update(QUIET_ENV, PYTHONPATH=str(ROOT))
    env.update(settings_env)
    return env


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..1)."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(round(q * (len(sorted_values) - 1))))]


@dataclass
class Server:
    url: str
    port: int
    proc: subprocess.Popen
    log: Path


def stop(proc: subprocess.Popen) -> None:
    """Terminate ``proc``; kill it if it has not ended within 20 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@contextmanager
def ui_server(workdir: Path, settings_env: dict[str, str], *, startup_timeout: float = 600) -> Iterator[Server]:
    """``python -m ui`` on a free loopback port, run in ``workdir`` (its log: ui.log).

    The app builds the index first when there is none, hence the long start-up bound."""
    port = free_port()
    log = workdir / f"ui-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ui", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=workdir, env=app_env(settings_env), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, startup_timeout, proc, log)
        yield Server(f"http://127.0.0.1:{port}", port, proc, log)
    finally:
        stop(proc)


def chroma_binary() -> str:
    local = Path(sys.executable).with_name("chroma")
    return str(local) if local.exists() else "chroma"


@contextmanager
def chroma_server(data_dir: Path) -> Iterator[Server]:
    """A real ``chroma run`` on a free loopback port, storing into ``data_dir``."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"chroma-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([chroma_binary(), "run", "--path", str(data_dir), "--host", "127.0.0.1",
                                 "--port", str(port)], env=app_env({}), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 120, proc, log)
        yield Server(f"http://127.0.0.1:{port}", port, proc, log)
    finally:
        stop(proc)


class PeakRSS:
    """Samples the resident memory of a process plus its children every ``interval`` s.

    ``peak_mb`` is the largest sum seen (the UI's tree is one process today; children
    are counted in case a library starts helpers). ``lifetime_peak_mb`` is the kernel's
    high-water mark (VmHWM) of the process itself, read at the end: it cannot miss a
    spike between samples, and it covers the whole life of the process (start-up too)."""

    def __init__(self, pid: int, interval: float = 0.2):
        import psutil

        self._proc = psutil.Process(pid)
        self.interval = interval
        self.peak_mb = 0.0
        self.lifetime_peak_mb = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def _sample(self) -> None:
        import psutil

        try:
            procs = [self._proc, *self._proc.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                continue
        self.peak_mb = max(self.peak_mb, total / 2**20)
        self.samples += 1

    def _high_water_mark(self) -> None:
        try:
            for line in Path(f"/proc/{self._proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.lifetime_peak_mb = int(line.split()[1]) / 1024  # kB
        except (OSError, ValueError, IndexError):
            pass

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRSS":
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sample()
        self._high_water_mark()
