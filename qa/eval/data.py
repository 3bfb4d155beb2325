"""Evaluation data: a corpus (``.jsonl``, one document a line) and question files.

Corpus lines: ``{"doc_id", "text", "title"?}`` — the same format ``python -m index build``
indexes, so the corpus file itself is the build's source.
Question lines: ``{"qid", "question", "answers", "gold_doc_ids", "answer_start"? |
"answer_starts"?, "unanswerable"? | "is_impossible"?}``. A question with no answers, or
marked unanswerable, is scored only on whether it is refused.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from index import BadRequest


@dataclass(frozen=True)
class EvalQuestion:
    qid: str
    question: str
    answers: tuple[str, ...] = ()
    gold_doc_ids: tuple[str, ...] = ()
    answer_starts: tuple[int | None, ...] = ()  # aligned with ``answers``
    unanswerable: bool = False

    def gold_spans(self, doc_id: str) -> list[tuple[int, int]]:
        """Gold answer spans in ``doc_id`` (offsets refer to the first gold document)."""
        if not self.gold_doc_ids or doc_id != self.gold_doc_ids[0]:
            return []
        return [(s, s + len(a)) for a, s in zip(self.answers, self.answer_starts) if s is not None and a]

    @property
    def answerable(self) -> bool:
        return not self.unanswerable


def read_jsonl(path: Path) -> Iterable[tuple[int, dict]]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadRequest(f"Cannot read {path}: {exc.strerror or exc}. Check the path.") from exc
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise BadRequest(f"{path}:{lineno} is not valid JSON ({exc}).") from exc
        if not isinstance(obj, dict):
            raise BadRequest(f"{path}:{lineno} is not a JSON object.")
        yield lineno, obj


def load_corpus(path: Path) -> dict[str, str]:
    """``doc_id`` → text, as the index loads it (blank or duplicate lines are the loader's to skip)."""
    corpus: dict[str, str] = {}
    for lineno, obj in read_jsonl(path):
        doc_id, text = obj.get("doc_id"), obj.get("text")
        if not isinstance(doc_id, str) or not isinstance(text, str):
            raise BadRequest(f"{path}:{lineno} needs a string doc_id and text.")
        corpus.setdefault(doc_id, text.replace("\r\n", "\n").replace("\r", "\n"))
    if not corpus:
        raise BadRequest(f"{path} holds no documents.")
    return corpus


def _question(obj: dict, where: str, force_unanswerable: bool) -> EvalQuestion:
    qid, text = obj.get("qid", obj.get("id")), obj.get("question")
    if qid is None or not isinstance(text, str) or not text.strip():
        raise BadRequest(f"{where} needs a qid and a non-empty question.")
    answers = obj.get("answers") or []
    if isinstance(answers, str):
        answers = [answers]
    answers = tuple(a for a in answers if isinstance(a, str) and a.strip())
    starts = obj.get("answer_starts")
    if starts is None:
        start = obj.get("answer_start")
        starts = [start] * len(answers) if start is not None else []
    starts = tuple(int(s) if isinstance(s, int) and s >= 0 else None for s in starts)
    starts = (starts + (None,) * len(answers))[: len(answers)]
    gold = obj.get("gold_doc_ids") or ([obj["gold_doc_id"]] if obj.get("gold_doc_id") else [])
    unanswerable = bool(force_unanswerable or obj.get("unanswerable") or obj.get("is_impossible") or not answers)
    return EvalQuestion(
        qid=str(qid), question=text.strip(), answers=() if unanswerable else answers,
        gold_doc_ids=tuple(str(g) for g in gold), answer_starts=() if unanswerable else starts,
        unanswerable=unanswerable,
    )


def load_questions(paths: Sequence[Path], *, unanswerable: Sequence[Path] = (),
                   limit: int | None = None) -> list[EvalQuestion]:
    """Questions from several files, in order; files in ``unanswerable`` are all unanswerable.
    ``limit`` keeps the first N of each file.

    qids are made unique per file (``file:qid``) when two files share one.
    """
    out: list[EvalQuestion] = []
    seen: set[str] = set()
    for path, force in [(Path(p), False) for p in paths] + [(Path(p), True) for p in unanswerable]:
        for n, (lineno, obj) in enumerate(read_jsonl(path)):
            if limit is not None and n >= limit:
                break
            q = _question(obj, f"{path}:{lineno}", force)
            if q.qid in seen:
                q = EvalQuestion(f"{path.stem}:{q.qid}", q.question, q.answers, q.gold_doc_ids,
                                 q.answer_starts, q.unanswerable)
            seen.add(q.qid)
            out.append(q)
    if not out:
        raise BadRequest("No questions to evaluate: check --questions.")
    return out


def corpus_name(path: Path) -> str:
    """``covid-qa`` for ``.../covid-qa/corpus.jsonl``; the file stem otherwise."""
    path = Path(path)
    stem = path.stem
    if stem.lower() in {"corpus", "documents", "docs", "data"} and path.parent.name:
        stem = path.resolve().parent.name
    return stem


def collection_name(corpus: Path, chunk_size: int, chunk_overlap: int, chunker: str = "sentences") -> str:
    """A valid Chroma name for this corpus and chunking, e.g. ``eval-covid-qa-200-40``
    (``eval-covid-qa-200-40-llama`` with the llama-sentence-splitter chunker)."""
    tail = f"-{chunk_size}-{chunk_overlap}" + ("" if chunker == "sentences" else f"-{chunker.split('-')[0]}")
    slug = re.sub(r"[^a-zA-Z0-9_-]+", "-", corpus_name(corpus)).strip("-_") or "corpus"
    return f"eval-{slug[: 50 - len('eval-') - len(tail)].rstrip('-_')}{tail}"
