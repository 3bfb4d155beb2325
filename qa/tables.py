"""Reading a table cell with its row label and column header.

The loaders keep a table one row per line; :mod:`qa.table_layouts` finds such tables in the
retrieved passages, each one's first row its header, and :func:`find_cell` picks for a
question the one cell whose row and column the question names:

    Year | Minor | Serious | Fatal
    2022 | 21 | 3 | 0              "How many minor injuries were there in 2022?" → "21"
    2023 | 14 | 2 | 0

A row or column is named by a period (a year, a quarter, a month: "2022", "Q1 2021")
equal to one the question states, or by words (compared as stems) — only the words that
tell it from its neighbours ("minor" of "Minor injuries" beside "Serious injuries"), and
all its words when it has no neighbour. Every period the question states must be the
cell's (or the table's title's), and the cell may be about no other period. The transposed
shape (years as column headers, measures as row labels) reads the same way. A table of
one column is named by its whole header line too, when the question shares two of its words
("What is Austria's … percentage of total population infected?" ← "Country % of total
population infected (mean [95% credible interval])" over "Austria 1.1% [0.36%-3.1%]"). When the
question names no row or no column of a table, or two cells fit equally, there is no
answer: nothing is guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from index import text as tokenizer

from .table_layouts import QUARTER_TOKEN, Table, tables
from .types import Passage

__all__ = ["TableCell", "find_cell"]


@dataclass(frozen=True)
class TableCell:
    """A cell of a table in ``passage``; offsets are the document's."""

    passage: Passage  # the passage holding the row
    row_start: int  # the whole row line: the quote
    row_end: int
    start: int  # the cell text: the short answer
    end: int
    text: str  # == document[start:end]
    header: str  # its column header ("" in a one-column table named by its header line)
    label: str  # its row's label (first cell)
    score: float

    def row_named_in(self, texts: Iterable[str]) -> bool:
        """One of ``texts`` (the sentences quoted instead) names this cell's row ("Austria"):
        else the cell answers for a row they don't speak of."""
        return any(self.label.lower() in t.lower() for t in texts)


_ORDINALS = {"first": "1", "1st": "1", "second": "2", "2nd": "2", "third": "3", "3rd": "3",
             "fourth": "4", "4th": "4"}
_PERIOD = re.compile(
    r"\b(?:fy\s?|fiscal\s+(?:year\s+)?)?((?:19|20)\d\d)\b"
    r"|\b(q[1-4]|[1-4]q|h[12])\b"
    r"|\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+(quarter|half)\b"
    r"|\b(quarter|half)\s+([1-4])\b"
    r"|\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|(?-i:May)|jun(?:e)?|jul(?:y)?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?",
    re.I,
)
_SHORT_VALUE_WORDS = 4
_CAPTION_SHARED = 2  # content words a one-column table's header line shares with the question
_SHORT_VALUE_CHARS = 40


def find_cell(question: str, passages: Sequence[Passage]) -> TableCell | None:
    """The table cell of ``passages`` whose row and column ``question`` names, or None."""
    q_periods = _periods(question)
    q_terms = _terms(question)
    if not q_terms and not q_periods:
        return None
    found: dict[tuple[str, int, int], TableCell] = {}
    for table in tables(passages):
        for cell in _cells(table, q_terms, q_periods):
            key = (cell.passage.source, cell.start, cell.end)
            if key not in found or found[key].score < cell.score:
                found[key] = cell
    if not found:
        return None
    top = max(c.score for c in found.values())
    best = [c for c in found.values() if c.score == top]
    if len({c.text for c in best}) > 1:
        return None  # two cells fit as well: no guessing
    return min(best, key=lambda c: c.passage.rank)


# ---- matching -----------------------------------------------------------------------------
def _cells(table: Table, q_terms: set[str], q_periods: set[str]) -> Iterator[TableCell]:
    rows = _axis([r.label.text for r in table.rows], q_terms, q_periods)
    cols = _axis([h.text for h in table.headers], q_terms, q_periods)
    if table.caption and not any(s is not None for s in cols):
        # one column, named by its header line rather than by its last word: "What is
        # Austria's percentage of total population infected?" ← "Country % of total
        # population infected (mean [95% credible interval])"
        shared = _terms(table.caption) & q_terms
        cols = [float(len(shared)) if len(shared) >= _CAPTION_SHARED else None]
    if not any(s is not None for s in rows) or not any(s is not None for s in cols):
        return
    title_periods = _periods(table.title)
    base = table.passage.start
    for row, row_score in zip(table.rows, rows):
        if row_score is None:
            continue
        for header, cell, col_score in zip(table.headers, row.values, cols):
            if col_score is None or not _is_value(cell.text):
                continue
            periods = _periods(row.label.text) | _periods(header.text)
            if not periods <= q_periods or not q_periods <= periods | title_periods:
                continue  # about another period, or not about the one asked
            yield TableCell(
                passage=table.passage, row_start=base + row.start, row_end=base + row.end,
                start=base + cell.start, end=base + cell.end, text=cell.text,
                header="" if table.caption else header.text, label=row.label.text, score=row_score + col_score,
            )


def _axis(texts: list[str], q_terms: set[str], q_periods: set[str]) -> list[float | None]:
    """Per row label (or column header): how well the question names it, None if it does not.

    A pure period ("2022", "Q1 2021") is named when the question states it. Words name
    an entry by what tells it from the others on its axis: the words all entries share
    ("injuries" of "Minor injuries", "Serious injuries") tell nothing. An entry alone on
    its axis must have all its words in the question."""
    periods = [_periods(t) for t in texts]
    terms = [_terms(t) for t in texts]
    worded = [t for t in terms if t]
    common = set.intersection(*worded) if len(worded) > 1 else set()
    out: list[float | None] = []
    for p, t in zip(periods, terms):
        if p and not p <= q_periods:
            out.append(None)
        elif not t:
            out.append(2.0 * len(p) if p else None)
        elif len(worded) == 1:
            out.append(len(t) + 2.0 * len(p) if t <= q_terms else None)
        else:
            hits = (t - common) & q_terms
            out.append(len(hits) + 0.1 * len(t & common & q_terms) + 2.0 * len(p) if hits else None)
    return out


def _is_value(text: str) -> bool:
    """A number or a short value: what a cell answers with."""
    if not text or len(text) > _SHORT_VALUE_CHARS:
        return False
    return any(ch.isdigit() for ch in text) or len(text.split()) <= _SHORT_VALUE_WORDS


def _periods(text: str) -> set[str]:
    """The years, quarters, halves and months ``text`` names: {"2021", "q1"}."""
    out = set()
    for m in _PERIOD.finditer(text):
        year, short, ordinal, unit, unit2, number, month = m.groups()
        if year:
            out.add(year)
        elif short:
            s = short.lower()
            out.add(s if s[0] in "qh" else "q" + s[0])
        elif ordinal:
            out.add(unit[0].lower() + _ORDINALS[ordinal.lower()])
        elif unit2:
            out.add(unit2[0].lower() + number)
        elif month:
            out.add(month[:3].lower())
    return out


def _terms(text: str) -> set[str]:
    """Stems of the content words that are not periods, plus single capital letters
    ("Site A", "Plan B")."""
    stripped = _PERIOD.sub(" ", text)
    out = {t for t in tokenizer.terms(stripped) if not QUARTER_TOKEN.fullmatch(t)}
    out.update(w.lower() for w in re.findall(r"\b[A-Z]\b", stripped))
    return out


