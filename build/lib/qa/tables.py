"""Reading a table cell with its row label and column header.

The loaders keep a table one row per line (cells joined by " | " for HTML, DOCX and
Markdown; tabs or runs of spaces in plain text; and pypdf's layout of a simple PDF table,
a row label followed by numbers under a line of column names). :func:`find_cell` finds
such tables in the retrieved passages, takes each one's first row as its header, and for
a question picks the one cell whose row and column the question names:

    Year | Minor | Serious | Fatal
    2022 | 21 | 3 | 0              "How many minor injuries were there in 2022?" → "21"
    2023 | 14 | 2 | 0

A row or column is named by a period (a year, a quarter, a month: "2022", "Q1 2021")
equal to one the question states, or by words (compared as stems) — only the words that
tell it from its neighbours ("minor" of "Minor injuries" beside "Serious injuries"), and
all its words when it has no neighbour. Every period the question states must be the
cell's (or the table's title's), and the cell may be about no other period. The transposed
shape (years as column headers, measures as row labels) reads the same way. When the
question names no row or no column of a table, or two cells fit equally, there is no
answer: nothing is guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Sequence

from index import text as tokenizer

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
    header: str  # its column header
    label: str  # its row's label (first cell)
    score: float


@dataclass(frozen=True)
class _Cell:
    start: int  # offsets in the passage text
    end: int
    text: str


@dataclass(frozen=True)
class _Row:
    start: int
    end: int
    label: _Cell
    values: tuple[_Cell, ...]


@dataclass(frozen=True)
class _Table:
    passage: Passage
    title: str  # the line above the header (a caption such as "Injuries by year"), or ""
    headers: tuple[_Cell, ...]  # one per value column
    rows: tuple[_Row, ...]


_NUMBER = r"[-+(]?[$€£]?\d(?:[\d,.]*\d)?%?\)?"
_VALUE = re.compile(rf"(?:{_NUMBER}|[-–—]|n/?a)", re.I)  # a value of a pypdf row
_PLAIN_NUMBER = re.compile(_NUMBER)
_YEAR = re.compile(r"(?:19|20)\d\d")
_PIPE_ROW = re.compile(r"\S[ \t]+\|[ \t]+\S")
_MD_RULE = re.compile(r":?-{3,}:?")
_GAP = re.compile(r"\S(?:\t+| {2,})\S")
_SEPARATORS = {"pipe": re.compile(r"\|"), "tab": re.compile(r"\t+"), "gap": re.compile(r"\t+| {2,}")}
_TOKEN = re.compile(r"\S+")
_QUARTER_TOKEN = re.compile(r"(?:q[1-4]|[1-4]q|h[12]|fy)", re.I)
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
_SHORT_VALUE_CHARS = 40


def find_cell(question: str, passages: Sequence[Passage]) -> TableCell | None:
    """The table cell of ``passages`` whose row and column ``question`` names, or None."""
    q_periods = _periods(question)
    q_terms = _terms(question)
    if not q_terms and not q_periods:
        return None
    found: dict[tuple[str, int, int], TableCell] = {}
    for table in _tables(passages):
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
def _cells(table: _Table, q_terms: set[str], q_periods: set[str]) -> Iterator[TableCell]:
    rows = _axis([r.label.text for r in table.rows], q_terms, q_periods)
    cols = _axis([h.text for h in table.headers], q_terms, q_periods)
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
                header=header.text, label=row.label.text, score=row_score + col_score,
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
    out = {t for t in tokenizer.terms(stripped) if not _QUARTER_TOKEN.fullmatch(t)}
    out.update(w.lower() for w in re.findall(r"\b[A-Z]\b", stripped))
    return out


# ---- finding tables ------------------------------------------------------------------------
def _tables(passages: Sequence[Passage]) -> Iterator[_Table]:
    for p in passages:
        lines, pos = [], 0
        for line in p.text.split("\n"):  # blank lines too: they end a table
            lines.append((pos, pos + len(line), line))
            pos += len(line) + 1
        yield from _delimited_tables(p, lines)
        yield from _pdf_tables(p, lines)


def _split(line: str, offset: int) -> tuple[str, list[_Cell]] | None:
    """A delimited row's kind ("pipe", "tab", "gap") and its cells, trimmed."""
    stripped = line.strip()
    if stripped.startswith("|") or _PIPE_ROW.search(line):
        kind, pieces = "pipe", _pieces(line, _SEPARATORS["pipe"])
        if stripped.startswith("|") and pieces and not pieces[0][2].strip():
            pieces = pieces[1:]
        if stripped.endswith("|") and pieces and not pieces[-1][2].strip():
            pieces = pieces[:-1]
    elif _GAP.search(stripped):
        kind = "tab" if "\t" in stripped else "gap"
        pieces = _pieces(line, _SEPARATORS[kind])
    else:
        return None
    cells = []
    for s, e, _ in pieces:
        while s < e and line[s].isspace():
            s += 1
        while e > s and line[e - 1].isspace():
            e -= 1
        cells.append(_Cell(offset + s, offset + e, line[s:e]))
    return (kind, cells) if len(cells) >= 2 else None


def _pieces(line: str, sep: re.Pattern) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for m in sep.finditer(line):
        out.append((pos, m.start(), line[pos : m.start()]))
        pos = m.end()
    out.append((pos, len(line), line[pos:]))
    return out


def _delimited_tables(p: Passage, lines) -> Iterator[_Table]:
    """Runs of rows of one kind; Markdown's "---" rule rows are skipped."""
    run: list[tuple[int, int, list[_Cell]]] = []
    kind, title = None, ""
    for i, (start, end, line) in enumerate(lines + [(0, 0, "")]):
        split = _split(line, start) if line else None
        if split and all(_MD_RULE.fullmatch(c.text) for c in split[1]):
            continue
        if split and run and split[0] == kind and len(split[1]) <= len(run[0][2]):
            run.append((start, end, split[1]))
            continue
        if len(run) > 1:
            table = _delimited(p, title, run)
            if table:
                yield table
        run, kind = ([(start, end, split[1])], split[0]) if split else ([], None)
        title = lines[i - 1][2].strip() if split and i else ""


def _delimited(p: Passage, title: str, run) -> _Table | None:
    header = run[0][2]
    if not _is_header(header[1:]):
        return None  # the table's top is outside this passage
    rows = tuple(_Row(s, e, cells[0], tuple(cells[1:])) for s, e, cells in run[1:])
    return _Table(p, title, tuple(header[1:]), rows)


def _is_header(cells: Sequence[_Cell]) -> bool:
    """Column names, or years (a transposed table): not a row of plain numbers."""
    return bool(cells) and not any(
        _PLAIN_NUMBER.fullmatch(c.text) and not _YEAR.fullmatch(c.text) for c in cells)


def _pdf_tables(p: Passage, lines) -> Iterator[_Table]:
    """pypdf's rows: a label, then numbers ("2022 21 3 0"), in a run of lines with as many
    numbers each; the header is the line above (its last words name the columns), or the
    run's first line when its numbers are years (the transposed shape)."""
    parsed = [_pdf_row(line, start) for start, _, line in lines]
    i = 0
    while i < len(lines):
        if parsed[i] is None:
            i += 1
            continue
        n = len(parsed[i][1])
        j = i
        while j < len(lines) and parsed[j] is not None and len(parsed[j][1]) == n:
            j += 1
        first_values = parsed[i][1]
        if _is_years(first_values) and j - i > 1:
            headers, top, body = first_values, i, range(i + 1, j)
        else:
            headers, top, body = _pdf_header(lines[i - 1], n) if i else None, i - 1, range(i, j)
        if headers:
            rows = tuple(_Row(lines[k][0], lines[k][1], parsed[k][0], tuple(parsed[k][1])) for k in body)
            title = lines[top - 1][2].strip() if top > 0 else ""
            yield _Table(p, title, tuple(headers), rows)
        i = j


_ROW_CHARS = 400  # a table row is one short line; a paragraph is not read as one


def _pdf_row(line: str, offset: int) -> tuple[_Cell, list[_Cell]] | None:
    if len(line) > _ROW_CHARS or not any(ch.isdigit() for ch in line):
        return None
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(line)]
    if len(tokens) < 2:
        return None
    i = next((k for k, t in enumerate(tokens) if _VALUE.fullmatch(t[2])), len(tokens))
    i = max(i, 1)  # "2022 21 3 0": the first number is the label
    if i < len(tokens) and _QUARTER_TOKEN.fullmatch(tokens[i - 1][2]) and _YEAR.fullmatch(tokens[i][2]):
        i += 1  # "Q1 2021 10.4 12.1": the year belongs to the label
    values = tokens[i:]
    if not values or not all(_VALUE.fullmatch(t[2]) for t in values):
        return None
    label = _Cell(offset + tokens[0][0], offset + tokens[i - 1][1], line[tokens[0][0] : tokens[i - 1][1]])
    return label, [_Cell(offset + s, offset + e, t) for s, e, t in values]


def _pdf_header(line_entry, n: int) -> list[_Cell] | None:
    """The last ``n`` words of the line above a run of ``n``-number rows: its column names."""
    start, _, line = line_entry
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(line)]
    if len(tokens) < n:
        return None
    cells = [_Cell(start + s, start + e, t) for s, e, t in tokens[-n:]]
    return cells if _is_header(cells) else None


def _is_years(cells: Sequence[_Cell]) -> bool:
    return bool(cells) and all(_YEAR.fullmatch(c.text) for c in cells)
