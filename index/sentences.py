"""Sentence boundaries as character spans, so every quote maps back to its source.

Blocks are separated by blank lines (and by line breaks after a line that ends a
sentence or looks like a heading, and around a table row, which is one span whole);
inside a block, NLTK's Punkt model — the copy that llama-index-core ships in
``_static/nltk_cache``, so nothing is downloaded — finds the sentences. Spans never
include surrounding whitespace.

Punkt's English model learnt its abbreviations from news text: it cut "(see Fig." from
"2A)", "Smith et al." from "(2019) showed", "consumes approx." from "8.8 lb/kWh". The
abbreviations of scholarly and technical writing (:data:`ABBREVIATIONS`) are added to it,
as NLTK's ``PunktParameters.abbrev_types``. A sentence never ends at a capital with at most
one more letter and a period before a lower-case word: that is an initial or a genus
("infectivity of *Ae.* albopictus", "*E.* coli", "*E.I.* du Pont").
"""
from __future__ import annotations

import importlib.util
import os
import re
import threading
from functools import lru_cache

_BLOCK_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_LINE_BREAK = re.compile(r"\n")
_ENDS_SENTENCE = re.compile(r"""[.!?:;"”’')\]]\s*$""")
_STARTS_ITEM = re.compile(r"^\s*(?:[#>*•\-–]|\d+[.)]\s|\|)")
# A table row: cells joined by " | " (HTML, DOCX and Markdown tables) or tabs, or a line
# ending in two or more numbers (pypdf's rows of a simple table: "2022 21 3 0").
_TABLE_ROW = re.compile(r"\S[ \t]+\|[ \t]+\S|\S\t+\S|(?:[ \t][-+(]?[$€£]?\d(?:[\d,.]*\d)?%?\)?){2,}[ \t]*$")
_INITIAL = re.compile(r"(?:^|[\s(.])[A-Z][a-z]?\.$")
_lock = threading.Lock()
# Lower-cased, without the final period. Only words that do not end a sentence as
# themselves ("no.", "mass." and "etc." do, so they are not here).
ABBREVIATIONS = frozenset(
    "e.g i.e al fig figs approx ca cf spp eq eqs vol pp resp esp incl viz".split()
)


@lru_cache(maxsize=1)
def _punkt():
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover
        raise RuntimeError("llama-index-core is not installed; run `make run` to install it")
    cache = os.path.join(spec.submodule_search_locations[0], "_static", "nltk_cache")
    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    if cache not in nltk.data.path:
        nltk.data.path.insert(0, cache)
    with _lock:
        tokenizer = PunktTokenizer("english")
    tokenizer._params.abbrev_types.update(ABBREVIATIONS)
    return tokenizer


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraph-like blocks: split at blank lines and at line breaks that end a line."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _BLOCK_BREAK.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    out: list[tuple[int, int]] = []
    for start, end in spans:
        line_start = start
        for m in _LINE_BREAK.finditer(text, start, end):
            line = text[line_start : m.start()]
            nxt = text[m.end() : end]
            short_heading = len(line.strip()) < 60 and not line.rstrip().endswith(",")
            if (_ENDS_SENTENCE.search(line) or short_heading or _STARTS_ITEM.match(nxt)
                    or is_table_row(line) or is_table_row(nxt.partition("\n")[0])):
                out.append((line_start, m.start()))
                line_start = m.end()
        out.append((line_start, end))
    return out


def is_table_row(line: str) -> bool:
    """Whether ``line`` (one line) reads as a row of a table: it is quoted whole."""
    return bool(line.lstrip().startswith("|") or _TABLE_ROW.search(line))


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every sentence of ``text``, in order, whitespace-trimmed."""
    spans: list[tuple[int, int]] = []
    for b_start, b_end in _blocks(text):
        spans.extend((b_start + s, b_start + e) for s, e in _block_spans(text[b_start:b_end]))
    return spans


@lru_cache(maxsize=16384)
def _block_spans(block: str) -> tuple[tuple[int, int], ...]:
    """The sentences of one block, relative to it: they depend on its text alone, and the
    same paragraphs come back in passage after passage (Punkt is most of an answer's split)."""
    if not block.strip():
        return ()
    if "\n" not in block.strip() and is_table_row(block):  # Punkt would cut "U.S. | 21"
        return (_trim(block, 0, len(block)),)
    trimmed = (_trim(block, s, e) for s, e in _punkt().span_tokenize(block))
    return tuple(_joined(block, [t for t in trimmed if t]))


def _joined(block: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Punkt's spans, with those after an initial before a lower-case word joined on."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and block[start].islower() and _INITIAL.search(block, out[-1][0], out[-1][1]):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out
