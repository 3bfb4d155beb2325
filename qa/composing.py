"""An extractive answer put into claims: its lead (the short answer) and its quotes, each
resting on a quote that :func:`qa.citations.compose` verifies, numbers and marks.

    Eight U.S. personnel [1]. “U.S. Central Command said the ballistic missile attack caused
    injuries to eight U.S. personnel and minor damage to infrastructure.” [1]
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Sequence

from . import markers
from .citations import Claim
from .reading import Reading
from .short_answer import Candidate
from .types import Citation, Passage, ShortAnswer

_SPACE = re.compile(r"\s+")


def _quote(sentence, score: float) -> Citation:
    p = sentence.passage
    return Citation(number=0, source=p.source, title=p.title, quote=sentence.text,
                    start=sentence.start, end=sentence.end, score=round(score, 4),
                    verified=False, chunk_id=p.chunk_id, page=page_at(p, sentence.start))


def quoted(read: Reading) -> list[Claim]:
    """The claims of a reading: its lead (when it has a short answer), then the chosen
    sentences as quotes, in the order chosen; sentences that follow each other in the document
    are one quote (an answer that runs from one into the next reads whole, under one marker)."""
    quotes: list[Citation] = []
    group_of: list[int] = []  # the quote of each chosen sentence
    for c in read.chosen:
        for at, q in enumerate(quotes):
            joined = _joined(q, c.sentence)
            if joined is not None:
                quotes[at] = joined
                break
        else:
            quotes.append(_quote(c.sentence, c.score))
            at = len(quotes) - 1
        group_of.append(at)
    claims = [Claim.cited(f"“{display(q.quote)}”", q) for q in quotes]
    if read.short is not None and read.short_in is not None:
        lead = _lead(read.short, read.chosen[read.short_in].sentence) + "."
        claims.insert(0, Claim.cited(lead, quotes[group_of[read.short_in]], before_stop=True))
    return claims


def _joined(quote: Citation, sentence) -> Citation | None:
    """``quote`` and ``sentence`` as one quote when nothing but white space is between them
    in the document (either one first), else None."""
    p = sentence.passage
    if p.source != quote.source:
        return None
    start, end = min(quote.start, sentence.start), max(quote.end, sentence.end)
    gap = (quote.end, sentence.start) if quote.start < sentence.start else (sentence.end, quote.start)
    if gap[0] > gap[1] or not (p.start <= start and end <= p.end):
        return None
    text = p.text[start - p.start : end - p.start]
    if text[gap[0] - start : gap[1] - start].strip():
        return None
    return replace(quote, quote=text, start=start, end=end, page=page_at(p, start))


def table_cell(cell) -> list[Claim]:
    """A table cell as claims: "21 (Minor, 2022) [1]. “2022 21 3 0” [1]" (the row is the quote)."""
    p = cell.passage
    row = Citation(number=0, source=p.source, title=p.title, quote=_row_text(cell),
                   start=cell.row_start, end=cell.row_end, score=round(cell.score, 4),
                   verified=False, chunk_id=p.chunk_id, page=page_at(p, cell.row_start))
    named = f"{cell.header}, {cell.label}" if cell.header else cell.label
    return [Claim.cited(f"{cell.text} ({named}).", row, before_stop=True),
            Claim.cited(f"“{display(row.quote)}”", row)]


def cell_short_answer(cell, kept: Sequence[Citation]) -> ShortAnswer | None:
    for c in kept:
        if c.start <= cell.start and cell.end <= c.end:
            return ShortAnswer(cell.text, c.source, cell.start, cell.end, c.number, "cell")
    return None


def display(quote: str) -> str:
    """A quote as answer text: one line, the document's own "[12]"-style references as
    "(12)" (in brackets they would read as this answer's markers; dropped, the quote would
    not be the document's words)."""
    return _SPACE.sub(" ", markers.as_references(quote)).strip()


def page_at(passage: Passage, offset: int) -> int | None:
    """The page holding ``offset`` (PDFs), else None."""
    return passage.page_at(offset)


def _lead(short: Candidate, sentence) -> str:
    """The short answer as the answer's first words: "Eight U.S. personnel" (the number
    with what it counts, when the document says it right after the number)."""
    text = _SPACE.sub(" ", short.shown(sentence.text, sentence.start)).strip()
    return text[:1].upper() + text[1:]


def short_answer(short: Candidate, kind: str | None, kept: Sequence[Citation]) -> ShortAnswer | None:
    """The short answer, pointing at the (numbered, verified) citation that holds it."""
    for c in kept:
        if c.start <= short.start and short.end <= c.end and c.quote[short.start - c.start : short.end - c.start] == short.text:
            return ShortAnswer(short.text, c.source, short.start, short.end, c.number, kind or "")
    return None


def _row_text(cell) -> str:
    return cell.passage.text[cell.row_start - cell.passage.start : cell.row_end - cell.passage.start]
