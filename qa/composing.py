"""An extractive answer put into words: its lead (the short answer), its quotes and the
citations behind them, before :func:`qa.citations.finalise` verifies and renumbers them.

    Eight U.S. personnel [1]. “U.S. Central Command said the ballistic missile attack caused
    injuries to eight U.S. personnel and minor damage to infrastructure.” [1]
"""
from __future__ import annotations

import re
from typing import Sequence

from .citations import MARKER
from .reading import Reading
from .short_answer import Candidate
from .types import Citation, Passage, ShortAnswer

_SPACE = re.compile(r"\s+")


def quoted(read: Reading) -> tuple[str, str, list[Citation]]:
    """``(lead, quotes, citations)`` of a reading: the lead is "" without a short answer."""
    citations = [
        Citation(
            number=i + 1, source=c.sentence.passage.source, title=c.sentence.passage.title,
            quote=c.sentence.text, start=c.sentence.start, end=c.sentence.end,
            score=round(c.score, 4), verified=False, chunk_id=c.sentence.passage.chunk_id,
            page=page_at(c.sentence.passage, c.sentence.start),
        )
        for i, c in enumerate(read.chosen)
    ]
    quotes = " ".join(f"“{display(c.quote)}” [{c.number}]" for c in citations)
    lead = ""
    if read.short is not None and read.short_in is not None:
        lead = f"{_lead(read.short, read.chosen[read.short_in].sentence)} [{read.short_in + 1}]. "
    return lead, quotes, citations


def table_cell(cell) -> tuple[str, Citation]:
    """The answer text of a table cell ("21 (Minor, 2022) [1]. “2022 21 3 0” [1]") and its row's citation."""
    p = cell.passage
    row = Citation(number=1, source=p.source, title=p.title, quote=_row_text(cell),
                   start=cell.row_start, end=cell.row_end, score=round(cell.score, 4),
                   verified=False, chunk_id=p.chunk_id, page=page_at(p, cell.row_start))
    return f"{cell.text} ({cell.header}, {cell.label}) [1]. “{display(row.quote)}” [1]", row


def cell_short_answer(cell, row: Citation) -> ShortAnswer:
    return ShortAnswer(cell.text, row.source, cell.start, cell.end, row.number, "cell")


def display(quote: str) -> str:
    """A quote as answer text: one line, the document's own "[12]"-style references dropped
    (they would read as this answer's markers)."""
    text = MARKER.sub("", quote)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return _SPACE.sub(" ", text).strip()


def page_at(passage: Passage, offset: int) -> int | None:
    """The page holding ``offset`` (PDFs), else None."""
    return passage.page_at(offset)


def _lead(short: Candidate, sentence) -> str:
    """The short answer as the answer's first words: "Eight U.S. personnel" (the number
    with what it counts, when the document says it right after the number)."""
    text = _SPACE.sub(" ", short.shown(sentence.text, sentence.start)).strip()
    return text[:1].upper() + text[1:]


def short_answer(short: Candidate, kind: str | None, kept: Sequence[Citation]) -> ShortAnswer | None:
    """The short answer, pointing at the (renumbered, verified) citation that holds it."""
    for c in kept:
        if c.start <= short.start and short.end <= c.end and c.quote[short.start - c.start : short.end - c.start] == short.text:
            return ShortAnswer(short.text, c.source, short.start, short.end, c.number, kind or "")
    return None


def _row_text(cell) -> str:
    return cell.passage.text[cell.row_start - cell.passage.start : cell.row_end - cell.passage.start]
