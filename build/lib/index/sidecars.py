"""Files kept beside the Chroma index (saved BM25 indexes, sentence vectors): whose they
are, and removing the ones no generation needs.

Several collections may share one ``QA_CHROMA_PATH`` (the evaluation's, a second app's
``QA_COLLECTION``), so a build only ever removes its own collection's files: those named
after one of its physical collections, ``<collection>__<12 hex>``, and its crashed temp
files, ``.tmp-<collection>__<12 hex>...``.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path


def owned_by(name: str, collection: str) -> bool:
    """Whether a file or folder called ``name`` belongs to ``collection``."""
    return re.match(rf"(?:\.tmp-)?{re.escape(collection)}__[0-9a-f]{{12}}(?:[-.]|$)", name) is not None


def prune(root: Path, collection: str, keep: set[str]) -> None:
    """Remove ``collection``'s files and folders in ``root`` not named in ``keep``."""
    root = Path(root)
    if not root.exists():
        return
    for child in root.iterdir():
        if owned_by(child.name, collection) and child.name not in keep:
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
