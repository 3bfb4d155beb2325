"""The plain llama-index pipeline, as a baseline for the evaluation and the benchmarks.

Not part of the product (it needs the ``baseline`` extra, llama-index-vector-stores-chroma):
the evaluation's baselines and ``bench`` use it. It builds what a llama-index
tutorial builds — ``VectorStoreIndex.from_documents`` over a ``ChromaVectorStore`` (its
own collection, ``<QA_COLLECTION>-llama``) with a ``SentenceSplitter`` at the app's chunk
settings — and answers with the index's default retriever (dense top-k). The embedder is
the app's own (:class:`LlamaEmbedding` adapts it), counted in its own word-pieces so the
chunk sizes compare, and no LLM is ever configured (``Settings.llm`` is a ``MockLLM``),
so nothing here can reach OpenAI. What leaves this module: :class:`ScoredChunk`.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from index import Chunk, ScoredChunk, Settings, SourceDocument
from index.embedder import Embedder, make_embedder
from index.loaders import load_documents

__all__ = ["LlamaEmbedding", "LlamaPipeline", "LlamaBuild"]


class LlamaEmbedding(BaseEmbedding):
    """Our :class:`~index.embedder.Embedder` as a llama-index embedding model."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Embedder, embed_batch_size: int = 32, **kwargs: Any) -> None:
        super().__init__(model_name=embedder.id, embed_batch_size=embed_batch_size, **kwargs)
        self._embedder = embedder

    @classmethod
    def class_name(cls) -> str:
        return "DocqaEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_query(query).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


@dataclass(frozen=True)
class LlamaBuild:
    seconds: float
    chunks: int
    reused: bool


class LlamaPipeline:
    """Build and query the plain llama-index index of a source (folder or ``.jsonl``).

    ``client`` is a chromadb client (default: a persistent one at ``QA_CHROMA_PATH``).
    """

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None, client=None,
                 collection: str | None = None) -> None:
        from llama_index.core import Settings as LlamaSettings
        from llama_index.core.llms import MockLLM

        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.collection = collection or f"{settings.collection}-llama"
        self.embed_model = LlamaEmbedding(self.embedder, embed_batch_size=settings.embed_batch_size)
        # Never the OpenAI defaults: no LLM at all, and our embedder, explicitly.
        LlamaSettings.llm = MockLLM()
        LlamaSettings.embed_model = self.embed_model
        self._client = client
        self._retriever_index = None

    @property
    def client(self):
        if self._client is None:
            import chromadb

            self.settings.chroma_path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(
                path=str(self.settings.chroma_path), settings=chromadb.Settings(anonymized_telemetry=False)
            )
        return self._client

    def splitter(self):
        from llama_index.core.node_parser import SentenceSplitter

        return SentenceSplitter(
            chunk_size=self.settings.chunk_size, chunk_overlap=self.settings.chunk_overlap,
            tokenizer=self.embedder.token_spans,  # lengths in the embedder's word-pieces
        )

    def _signature(self, docs: Sequence[SourceDocument]) -> str:
        digest = hashlib.sha256()
        for d in docs:
            digest.update(f"{d.source}\0{d.content_hash}\n".encode())
        s = self.settings
        return f"{s.chunk_size}/{s.chunk_overlap}/{self.embedder.id}/{digest.hexdigest()[:16]}"

    def build(self, source: Path, *, fresh: bool = True) -> LlamaBuild:
        """Index ``source`` (timed from loading to the last vector written).

        ``fresh=False`` reuses the collection when it holds this very corpus and settings.
        """
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        t0 = time.perf_counter()
        docs = load_documents(Path(source)).documents
        signature = self._signature(docs)
        if not fresh:
            existing = self._existing(signature)
            if existing is not None:
                self._retriever_index = None
                return LlamaBuild(0.0, existing, True)
        self.drop()
        collection = self.client.create_collection(self.collection, metadata={"docqa_signature": signature})
        store = ChromaVectorStore(chroma_collection=collection)
        documents = [Document(text=d.text, id_=d.source, metadata={"title": d.title}) for d in docs]
        VectorStoreIndex.from_documents(
            documents, storage_context=StorageContext.from_defaults(vector_store=store),
            embed_model=self.embed_model, transformations=[self.splitter()], show_progress=False,
        )
        self._retriever_index = None
        return LlamaBuild(round(time.perf_counter() - t0, 3), collection.count(), False)

    def _existing(self, signature: str) -> int | None:
        from chromadb.errors import NotFoundError

        try:
            col = self.client.get_collection(self.collection)
        except NotFoundError:
            return None
        if (col.metadata or {}).get("docqa_signature") != signature or col.count() == 0:
            return None
        return col.count()

    def drop(self) -> None:
        from chromadb.errors import NotFoundError

        try:
            self.client.delete_collection(self.collection)
        except NotFoundError:
            pass

    def search(self, query: str, k: int) -> list[ScoredChunk]:
        """The default retriever's top ``k`` (dense similarity), as chunks with offsets."""
        if self._retriever_index is None:
            from llama_index.core import VectorStoreIndex
            from llama_index.vector_stores.chroma import ChromaVectorStore

            store = ChromaVectorStore(chroma_collection=self.client.get_collection(self.collection))
            self._retriever_index = VectorStoreIndex.from_vector_store(store, embed_model=self.embed_model)
        hits = self._retriever_index.as_retriever(similarity_top_k=k).retrieve(query)
        out = []
        for h in hits:
            node = h.node
            text = node.get_content()
            start = node.start_char_idx if node.start_char_idx is not None else -1
            end = node.end_char_idx if node.end_char_idx is not None else start + len(text)
            chunk = Chunk(id=node.node_id, source=str(node.ref_doc_id), title=str(node.metadata.get("title", "")),
                          text=text, start=start, end=end, ordinal=0)
            out.append(ScoredChunk(chunk, float(h.score or 0.0)))
        return out
