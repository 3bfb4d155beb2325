"""Helpers for the tests that drive the real app: start ``python -m ui``, drive Chromium.

The app runs in a subprocess on a free loopback port, with its own copy of ``seeds/`` and its
own index under the test's directory, so uploads and rebuilds never touch the repository.
The browser is Debian's Chromium (``/usr/bin/chromium``) driven by Playwright.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import free_port, stop, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = "us-strikes-iran-backed-groups-iraq.txt"
SEED_TEXT = (SEEDS / SEED_FILE).read_text()
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-quic",
]
STARTUP_TIMEOUT = 240.0  # the first start builds the index; the machine is shared
ANSWER_TIMEOUT_MS = 120_000


@dataclass
class RunningApp:
    url: str
    proc: subprocess.Popen
    source_dir: Path
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def app_env(workdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The app's environment: the caller's, minus every QA_/OPENAI_ setting, plus test paths."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "OPENAI_"))}
    env.update(
        QA_SOURCE_DIR=str(workdir / "docs"), QA_CHROMA_PATH=str(workdir / "chroma"),
        PYTHONPATH=str(ROOT), GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False", PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


@contextmanager
def running_app(workdir: Path, extra_env: dict[str, str] | None = None) -> Iterator[RunningApp]:
    """``python -m ui --port <free>`` in ``workdir`` (no .env there), over a copy of the seeds."""
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "docs"
    shutil.copytree(SEEDS, source)
    for f in source.iterdir():
        f.chmod(0o644)
    port = free_port()
    log_path = workdir / "app.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ui", "--port", str(port)], cwd=workdir,
            env=app_env(workdir, extra_env), stdout=log, stderr=subprocess.STDOUT,
        )
    app = RunningApp(f"http://127.0.0.1:{port}", proc, source, log_path)
    try:
        try:
            wait_for_port(port, STARTUP_TIMEOUT, proc)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"the app did not start: {exc}\n{app.log_tail()}") from exc
        yield app
    finally:
        stop(proc)


def launch_chromium(playwright):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (make test does)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# ---- driving the page ------------------------------------------------------------------------

FINISHED = "#qa-chat .qa-answer:not(.qa-streaming), #qa-chat .qa-error"


def finished_count(page) -> int:
    return page.locator(FINISHED).count()


def wait_for_reply(page, before: int):
    """Wait until the chat holds more than ``before`` finished replies; return the last one."""
    page.wait_for_function(
        f"document.querySelectorAll({FINISHED!r}).length > {before}", timeout=ANSWER_TIMEOUT_MS
    )
    return page.locator(FINISHED).last


def ask(page, question: str):
    """Type ``question``, press Ask, and return the finished reply (an answer or an error)."""
    before = finished_count(page)
    page.locator("#qa-question textarea").fill(question)
    page.get_by_role("button", name="Ask", exact=True).click()
    return wait_for_reply(page, before)


def upload(page, path: Path) -> str:
    """Upload one file through the documents panel; return the upload report's text."""
    report = page.locator("#qa-upload-report")
    page.locator("#qa-upload input[type=file]").set_input_files(str(path))
    report.locator("li").first.wait_for(timeout=60_000)
    return report.inner_text()


def rebuild(page) -> str:
    """Press "Rebuild index" and return the report's text once the build finished."""
    page.get_by_role("button", name="Rebuild index").click()
    page.locator("#qa-build-report .qa-report, #qa-build-report .qa-error").wait_for(timeout=180_000)
    return page.locator("#qa-build-report").inner_text()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#qa-question textarea").wait_for()
    page.locator("#qa-documents table, #qa-documents .qa-empty, #qa-documents .qa-error").wait_for()
    return page
