"""llama-index instrumentation: one question's retrieval and answer as spans and events.

A span or event handler attached to llama-index's root dispatcher
(``llama_index.core.instrumentation.get_dispatcher()``) sees, per question, an
``Assistant.ask-…`` (or ``Assistant.stream-…``) span enclosing a ``retrieve-…`` span, and
a :class:`RetrievalEvent` and an :class:`AnswerEvent` saying what was found and how long
it took.

Only the light ``llama_index_instrumentation`` package is imported here: about 25 ms on
top of ``import qa`` (it shares qa's pydantic), where ``llama_index.core.instrumentation``
would import all of llama_index.core (about 1.7 s). Its root dispatcher is the very one
``llama_index.core.instrumentation`` re-exports.
"""
from __future__ import annotations

import functools
import inspect
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from llama_index_instrumentation import get_dispatcher
from llama_index_instrumentation.base import BaseEvent
from llama_index_instrumentation.dispatcher import active_instrument_tags
from llama_index_instrumentation.events.span import SpanDropEvent
from llama_index_instrumentation.span import active_span_id

__all__ = ["AnswerEvent", "RetrievalEvent", "answer_span", "dispatcher", "retrieval_span"]

dispatcher = get_dispatcher("qa")  # a child of the root: everything propagates to it


class RetrievalEvent(BaseEvent):
    """The ``passages`` best passages (of ``k`` asked for) were retrieved for ``query``."""

    query: str
    k: int
    passages: int
    seconds: float

    @classmethod
    def class_name(cls) -> str:
        return "QARetrievalEvent"


class AnswerEvent(BaseEvent):
    """``question`` was answered by ``answerer`` (or refused) with ``citations`` citations."""

    question: str
    answerer: str
    refused: bool
    citations: int
    seconds: float

    @classmethod
    def class_name(cls) -> str:
        return "QAAnswerEvent"


def retrieval_span(func: Callable) -> Callable:
    """For ``retrieve(reader, query, k, …)``: a span around it, and a :class:`RetrievalEvent`."""

    @functools.wraps(func)
    def run(reader, query, k, *args, **kwargs):
        t0 = time.perf_counter()
        passages = func(reader, query, k, *args, **kwargs)
        dispatcher.event(RetrievalEvent(query=query, k=k, passages=len(passages),
                                        seconds=round(time.perf_counter() - t0, 4)))
        return passages

    return dispatcher.span(run)


def answer_span(method: Callable) -> Callable:
    """For ``Assistant.ask`` (returns the Answer) and ``Assistant.stream`` (yields text, then
    the Answer): a span around the whole answer, and an :class:`AnswerEvent`."""
    if inspect.isgeneratorfunction(method):
        return _generator_span(method)

    @functools.wraps(method)
    def run(*args, **kwargs):
        answer = method(*args, **kwargs)
        dispatcher.event(_answered(answer))
        return answer

    return dispatcher.span(run)


def _answered(answer: Any, span_id: str | None = None) -> AnswerEvent:
    extra = {} if span_id is None else {"span_id": span_id}
    return AnswerEvent(question=answer.question, answerer=answer.answerer, refused=answer.refused,
                       citations=len(answer.citations), seconds=answer.seconds, **extra)


def _generator_span(method: Callable) -> Callable:
    """``dispatcher.span`` ends a generator's span when the generator is created; this one
    lasts until the last item. The span is the active one only while an item is being made
    (a consumer may resume the generator from another thread or context)."""

    @functools.wraps(method)
    def run(self, *args, **kwargs) -> Iterator:
        bound = inspect.signature(method.__get__(self)).bind(*args, **kwargs)  # as dispatcher.span binds
        id_ = f"{type(self).__name__}.{method.__name__}-{uuid.uuid4()}"
        dispatcher.span_enter(id_=id_, bound_args=bound, instance=self,
                              parent_id=active_span_id.get(), tags=active_instrument_tags.get())
        items = method(self, *args, **kwargs)
        result = None
        try:
            while True:
                token = active_span_id.set(id_)
                try:
                    item = next(items)
                except StopIteration:
                    break
                finally:
                    active_span_id.reset(token)
                if not isinstance(item, str):
                    result = item
                    dispatcher.event(_answered(item, id_))
                yield item
        except BaseException as exc:  # GeneratorExit too: the consumer stopped early
            items.close()
            dispatcher.event(SpanDropEvent(span_id=id_, err_str=str(exc)))
            dispatcher.span_drop(id_=id_, bound_args=bound, instance=self, err=exc)
            raise
        dispatcher.span_exit(id_=id_, bound_args=bound, instance=self, result=result)

    return run
