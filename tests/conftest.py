"""Tests own their environment: no developer .env or QA_* variable changes an outcome."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

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


@pytest.fixture
def settings_factory(tmp_path):
    """Build a Settings whose every path is under tmp_path."""
    from index.settings import Settings

    def make(**overrides):
        values = dict(
            source_dir=tmp_path / "docs",
            chroma_path=tmp_path / "chroma",
        )
        values.update(overrides)
        return Settings(**values)

    return make


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
