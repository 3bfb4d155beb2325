"""The LLM's side of an answer: a cited draft, and follow-ups made standalone.

The draft is raw model text with ``[n]`` markers (n = :attr:`Passage.rank`); nothing here
trusts it — :func:`qa.grounding.ground` checks every sentence against its passages.
Both functions raise :class:`~qa.errors.LLMUnavailable` when the endpoint fails
(also midway through a stream, after some deltas were already passed on).
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

from .llm import LLM
from .prompting import REFUSAL, answer_messages, condense_messages
from .types import Passage, Turn

__all__ = ["draft_answer", "condense_question", "ANSWER_MAX_TOKENS", "CONDENSE_MAX_TOKENS"]

ANSWER_MAX_TOKENS = 400  # 1-3 sentences with markers, with room for a chatty model
CONDENSE_MAX_TOKENS = 100

_LABEL = re.compile(r"^\s*(?:standalone\s+question|question|rewritten(?:\s+question)?)\s*:\s*", re.I)
_QUOTES = "\"'“”‘’`"


def draft_answer(
    question: str,
    passages: Sequence[Passage],
    history: Sequence[Turn],
    llm: LLM,
    on_delta: Callable[[str], None] | None = None,
) -> str:
    """The LLM's answer to ``question`` from ``passages``, citing them as ``[rank]``.

    With ``on_delta`` the answer is streamed and each piece passed to it as it arrives.
    Without passages there is nothing to answer from: the refusal, without a call.
    """
    if not passages:
        if on_delta is not None:
            on_delta(REFUSAL)
        return REFUSAL
    messages = answer_messages(question, passages, history)
    if on_delta is None:
        return llm.chat(messages, max_tokens=ANSWER_MAX_TOKENS)
    parts: list[str] = []
    for delta in llm.chat(messages, stream=True, max_tokens=ANSWER_MAX_TOKENS):
        parts.append(delta)
        on_delta(delta)
    return "".join(parts)


def condense_question(question: str, history: Sequence[Turn], llm: LLM) -> str:
    """``question`` rewritten to stand alone, for retrieval; unchanged without history.

    A reply that is not a question (small models tend to answer instead, and an
    invented answer would steer retrieval) gives the previous question followed by this
    one: crude, but it keeps what "it" refers to in the query.
    """
    if not history or not question.strip():
        return question
    reply = llm.chat(condense_messages(question, history), max_tokens=CONDENSE_MAX_TOKENS)
    line = next((ln for ln in reply.splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line).strip().strip(_QUOTES).strip()
    if "?" in line:
        line = line[: line.index("?") + 1].strip()
        if len(line) > 1 and len(line) <= 3 * len(question) + 200:
            return line
    return f"{history[-1].question.strip()} {question.strip()}"
