"""What goes in and out of the JSON API (:mod:`ui.api`): the request and response models,
with the examples its OpenAPI page shows."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from qa.types import Turn


class Error(BaseModel):
    detail: str = Field(examples=["Type a question."])


class Exchange(BaseModel):
    question: str
    answer: str = ""


class AskRequest(BaseModel):
    question: str = Field(description="What to ask the documents.",
                          examples=["how many personnel were injured?"])
    history: list[Exchange] = Field(default_factory=list, description="Earlier turns, oldest first, "
                                    "for a follow-up question.")
    sources: list[str] = Field(default_factory=list, description="Ask only these documents: exact "
                               "names or glob patterns such as `reports/*.pdf` (empty: all).")
    top_k: int | None = Field(None, ge=1, le=50, description="Passages retrieved (default: QA_TOP_K).")
    answerer: Literal["extractive", "llm", "auto"] | None = Field(
        None, description="`extractive` (offline), `llm` (OPENAI_BASE_URL), `auto` (default: QA_ANSWERER).")
    collection: str | None = Field(None, description="The knowledge base to ask (default: QA_COLLECTION's).")
    conversation: str | None = Field(None, description="A conversation id (`POST /api/conversations`): the "
                                     "answer is added to it, and its earlier turns are the history when "
                                     "`history` is not given. The answer then carries `conversation` and `turn`.")

    model_config = {"json_schema_extra": {"examples": [
        {"question": "how many personnel were injured?", "top_k": 5, "answerer": "extractive"},
        {"question": "Where were they?", "history": [
            {"question": "How many militants were killed?", "answer": "Six militants were killed [1]."}]},
    ]}}

    def turns(self) -> tuple[Turn, ...]:
        return tuple(Turn(t.question, t.answer) for t in self.history)


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    documents: int
    chunks: int


class Document(BaseModel):
    source: str
    title: str
    chunks: int
    indexed_at: str


def errors(*codes: int, ok: dict | None = None) -> dict:
    described = {400: "A bad request: the message says what to change.",
                 404: "No such conversation, turn or document.",
                 409: "No index yet (the message says how to build it), or a build is running.",
                 500: "Unexpected; the server's log has the details.",
                 503: "The LLM, the embeddings endpoint or Chroma is not answering."}
    return {code: {"model": Error, "description": described[code]} for code in codes} | ({200: ok} if ok else {})


ANSWER_EXAMPLE = {
    "question": "how many personnel were injured?", "text": "Eight U.S. personnel were injured [1].",
    "citations": [{"number": 1, "source": "us-strikes.txt", "title": "US strikes", "quote": "...",
                   "start": 120, "end": 190, "score": 0.82, "verified": True, "chunk_id": "c1", "page": None}],
    "refused": False, "passages": [], "answerer": "extractive", "notice": None, "seconds": 0.09,
    "retrieval_query": "how many personnel were injured?", "retrieval_seconds": 0.03, "flags": [],
    "short_answer": None, "sources": [],
}
STREAM_DOC = """Server-sent events: `event: delta` with `{"text": "..."}` per piece of the answer as it is
written, then `event: answer` with the final answer (as `POST /api/ask` returns it; its text is
authoritative: checks may drop sentences already streamed). An error before the first event is an
HTTP error as for `/api/ask`; after it, `event: error` with `{"detail": "...", "status": N}`."""


class NewConversation(BaseModel):
    conversation: str = Field(description="Its id, for /api/ask, /api/export and /api/feedback.")


class FeedbackRequest(BaseModel):
    conversation: str
    turn: int = Field(ge=0, description="Which answer of the conversation (0: the first).")
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=4000)


class Stored(BaseModel):
    ok: bool = True
