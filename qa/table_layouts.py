"""Finding tables in a passage's text, one row per line, as the loaders keep them: cells
joined by " | " (HTML, DOCX, Markdown), tabs or runs of spaces (plain text), and pypdf's
layout of a simple PDF table — a row label followed by numbers under a line of column names
("Year Minor Serious Fatal" / "2022 21 3 0"), or under one header line for a one-column table
("Country % of total population infected (mean [95% credible interval])" / "Austria 1.1%
[0.36%-3.1%]": a value's interval is part of its cell). :mod:`qa.tables` reads a cell of
them for a question.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Sequence

from .types import Passage


@dataclass(frozen=True)
class Cell:
    start: int  # offsets in the passage text
    end: int
    text: str


@dataclass(frozen=True)
class Row:
    start: int
    end: int
    label: Cell
    values: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    passage: Passage
    title: str  # the line above the header (a caption such as "Injuries by year"), or ""
    headers: tuple[Cell, ...]  # one per value column
    rows: tuple[Row, ...]
    caption: str = ""  # a one-column table's whole header line ("Country % of population infected")


_NUMBER = r"[-+(]?[$€£]?\d(?:[\d,.]*\d)?%?\)?"
_INTERVAL = re.compile(r"[\[(]-?\d[\d.,]*%?\s*[-–]\s*-?\d[\d.,]*%?[\])]")  # "[0.36%-3.1%]", "(1.2–5.4)"
_VALUE = re.compile(rf"(?:{_NUMBER}(?: {_INTERVAL.pattern})?|[-–—]|n/?a)", re.I)  # a value of a pypdf row
_PLAIN_NUMBER = re.compile(_NUMBER)
_YEAR = re.compile(r"(?:19|20)\d\d")
_PIPE_ROW = re.compile(r"\S[ \t]+\|[ \t]+\S")
_MD_RULE = re.compile(r":?-{3,}:?")
_GAP = re.compile(r"\S(?:\t+| {2,})\S")
_SEPARATORS = {"pipe": re.compile(r"\|"), "tab": re.compile(r"\t+"), "gap": re.compile(r"\t+| {2,}")}
_TOKEN = re.compile(r"\S+")
QUARTER_TOKEN = re.compile(r"(?:q[1-4]|[1-4]q|h[12]|fy)", re.I)


def tables(passages: Sequence[Passage]) -> Iterator[Table]:
    """Every table of ``passages``, delimited or in pypdf's layout."""
    for p in passages:
        lines, pos = [], 0
        for line in p.text.split("\n"):  # blank lines too: they end a table
            lines.append((pos, pos + len(line), line))
            pos += len(line) + 1
        yield from _delimited_tables(p, lines)
        yield from _pdf_tables(p, lines)


def _split(line: str, offset: int) -> tuple[str, list[Cell]] | None:
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
        cells.append(Cell(offset + s, offset + e, line[s:e]))
    return (kind, cells) if len(cells) >= 2 else None


def _pieces(line: str, sep: re.Pattern) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for m in sep.finditer(line):
        out.append((pos, m.start(), line[pos : m.start()]))
        pos = m.end()
    out.append((pos, len(line), line[pos:]))
    return out


def _delimited_tables(p: Passage, lines) -> Iterator[Table]:
    """Runs of rows of one kind; Markdown's "---" rule rows are skipped."""
    run: list[tuple[int, int, list[Cell]]] = []
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


def _delimited(p: Passage, title: str, run) -> Table | None:
    header = run[0][2]
    if not _is_header(header[1:]):
        return None  # the table's top is outside this passage
    rows = tuple(Row(s, e, cells[0], tuple(cells[1:])) for s, e, cells in run[1:])
    return Table(p, title, tuple(header[1:]), rows)


def _is_header(cells: Sequence[Cell]) -> bool:
    """Column names, or years (a transposed table): not a row of plain numbers."""
    return bool(cells) and not any(
        _PLAIN_NUMBER.fullmatch(c.text) and not _YEAR.fullmatch(c.text) for c in cells)


def _pdf_tables(p: Passage, lines) -> Iterator[Table]:
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
            rows = tuple(Row(lines[k][0], lines[k][1], parsed[k][0], tuple(parsed[k][1])) for k in body)
            above = [line.strip() for _, _, line in lines[max(top - 2, 0) : max(top, 0)] if line.strip()]
            title = above[-1] if above else ""  # the caption, perhaps a blank line above
            caption = lines[top][2].strip() if n == 1 and top >= 0 and top < i else ""
            yield Table(p, title, tuple(headers), rows, caption)
        i = j


_ROW_CHARS = 400  # a table row is one short line; a paragraph is not read as one


def _pdf_row(line: str, offset: int) -> tuple[Cell, list[Cell]] | None:
    if len(line) > _ROW_CHARS or not any(ch.isdigit() for ch in line):
        return None
    tokens = _with_intervals([(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(line)], line)
    if len(tokens) < 2:
        return None
    i = next((k for k, t in enumerate(tokens) if _VALUE.fullmatch(t[2])), len(tokens))
    i = max(i, 1)  # "2022 21 3 0": the first number is the label
    if i < len(tokens) and QUARTER_TOKEN.fullmatch(tokens[i - 1][2]) and _YEAR.fullmatch(tokens[i][2]):
        i += 1  # "Q1 2021 10.4 12.1": the year belongs to the label
    values = tokens[i:]
    if not values or not all(_VALUE.fullmatch(t[2]) for t in values):
        return None
    label = Cell(offset + tokens[0][0], offset + tokens[i - 1][1], line[tokens[0][0] : tokens[i - 1][1]])
    return label, [Cell(offset + s, offset + e, t) for s, e, t in values]


def _with_intervals(tokens: list[tuple[int, int, str]], line: str) -> list[tuple[int, int, str]]:
    """A value's interval is part of its cell: "1.1% [0.36%-3.1%]" (a mean and its credible
    interval) is one value."""
    out: list[tuple[int, int, str]] = []
    for t in tokens:
        if out and _INTERVAL.fullmatch(t[2]) and _VALUE.fullmatch(out[-1][2]):
            s = out[-1][0]
            out[-1] = (s, t[1], line[s : t[1]])
        else:
            out.append(t)
    return out


def _pdf_header(line_entry, n: int) -> list[Cell] | None:
    """The last ``n`` words of the line above a run of ``n``-number rows: its column names."""
    start, _, line = line_entry
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(line)]
    if len(tokens) < n:
        return None
    cells = [Cell(start + s, start + e, t) for s, e, t in tokens[-n:]]
    return cells if _is_header(cells) else None


def _is_years(cells: Sequence[Cell]) -> bool:
    return bool(cells) and all(_YEAR.fullmatch(c.text) for c in cells)
