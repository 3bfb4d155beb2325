"""Uploaded files → checked, safely named documents in the source folder. No gradio here.

A file is accepted when its type is one the index reads, it is not empty and not over the
size limit, and its first bytes match its type (a ``.pdf`` starts ``%PDF-``, a ``.docx`` is a
zip, text has no NUL bytes). It is saved under a name made of its own base name's letters,
digits, ``.``, ``-`` and ``_``; it never replaces a file: an identical file already there is
reported as such, a different one with the same name gets ``-2``, ``-3``, ... appended.
The file appears in the folder in one step (a hidden temporary file, then a hard link), so a
rebuild running meanwhile never reads half a file.
"""
from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from index import BadRequest
from index import SUPPORTED_SUFFIXES

from .settings import Settings

ALLOWED_SUFFIXES = SUPPORTED_SUFFIXES
MAX_STEM = 80
_UNSAFE = re.compile(r"[^\w.-]+")
_WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                               *(f"lpt{i}" for i in range(1, 10))})
_TEXT_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".jsonl"})
_SNIFF = 8192


@dataclass(frozen=True)
class Saved:
    name: str  # as saved in the source folder
    original: str  # as uploaded


@dataclass(frozen=True)
class Rejected:
    name: str
    reason: str


@dataclass(frozen=True)
class UploadResult:
    saved: tuple[Saved, ...] = ()
    unchanged: tuple[str, ...] = ()  # identical files already in the folder
    rejected: tuple[Rejected, ...] = ()


def allowed_types() -> str:
    return ", ".join(sorted(ALLOWED_SUFFIXES))


def safe_name(original: str) -> str:
    """A file name that is safe to create in the source folder, keeping the type.

    Raises :class:`BadRequest` for a type the index does not read.
    """
    base = re.split(r"[/\\]", original)[-1]
    base = unicodedata.normalize("NFKC", base).strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in ALLOWED_SUFFIXES:
        raise BadRequest(
            f"{suffix or 'files without an extension'} cannot be indexed; upload {allowed_types()} files."
        )
    stem = _UNSAFE.sub("_", stem).strip("._-")[:MAX_STEM].strip("._-") or "document"
    if stem.lower() in _WINDOWS_RESERVED:
        stem = f"{stem}_"
    return stem + suffix


def check_file(path: Path, name: str, max_bytes: int) -> None:
    """Raise :class:`BadRequest` saying why ``path`` (uploaded as ``name``) is not accepted."""
    size = path.stat().st_size
    if size == 0:
        raise BadRequest("the file is empty.")
    if size > max_bytes:
        raise BadRequest(f"the file is {size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    with open(path, "rb") as f:
        head = f.read(_SNIFF)
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf" and not head.startswith(b"%PDF-"):
        raise BadRequest("this is not a PDF file.")
    if suffix == ".docx" and not head.startswith(b"PK\x03\x04"):
        raise BadRequest("this is not a Word (.docx) file.")
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if suffix in _TEXT_SUFFIXES and b"\x00" in head and not utf16:
        raise BadRequest("this looks like a binary file, not text.")


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            block = fa.read(1 << 20)
            if block != fb.read(1 << 20):
                return False
            if not block:
                return True


def _publish(tmp: Path, folder: Path, name: str) -> tuple[str, bool]:
    """Link ``tmp`` into ``folder`` under ``name`` or the first free ``name-N``.

    Returns the name used and whether it is new (False: an identical file was there).
    """
    stem, suffix = os.path.splitext(name)
    for n in range(1, 1000):
        candidate = name if n == 1 else f"{stem}-{n}{suffix}"
        target = folder / candidate
        try:
            os.link(tmp, target)
            return candidate, True
        except FileExistsError:
            if target.is_file() and not target.is_symlink() and _same_bytes(tmp, target):
                return candidate, False
    raise BadRequest(f"too many files named like {name}; rename the file and upload it again.")


def save_one(path: Path, original: str, settings: Settings) -> Saved | str:
    """Check and save one uploaded file; returns :class:`Saved`, or the name of an
    identical file already in the folder. Raises :class:`BadRequest` if it is refused."""
    name = safe_name(original)
    check_file(path, name, settings.upload_max_mb * 2**20)
    folder = Path(settings.source_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", dir=folder)  # hidden: the loader skips it
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            while block := src.read(1 << 20):
                out.write(block)
        os.chmod(tmp, 0o644)
        used, new = _publish(tmp, folder, name)
    finally:
        tmp.unlink(missing_ok=True)
    return Saved(used, original) if new else used


def save_uploads(files: Iterable[Path | str], settings: Settings) -> UploadResult:
    """Save uploaded files (their base names are the uploaded names) into ``settings.source_dir``."""
    saved, unchanged, rejected = [], [], []
    for f in files:
        path = Path(f)
        try:
            outcome = save_one(path, path.name, settings)
        except BadRequest as exc:
            rejected.append(Rejected(path.name, str(exc)))
        except OSError as exc:
            rejected.append(Rejected(path.name, f"could not be saved ({exc.strerror or exc})."))
        else:
            if isinstance(outcome, Saved):
                saved.append(outcome)
            else:
                unchanged.append(outcome)
    return UploadResult(tuple(saved), tuple(unchanged), tuple(rejected))
