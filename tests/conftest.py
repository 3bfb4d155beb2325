"""Tests own their environment: no developer .env or QA_* variable changes an outcome."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from index import environment

environment.configure()  # offline, no telemetry: what every entry point does first

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("QA_") or name.startswith("OPENAI_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield


def _factory(cls, tmp_path):
    """Build a ``cls`` (index/qa/ui Settings) whose every path is under tmp_path.

    Settings ignore unknown names (``extra="ignore"``, so a .env may hold every layer's):
    an override the class does not have is a test bug, not a setting, so it fails here."""

    def make(**overrides):
        unknown = set(overrides) - set(cls.model_fields)
        assert not unknown, f"{cls.__module__}.Settings has no {sorted(unknown)}: use the layer that does"
        values = dict(source_dir=tmp_path / "docs", chroma_path=tmp_path / "chroma")
        values.update(overrides)
        return cls(**values)

    return make


@pytest.fixture
def settings_factory(tmp_path):
    """index.Settings under tmp_path (building, reading, embedding)."""
    from index import Settings

    return _factory(Settings, tmp_path)


@pytest.fixture
def qa_settings_factory(tmp_path):
    """qa.Settings under tmp_path (answering, the LLM)."""
    from qa import Settings

    return _factory(Settings, tmp_path)


@pytest.fixture
def ui_settings_factory(tmp_path):
    """ui.Settings under tmp_path (the web app)."""
    from ui import Settings

    return _factory(Settings, tmp_path)


@pytest.fixture(scope="session")
def embedder():
    """The real packaged MiniLM, loaded once for the session."""
    from index.onnx_embedder import OnnxMiniLM

    return OnnxMiniLM()


def require_llama_cpp() -> None:
    from .llm_server import llama_cpp_installed

    if not llama_cpp_installed():
        pytest.skip("llama-cpp-python is not installed: `make test` installs it "
                    "(pip install \"llama-cpp-python[server]==0.3.36\")")


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory):
    """One real llama.cpp server (SmolLM2-135M) for the session; tests that don't stop it share it."""
    from .llm_server import llama_server

    require_llama_cpp()
    with llama_server(tmp_path_factory.mktemp("llama")) as server:
        yield server


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium under Playwright, one per test module (tests/browser.py)."""
    from playwright.sync_api import sync_playwright

    from .browser import launch_chromium

    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()
