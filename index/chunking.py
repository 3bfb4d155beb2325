"""Sentence-aware chunks with exact offsets, sized in the embedder's own word-pieces.

A chunk is a run of whole sentences whose text, with the document title in front (what
gets embedded), fits the embedder's window — all-MiniLM-L6 silently drops everything
after 256 word-pieces, so a chunk that does not fit is half-embedded. Consecutive chunks
share trailing sentences up to ``overlap`` word-pieces. A sentence longer than the budget
is cut at word-piece boundaries. ``document.text[chunk.start:chunk.end] == chunk.text``.
"""
from __future__ import annotations

import bisect
import hashlib
from typing import Protocol

from .models import Chunk, SourceDocument
from .sentences import sentence_spans

TITLE_MAX_TOKENS = 24
SPECIAL_TOKENS = 2  # [CLS] and [SEP]


class TokenCounter(Protocol):
    max_tokens: int

    def count_tokens(self, text: str) -> int: ...  # including special tokens

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...


def embedding_text(title: str, text: str) -> str:
    """What is embedded for a chunk: the title carries the document's topic into it."""
    return f"{title}\n{text}" if title else text


def embed_hash(title: str, text: str) -> str:
    """The key of a chunk's vector: chunks with the same embedded text share it."""
    return hashlib.sha256(embedding_text(title, text).encode()).hexdigest()[:32]


def chunk_id(source: str, start: int, end: int, text: str) -> str:
    """Stable across rebuilds: the same text at the same place gets the same id."""
    digest = hashlib.sha256(f"{source}\0{start}\0{end}\0{text}".encode()).hexdigest()
    return digest[:32]


def title_for_embedding(title: str, counter: TokenCounter) -> str:
    title = " ".join(title.split())
    if not title:
        return ""
    spans = counter.token_spans(title)
    if len(spans) > TITLE_MAX_TOKENS:
        title = title[: spans[TITLE_MAX_TOKENS - 1][1]]
    return title


def split_long(text: str, start: int, end: int, budget: int, counter: TokenCounter):
    """Cut one over-long sentence into pieces of at most ``budget`` word-pieces."""
    spans = counter.token_spans(text[start:end])
    pieces = []
    i = 0
    while i < len(spans):
        j = min(i + budget, len(spans))
        if j < len(spans):
            # prefer to cut where a new word starts (whitespace before the next piece)
            k = j
            while k > i + budget // 2 and not text[start + spans[k][0] - 1].isspace():
                k -= 1
            if k > i + budget // 2:
                j = k
        s, e = start + spans[i][0], start + spans[j - 1][1]
        pieces.append((s, e, j - i))
        i = j
    return pieces


def make_chunk(doc: SourceDocument, title: str, ordinal: int, start: int, end: int,
               page_starts: list[int]) -> Chunk:
    """The chunk ``doc.text[start:end]``, with the page holding its start and the pages that
    begin inside it (a quote's page is the one holding the quote's start)."""
    body = doc.text[start:end]
    page, breaks = None, ()
    if doc.pages:
        idx = bisect.bisect_right(page_starts, start) - 1
        page = doc.pages[max(idx, 0)].number
        last = bisect.bisect_left(page_starts, end)
        breaks = tuple((p.start, p.number) for p in doc.pages[max(idx + 1, 0) : last])
    return Chunk(id=chunk_id(doc.source, start, end, body), source=doc.source, title=title,
                 text=body, start=start, end=end, ordinal=ordinal, page=page, page_breaks=breaks)


def chunk_document(
    doc: SourceDocument, counter: TokenCounter, chunk_size: int, overlap: int
) -> list[Chunk]:
    """Split ``doc`` into chunks; see the module docstring for the guarantees."""
    text = doc.text
    title = title_for_embedding(doc.title, counter)
    title_cost = counter.count_tokens(title) - SPECIAL_TOKENS + 1 if title else 0
    budget = min(chunk_size, counter.max_tokens) - SPECIAL_TOKENS - title_cost
    budget = max(budget, 16)

    units: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for s, e in sentence_spans(text):
        n = counter.count_tokens(text[s:e]) - SPECIAL_TOKENS
        if n <= budget:
            units.append((s, e, n))
        else:
            units.extend(split_long(text, s, e, budget, counter))

    groups: list[tuple[int, int]] = []  # unit index ranges [i, j)
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and used + units[j][2] <= budget:
            used += units[j][2]
            j += 1
        j = max(j, i + 1)
        groups.append((i, j))
        if j >= len(units):
            break
        # overlap: step back over trailing sentences worth at most `overlap` tokens
        k, back = j, 0
        while k - 1 > i and back + units[k - 1][2] <= overlap:
            back += units[k - 1][2]
            k -= 1
        i = k

    page_starts = [p.start for p in doc.pages]
    chunks = [make_chunk(doc, title, ordinal, units[i][0], units[j - 1][1], page_starts)
              for ordinal, (i, j) in enumerate(groups)]
    return chunks
