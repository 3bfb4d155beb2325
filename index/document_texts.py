"""Each indexed document's whole text and pages, kept beside the index for the viewer.

A document's text cannot be rebuilt exactly from its chunks: a chunk is a run of whole
sentences, so the whitespace between two chunks that do not overlap is stored nowhere
(nor the start of a page that falls in it). The build therefore keeps each document's text
(what citation offsets index into) and its page offsets in one file per content hash,
``<QA_CHROMA_PATH>/texts/<collection>/<content hash>.json.gz``: an unchanged document is
not written again, two documents with the same text share a file, and after the switch the
files no live document has are removed (:func:`prune`). A file that does not match its
hash (cut short, edited) reads as missing.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Sequence

from .loaders import content_hash
from .models import Chunk, Page, SourceDocument

_NAME = re.compile(r"^[0-9a-f]{64}\.json\.gz$")


def root(chroma_path: Path, collection: str) -> Path:
    """The folder of ``collection``'s texts (several collections may share a Chroma path)."""
    return Path(chroma_path) / "texts" / collection


def path_for(folder: Path, doc_hash: str) -> Path:
    return Path(folder) / f"{doc_hash}.json.gz"


def has(folder: Path, doc_hash: str) -> bool:
    return path_for(folder, doc_hash).is_file()


def write(folder: Path, doc: SourceDocument) -> bool:
    """Keep ``doc``'s text and pages (atomically); False when they are kept already."""
    path = path_for(folder, doc.content_hash)
    if path.is_file():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"text": doc.text, "pages": [[p.number, p.start, p.end] for p in doc.pages]}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json.gz")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as f:
            f.write(json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def load(folder: Path, doc_hash: str) -> tuple[str, tuple[Page, ...]] | None:
    """The text and pages kept for ``doc_hash``; None when there is no (intact) file."""
    try:
        with gzip.open(path_for(folder, doc_hash), "rb") as f:
            body = json.loads(f.read().decode("utf-8", "surrogatepass"))
        text = body["text"]
        pages = tuple(Page(int(n), int(s), int(e)) for n, s, e in body.get("pages", ()))
    except (OSError, EOFError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(text, str) or content_hash(text) != doc_hash:
        return None
    return text, pages


def prune(folder: Path, keep: set[str]) -> None:
    """Remove the texts of documents not in ``keep`` (content hashes), and crashed temp files."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.name.startswith(".tmp-") or (_NAME.match(child.name) and child.name[:64] not in keep):
            child.unlink(missing_ok=True)


def pieced(chunks: Sequence[Chunk]) -> tuple[str, tuple[Page, ...]]:
    """A document's text from its chunks (each at its offsets, spaces between those that do
    not meet) and its pages as far as the chunks show them (a page seems to start at the
    first chunk offset known to be on it)."""
    size = max((c.end for c in chunks), default=0)
    text = [" "] * size
    starts: dict[int, int] = {}
    for c in sorted(chunks, key=lambda c: c.start):
        text[c.start:c.end] = c.text
        marks = ([(c.start, c.page)] if c.page is not None else []) + list(c.page_breaks)
        for offset, number in marks:
            starts[number] = min(offset, starts.get(number, offset))
    ordered = sorted((offset, number) for number, offset in starts.items())
    if ordered:  # the text before the first chunk is on the first page
        ordered[0] = (0, ordered[0][1])
    pages = tuple(Page(number, offset, ordered[i + 1][0] if i + 1 < len(ordered) else size)
                  for i, (offset, number) in enumerate(ordered))
    return "".join(text), pages
