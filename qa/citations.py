"""Citations are checked against their source; ``[n]`` markers are kept consistent.

:func:`verify_quote` says whether a quote is verbatim in its document at its offsets,
using the retrieved passages or, for a quote outside them, the document's chunks in the
index. :func:`finalise` verifies every citation of an answer, drops those that fail (and
their markers), drops markers that point at no citation, merges duplicates and renumbers
the rest 1..n in order of first appearance.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Iterable, Sequence

from .types import Citation, Passage

if TYPE_CHECKING:  # pragma: no cover
    from index import IndexReader

# "[1]", "[1, 2]", "[1,2,3]"; not "[a]" or "[2020]"-style years (4+ digits)
MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_SPACE_BEFORE_MARKER = re.compile(r"[ \t]+(?=\[\d)")


def find_markers(text: str) -> list[tuple[int, int, list[int]]]:
    """``(start, end, numbers)`` of every marker in ``text``, in order."""
    return [
        (m.start(), m.end(), [int(n) for n in re.split(r"\s*[,;]\s*", m.group(1))])
        for m in MARKER.finditer(text)
    ]


def cited_numbers(text: str) -> list[int]:
    """The numbers cited in ``text``, in order of first appearance."""
    seen: dict[int, None] = {}
    for _, _, numbers in find_markers(text):
        for n in numbers:
            seen.setdefault(n, None)
    return list(seen)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)  # "word [7]." minus the marker: "word ."
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r"[ \t]+\n", "\n", text).strip()


def renumber(text: str, citations: Sequence[Citation]) -> tuple[str, tuple[Citation, ...]]:
    """Keep markers that point at a citation, number them 1..n by first appearance.

    A marker whose number has no citation is removed; ``[2, 2]`` and ``[1][1]`` become
    ``[1]``; citations of the same quote at the same place share one number; citations no
    marker points at are dropped.
    """
    by_number = {c.number: c for c in citations}
    new_number: dict[int, int] = {}
    by_place: dict[tuple[str, int, int], int] = {}
    kept: list[Citation] = []

    def number_for(old: int) -> int | None:
        if old in new_number:
            return new_number[old]
        c = by_number.get(old)
        if c is None:
            return None
        place = (c.source, c.start, c.end)
        if place not in by_place:
            by_place[place] = len(kept) + 1
            kept.append(replace(c, number=len(kept) + 1))
        new_number[old] = by_place[place]
        return new_number[old]

    # Consecutive markers (only spaces between) form one group: "[1] [1][2]" → "[1][2]".
    groups: list[tuple[int, int, list[int]]] = []
    for start, end, numbers in find_markers(text):
        if groups and not text[groups[-1][1] : start].strip():
            groups[-1] = (groups[-1][0], end, groups[-1][2] + numbers)
        else:
            groups.append((start, end, numbers))
    out: list[str] = []
    pos = 0
    for start, end, numbers in groups:
        out.append(text[pos:start])
        mapped = dict.fromkeys(n for n in (number_for(x) for x in numbers) if n is not None)
        out.append("".join(f"[{n}]" for n in mapped))
        pos = end
    out.append(text[pos:])
    return _tidy("".join(out)), tuple(kept)


def _covers(text: str, start: int, quote: str, q_start: int, q_end: int) -> bool | None:
    """``True``/``False`` if ``text`` (at ``start``) covers the quote's span; ``None`` if not."""
    if q_start < start or q_end > start + len(text):
        return None
    return text[q_start - start : q_end - start] == quote


def verify_quote(
    quote: str | Citation,
    source: str | None = None,
    start: int | None = None,
    end: int | None = None,
    evidence: "IndexReader | Iterable[Passage] | None" = None,
) -> bool:
    """Whether ``quote`` is ``document[start:end]`` of ``source``.

    ``quote`` may be a :class:`Citation` (its fields fill the rest). ``evidence`` is the
    retrieved passages or an :class:`~index.IndexReader`; with a reader, a quote no single
    passage covers is checked against the document's stored chunks.
    """
    if isinstance(quote, Citation):
        source = quote.source if source is None else source
        start = quote.start if start is None else start
        end = quote.end if end is None else end
        quote = quote.quote
    if source is None or start is None or end is None or evidence is None:
        raise TypeError("verify_quote needs source, start, end and the passages or a reader")
    if not quote or not quote.strip() or end - start != len(quote) or start < 0:
        return False
    if hasattr(evidence, "document_chunks"):
        chunks = [(c.text, c.start) for c in evidence.document_chunks(source)]
    else:
        chunks = [(p.text, p.start) for p in evidence if p.source == source]
    for text, at in chunks:
        covered = _covers(text, at, quote, start, end)
        if covered is not None:
            return covered
    # A quote that spans chunks: stitch the document back from the chunks around it.
    pieces = sorted((at, text) for text, at in chunks if at < end and at + len(text) > start)
    if not pieces:
        return False
    doc: dict[int, str] = {}
    for at, text in pieces:
        for i, ch in enumerate(text):
            doc.setdefault(at + i, ch)
    return all(doc.get(start + i) == ch for i, ch in enumerate(quote))


def finalise(
    text: str, citations: Sequence[Citation], evidence: "IndexReader | Sequence[Passage]",
    fallback: "IndexReader | None" = None,
) -> tuple[str, tuple[Citation, ...], tuple[str, ...]]:
    """Verify each citation, drop the unverifiable ones and their markers, renumber.

    Returns the cleaned text, the verified citations (``verified=True``) and flags naming
    what was dropped. ``fallback`` (a reader) is asked about quotes the passages don't cover.
    """
    flags: list[str] = []
    good: list[Citation] = []
    for c in citations:
        ok = verify_quote(c, evidence=evidence)
        if not ok and fallback is not None:
            ok = verify_quote(c, evidence=fallback)
        if ok:
            good.append(replace(c, verified=True))
        else:
            flags.append(f"dropped citation [{c.number}]: quote not found verbatim in {c.source} at {c.start}-{c.end}")
    cited = set(cited_numbers(text))
    for n in sorted(cited - {c.number for c in citations}):
        flags.append(f"removed marker [{n}]: it points at no citation")
    new_text, kept = renumber(text, good)
    return new_text, kept, tuple(flags)
