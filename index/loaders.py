"""Turn the files of a source folder (or one file) into :class:`SourceDocument` objects.

The formats are parsed with the well-kept libraries directly — ``pypdf`` (PDF),
``python-docx`` (DOCX), ``bs4`` (HTML), ``charset_normalizer`` (legacy text encodings) —
rather than llama-index readers: ``llama-index-readers-file`` pulls in heavy dependencies,
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
import io
import json
import logging
import os
import re
import stat
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from index.errors import BadRequest
from index.models import LoadResult, Page, Skipped, SourceDocument

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl"})
MAX_FILE_BYTES = 200 * 1024 * 1024
_SNIFF = 8192  # bytes/characters looked at to tell text from binary
_TITLE_MAX = 120
_NOT_TEXT = frozenset({"Cc", "Cn", "Co", "Cs"})  # controls, unassigned, private use, surrogates
_BLOCK, _LINE, _PRE = "\x1e", "\x1f", "\x1d"  # HTML-extraction markers (never in output)
_MD_H1 = re.compile(r"#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_HTML_DROP = frozenset({"script", "style", "noscript", "head", "title", "template", "svg"})
_HTML_BLOCKS = frozenset(
    "address article aside blockquote body caption dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main nav ol "
    "p section summary table tbody td tfoot th thead tr ul".split()
)

Parsed = tuple[str, str, tuple[Page, ...]]  # title, text, pages


class _Skip(Exception):
    """A file is not indexed; the message is the reason."""


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
        except _Skip as skip:
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
        raise _Skip(f"unsupported file type {suffix or '(no extension)'} (supported: {supported})")
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise _Skip("unreadable: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise _Skip(f"too large ({info.st_size >> 20} MB > {MAX_FILE_BYTES >> 20} MB)")
        if known is not None and previous is not None and rel in known:
            if file_hash(path) == known[rel]:
                reused = list(previous(rel))
                if reused:
                    return reused, []
        data = path.read_bytes()
    except OSError as err:
        broken = path.is_symlink() and not path.exists()
        raise _Skip(f"unreadable: {'broken symlink' if broken else err.strerror or err}") from None
    fhash = hashlib.sha256(data).hexdigest()

    def doc(source: str, title: str, text: str, pages: tuple[Page, ...] = ()) -> SourceDocument:
        return SourceDocument(source, title, text, rel, fhash, content_hash(text), pages)

    if suffix == ".jsonl":
        entries, bad_lines = _parse_jsonl(_decode(data), rel)
        if not entries and not bad_lines:
            raise _Skip("empty")
        return [doc(*entry) for entry in entries], bad_lines
    title, text, pages = _PARSERS[suffix](data, path.stem)
    if not text.strip():
        raise _Skip("empty")
    return [doc(rel, title, text, pages)], []


def _decode(data: bytes) -> str:
    """Bytes of a text file to str: UTF-8 (BOM stripped), else the likeliest legacy encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", "replace")
    elif b"\x00" in data[:_SNIFF]:
        raise _Skip("binary file")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = _decode_legacy(data)
    sample = text[:_SNIFF]
    odd = sum(c not in "\t\n\r\f\v" and unicodedata.category(c) in _NOT_TEXT for c in sample)
    if odd > len(sample) // 10:
        raise _Skip("binary file")
    return _newlines(text)


def _decode_legacy(data: bytes) -> str:
    """cp1252 when it reads at least as cleanly as charset_normalizer's best guess."""
    try:
        cp1252 = data.decode("cp1252")
    except UnicodeDecodeError:
        cp1252 = None
    try:  # charset_normalizer comes with requests; without it, cp1252 then latin-1
        import charset_normalizer
        from charset_normalizer.md import mess_ratio

        utf = ["utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le"]
        best = charset_normalizer.from_bytes(data, cp_exclusion=utf).best()
        if best is not None and (cp1252 is None or mess_ratio(cp1252[:65536], 1.0) > best.chaos):
            return str(best)
    except Exception:
        pass
    return cp1252 if cp1252 is not None else data.decode("latin-1")


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _title_from_text(text: str, stem: str) -> str:
    """The first non-empty line if short, else the file stem; but a Title Case headline
    right after one or two 1-2 word lines wins (pages saved from the web start with
    crumbs like "Accessibility links", "Breaking News")."""
    lines = [line.strip() for line in text[:4096].split("\n") if line.strip()][:3]
    for line in lines:
        words = line.split()
        capitalised = sum(w[:1].isupper() or not w[:1].isalpha() for w in words)
        if (len(words) >= 3 and capitalised * 4 >= len(words) * 3 and len(line) <= _TITLE_MAX
                and line[-1] not in ".,;:" and line.count(",") <= 1):
            return line
        if len(words) > 2:
            break
    return lines[0] if lines and len(lines[0]) <= _TITLE_MAX else stem


def _parse_text(data: bytes, stem: str) -> Parsed:
    text = _decode(data)
    return _title_from_text(text, stem), text, ()


def _parse_markdown(data: bytes, stem: str) -> Parsed:
    text = _decode(data)
    fenced = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (m := _MD_H1.match(line)) and m.group(1):
            return m.group(1), text, ()
    return _title_from_text(text, stem).lstrip("# ") or stem, text, ()


def _parse_html(data: bytes, stem: str) -> Parsed:
    from bs4 import BeautifulSoup
    from bs4.element import CData, NavigableString, PreformattedString

    _decode(data)  # binary is refused as for .txt (bs4 would decode it into CJK-looking noise)
    try:
        soup = BeautifulSoup(data, "html.parser")
    except Exception as err:
        raise _Skip(f"corrupt HTML: {err or type(err).__name__}") from None

    def clean(s: str) -> str:  # markers are ours: drop any the document itself contains
        return s.translate({ord(_BLOCK): " ", ord(_LINE): " ", ord(_PRE): " "})

    parts: list[str] = []
    stack = [(iter(soup.contents), False)]  # no recursion: deep nesting is no crash
    while stack:
        node = next(stack[-1][0], None)
        if node is None:
            parts.append(_BLOCK if stack.pop()[1] else "")
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString) or isinstance(node, CData):
                parts.append(clean(node))  # not comments, doctypes, processing instructions
        elif node.name in _HTML_DROP:
            continue
        elif node.name == "br":
            parts.append(_LINE)
        elif node.name == "pre":
            parts.append(_BLOCK + _PRE + clean(node.get_text()) + _BLOCK)
        elif node.name == "table":  # one row per line, so a row can be quoted whole
            parts.append(_BLOCK + _LINE.join(clean(row) for row in _html_table_lines(node)) + _BLOCK)
        else:
            parts.append(_BLOCK if node.name in _HTML_BLOCKS else "")
            stack.append((iter(node.contents), node.name in _HTML_BLOCKS))
    blocks = []
    for block in "".join(parts).split(_BLOCK):
        if block.startswith(_PRE):
            block = _newlines(block[1:]).strip("\n").rstrip()
        else:
            block = "\n".join(filter(None, (" ".join(line.split()) for line in block.split(_LINE))))
        if block.strip():
            blocks.append(block)
    text = "\n\n".join(blocks)
    heading = soup.find("title") or soup.find("h1")
    title = " ".join(heading.get_text().split()) if heading else ""
    return title or _title_from_text(text, stem), text, ()


def _html_table_lines(table) -> list[str]:
    """A table's caption, then each of its rows (not a nested table's) with its cells joined
    by " | "; a cell's own text (a nested table's too) on one line."""
    lines = []
    caption = table.find("caption")
    if caption is not None and caption.find_parent("table") is table:
        lines.append(_html_inline_text(caption))
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        cells = [_html_inline_text(c) for c in tr.find_all(("td", "th")) if c.find_parent("tr") is tr]
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


def _html_inline_text(node) -> str:
    """The text of ``node`` on one line: block elements and line breaks become spaces."""
    from bs4.element import CData, NavigableString, PreformattedString, Tag

    parts = []
    for d in node.descendants:  # a generator, no recursion
        if isinstance(d, Tag):
            if d.name in _HTML_BLOCKS or d.name == "br":
                parts.append(" ")
        elif isinstance(d, NavigableString) and (not isinstance(d, PreformattedString) or isinstance(d, CData)):
            if not any(p.name in _HTML_DROP for p in d.parents):
                parts.append(d)
    return " ".join("".join(parts).split())


def _parse_pdf(data: bytes, stem: str) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Skip("encrypted PDF")
        texts = []
        for page in reader.pages:
            try:
                raw = page.extract_text() or ""
            except Exception:  # one bad page does not lose the others
                raw = ""
            # Lone surrogates and NULs from odd font maps would break storage downstream.
            raw = _newlines(raw).replace("\x00", "").encode("utf-8", "replace").decode()
            texts.append(raw.strip())
    except _Skip:
        raise
    except DependencyError:
        raise _Skip("encrypted PDF (decrypting needs the 'cryptography' package)") from None
    except Exception as err:
        raise _Skip(f"corrupt PDF: {err or type(err).__name__}") from None
    text = "\n\n".join(texts)
    if not text.strip():
        raise _Skip("no extractable text (scanned PDF?)")
    pages, start = [], 0
    for number, page_text in enumerate(texts, 1):
        pages.append(Page(number, start, start + len(page_text)))
        start += len(page_text) + 2
    return _title_from_text(text, stem), text, tuple(pages)


def _parse_docx(data: bytes, stem: str) -> Parsed:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        package = document.part.package
        parts = sorted((p for p in package.iter_parts() if _DOCX_HEADER.fullmatch(str(p.partname))),
                       key=lambda p: str(p.partname))
        raw = "".join(
            [_docx_text(p.element) for p in parts if "header" in p.partname]
            + [_docx_text(document.element.body)]
            + [_docx_text(p.element) for p in parts if "footer" in p.partname]
        )
    except Exception as err:
        raise _Skip(f"corrupt DOCX: {err or type(err).__name__}") from None
    text = re.sub(r"\n{3,}", "\n\n", _newlines(raw)).strip()
    return _title_from_text(text, stem), text, ()


_DOCX_HEADER = re.compile(r"/word/(?:header|footer)\d*\.xml")


def _docx_text(root) -> str:
    """The text of a WordprocessingML part as docx2txt gives it (a blank line before each
    paragraph, tabs and breaks kept), except that a table is one row per line, its cells
    joined by " | " (each cell's text, nested tables included, on one line)."""
    from docx.oxml.ns import qn
    from lxml import etree

    t, tab, br, cr, p = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:p")
    tbl, tr, tc = qn("w:tbl"), qn("w:tr"), qn("w:tc")
    out: list[str] = []
    depth = 0  # tables we are inside
    row: list[str] = []  # the cells of the current top-level row
    cell: list[str] = []  # the text of the current top-level cell
    for event, el in etree.iterwalk(root, events=("start", "end")):  # no recursion
        tag = el.tag
        if tag == tbl:
            depth += 1 if event == "start" else -1
            if depth == 0 or (event == "start" and depth == 1):
                out.append("\n\n")
            continue
        if depth == 0:
            if event == "start":
                if tag == t:
                    out.append(el.text or "")
                elif tag == tab:
                    out.append("\t")
                elif tag in (br, cr):
                    out.append("\n")
                elif tag == p:
                    out.append("\n\n")
            continue
        if depth == 1 and tag == tr:
            if event == "start":
                row = []
            elif any(row):
                out.append(" | ".join(row) + "\n")
        elif depth == 1 and tag == tc:
            if event == "start":
                cell = []
            else:
                row.append(" ".join("".join(cell).split()))
        elif event == "start":
            if tag == t:
                cell.append(el.text or "")
            elif tag in (tab, br, cr, p):
                cell.append(" ")
    return "".join(out)


def _parse_jsonl(text: str, rel: str) -> tuple[list[tuple[str, str, str]], list[Skipped]]:
    """One document per line: ``{"doc_id": str, "text": str, "title"?: str}``."""
    entries: list[tuple[str, str, str]] = []
    bad: list[Skipped] = []
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as err:
            bad.append(Skipped(f"{rel}:{lineno}", f"invalid JSON: {err}"))
            continue
        doc_id = obj.get("doc_id") if isinstance(obj, dict) else None
        body = obj.get("text") if isinstance(obj, dict) else None
        if not isinstance(obj, dict):
            reason = "not a JSON object"
        elif not isinstance(doc_id, str) or not doc_id.strip():
            reason = "missing doc_id (a non-empty string)"
        elif not isinstance(body, str):
            reason = "missing text (a string)"
        elif not body.strip():
            reason = "empty text"
        elif doc_id in first_line:
            reason = f"duplicate doc_id {doc_id!r} (first on line {first_line[doc_id]})"
        else:
            first_line[doc_id] = lineno
            title = obj.get("title")
            title = " ".join(title.split()) if isinstance(title, str) and title.strip() else doc_id
            entries.append((_text(doc_id), _text(title), _text(_newlines(body))))
            continue
        bad.append(Skipped(f"{rel}:{lineno}", reason))
    return entries, bad


def _text(s: str) -> str:
    """``s`` with each lone surrogate (JSON can escape one: ``"\\ud800"``) as U+FFFD: one
    is not text, and the tokenizer and Chroma refuse it, which would stop the whole build."""
    return _SURROGATE.sub("\ufffd", s)


_SURROGATE = re.compile("[\ud800-\udfff]")  # str joins valid pairs: any left is alone

_PARSERS: dict[str, Callable[[bytes, str], Parsed]] = {
    ".txt": _parse_text, ".md": _parse_markdown, ".html": _parse_html, ".htm": _parse_html,
    ".pdf": _parse_pdf, ".docx": _parse_docx,
}
