"""What an answer is: the frozen dataclasses the CLI, the UI and the evaluation share."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class Passage:
    """A retrieved passage, ranked. ``text`` is ``document[start:end]`` of ``source``.

    ``page`` is the page at ``start`` (paged documents); ``page_breaks`` the pages that
    begin inside the passage, as ``(document offset, page number)`` in order.
    """

    rank: int
    chunk_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    score: float
    page: int | None = None
    page_breaks: tuple[tuple[int, int], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page holding document offset ``offset`` (``page`` without page breaks)."""
        page = self.page
        for start, number in self.page_breaks:
            if start > offset:
                break
            page = number
        return page


@dataclass(frozen=True)
class Citation:
    """What an inline ``[number]`` points at: a verbatim quote of ``source``.

    ``start``/``end`` are character offsets of ``quote`` in the source document;
    ``verified`` says the quote was found verbatim at those offsets (and, for LLM
    answers, that the cited sentence is supported by it).
    """

    number: int
    source: str
    title: str
    quote: str
    start: int
    end: int
    score: float
    verified: bool
    chunk_id: str = ""
    page: int | None = None


@dataclass(frozen=True)
class ShortAnswer:
    """The phrase that answers — a number with what it counts, a date, a name, a place —
    verbatim from cited quote ``citation``: ``text == document[start:end]`` of ``source``."""

    text: str
    source: str
    start: int
    end: int
    citation: int
    kind: str = ""  # what was asked for: "number", "date", "person", "place", "phrase", "cell"


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation, for follow-up questions."""

    question: str
    answer: str = ""


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    citations: tuple[Citation, ...]
    refused: bool
    passages: tuple[Passage, ...]
    answerer: str  # "extractive" or "llm"
    notice: str | None = None  # e.g. "The LLM did not answer; this is the extractive answer."
    seconds: float = 0.0  # the whole answer, retrieval included
    retrieval_query: str = ""  # what was searched for (a follow-up made standalone)
    retrieval_seconds: float = 0.0  # of ``seconds``, the time spent retrieving
    flags: tuple[str, ...] = field(default_factory=tuple)  # e.g. dropped/unsupported sentences
    short_answer: ShortAnswer | None = None  # the answering phrase, when one was found
    sources: tuple[str, ...] = ()  # the documents the question was restricted to (empty: all)

    def with_notice(self, notice: str | None) -> "Answer":
        """This answer with ``notice`` before its own (unchanged when ``notice`` is None)."""
        if not notice:
            return self
        return replace(self, notice=" ".join(n for n in (notice, self.notice) if n))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["short_answer"] = asdict(self.short_answer) if self.short_answer else None
        d["citations"] = [asdict(c) for c in self.citations]
        d["passages"] = [asdict(p) for p in self.passages]
        d["flags"] = list(self.flags)
        d["sources"] = list(self.sources)
        return d
