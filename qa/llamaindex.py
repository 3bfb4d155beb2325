"""The assistant as llama-index parts: a retriever and a query engine for llama-index pipelines.

    retriever = qa.as_retriever(top_k=3)
    for hit in retriever.retrieve("how many personnel were injured?"):
        hit.node.text, hit.node.metadata["source"], hit.node.start_char_idx, hit.score

    engine = qa.as_query_engine()
    response = engine.query("how many personnel were injured?")
    response.response, response.metadata["citations"], response.source_nodes

The only qa module that imports ``llama_index.core`` (``qa`` imports it on first use, so
``import qa`` does not pay for it). Retrieval is the project's own hybrid retrieval and
answers are ``Assistant.ask``'s, with verified citations: no llama-index LLM or embedding
model is involved, so llama-index's ``Settings.llm``/``embed_model`` (OpenAI by default)
are never read.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import (
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    RelatedNodeInfo,
    TextNode,
)

from index import BadRequest

from .retrieval import retrieve
from .service import MAX_QUESTION_CHARS, Assistant
from .sources import resolve_for
from .types import Answer, Passage

__all__ = ["QAQueryEngine", "QARetriever", "to_node", "to_response"]


def to_node(passage: Passage) -> NodeWithScore:
    """A passage as llama-index sees one: ``text == document[start_char_idx:end_char_idx]``
    of ``metadata["source"]``, scored by the fused retrieval score."""
    node = TextNode(
        id_=f"{passage.source}#{passage.start}-{passage.end}",  # the same span, the same id
        text=passage.text,
        start_char_idx=passage.start,
        end_char_idx=passage.end,
        metadata={"source": passage.source, "title": passage.title, "page": passage.page},
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=passage.source)},
    )
    return NodeWithScore(node=node, score=passage.score)


def to_response(answer: Answer) -> Response:
    """An answer as a llama-index ``Response``; its citations and short answer as plain dicts."""
    d = answer.to_dict()
    return Response(
        response=answer.text,
        source_nodes=[to_node(p) for p in answer.passages],
        metadata={"citations": d["citations"], "short_answer": d["short_answer"],
                  "refused": answer.refused, "answerer": answer.answerer, "notice": answer.notice},
    )


def _top_k(assistant: Assistant, top_k: int | None) -> int:
    k = assistant.settings.top_k if top_k is None else top_k
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 50:
        raise BadRequest(f"top_k must be a whole number from 1 to 50, not {top_k!r}.")
    return k


class QARetriever(BaseRetriever):
    """The project's hybrid retrieval (BM25 + dense, fused and re-ranked, with neighbour
    windows) over ``assistant``'s index, as a llama-index retriever."""

    def __init__(self, assistant: Assistant, top_k: int | None = None,
                 sources: Sequence[str] | None = None) -> None:
        super().__init__(callback_manager=CallbackManager([]))
        self.assistant = assistant
        self.top_k = _top_k(assistant, top_k)
        # names or glob patterns, resolved (and checked) once: only these documents
        self.sources = resolve_for(sources, assistant.reader) if sources else ()

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = query_bundle.query_str.strip()
        if not query or len(query) > MAX_QUESTION_CHARS:
            raise BadRequest(f"The query must be text of 1 to {MAX_QUESTION_CHARS} characters.")
        passages = retrieve(self.assistant.reader, query, self.top_k, sources=self.sources or None)
        return [to_node(p) for p in passages]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)


class QAQueryEngine(BaseQueryEngine):
    """``assistant.ask`` as a llama-index query engine: the answer with verified citations."""

    def __init__(self, assistant: Assistant, *, answerer: str | None = None,
                 top_k: int | None = None, sources: Sequence[str] | None = None) -> None:
        super().__init__(callback_manager=CallbackManager([]))
        self.assistant = assistant
        self.answerer = answerer
        self.top_k = top_k
        self.sources = tuple(sources or ())

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {}  # no llama-index prompts: the project's answerers hold their own

    def _query(self, query_bundle: QueryBundle) -> Response:
        answer = self.assistant.ask(query_bundle.query_str, answerer=self.answerer, top_k=self.top_k,
                                    sources=self.sources or None)
        return to_response(answer)

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return QARetriever(self.assistant, self.top_k, self.sources or None).retrieve(query_bundle)
