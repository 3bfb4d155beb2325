"""Turn the files of a source folder (or one file) into :class:`SourceDocument` objects.

The formats are parsed with the well-kept libraries directly — ``pypdf`` (PDF),
``docx2txt`` (DOCX), ``bs4`` (HTML), ``charset_normalizer`` (legacy text encodings) —
rather than llama-index readers: ``llama-index-readers-file`` pulls in heavy dependencies,
and its readers hide the details this module must control (page offsets, skip reasons,
whitespace, never raising on a bad file).

Every file either becomes documents or a :class:`Skipped` with a reason whose first words
are its category ("empty", "binary file", "corrupt PDF: ...", "unreadable: ..."). Only a
missing ``source`` raises (:class:`BadRequest`). ``SourceDocument.text`` is what citation
offsets point into: plain text is kept verbatim (newlines normalised to ``\\n``).

Unchanged files are not parsed again: when ``known_file_hashes[relpath]`` equals the
file's hash now and ``previous`` is given, ``previous(relpath)`` is returned instead (an
empty answer means "parse it"). Skipped ``.jsonl`` lines are only reported when parsed.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Mapping, Sequence
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
    seen: dict[str, str] = {}
    for rel in names:
        try:
            docs, bad_lines = _load_file(root / rel, rel, known_file_hashes, previous)
        except _Skip as skip:
            skipped.append(Skipped(rel, str(skip)))
            continue
        skipped.extend(bad_lines)
        for doc in docs:
            if doc.source in seen:
                reason = f"duplicate source {doc.source!r} (also in {seen[doc.source]})"
                skipped.append(Skipped(rel, reason))
            else:
                seen[doc.source] = rel
                documents.append(doc)
    return LoadResult(tuple(documents), tuple(skipped))


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
    import docx2txt

    try:
        raw = docx2txt.process(io.BytesIO(data))
    except Exception as err:
        raise _Skip(f"corrupt DOCX: {err or type(err).__name__}") from None
    text = re.sub(r"\n{3,}", "\n\n", _newlines(raw)).strip()
    return _title_from_text(text, stem), text, ()


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
