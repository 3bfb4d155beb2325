"""The ``llama-sentence-splitter`` chunker: llama-index's ``SentenceSplitter``, counted in
the embedder's own word-pieces, with the guarantees of :mod:`index.chunking`.

The ONE module of ``index`` that imports llama-index's node parsers (lazily: importing
``llama_index.core`` costs more than a second). The splitter sees the document's text and a
budget of the embedder's window less the title's cost, exactly as
:func:`index.chunking.chunk_document` does; it returns stripped strings, which are found back
in the document in order, so ``document.text[chunk.start:chunk.end] == chunk.text`` again.
A chunk whose embedded text (title + text) still exceeds the window — the splitter adds up
the sizes of its pieces, which is not always the size of their concatenation — is cut at
word-piece boundaries. Chunks, ids, ordinals and PDF pages are the same objects as the
default chunker's. Chosen by ``QA_CHUNKER=llama-sentence-splitter`` (see docs/evaluation.md
for how it compares).
"""
from __future__ import annotations

from .chunking import (
    SPECIAL_TOKENS,
    TokenCounter,
    chunk_document,
    embedding_text,
    make_chunk,
    split_long,
    title_for_embedding,
)
from .models import Chunk, SourceDocument

__all__ = ["llama_chunk_document"]

OVERLAP_SLACK = 8  # word-pieces: the splitter sizes pieces alone, not in their context


def _splitter(budget: int, overlap: int, counter: TokenCounter):
    from llama_index.core.node_parser import SentenceSplitter

    return SentenceSplitter(
        chunk_size=budget, chunk_overlap=overlap,
        tokenizer=counter.token_spans,  # one entry per word-piece, without [CLS]/[SEP]
    )


def _locate(text: str, pieces: list[str], overlap: int, counter: TokenCounter):
    """Each piece's offsets in ``text``, in order; None if they cannot be placed exactly.

    A piece starts after the previous one's start and within its last ``overlap``
    word-pieces (or after it), so the search for it begins there: a repeat of its text
    earlier in the document is never taken for it. The pieces must cover every
    non-blank character, or one was placed wrongly (a repeated passage).
    """
    spans: list[tuple[int, int]] = []
    lower = 0
    for piece in pieces:
        start = text.find(piece, lower)
        if start < 0 or (spans and text[spans[-1][1] : start].strip()):
            return None
        spans.append((start, start + len(piece)))
        tokens = counter.token_spans(piece)
        back = overlap + OVERLAP_SLACK
        lower = start + (tokens[-back][0] if len(tokens) > back else 1)
        lower = max(lower, start + 1)
    if text[: spans[0][0]].strip() or text[spans[-1][1] :].strip():
        return None
    return spans


def _fit(text: str, title: str, spans, budget: int, limit: int, counter: TokenCounter):
    """Cut any span whose embedded text is over ``limit`` word-pieces into pieces of ``budget``."""
    out = []
    for s, e in spans:
        if counter.count_tokens(embedding_text(title, text[s:e])) <= limit:
            out.append((s, e))
        else:
            out.extend((ps, pe) for ps, pe, _ in split_long(text, s, e, budget, counter))
    return out


def llama_chunk_document(
    doc: SourceDocument, counter: TokenCounter, chunk_size: int, overlap: int
) -> list[Chunk]:
    """Split ``doc`` with llama-index's ``SentenceSplitter``; same guarantees and signature
    as :func:`index.chunking.chunk_document`."""
    text = doc.text
    title = title_for_embedding(doc.title, counter)
    title_cost = counter.count_tokens(title) - SPECIAL_TOKENS + 1 if title else 0
    limit = min(chunk_size, counter.max_tokens)
    budget = max(limit - SPECIAL_TOKENS - title_cost, 16)
    shared = min(overlap, budget // 2)  # the splitter refuses an overlap over its chunk size
    if not text.strip():
        return []
    try:
        pieces = _splitter(budget, shared, counter).split_text(text)
    except ValueError:  # "Single token exceeded chunk size": not expected at budget >= 16
        pieces = None
    spans = _locate(text, pieces, shared, counter) if pieces else None
    if spans is None:
        # Not placeable: a piece the splitter re-joined with a character dropped (its
        # secondary regex skips a second "," or "."), or a passage repeated so often that
        # its place is ambiguous. The document still gets exact chunks, from our chunker.
        return chunk_document(doc, counter, chunk_size, overlap)
    spans = _fit(text, title, spans, budget, limit, counter)
    page_starts = [p.start for p in doc.pages]
    return [make_chunk(doc, title, i, s, e, page_starts) for i, (s, e) in enumerate(spans)]
