"""The small frozen dataclasses that cross module boundaries.

No llama-index, chromadb or onnxruntime object ever leaves the module that wraps it;
what the rest of the code sees is one of these.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Page:
    """A page of a paged document (PDF): ``text[start:end]`` is page ``number`` (1-based)."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class SourceDocument:
    """One loaded document, as text.

    ``source`` is the path relative to the source folder (``notes/a.md``), or for a
    ``.jsonl`` corpus the line's ``doc_id``. ``file`` is the relative path of the file it
    came from and ``file_hash`` that file's content hash (several documents share a file
    in a ``.jsonl``). ``content_hash`` identifies this document's text.
    """

    source: str
    title: str
    text: str
    file: str
    file_hash: str
    content_hash: str
    pages: tuple[Page, ...] = ()


@dataclass(frozen=True)
class DocumentText:
    """An indexed document's whole text, as indexed: citation offsets index into ``text``.

    ``pages`` are its pages (PDFs; empty otherwise); ``path`` the file it was read from when
    the document is that whole file (None for a line of a ``.jsonl`` corpus). ``exact`` is
    False when the text was pieced together from the chunks (an index built before the
    build kept whole texts): every chunk's text is at its offsets, and the whitespace
    between two chunks that do not overlap is shown as spaces.
    """

    source: str
    title: str
    text: str
    pages: tuple[Page, ...] = ()
    path: Path | None = None
    exact: bool = True

    def page_at(self, offset: int) -> int | None:
        """The page holding ``offset`` (None for a document without pages)."""
        page = None
        for p in self.pages:
            if p.start > offset:
                break
            page = p.number
        return page

    def to_dict(self) -> dict:
        return {
            "source": self.source, "title": self.title, "text": self.text,
            "pages": [{"page": p.number, "start": p.start, "end": p.end} for p in self.pages],
            "exact": self.exact, "has_file": self.path is not None,
        }


@dataclass(frozen=True)
class Skipped:
    """A file (or ``.jsonl`` line) that was not indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class LoadResult:
    documents: tuple[SourceDocument, ...]
    skipped: tuple[Skipped, ...]
    warnings: tuple[str, ...] = ()  # "<file>: <message>", e.g. pypdf's repairs of a damaged PDF


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: ``document.text[start:end] == text``.

    ``page`` is the page at ``start`` (paged documents); ``page_breaks`` the pages that
    begin inside the chunk, as ``(document offset, page number)`` in order.
    """

    id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    ordinal: int
    page: int | None = None
    page_breaks: tuple[tuple[int, int], ...] = ()


def reading_order(chunk) -> tuple[str, int]:
    """Sort key: documents by source, each document's chunks from its start. The keyword
    index lists a generation's chunks in this order, so a chunk's neighbours sit beside it."""
    return chunk.source, chunk.start


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class IndexedDocument:
    """What ``python -m index status`` lists."""

    source: str
    title: str
    chunks: int
    indexed_at: str
    content_hash: str


@dataclass(frozen=True)
class BuildReport:
    files_added: tuple[str, ...] = ()
    files_changed: tuple[str, ...] = ()
    files_removed: tuple[str, ...] = ()
    files_unchanged: int = 0
    skipped: tuple[Skipped, ...] = ()
    warnings: tuple[str, ...] = ()  # "<file>: <message>" from the parsers (a PDF pypdf repaired)
    chunks_embedded: int = 0
    chunks_reused: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0
    sentences_analysed: int = 0  # sentences spaCy read (the others' entities were carried over)
    documents_total: int = 0
    seconds: float = 0.0
    full: bool = False
    embedder: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["skipped"] = [asdict(s) for s in self.skipped]
        for key in ("files_added", "files_changed", "files_removed", "warnings"):
            d[key] = list(d[key])
        return d
