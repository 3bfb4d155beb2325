"""Train the sentence ranker (:mod:`qa.sentence_model`) on question sets with gold spans.

    python -m qa.eval.train_sentences \\
        --set ../shared/datasets/xquad-en/corpus.jsonl ../shared/datasets/xquad-en/questions.jsonl \\
        --set ../shared/datasets/covid-qa/corpus.jsonl ../shared/datasets/covid-qa/questions.jsonl

Every question goes through ``Assistant.ask`` (extractive) on the set's evaluation index
(built by ``python -m qa.eval`` under ``QA_CHROMA_PATH``); the sentences the ranker re-reads
(:func:`qa.reading.observe`) are recorded with their features. A sentence is a positive
example when it overlaps the gold answer span. A logistic regression (scikit-learn) learns the
weights (all but :data:`qa.sentence_model.FIXED`).

The report is the project's two-fold split by document (half A: ``crc32(title) % 2 == 0``):
fitted on one half, how often the top sentence holds the gold span on the other half's
questions (held out), and on its own (in sample), beside the extractive score's top sentence.
``--half A`` fits the written weights on half A's documents only, so that ``python -m qa.eval``
can be measured on half B's questions.
"""
from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

import numpy as np

from .. import reading, sentence_model
from ..sentence_model import FIXED, PATH


class _Observed(BaseException):
    """Raised from inside ``Assistant.ask`` once the observed sentences are recorded (not an
    ``Exception``: no handler on the way may take it for a failure)."""


def half_of(title: str) -> str:
    return "A" if zlib.crc32(title.encode()) % 2 == 0 else "B"


def examples(corpus: Path, questions: Path, progress: bool = True) -> list[dict]:
    """One row per question with a gold span: its set, document half, and the observed
    sentences as (features, label)."""
    from index import IndexReader

    from ..service import Assistant
    from ..settings import Settings
    from .data import load_questions, read_jsonl
    from .runner import eval_settings

    titles = {d["doc_id"]: d.get("title") or "" for _, d in read_jsonl(corpus)}
    base = Settings.from_env()
    settings = eval_settings(base, corpus)
    assistant = Assistant(settings, reader=IndexReader(settings))
    seen: list = []
    original = reading.read

    def recording(asked, ex, entities_of, *args, **kwargs):
        seen.append(reading.observe(asked, ex, entities_of) if ex.ranked else [])
        raise _Observed  # the rest of the answer is not needed (nor the weights being trained)

    rows = []
    reading.read = recording
    try:
        qs = [q for q in load_questions([questions]) if q.answerable and q.gold_doc_ids and q.gold_spans(q.gold_doc_ids[0])]
        for n, q in enumerate(qs):
            seen.clear()
            try:
                assistant.ask(q.question, answerer="extractive", top_k=base.top_k)
            except _Observed:
                pass
            if not seen or not seen[-1]:
                continue
            spans = q.gold_spans(q.gold_doc_ids[0])
            obs = [(f, c.sentence.passage.source == q.gold_doc_ids[0]
                    and any(c.sentence.start < e and s < c.sentence.end for s, e in spans)) for c, f in seen[-1]]
            rows.append({"set": questions.parent.name, "half": half_of(titles.get(q.gold_doc_ids[0], "")),
                         "observed": obs})
            if progress and n % 200 == 0:
                print(f"  {questions.parent.name}: {n}/{len(qs)} questions read", file=sys.stderr)
    finally:
        reading.read = original
    return rows


def fit(rows: list[dict], c: float) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    feats = [{k: v for k, v in f.items() if k not in FIXED} for r in rows for f, _ in r["observed"]]
    labels = [y for r in rows for _, y in r["observed"]]
    if len(set(labels)) < 2:
        return {}  # nothing to learn from (a half without documents, say): no weights
    names = {k: i for i, k in enumerate(sorted({k for f in feats for k in f}))}
    x = np.zeros((len(feats), len(names)))
    for i, f in enumerate(feats):
        for k, v in f.items():
            x[i, names[k]] = v
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=3000)
    model.fit(x, np.array(labels))
    return {k: round(float(w), 4) for k, w in zip(names, model.coef_[0]) if abs(w) >= 1e-4}


def top_hits(weights: dict[str, float] | None, rows: list[dict]) -> float:
    """Share of questions whose top sentence holds the gold span (``None``: the extractive
    score's order, the pool as it comes)."""
    w = sentence_model.combined(weights) if weights is not None else None
    hits = []
    for r in rows:
        obs = r["observed"]
        best = obs[0] if w is None else max(obs, key=lambda fy: sentence_model.log_odds(fy[0], w))
        hits.append(float(best[1]))
    return round(float(np.mean(hits)), 3) if hits else 0.0


def report(rows: list[dict], c: float) -> dict:
    fitted = {h: fit([r for r in rows if r["half"] == h], c) for h in "AB"}
    out = {}
    for name in sorted({r["set"] for r in rows}):
        mine = [r for r in rows if r["set"] == name]
        held = [r for r in mine if r["half"] == "A"], [r for r in mine if r["half"] == "B"]
        n = max(len(mine), 1)
        out[name] = {
            "questions": len(mine),
            "extractive_score": top_hits(None, mine),
            "held_out": round((top_hits(fitted["B"], held[0]) * len(held[0]) + top_hits(fitted["A"], held[1]) * len(held[1])) / n, 3),
            "in_sample": round((top_hits(fitted["A"], held[0]) * len(held[0]) + top_hits(fitted["B"], held[1]) * len(held[1])) / n, 3),
        }
    return out


def main(argv=None) -> int:
    from index import environment

    environment.configure()
    ap = argparse.ArgumentParser(prog="python -m qa.eval.train_sentences", description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", nargs=2, action="append", type=Path, required=True, metavar=("CORPUS", "QUESTIONS"),
                    help="a corpus.jsonl and its questions.jsonl (repeat for several sets)")
    ap.add_argument("--out", type=Path, default=PATH, help=f"where to write the weights (default {PATH})")
    ap.add_argument("--half", choices=("A", "B"), help="fit on this half's documents only (for a held-out eval)")
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 regularisation strength (default 1.0)")
    ap.add_argument("--dry-run", action="store_true", help="report the two-fold figures only; write nothing")
    args = ap.parse_args(argv)
    for corpus, questions in args.set:
        for p in (corpus, questions):
            if not p.is_file():
                ap.error(f"{p} does not exist")
    try:
        import sklearn  # noqa: F401
    except ImportError:
        ap.error("training needs scikit-learn (a test extra): `.venv/bin/pip install 'scikit-learn>=1.5,<2'`")
    rows = [r for corpus, questions in args.set for r in examples(corpus, questions)]
    if not rows:
        ap.error("no question has a gold span the index retrieves sentences for")
    figures = report(rows, args.c)
    print(json.dumps(figures, indent=2))
    if args.dry_run:
        return 0
    weights = fit([r for r in rows if args.half in (None, r["half"])], args.c)
    out = {"trained_on": [f"{q.parent.name}/{q.name}" for _, q in args.set], "half": args.half or "both",
           "c": args.c, "report": figures, "weights": dict(sorted(weights.items()))}
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(weights)} weights)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
