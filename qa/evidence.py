"""What answering needs from the index: the seam between ``qa`` and ``index``.

``qa`` reads the index only through :class:`Evidence`; :class:`index.IndexReader`
implements it (a test or another store can pass its own). Everything crossing the seam is
``index``'s small frozen records (a chunk, a scored chunk, a search result, an entity), never
a Chroma object. :class:`Retriever` is what the :class:`~qa.Assistant` asks for passages:
by default :func:`qa.retrieval.retrieve` over the evidence.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from index import Chunk, SearchResult

    from .types import Passage

__all__ = ["Evidence", "Retriever"]


@runtime_checkable
class Evidence(Protocol):
    """The index as answering reads it: one generation at a time.

    Optional, used when present (:class:`index.IndexReader` has them): ``search_ids`` (the
    hits as ids and scores) with ``read(found, ids)`` (their chunks), so retrieval reads
    only the chunks it re-ranks or keeps; ``chunk_sentence_terms(chunks)``, the build's
    terms of each chunk's sentences. Without them retrieval uses ``search`` and tokenizes."""

    @property
    def embedder(self):
        """The embedder the index was built with (``embed(texts)``, ``dim``, ``id``)."""

    def search(self, query: str, *, dense_k: int, keyword_k: int,
               sources: Sequence[str] | None = None) -> SearchResult:
        """Dense and BM25 hits for ``query`` from one generation of the index; ``sources``
        (exact document names) restricts both to those documents (None or empty: all)."""

    def source_names(self) -> tuple[str, ...]:
        """The names of the indexed documents, sorted (what ``sources`` may name)."""

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector (the search's own, cached)."""

    def document_chunks(self, source: str) -> list[Chunk]:
        """All chunks of one document, in reading order."""

    def neighbourhoods(self, chunks: Sequence[Chunk], window: int) -> dict[str, list[Chunk] | None]:
        """Per source: ``chunks`` and up to ``window`` neighbours each, in reading order
        (``None``: read that document whole)."""

    def chunk_sentence_vectors(self, chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
        """Per chunk id: the build's vectors of its sentences (absent where it has none)."""

    def stored_sentence_vectors(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """The build's vectors of these sentences (``None`` where it has none)."""

    def sentence_entities(self, texts: Sequence[str]) -> list[tuple | None]:
        """The build's named entities of these sentences (``None`` where it has none)."""

    def sentence_parses(self, texts: Sequence[str]) -> list[tuple | None]:
        """The build's parse (tokens) of these sentences (``None`` where it has none)."""

    def vocabulary(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """Every term of the indexed chunks, as a set and sorted (for prefix search)."""


class Retriever(Protocol):
    """Passages for a query: what the assistant answers from. A question restricted to some
    documents calls it with ``sources=`` (the resolved names) as a keyword when it accepts
    one; otherwise its passages of other documents are dropped."""

    def __call__(self, query: str, k: int) -> Sequence[Passage]: ...
