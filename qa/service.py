"""The assistant: question (+ conversation) → retrieval → answer → checked citations.

:class:`Assistant` is the one place that decides an answer; ``qa.answer()``, the CLI and
the UI are shells around it. Two answerers:

* ``extractive`` (no LLM): the short answer and the retrieved sentences that support it,
  verbatim (:mod:`qa.extractive`, :mod:`qa.reading`, :mod:`qa.composing`), or a refusal
  when they don't answer (:func:`qa.refusal.judge`). Follow-ups carry the earlier
  turn's terms (:mod:`qa.followup`).
* ``llm``: the LLM drafts an answer with ``[n]`` markers from the same passages and
  :mod:`qa.grounding` checks each sentence against them. If the LLM cannot be reached the
  extractive answer is returned with a ``notice`` saying what failed.

Both answerers end the same way: their claims (text pointing at quotes) go through
:func:`qa.citations.compose`, which verifies every quote verbatim at its offsets, numbers
and marks them; and every refusal is decided and worded by :mod:`qa.refusal` (one
sentence, :data:`qa.refusal.NOT_FOUND`, then what the documents do give).
"""
from __future__ import annotations

import contextvars
import queue
import re
import threading
import time
from dataclasses import replace
from typing import Callable, Iterator, Sequence

from index import BadRequest, IndexReader

from index import environment, nlp

from . import composing, constraints, followup, markers, reading, refusal
from .errors import LLMUnavailable
from .asking import ask, content_terms_of, looks_asked
from .citations import Claim, compose
from .extractive import RANKED, choose, extract
from .question import analyse
from .evidence import Evidence, Retriever
from .retrieval import retrieve
from .settings import Settings
from .sources import resolve_for as resolve_sources, takes_sources
from .tables import find_cell
from .tracing import answer_span
from .types import Answer, Passage, Turn

MAX_QUESTION_CHARS = 2000
MAX_HISTORY_TURNS = 20
ANSWERERS = ("auto", "extractive", "llm")

Delta = Callable[[str], None]


class Assistant:
    """Answers questions about the indexed documents. Thread-safe; one per settings.

    Its parts are parameters with real defaults: ``reader`` (the index, any
    :class:`qa.evidence.Evidence`; default an :class:`index.IndexReader` over ``settings``
    using ``embedder``), ``retriever`` (``(query, k) -> passages``, given ``sources=`` too when
    it takes it; default :func:`qa.retrieval.retrieve` over the reader), ``llm`` (a llama-index LLM or the
    project's :class:`qa.llm.LLM`; default the OpenAI-compatible endpoint of ``settings``).
    It never builds the index: the entry points do (:func:`qa.answer`, ``make run``).
    """

    def __init__(
        self, settings: Settings, *, reader: Evidence | None = None, embedder=None,
        retriever: Retriever | None = None, llm=None,
    ):
        environment.configure()
        self.settings = settings
        self._reader = reader
        self._embedder = embedder
        self._retriever = retriever
        self._llm = llm
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Assistant(collection={self.settings.collection!r}, answerer={self.settings.answerer!r})"

    @property
    def reader(self) -> Evidence:
        if self._reader is None:
            with self._lock:
                if self._reader is None:
                    self._reader = IndexReader(self.settings, embedder=self._embedder)
        return self._reader

    # ---- public ------------------------------------------------------------------
    @answer_span
    def ask(
        self, question: str, history: Sequence[Turn] = (), *,
        answerer: str | None = None, top_k: int | None = None, sources: Sequence[str] | None = None,
    ) -> Answer:
        """Answer ``question`` (after ``history``, oldest turn first) from the documents
        ``sources`` names (exact names or glob patterns; None or empty: all of them)."""
        t0 = time.perf_counter()
        question, history, mode, k, names = self._validate(question, history, answerer, top_k, sources)
        return self._answer(question, history, mode, k, None, t0, names)

    @answer_span
    def stream(
        self, question: str, history: Sequence[Turn] = (), *,
        answerer: str | None = None, top_k: int | None = None, sources: Sequence[str] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield text deltas as they are produced, then the final :class:`Answer`.

        The final answer's text is authoritative: checks may drop or change sentences
        that were already streamed.
        """
        t0 = time.perf_counter()
        question, history, mode, k, names = self._validate(question, history, answerer, top_k, sources)
        if mode == "extractive":  # computed at once; deltas are its sentences
            answer = self._answer(question, history, mode, k, None, t0, names)
            yield from markers.pieces(answer.text)
            yield answer
            return
        deltas: queue.Queue = queue.Queue()
        done = object()
        outcome: dict[str, object] = {}

        def work() -> None:
            try:
                outcome["answer"] = self._answer(question, history, mode, k, deltas.put, t0, names)
            except BaseException as exc:  # re-raised in the consumer's thread
                outcome["error"] = exc
            finally:
                deltas.put(done)

        # the caller's context (its tracing span) goes with the work into the thread
        context = contextvars.copy_context()
        threading.Thread(target=context.run, args=(work,), name="qa-answer", daemon=True).start()
        while (item := deltas.get()) is not done:
            yield item
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        yield outcome["answer"]  # type: ignore[misc]

    # ---- steps -------------------------------------------------------------------
    def _validate(self, question, history, answerer, top_k, sources=None):
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
        # the patterns resolved against the index once per question (nothing read when none)
        names = resolve_sources(sources, self.reader) if sources else ()
        return question, tuple(turns[-MAX_HISTORY_TURNS:]), mode, k, names

    def _answer(self, question, history, mode, k, on_delta: Delta | None, t0: float,
                sources: tuple[str, ...] = ()) -> Answer:
        notice = None
        if mode == "llm":
            try:
                answer = self._llm_answer(question, history, k, on_delta, sources)
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
        answer = self._extractive_answer(question, history, k, sources).with_notice(notice)
        return replace(answer, seconds=round(time.perf_counter() - t0, 4))

    def _retrieve(self, query: str, k: int, sources: tuple[str, ...] = ()) -> list[Passage]:
        """The passages; with ``sources``, of those documents only. A custom retriever gets
        them as the keyword ``sources`` if it takes one; else its other passages are dropped."""
        if self._retriever is None:
            return retrieve(self.reader, query, k, sources=sources)
        if not sources:
            return list(self._retriever(query, k))
        if takes_sources(self._retriever):
            return list(self._retriever(query, k, sources=sources))
        return [p for p in self._retriever(query, k) if p.source in sources]

    def _searched(self, question: str, query: str, k: int, sources: tuple[str, ...], answerer: str) -> dict:
        """Retrieval for either answerer: the answer's common fields (its passages, what was
        searched for, in which documents, and how long it took)."""
        t0 = time.perf_counter()
        passages = tuple(self._retrieve(query, k, sources))
        return dict(question=question, passages=passages, answerer=answerer, retrieval_query=query,
                    sources=sources, retrieval_seconds=round(time.perf_counter() - t0, 4))

    def _nothing_found(self, base: dict) -> Answer:  # an empty index, or nothing in the chosen files
        return refusal.refused(base, "" if base["sources"] else refusal.empty_index(self.settings.source_dir))

    def _extractive_answer(self, question: str, history: Sequence[Turn], k: int,
                           sources: tuple[str, ...] = ()) -> Answer:
        resolved = followup.resolve(question, history)
        base = self._searched(question, resolved.query, k, sources, "extractive")
        if not (passages := base["passages"]):
            return self._nothing_found(base)
        own = analyse(question)
        q = analyse(resolved.query)
        q = replace(q, expects=resolved.expects, key_terms=own.key_terms, words=q.words | own.words)
        ex = extract(q, passages, self.reader.embedder, query_text=resolved.query,
                     term_weights=resolved.term_weights, embed=self._embed, stored=self._stored)
        asked = ask(question if question == resolved.query or looks_asked(question) else resolved.query)
        read = reading.read(asked, ex, self._entities, self._parse,
                            lambda ranked: choose(ranked, q, RANKED), self._covered)
        cell = find_cell(question, passages)
        if read.conflict and cell is None:
            return refusal.refused(base, *refusal.conflict(read.conflict))
        chosen = tuple(replace(c, typed=c.typed and read.typed) for c in read.chosen) if asked.labels else read.chosen
        verdict = refusal.judge(replace(ex, chosen=chosen or ex.chosen), _written_forms(question), self._unknown(q.terms, resolved.query))
        if cell is not None and (verdict.refused or not read.typed or read.conflict or not read.agrees
                                 or not cell.row_named_in(c.sentence.text for c in chosen)):
            claims = composing.table_cell(cell)
            return self._cited(claims, base, lambda kept: composing.cell_short_answer(cell, kept))
        if verdict.refused:
            return refusal.refused(base, *refusal.unsupported(verdict, ex))
        claims = composing.quoted(read)
        if read.short is None or read.short_in is None:
            return self._cited(claims, base)
        answer = self._cited(claims, base, lambda kept: composing.short_answer(read.short, asked.kind, kept))
        if answer.short_answer is None and not answer.refused:
            # the lead's quote did not survive verification: no lead either
            answer = self._cited(claims[1:], base)
        return answer

    def _cited(self, claims: list[Claim], base: dict, short=None, flags: tuple[str, ...] = ()) -> Answer:
        """The answer of both answerers: the claims' quotes verified, numbered and marked
        (:func:`qa.citations.compose`); refused when none survives."""
        composed = compose(claims, base["passages"], fallback=self.reader)
        flags = flags + composed.flags
        if not composed.citations:  # cannot happen unless the index changed under us
            detail, why = refusal.unverified()
            return refusal.refused(base, detail, flags + why)
        return Answer(text=composed.text, citations=composed.citations, refused=False, flags=flags,
                      short_answer=short(composed.citations) if short else None, **base)

    def _covered(self, asked, passage: Passage) -> bool:
        """Whether the passage's document, or a part of the same work (same title), states an
        asked year or quarter (read on this rare path only: no retrieved passage states it)."""
        reads = (lambda: self.reader.document_chunks(passage.source),
                 lambda: self.reader.work_chunks(passage.title) if passage.title else [])
        return any(constraints.agreement(asked, "\n".join(c.text for c in read())) == constraints.AGREES for read in reads)

    def _parse(self, texts: list[str]) -> list:
        """Parsed sentences (those the build analysed rebuilt from its stored parse)."""
        r = self.reader
        return nlp.parse_sentences(texts, r.sentence_entities(texts), r.sentence_parses(texts)) if texts else []

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

    def _unknown(self, terms, query: str) -> tuple[str, ...]:
        """The query's content terms that no indexed document contains (a refusal signal)."""
        from .matching import unknown_terms

        content = content_terms_of(query)
        return unknown_terms([t for t in terms if t in content], *self.reader.vocabulary())

    def _stored(self, texts: list[str]):
        return self.reader.stored_sentence_vectors(texts)

    def _get_llm(self):
        """The project's LLM: built from the settings, or wrapping the llama-index LLM given."""
        with self._lock:
            from .llm import as_llm

            self._llm = as_llm(self.settings, self._llm)
            return self._llm

    def _llm_answer(self, question, history, k, on_delta: Delta | None, sources=()) -> Answer | None:
        """The LLM's answer, grounded and verified; ``None`` if nothing of it could be checked."""
        llm = self._get_llm()
        from .grounding import ground
        from .llm_answerer import condense_question, draft_answer

        query = condense_question(question, history, llm) if history else question
        base = self._searched(question, query, k, sources, "llm")
        if not (passages := base["passages"]):
            return self._nothing_found(base)
        raw = draft_answer(question, passages, history, llm, on_delta=on_delta)
        grounded = ground(raw, passages, self.reader.embedder)
        if grounded.refused:
            return refusal.refused(base, flags=grounded.flags)
        claims, contradicting = constraints.agreeing(ask(question), grounded.claims)
        answer = self._cited(claims, base, flags=grounded.flags + contradicting)
        return None if answer.refused else answer


# ---- helpers -------------------------------------------------------------------------
_SURROGATE = re.compile("[\ud800-\udfff]")  # str joins valid pairs: any left is alone


def _written_forms(question: str) -> dict[str, str]:
    """Stem → the word as the user wrote it (to name a missing term in a refusal)."""
    from index import text as tokenizer

    words = [re.sub(r"(?<=[^\W\d])['’]s$", "", w)  # "Japan's" is named "Japan"
             for w in re.findall(r"[\w][\w'’.-]*[\w]|\w", question)]
    return {t: w for w in reversed(words) for t in tokenizer.terms(w)}  # the first writing wins
