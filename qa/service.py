"""The assistant: question (+ conversation) → retrieval → answer → checked citations.

:class:`Assistant` is the one place that decides an answer; ``qa.answer()``, the CLI and
the UI are shells around it. Two answerers:

* ``extractive`` (no LLM): the retrieved sentences that answer best, verbatim, each with
  its ``[n]`` marker (:mod:`qa.extractive`), or a refusal when they don't answer
  (:mod:`qa.refusal`). Follow-ups carry the earlier turn's terms (:mod:`qa.followup`).
* ``llm``: the LLM drafts an answer with ``[n]`` markers from the same passages and
  :mod:`qa.grounding` checks each sentence against them. If the LLM cannot be reached the
  extractive answer is returned with a ``notice`` saying what failed.

Either way every citation is verified verbatim at its offsets (:mod:`qa.citations`)
before the answer leaves this module.
"""
from __future__ import annotations

import queue
import re
import threading
import time
from dataclasses import replace
from typing import Callable, Iterator, Sequence

from index import BadRequest, IndexMissing, IndexReader, LLMUnavailable, Settings

from index import nlp

from . import composing, constraints, followup, reading, refusal
from .asking import ask, looks_asked
from .citations import finalise
from .extractive import WEIGHTS, Extraction, choose, extract
from .question import analyse
from .retrieval import retrieve
from .tables import find_cell
from .types import Answer, Passage, Turn

MAX_QUESTION_CHARS = 2000
MAX_HISTORY_TURNS = 20
ANSWERERS = ("auto", "extractive", "llm")
NOT_FOUND = "I couldn't find that in the documents."

Delta = Callable[[str], None]


class Assistant:
    """Answers questions about the indexed documents. Thread-safe; one per settings."""

    def __init__(self, settings: Settings, *, reader: IndexReader | None = None, llm=None):
        """``llm``: any llama-index LLM (``Ollama(...)``, ``OpenAILike(...)``, a hosted
        model's) or a :class:`qa.llm.LLM`; by default one is built from the settings'
        ``OPENAI_*`` values. Given one, ``auto`` answers with it without those settings."""
        self.settings = settings
        self._reader = reader
        self._llm = llm
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Assistant(collection={self.settings.collection!r}, answerer={self.settings.answerer!r})"

    @property
    def reader(self) -> IndexReader:
        if self._reader is None:
            with self._lock:
                if self._reader is None:
                    self._reader = IndexReader(self.settings)
        return self._reader

    # ---- public ------------------------------------------------------------------
    def ask(
        self, question: str, history: Sequence[Turn] = (), *,
        answerer: str | None = None, top_k: int | None = None,
    ) -> Answer:
        """Answer ``question`` (after ``history``, oldest turn first)."""
        t0 = time.perf_counter()
        question, history, mode, k = self._validate(question, history, answerer, top_k)
        return self._answer(question, history, mode, k, None, t0)

    def stream(
        self, question: str, history: Sequence[Turn] = (), *,
        answerer: str | None = None, top_k: int | None = None,
    ) -> Iterator[str | Answer]:
        """Yield text deltas as they are produced, then the final :class:`Answer`.

        The final answer's text is authoritative: checks may drop or change sentences
        that were already streamed.
        """
        t0 = time.perf_counter()
        question, history, mode, k = self._validate(question, history, answerer, top_k)
        if mode == "extractive":  # computed at once; deltas are its sentences
            answer = self._answer(question, history, mode, k, None, t0)
            yield from _pieces(answer.text)
            yield answer
            return
        deltas: queue.Queue = queue.Queue()
        done = object()
        outcome: dict[str, object] = {}

        def work() -> None:
            try:
                outcome["answer"] = self._answer(question, history, mode, k, deltas.put, t0)
            except BaseException as exc:  # re-raised in the consumer's thread
                outcome["error"] = exc
            finally:
                deltas.put(done)

        threading.Thread(target=work, name="qa-answer", daemon=True).start()
        while (item := deltas.get()) is not done:
            yield item
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        yield outcome["answer"]  # type: ignore[misc]

    # ---- steps -------------------------------------------------------------------
    def _validate(self, question, history, answerer, top_k):
        if not isinstance(question, str):
            raise BadRequest(f"The question must be text, not {type(question).__name__}.")
        question = question.strip()
        if not question:
            raise BadRequest("The question is empty: type a question about your documents.")
        if len(question) > MAX_QUESTION_CHARS:
            raise BadRequest(
                f"The question is {len(question)} characters long; the limit is "
                f"{MAX_QUESTION_CHARS}. Ask something shorter."
            )
        if _SURROGATE.search(question):  # JSON can carry one ("\\ud800"); the tokenizer can't
            raise BadRequest(
                "The question contains characters that are not text (unpaired UTF-16 "
                "surrogates). Type it again."
            )
        turns: list[Turn] = []
        for t in history or ():
            if isinstance(t, Turn):
                turns.append(t)
            elif isinstance(t, dict) and isinstance(t.get("question"), str):
                turns.append(Turn(t["question"], str(t.get("answer") or "")))
            else:
                raise BadRequest(
                    "The history must be a list of turns, each with a 'question' "
                    "(and optionally an 'answer')."
                )
            if not isinstance(turns[-1].question, str) or not isinstance(turns[-1].answer, str) \
                    or _SURROGATE.search(turns[-1].question + turns[-1].answer):
                raise BadRequest(
                    "Each earlier turn's question and answer must be text (without unpaired "
                    "UTF-16 surrogates)."
                )
        mode = answerer or self.settings.answerer
        if mode not in ANSWERERS:
            raise BadRequest(f"Unknown answerer {mode!r}: use one of {', '.join(ANSWERERS)}.")
        if mode == "auto":
            mode = "llm" if self.settings.llm_configured or self._llm is not None else "extractive"
        k = self.settings.top_k if top_k is None else top_k
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 50:
            raise BadRequest(f"top_k must be a whole number from 1 to 50, not {top_k!r}.")
        return question, tuple(turns[-MAX_HISTORY_TURNS:]), mode, k

    def _answer(self, question, history, mode, k, on_delta: Delta | None, t0: float) -> Answer:
        notice = None
        if mode == "llm":
            try:
                answer = self._llm_answer(question, history, k, on_delta)
            except LLMUnavailable as exc:
                notice = (
                    f"The LLM could not answer ({exc}) This is the extractive answer: "
                    "sentences quoted from the documents."
                )
            else:
                if answer is not None:
                    return replace(answer, seconds=round(time.perf_counter() - t0, 4))
                notice = (
                    "The LLM's answer could not be checked against the documents (no citation "
                    "survived verification). This is the extractive answer instead."
                )
        answer = self._extractive_answer(question, history, k)
        if notice:
            answer = replace(answer, notice=_join(notice, answer.notice))
        return replace(answer, seconds=round(time.perf_counter() - t0, 4))

    def _retrieve(self, query: str, k: int) -> tuple[list[Passage], str | None]:
        """Passages for ``query``; builds the index first if it doesn't exist yet."""
        try:
            return retrieve(self.reader, query, k), None
        except IndexMissing:
            if not self.settings.source_dir.exists():
                raise
        with self._build_lock:
            try:
                self.reader.state()
                notice = None
            except IndexMissing:
                from index import build_index

                report = build_index(
                    self.settings, embedder=self.reader.embedder, store=self.reader.store,
                    show_progress=False, wait=300,
                )
                notice = (
                    f"There was no index yet, so I built it from {self.settings.source_dir} "
                    f"({report.documents_total} documents, {report.chunks_total} chunks)."
                )
        return retrieve(self.reader, query, k), notice

    def _extractive_answer(self, question: str, history: Sequence[Turn], k: int) -> Answer:
        resolved = followup.resolve(question, history)
        passages, notice = self._retrieve(resolved.query, k)
        base = dict(question=question, passages=tuple(passages), answerer="extractive",
                    retrieval_query=resolved.query, notice=notice)
        if not passages:
            return Answer(
                text=f"{NOT_FOUND} The index has no documents yet: add some to "
                f"{self.settings.source_dir} and run `python -m index build`.",
                citations=(), refused=True, **base,
            )
        own = analyse(question)
        q = analyse(resolved.query)
        q = replace(q, expects=resolved.expects, key_terms=own.key_terms, words=q.words | own.words)
        ex = extract(q, passages, self.reader.embedder, query_text=resolved.query,
                     term_weights=resolved.term_weights, embed=self._embed, stored=self._stored)
        asked = ask(question if question == resolved.query or looks_asked(question) else resolved.query)
        read = reading.read(asked, ex, self._entities, self._parse,
                            lambda ranked: choose(ranked, q, WEIGHTS), self._covered)
        cell = find_cell(question, passages)
        if read.conflict and cell is None:
            return Answer(text=f"{NOT_FOUND} {read.conflict}", citations=(), refused=True,
                          flags=("refused: the documents state another year or quarter",), **base)
        chosen = tuple(replace(c, typed=c.typed and read.typed) for c in read.chosen) if asked.labels else read.chosen
        verdict = refusal.judge(replace(ex, chosen=chosen or ex.chosen), _written_forms(question), self._unknown(q.terms))
        if cell is not None and (verdict.refused or not read.typed or read.conflict or not read.agrees):
            return self._cell_answer(cell, passages, base)
        if verdict.refused:
            return Answer(text=_refusal_text(verdict, ex), citations=(), refused=True,
                          flags=(f"refused: {verdict.reason} (support {verdict.support:.2f})",), **base)
        lead, quotes, citations = composing.quoted(read)
        text, kept, flags = finalise(lead + quotes, citations, passages, fallback=self.reader)
        if not kept:  # cannot happen unless the index changed under us; never answer unchecked
            return Answer(text=NOT_FOUND, citations=(), refused=True, flags=flags, **base)
        short = composing.short_answer(read.short, asked.kind, kept) if read.short is not None else None
        if lead and short is None:  # its quote did not survive verification: no lead either
            text, kept, flags = finalise(quotes, citations, passages, fallback=self.reader)
        return Answer(text=text, citations=kept, refused=False, flags=flags, short_answer=short, **base)

    def _cell_answer(self, cell, passages, base) -> Answer:
        """A table cell read with its row label and column header: the row is the quote."""
        text, row = composing.table_cell(cell)
        text, kept, flags = finalise(text, [row], passages, fallback=self.reader)
        if not kept:
            return Answer(text=NOT_FOUND, citations=(), refused=True, flags=flags, **base)
        return Answer(text=text, citations=kept, refused=False, flags=flags,
                      short_answer=composing.cell_short_answer(cell, kept[0]), **base)

    def _covered(self, asked, source: str) -> bool:
        """Whether the document ``source`` states one of the question's years or quarters
        anywhere (read from the index only on this rare path: a year question whose
        retrieved passages never state the year)."""
        text = "\n".join(c.text for c in self.reader.document_chunks(source))
        return constraints.agreement(asked, text) == constraints.AGREES

    def _parse(self, texts: list[str]) -> list:
        """Parsed sentences; the entities the build stored spare the recogniser's pass."""
        return nlp.parse_sentences(texts, self.reader.sentence_entities(texts)) if texts else []

    def _entities(self, texts: list[str]) -> list[tuple]:
        """Entities of sentences: stored by the build, else found now (few sentences)."""
        stored = self.reader.sentence_entities(texts)
        missing = [t for t, e in zip(texts, stored) if e is None]
        found = iter(nlp.entities(missing)) if missing else iter(())
        out = []
        for e in stored:
            ents = e if e is not None else next(found)
            out.append(tuple((x.label, x.start, x.end) for x in ents))
        return out

    def _embed(self, texts: list[str]):
        """The extractive answerer's vectors: ``texts[0]`` is the retrieval query (already
        embedded by the search), the rest are sentences the index holds no vector for."""
        import numpy as np

        rest = self.reader.embedder.embed(texts[1:]) if len(texts) > 1 else np.zeros((0, self.reader.embedder.dim))
        return np.vstack([self.reader.embed_query(texts[0])[None, :], rest])

    def _unknown(self, terms) -> tuple[str, ...]:
        """Question terms that no indexed document contains (a refusal signal)."""
        from .question import unknown_terms

        return unknown_terms(terms, *self.reader.vocabulary())

    def _stored(self, texts: list[str]):
        return self.reader.stored_sentence_vectors(texts)

    def _get_llm(self):
        """The project's LLM: built from the settings, or wrapping the llama-index LLM given."""
        with self._lock:
            try:
                from .llm import as_llm
            except ImportError as exc:
                raise LLMUnavailable(
                    f"LLM answering is not installed in this build ({exc}): use "
                    "QA_ANSWERER=extractive."
                ) from exc
            self._llm = as_llm(self.settings, self._llm)
            return self._llm

    def _llm_answer(self, question, history, k, on_delta: Delta | None) -> Answer | None:
        """The LLM's answer, grounded and verified; ``None`` if nothing of it could be checked."""
        llm = self._get_llm()
        try:
            from .grounding import ground
            from .llm_answerer import condense_question, draft_answer
        except ImportError as exc:
            raise LLMUnavailable(
                f"LLM answering is not installed in this build ({exc}): use QA_ANSWERER=extractive."
            ) from exc
        query = condense_question(question, history, llm) if history else question
        passages, notice = self._retrieve(query, k)
        base = dict(question=question, passages=tuple(passages), answerer="llm",
                    retrieval_query=query, notice=notice)
        if not passages:
            return Answer(
                text=f"{NOT_FOUND} The index has no documents yet: add some to "
                f"{self.settings.source_dir} and run `python -m index build`.",
                citations=(), refused=True, **base,
            )
        raw = draft_answer(question, passages, history, llm, on_delta=on_delta)
        grounded = ground(raw, passages, self.reader.embedder)
        if grounded.refused:
            return Answer(text=grounded.text, citations=(), refused=True,
                          flags=tuple(grounded.flags), **base)
        cited, contradicting = constraints.agreeing(ask(question), grounded.citations)
        text, kept, flags = finalise(grounded.text, cited, passages, fallback=self.reader)
        if not kept:
            return None
        return Answer(text=text, citations=kept, refused=False,
                      flags=tuple(grounded.flags) + contradicting + flags, **base)


# ---- helpers -------------------------------------------------------------------------
_SURROGATE = re.compile("[\ud800-\udfff]")  # str joins valid pairs: any left is alone


def _pieces(text: str) -> Iterator[str]:
    """``text`` as stream deltas: one per cited sentence (they add up to ``text``)."""
    pos = 0
    for m in re.finditer(r"\]\s+(?=\S)", text):
        if text[m.start() - 1].isdigit():
            yield text[pos : m.start() + 1]
            pos = m.start() + 1
    if pos < len(text):
        yield text[pos:]


def _join(*notices: str | None) -> str | None:
    parts = [n for n in notices if n]
    return " ".join(parts) if parts else None


def _written_forms(question: str) -> dict[str, str]:
    """Stem → the word as the user wrote it (to name a missing term in a refusal)."""
    from index import bm25

    out: dict[str, str] = {}
    for w in re.findall(r"[\w][\w'’.-]*[\w]|\w", question):
        for t in bm25.terms(w):
            out.setdefault(t, w)
    return out


def _refusal_text(verdict: refusal.Verdict, ex: Extraction) -> str:
    parts = [NOT_FOUND]
    if verdict.reason:
        parts.append(verdict.reason[0].upper() + verdict.reason[1:] + ".")
    if ex.chosen:
        p = ex.chosen[0].sentence.passage
        parts.append(f"The closest passage is in {p.source}.")
    return " ".join(parts)
