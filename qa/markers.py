"""The one grammar of citation markers, for everything that writes or reads them.

An answer's markers are ``[n]`` (a group may be written ``[1, 2]``; answers we compose
write ``[1][2]``); n has 1 to 3 digits, so ``[2020]`` is a year, not a marker. An LLM
draft is read more leniently (:data:`DRAFT_MARKER`): models write ``[passage 2]``,
``[1-3]`` and ``[1 and 2]`` too. The prompt, the grounding check, the citation composer,
the stream and the UI all use these definitions.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator

__all__ = [
    "DRAFT_MARKER", "MARKER", "as_references", "defuse", "draft_numbers", "find", "numbers", "pieces",
    "render", "split_lead", "strip",
]

# What an answer carries: "[1]", "[1, 2]", "[1,2,3]"; not "[a]" or "[2020]" (4+ digits).
MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
# What a model writes: also "[passage 2]", "[1-3]", "[1–3]", "[1 and 2]".
DRAFT_MARKER = re.compile(r"\[\s*(?:passages?\s*)?(\d+(?:\s*(?:[,;–-]|and)\s*\d+)*)\s*\]", re.I)
# Markers a model put after the full stop ("… in 2019.[2] Next"): they belong before it.
DRAFT_MARKERS_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\s*(?:passages?\s*)?\d[^\]\n]{0,30}\])+)", re.I)
_GROUP_SEP = re.compile(r"\s*[,;]\s*")
_DRAFT_SEP = re.compile(r"\s*(?:[,;]|and)\s*")
_LEAD = re.compile(r"(.*?\[\d{1,3}\]\.)\s+", re.S)
_MAX_RANGE = 10  # "[1-3]" is three passages; "[1-300]" is not a citation


def render(numbers: Iterable[int]) -> str:
    """``[1][2]``: the markers of one place in an answer."""
    return "".join(f"[{n}]" for n in numbers)


def find(text: str) -> list[tuple[int, int, list[int]]]:
    """``(start, end, numbers)`` of every answer marker in ``text``, in order."""
    return [(m.start(), m.end(), [int(n) for n in _GROUP_SEP.split(m.group(1))]) for m in MARKER.finditer(text)]


def numbers(text: str) -> list[int]:
    """The numbers cited in ``text``, in order of first appearance."""
    return list(dict.fromkeys(n for _, _, group in find(text) for n in group))


def draft_numbers(group: str) -> list[int]:
    """The passage numbers of one draft marker's inside: "1-3" → [1, 2, 3]."""
    out: list[int] = []
    for part in _DRAFT_SEP.split(group):
        a, dash, b = part.partition("–") if "–" in part else part.partition("-")
        if dash and a.strip().isdigit() and b.strip().isdigit() and 0 <= int(b) - int(a) <= _MAX_RANGE:
            out.extend(range(int(a), int(b) + 1))
        elif part.strip().isdigit():
            out.append(int(part))
    return out


def strip(text: str, *, draft: bool = False) -> str:
    """``text`` without its markers (and without the space each leaves before punctuation)."""
    text = (DRAFT_MARKER if draft else MARKER).sub("", text)
    return re.sub(r"\s+([.,;:!?])", r"\1", text)


def defuse(text: str) -> str:
    """A document's own bracketed numbers ("[12]", academic references) as "(ref. 12)", so a
    model cannot copy them as markers of ours."""
    return DRAFT_MARKER.sub(lambda m: f"(ref. {m.group(1)})", text)


def as_references(text: str) -> str:
    """A document's own "[12]" (what an answer's marker looks like) as "(12)", for quotes
    shown in an answer."""
    return MARKER.sub(r"(\1)", text)


def pieces(text: str) -> Iterator[str]:
    """``text`` cut after each marker followed by a space (stream deltas: one per cited
    sentence or quote; they add up to ``text``)."""
    pos = 0
    for m in MARKER.finditer(text):
        if m.end() < len(text) and text[m.end()].isspace() and text[m.end():].strip():
            yield text[pos : m.end()]
            pos = m.end()
    if pos < len(text):
        yield text[pos:]


def split_lead(text: str, limit: int = 200) -> tuple[str, str]:
    """An answer's lead (its short answer with its marker, "Eight U.S. personnel [1].") and
    the rest; ``("", text)`` when it has none within ``limit`` characters."""
    m = _LEAD.match(text)
    if not m or len(m.group(1)) > limit:
        return "", text
    return m.group(1), text[m.end():]
