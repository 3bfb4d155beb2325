"""Plain-text formats (``.txt``, ``.md``, ``.jsonl``) and what every format shares: turning
bytes into text (UTF-8, else the likeliest legacy encoding; binary is refused), newlines
normalised to ``\\n``, a title found in the text, and :class:`Skip`, raised with the
reason a file is not indexed.
"""
from __future__ import annotations

import json
import re
import unicodedata

from index.models import Page, Skipped

_SNIFF = 8192  # bytes/characters looked at to tell text from binary
_TITLE_MAX = 120
_NOT_TEXT = frozenset({"Cc", "Cn", "Co", "Cs"})  # controls, unassigned, private use, surrogates
_MD_H1 = re.compile(r"#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")

Parsed = tuple[str, str, tuple[Page, ...]]  # title, text, pages


class Skip(Exception):
    """A file is not indexed; the message is the reason."""


def decode(data: bytes) -> str:
    """Bytes of a text file to str: UTF-8 (BOM stripped), else the likeliest legacy encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", "replace")
    elif b"\x00" in data[:_SNIFF]:
        raise Skip("binary file")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = _decode_legacy(data)
    sample = text[:_SNIFF]
    odd = sum(c not in "\t\n\r\f\v" and unicodedata.category(c) in _NOT_TEXT for c in sample)
    if odd > len(sample) // 10:
        raise Skip("binary file")
    return newlines(text)


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


def newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def title_from_text(text: str, stem: str) -> str:
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


def parse_text(data: bytes, stem: str) -> Parsed:
    text = decode(data)
    return title_from_text(text, stem), text, ()


def parse_markdown(data: bytes, stem: str) -> Parsed:
    text = decode(data)
    fenced = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (m := _MD_H1.match(line)) and m.group(1):
            return m.group(1), text, ()
    return title_from_text(text, stem).lstrip("# ") or stem, text, ()



def parse_jsonl(text: str, rel: str) -> tuple[list[tuple[str, str, str]], list[Skipped]]:
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
            entries.append((_text(doc_id), _text(title), _text(newlines(body))))
            continue
        bad.append(Skipped(f"{rel}:{lineno}", reason))
    return entries, bad


def _text(s: str) -> str:
    """``s`` with each lone surrogate (JSON can escape one: ``"\\ud800"``) as U+FFFD: one
    is not text, and the tokenizer and Chroma refuse it, which would stop the whole build."""
    return _SURROGATE.sub("\ufffd", s)


_SURROGATE = re.compile("[\ud800-\udfff]")  # str joins valid pairs: any left is alone
