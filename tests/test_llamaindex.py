"""qa as llama-index parts, with real llama-index objects over a real index of the seed article."""
from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from llama_index.core import Settings as LlamaSettings
from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.span.simple import SimpleSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import NodeWithScore, TextNode
from pydantic import Field

import qa
from index import BadRequest, IndexReader, build_index
from qa.retrieval import retrieve

from .conftest import SEEDS
from .helpers import SEED_FILE, SEED_PATH, SEED_QUESTION

DOC = SEED_PATH.read_text()
TITLE = "US Forces Strike Iran-Backed Group After Ballistic Missile Attack"
REFUSED = "How many Iranian soldiers were injured?"


@pytest.fixture(scope="module")
def seed_settings(tmp_path_factory, embedder):
    settings = qa.Settings(source_dir=SEEDS, chroma_path=tmp_path_factory.mktemp("llamaindex") / "chroma")
    build_index(settings, embedder=embedder, show_progress=False)
    return settings


@pytest.fixture(scope="module")
def assistant(seed_settings, embedder):
    return qa.Assistant(seed_settings, reader=IndexReader(seed_settings, embedder=embedder))


def _assert_node_at_its_offsets(hit) -> None:
    assert isinstance(hit, NodeWithScore) and isinstance(hit.node, TextNode)
    node = hit.node
    assert node.text == DOC[node.start_char_idx:node.end_char_idx]
    assert node.metadata == {"source": SEED_FILE, "title": TITLE, "page": None}
    assert node.ref_doc_id == SEED_FILE
    assert node.id_ == f"{SEED_FILE}#{node.start_char_idx}-{node.end_char_idx}"


# ---- the retriever ---------------------------------------------------------------------
def test_retriever_gives_nodes_at_their_document_offsets(assistant):
    retriever = qa.as_retriever(assistant=assistant, top_k=3)
    assert isinstance(retriever, BaseRetriever)
    hits = retriever.retrieve(SEED_QUESTION)
    passages = retrieve(assistant.reader, SEED_QUESTION, 3)
    assert len(hits) == len(passages) >= 1
    for hit, p in zip(hits, passages):
        _assert_node_at_its_offsets(hit)
        assert (hit.node.start_char_idx, hit.node.end_char_idx, hit.score) == (p.start, p.end, p.score)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert any("eight U.S. personnel" in h.node.text for h in hits)
    assert [h.node.id_ for h in retriever.retrieve(SEED_QUESTION)] == [h.node.id_ for h in hits]


def test_retriever_honours_top_k(assistant):
    one = qa.as_retriever(assistant=assistant, top_k=1).retrieve(SEED_QUESTION)
    two = qa.as_retriever(assistant=assistant, top_k=2).retrieve(SEED_QUESTION)
    assert len(one) == 1 and len(two) == 2  # the seed article makes two windows at most
    default = qa.as_retriever(assistant=assistant)
    assert default.top_k == assistant.settings.top_k
    with pytest.raises(BadRequest):
        qa.as_retriever(assistant=assistant, top_k=0)
    with pytest.raises(BadRequest):
        default.retrieve("   ")


def test_aretrieve_gives_the_same_nodes(assistant):
    retriever = qa.as_retriever(assistant=assistant, top_k=2)
    hits = asyncio.run(retriever.aretrieve(SEED_QUESTION))
    assert [(h.node.id_, h.score) for h in hits] == [(h.node.id_, h.score) for h in retriever.retrieve(SEED_QUESTION)]


def test_settings_give_the_assistant_qa_answer_uses(seed_settings):
    retriever = qa.as_retriever(seed_settings, top_k=1)
    assert retriever.assistant is qa._assistant(seed_settings)
    (hit,) = retriever.retrieve(SEED_QUESTION)
    _assert_node_at_its_offsets(hit)


# ---- the query engine ------------------------------------------------------------------
def test_query_engine_answers_as_the_assistant_does(assistant):
    engine = qa.as_query_engine(assistant=assistant)
    assert isinstance(engine, BaseQueryEngine)
    response = engine.query(SEED_QUESTION)
    answer = assistant.ask(SEED_QUESTION)
    assert isinstance(response, Response)
    assert response.response == answer.text and str(response) == answer.text
    meta = response.metadata
    assert meta["refused"] is False and meta["answerer"] == "extractive"
    assert meta["citations"] == answer.to_dict()["citations"] and meta["citations"]
    for c in meta["citations"]:
        assert isinstance(c, dict) and c["verified"] and c["source"] == SEED_FILE
        assert DOC[c["start"]:c["end"]] == c["quote"]
        assert f"[{c['number']}]" in response.response
    short = meta["short_answer"]
    assert short is None or DOC[short["start"]:short["end"]] == short["text"]
    assert len(response.source_nodes) == len(answer.passages) >= 1
    for hit in response.source_nodes:
        _assert_node_at_its_offsets(hit)


def test_query_engine_refusal(assistant):
    response = qa.as_query_engine(assistant=assistant).query(REFUSED)
    assert response.metadata["refused"] is True
    assert response.metadata["citations"] == [] and response.metadata["short_answer"] is None
    assert response.response == assistant.ask(REFUSED).text


def test_aquery_gives_the_same_response(assistant):
    engine = qa.as_query_engine(assistant=assistant)
    response = asyncio.run(engine.aquery(SEED_QUESTION))
    assert response.response == engine.query(SEED_QUESTION).response
    assert response.metadata["citations"]


# ---- a llama-index user's own pipeline -------------------------------------------------
class QuotingLLM(CustomLLM):
    """Deterministic and local: answers with the first context sentence about personnel."""

    prompts: list = Field(default_factory=list)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=4096, num_output=128, model_name="quoting")

    def _answer(self, prompt: str) -> str:
        self.prompts.append(prompt)
        found = re.search(r"[^.\n]*personnel[^.\n]*\.", prompt)
        return found.group(0).strip() if found else "Empty Response"

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self._answer(prompt))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any):
        text = self._answer(prompt)
        yield CompletionResponse(text=text, delta=text)


def test_the_retriever_plugs_into_a_llama_index_pipeline(assistant, monkeypatch):
    # the evaluation's plain llama-index baseline sets the global defaults; start unset
    monkeypatch.setattr(LlamaSettings, "_llm", None)
    monkeypatch.setattr(LlamaSettings, "_embed_model", None)
    llm = QuotingLLM()
    engine = RetrieverQueryEngine.from_args(qa.as_retriever(assistant=assistant, top_k=2), llm=llm)
    response = engine.query(SEED_QUESTION)
    assert llm.prompts and SEED_QUESTION in llm.prompts[0]
    assert len(response.source_nodes) == 2
    for hit in response.source_nodes:
        _assert_node_at_its_offsets(hit)
        assert hit.node.text[:200] in "".join(llm.prompts)
    assert "personnel" in response.response and response.response in DOC
    # llama-index's OpenAI defaults were never resolved (resolving them would fail offline)
    assert LlamaSettings._llm is None and LlamaSettings._embed_model is None


# ---- instrumentation -------------------------------------------------------------------
class SpanRecorder(BaseSpanHandler[SimpleSpan]):
    def new_span(self, id_, bound_args, instance=None, parent_span_id=None, tags=None, **kwargs):
        return SimpleSpan(id_=id_, parent_id=parent_span_id)

    def prepare_to_exit_span(self, id_, bound_args, instance=None, result=None, **kwargs):
        span = self.open_spans[id_]
        span.end_time = span.start_time.now()
        span.duration = (span.end_time - span.start_time).total_seconds()
        self.completed_spans.append(span)
        return span

    def prepare_to_drop_span(self, id_, bound_args, instance=None, err=None, **kwargs):
        self.dropped_spans.append(self.open_spans[id_])
        return self.open_spans[id_]


class EventRecorder(BaseEventHandler):
    events: list = Field(default_factory=list)

    def handle(self, event, **kwargs) -> None:
        self.events.append(event)


@pytest.fixture
def recorders():
    root = get_dispatcher()
    spans, events = SpanRecorder(), EventRecorder()
    root.add_span_handler(spans)
    root.add_event_handler(events)
    try:
        yield spans, events
    finally:
        root.span_handlers.remove(spans)
        root.event_handlers.remove(events)
    assert spans not in root.span_handlers and events not in root.event_handlers


def _named(spans, prefix: str) -> list[SimpleSpan]:
    return [s for s in spans.completed_spans if s.id_.startswith(prefix + "-")]


@pytest.mark.parametrize("call", ["ask", "stream"])
def test_a_tracing_handler_sees_retrieval_and_answer(assistant, recorders, call):
    spans, events = recorders
    if call == "ask":
        answer = assistant.ask(SEED_QUESTION)
    else:
        answer = list(assistant.stream(SEED_QUESTION))[-1]
    (answering,) = _named(spans, f"Assistant.{call}")
    (retrieving,) = _named(spans, "retrieve")
    assert retrieving.parent_id == answering.id_
    assert 0 < retrieving.duration <= answering.duration
    assert not spans.dropped_spans and not spans.open_spans

    (retrieved,) = [e for e in events.events if e.class_name() == "QARetrievalEvent"]
    assert (retrieved.query, retrieved.k) == (SEED_QUESTION, assistant.settings.top_k)
    assert retrieved.passages == len(answer.passages) and retrieved.span_id == retrieving.id_
    assert 0 < retrieved.seconds <= retrieving.duration
    (answered,) = [e for e in events.events if e.class_name() == "QAAnswerEvent"]
    assert (answered.question, answered.answerer, answered.refused, answered.citations) == (
        SEED_QUESTION, "extractive", False, len(answer.citations))
    assert answered.span_id == answering.id_ and answered.seconds == answer.seconds > 0


def test_the_query_engine_span_holds_the_answer(assistant, recorders):
    spans, events = recorders
    qa.as_query_engine(assistant=assistant).query(REFUSED)
    (query,) = _named(spans, "QAQueryEngine.query")
    (answering,) = _named(spans, "Assistant.ask")
    chain, span = [], answering
    by_id = {s.id_: s for s in spans.completed_spans}
    while span.parent_id is not None:
        chain.append(span.parent_id)
        span = by_id[span.parent_id]
    assert query.id_ in chain
    (answered,) = [e for e in events.events if e.class_name() == "QAAnswerEvent"]
    assert answered.refused is True and answered.citations == 0


def test_a_stream_stopped_early_drops_its_span(assistant, recorders):
    spans, _ = recorders
    stream = assistant.stream(SEED_QUESTION)
    next(stream)
    stream.close()
    assert [s.id_.split("-")[0] for s in spans.dropped_spans] == ["Assistant.stream"]
    assert not spans.open_spans


def test_retriever_and_query_engine_ask_only_chosen_files(assistant):
    everything = qa.as_retriever(assistant=assistant, top_k=3).retrieve(SEED_QUESTION)
    by_glob = qa.as_retriever(assistant=assistant, top_k=3, sources=["*.txt"]).retrieve(SEED_QUESTION)
    assert [h.node.id_ for h in by_glob] == [h.node.id_ for h in everything]
    with pytest.raises(BadRequest, match=re.escape(SEED_FILE)):  # a close match is named
        qa.as_retriever(assistant=assistant, sources=[SEED_FILE.replace(".txt", ".md")])
    engine = qa.as_query_engine(assistant=assistant, sources=[SEED_FILE])
    response = engine.query(SEED_QUESTION)
    assert response.metadata["citations"] and all(
        c["source"] == SEED_FILE for c in response.metadata["citations"])
    with pytest.raises(BadRequest, match=re.escape(SEED_FILE)):
        qa.as_query_engine(assistant=assistant, sources=["no-such-file.pdf"]).query(SEED_QUESTION)
