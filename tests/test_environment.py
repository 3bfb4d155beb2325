"""No module sets environment variables when imported; index.environment.configure() does."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from .conftest import ROOT

EXPECTED = {
    "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False", "ORT_DISABLE_TELEMETRY": "1", "GRADIO_ANALYTICS_ENABLED": "False",
}


def _run(code: str, env: dict[str, str] | None = None) -> dict:
    """``code`` in a fresh interpreter with a clean environment; its JSON output."""
    clean = {"PATH": "/usr/bin:/bin", **(env or {})}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_packages_leaves_the_environment_alone():
    out = _run("import json, os; before = dict(os.environ)\n"
               "import index, qa, ui, ui.app, index.embedder, index.store, qa.eval, bench.embedders\n"
               "after = dict(os.environ)\n"
               "print(json.dumps({k: after.get(k) for k in set(before) ^ set(after) | "
               "{k for k in before if before[k] != after.get(k)}}))")
    assert out == {}


def test_configure_sets_the_offline_defaults_once_and_keeps_the_users_values():
    out = _run("import json, os\n"
               "from index import environment\n"
               "environment.configure(); first = dict(os.environ)\n"
               "environment.configure(); assert dict(os.environ) == first\n"
               "print(json.dumps(first))", env={"HF_HUB_OFFLINE": "0"})
    assert out["HF_HUB_OFFLINE"] == "0"  # the user's value wins
    assert {k: out[k] for k in EXPECTED if k != "HF_HUB_OFFLINE"} == {
        k: v for k, v in EXPECTED.items() if k != "HF_HUB_OFFLINE"}
    cache = out["TIKTOKEN_CACHE_DIR"]
    assert cache.endswith(os.path.join("llama_index", "core", "_static", "tiktoken_cache")) and os.path.isdir(cache)


def test_the_front_doors_configure_the_environment(tmp_path):
    """A library user who never calls configure() gets it from Assistant / IndexReader."""
    out = _run("import json, os\n"
               "import qa\n"
               f"qa.Assistant(qa.Settings(chroma_path={str(tmp_path / 'c')!r}))\n"
               "print(json.dumps(dict(os.environ)))")
    assert {k: out.get(k) for k in EXPECTED} == EXPECTED and "TIKTOKEN_CACHE_DIR" in out
