"""Turn the files of a source folder (or one file) into :class:`SourceDocument` objects.

This module walks the folder, hashes and dispatches each file by its suffix to its
format's parser (:mod:`index.parse_text`, :mod:`index.parse_html`, :mod:`index.parse_pdf`,
:mod:`index.parse_docx`). The formats are parsed with the well-kept libraries directly —
``pypdf`` (PDF), ``python-docx`` (DOCX), ``bs4`` (HTML), ``charset_normalizer`` (legacy
text encodings) — rather than llama-index readers: ``llama-index-readers-file`` pulls in heavy dependencies,
and its readers hide the details this module must control (page offsets, skip reasons,
whitespace, never raising on a bad file).

Every file either becomes documents or a :class:`Skipped` with a reason whose first words
are its category ("empty", "binary file", "corrupt PDF: ...", "unreadable: ..."). Only a
missing ``source`` raises (:class:`BadRequest`); what a parser warns about a file (pypdf
repairing a damaged PDF) is in ``LoadResult.warnings``, never on stderr.
``SourceDocument.text`` is what citation offsets point into: plain text is kept verbatim
(newlines normalised to ``\\n``); a table (HTML, DOCX) is one row per line, its cells
joined by " | ".

Unchanged files are not parsed again: when ``known_file_hashes[relpath]`` equals the
file's hash now and ``previous`` is given, ``previous(relpath)`` is returned instead (an
empty answer means "parse it"). Skipped ``.jsonl`` lines are only reported when parsed.
"""
from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from index.errors import BadRequest
from index.models import LoadResult, Page, Skipped, SourceDocument

from .parse_docx import parse_docx
from .parse_html import parse_html
from .parse_pdf import parse_pdf
from .parse_text import Parsed, Skip, decode, parse_jsonl, parse_markdown, parse_text

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl"})
MAX_FILE_BYTES = 200 * 1024 * 1024


def file_hash(path: Path) -> str:
    """sha256 hex of the file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_hash(text: str) -> str:
    """sha256 hex of ``text`` as UTF-8."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def load_documents(
    source: Path,
    *,
    known_file_hashes: Mapping[str, str] | None = None,
    previous: Callable[[str], Sequence[SourceDocument]] | None = None,
) -> LoadResult:
    """Load every supported file under ``source`` (a folder, walked sorted, or one file)."""
    source = Path(source)
    skipped: list[Skipped] = []
    if source.is_dir():
        root, names = source, _walk(source, skipped)
    elif source.exists() or source.is_symlink():
        root, names = source.parent, [source.name]
    else:
        raise BadRequest(f"{source} does not exist: point the source at a folder or a file")
    documents: list[SourceDocument] = []
    warned: list[str] = []
    seen: dict[str, str] = {}
    for rel in names:
        try:
            with _parser_warnings() as caught:
                docs, bad_lines = _load_file(root / rel, rel, known_file_hashes, previous)
        except Skip as skip:
            skipped.append(Skipped(rel, str(skip)))
            continue
        finally:
            warned.extend(f"{rel}: {message}" for message in dict.fromkeys(caught))
        skipped.extend(bad_lines)
        for doc in docs:
            if doc.source in seen:
                reason = f"duplicate source {doc.source!r} (also in {seen[doc.source]})"
                skipped.append(Skipped(rel, reason))
            else:
                seen[doc.source] = rel
                documents.append(doc)
    return LoadResult(tuple(documents), tuple(skipped), tuple(warned))


@contextmanager
def _parser_warnings() -> Iterator[list[str]]:
    """Collect what the parsers warn about one file into a list for the build report,
    instead of stderr: pypdf logs its repairs of a damaged PDF ("incorrect startxref
    pointer") on the ``pypdf`` logger, and libraries use ``warnings``.

    Other threads' ``pypdf`` records reach the root logger as before. ``warnings`` are
    process-wide, so one raised by another thread meanwhile lands in this list too."""
    caught: list[str] = []
    thread = threading.get_ident()
    with _PYPDF_LOCK:
        if not _PYPDF_COLLECTOR.lists:
            _PYPDF_COLLECTOR.propagate = _PYPDF_LOG.propagate
            _PYPDF_LOG.addHandler(_PYPDF_COLLECTOR)
            _PYPDF_LOG.propagate = False
        _PYPDF_COLLECTOR.lists[thread] = caught
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always")
            try:
                yield caught
            finally:  # deprecations are about code, not about the file
                caught.extend(str(w.message) for w in recorded
                              if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)))
    finally:
        with _PYPDF_LOCK:
            del _PYPDF_COLLECTOR.lists[thread]
            if not _PYPDF_COLLECTOR.lists:
                _PYPDF_LOG.removeHandler(_PYPDF_COLLECTOR)
                _PYPDF_LOG.propagate = _PYPDF_COLLECTOR.propagate


class _Collector(logging.Handler):
    """On the ``pypdf`` logger while files are parsed: a collecting thread's warnings go
    to its list, anything else on to the root logger (as propagation would)."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: dict[int, list[str]] = {}
        self.propagate = True

    def emit(self, record: logging.LogRecord) -> None:
        caught = self.lists.get(record.thread)
        if caught is None:
            if self.propagate:
                logging.getLogger().handle(record)
        elif record.levelno >= logging.WARNING:
            caught.append(record.getMessage())


_PYPDF_LOG = logging.getLogger("pypdf")
_PYPDF_COLLECTOR = _Collector()
_PYPDF_LOCK = threading.Lock()


def _walk(root: Path, skipped: list[Skipped]) -> list[str]:
    """Relative POSIX paths of the non-hidden files under ``root``, sorted."""

    def unreadable(err: OSError) -> None:
        rel = Path(err.filename).relative_to(root).as_posix() if err.filename else "."
        skipped.append(Skipped(rel, f"unreadable: {err.strerror or err}"))

    found = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(dirpath).relative_to(root)
        # ".name" files are hidden; "~$name.docx" are Office lock files, not documents.
        found += [(here / f).as_posix() for f in filenames if not f.startswith((".", "~$"))]
    return sorted(found)


def _load_file(path, rel, known, previous) -> tuple[list[SourceDocument], list[Skipped]]:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise Skip(f"unsupported file type {suffix or '(no extension)'} (supported: {supported})")
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise Skip("unreadable: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise Skip(f"too large ({info.st_size >> 20} MB > {MAX_FILE_BYTES >> 20} MB)")
        if known is not None and previous is not None and rel in known:
            if file_hash(path) == known[rel]:
                reused = list(previous(rel))
                if reused:
                    return reused, []
        data = path.read_bytes()
    except OSError as err:
        broken = path.is_symlink() and not path.exists()
        raise Skip(f"unreadable: {'broken symlink' if broken else err.strerror or err}") from None
    fhash = hashlib.sha256(data).hexdigest()

    def doc(source: str, title: str, text: str, pages: tuple[Page, ...] = ()) -> SourceDocument:
        return SourceDocument(source, title, text, rel, fhash, content_hash(text), pages)

    if suffix == ".jsonl":
        entries, bad_lines = parse_jsonl(decode(data), rel)
        if not entries and not bad_lines:
            raise Skip("empty")
        return [doc(*entry) for entry in entries], bad_lines
    title, text, pages = _PARSERS[suffix](data, path.stem)
    if not text.strip():
        raise Skip("empty")
    return [doc(rel, title, text, pages)], []


_PARSERS: dict[str, Callable[[bytes, str], Parsed]] = {
    ".txt": parse_text, ".md": parse_markdown, ".html": parse_html, ".htm": parse_html,
    ".pdf": parse_pdf, ".docx": parse_docx,
}
