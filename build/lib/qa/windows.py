"""Neighbour windows: the passages the answerer reads, assembled from ranked chunks.

Matching stays on chunks (:mod:`qa.retrieval`); the passage handed to the answerer is a
matched chunk with up to ``window`` neighbouring chunks on each side (only neighbours
that overlap it, so the text stays the document's exact text), merged when two passages
overlap, with the page of each offset (PDFs). The index supplies the neighbours
(:meth:`qa.evidence.Evidence.neighbourhoods`); this module is the one place that
assembles them.
"""
from __future__ import annotations

from collections.abc import Sequence

from index import ScoredChunk
from index.models import Chunk

from .evidence import Evidence
from .types import Passage

__all__ = ["windows"]


def windows(reader: Evidence, ranked: Sequence[ScoredChunk], window: int, k: int) -> list[Passage]:
    """The first ``k`` windows: each chunk widened by up to ``window`` overlapping
    neighbours a side; a window overlapping a better one's is merged into it (so passages
    never repeat text)."""
    by_source = reader.neighbourhoods([h.chunk for h in ranked], window)
    merged: list[tuple[ScoredChunk, int, int]] = []
    for hit in ranked:
        c = hit.chunk
        doc = by_source.get(c.source)
        if doc is None:  # an index without reading order: the whole document (the reader keeps it)
            doc = by_source[c.source] = reader.document_chunks(c.source)
        start, end = _window_span(doc, c, window)
        for i, (best, s, e) in enumerate(merged):
            if best.chunk.source == c.source and start <= e and s <= end:
                merged[i] = (best, min(s, start), max(e, end))
                _coalesce(merged, i)
                break
        else:
            if len(merged) == k:
                break
            merged.append((hit, start, end))
    out = []
    for rank, (hit, start, end) in enumerate(merged, 1):
        c = hit.chunk
        text = _text_of(by_source[c.source], start, end)
        if text is None:  # cannot happen for spans built above; never pass on inexact text
            start, end, text = c.start, c.end, c.text
        page, breaks = _pages_of(by_source[c.source], c, start, end)
        out.append(Passage(rank=rank, chunk_id=c.id, source=c.source, title=c.title, text=text,
                           start=start, end=end, score=round(hit.score, 6), page=page,
                           page_breaks=breaks))
    return out


def _pages_of(doc: Sequence[Chunk], c: Chunk, start: int, end: int) -> tuple[int | None, tuple[tuple[int, int], ...]]:
    """The page at ``start`` and the page breaks inside ``[start, end)``, from the chunks
    the window is made of (``c``'s own when the document's chunks do not cover it)."""
    parts = [d for d in doc if d.start <= start < d.end] or [c]
    page = parts[0].page
    for offset, number in parts[0].page_breaks:
        if offset <= start:
            page = number
    covering = [d for d in doc if d.start < end and start < d.end] or [c]
    breaks = sorted({b for d in covering for b in d.page_breaks if start < b[0] < end})
    return page, tuple(breaks)


def _coalesce(merged: list[tuple[ScoredChunk, int, int]], i: int) -> None:
    """Window ``i`` grew: fold any later window it now overlaps into the better of the two."""
    best, s, e = merged[i]
    j = 0
    while j < len(merged):
        other, s2, e2 = merged[j]
        if j != i and other.chunk.source == best.chunk.source and s2 <= e and s <= e2:
            keep = min(i, j)
            merged[keep] = (merged[keep][0], min(s, s2), max(e, e2))
            del merged[max(i, j)]
            i = keep
            best, s, e = merged[i]
            j = 0
            continue
        j += 1


def _window_span(doc: Sequence[Chunk], c: Chunk, window: int) -> tuple[int, int]:
    """``c`` widened over up to ``window`` neighbours a side — only neighbours that
    overlap it: the whitespace between two that don't is stored nowhere, and a passage
    must be the document's exact text."""
    pos = next((i for i, d in enumerate(doc) if d.id == c.id), None)
    start, end = c.start, c.end
    if pos is None:  # the index moved on meanwhile: keep the chunk as it is
        return start, end
    for step in range(1, window + 1):
        if pos - step < 0 or doc[pos - step].end <= start:
            break
        start = min(start, doc[pos - step].start)
    for step in range(1, window + 1):
        if pos + step >= len(doc) or doc[pos + step].start >= end:
            break
        end = max(end, doc[pos + step].end)
    return start, end


def _text_of(doc: Sequence[Chunk], start: int, end: int) -> str | None:
    """``document[start:end]`` pieced together from its chunks; None if they leave a gap."""
    parts, pos = [], start
    for c in doc:
        if c.end <= pos or c.start >= end:
            continue
        if c.start > pos:
            return None
        take = c.text[pos - c.start : min(end, c.end) - c.start]
        parts.append(take)
        pos += len(take)
        if pos >= end:
            return "".join(parts)
    return None
