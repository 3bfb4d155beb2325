"""Train the span model (:mod:`qa.span_model`) on a question set with gold answer spans.

    python -m qa.eval.train_spans --corpus ../shared/datasets/xquad-en/corpus.jsonl \\
        --questions ../shared/datasets/xquad-en/questions.jsonl

For each question the sentence that holds its gold answer and the two other sentences of
its document that share most words with it are parsed; every candidate phrase of those
sentences (:func:`qa.short_answer.observations`) is an example, positive when it matches a
gold answer exactly (SQuAD's normalisation). The weights (all but
:data:`qa.span_model.FIXED`) are those of a conditional logit: they make each question's
exact candidates likeliest among *that question's* candidates (the multinomial form of
the SQuAD paper's logistic regression), which picks the answer better than a yes/no
regression over all candidates at once (5-fold CV EM 0.392 against 0.369). A logistic
regression on the resulting score (scikit-learn, Platt scaling, classes balanced as the
reader's thresholds expect) then turns it into log-odds, which the reader compares
across sentences. Before the final fit, a cross-validation that keeps each document's
questions in one fold says how the top-scored phrase does on documents it was not
trained on, beside the oracle (some candidate is exact) and the weights it replaces; a
second one deals the questions out one by one, which is what a set's held-back questions
(new questions on the same documents) will see.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

from index import nlp
from index.sentences import sentence_spans

from ..asking import ask
from ..short_answer import observations
from .. import span_model
from ..span_model import FIXED, PATH
from . import conditional_logit
from .metrics import exact_match, f1_score

DISTRACTORS = 2
_WORD = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 2}


def examples(corpus: Path, questions: Path, progress: bool = True, distractors: int | None = DISTRACTORS):
    """(group, golds, [(candidate text, features)]) for every question with a gold start;
    ``distractors``: how many other sentences of the document are read (None: all)."""
    docs = {}
    for line in corpus.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            docs[d["doc_id"]] = d["text"]
    qs = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [q for q in qs if q.get("answer_starts") and q.get("gold_doc_ids") and q["gold_doc_ids"][0] in docs]
    sentences = {doc_id: sentence_spans(docs[doc_id]) for doc_id in {q["gold_doc_ids"][0] for q in qs}}
    keys = [(d, s, e) for d, spans in sentences.items() for s, e in spans]
    parsed = dict(zip(keys, nlp.parse_sentences([docs[d][s:e] for d, s, e in keys])))
    out = []
    for n, q in enumerate(qs):
        doc_id = q["gold_doc_ids"][0]
        text, at = docs[doc_id], q["answer_starts"][0]
        spans = sentences[doc_id]
        gold = next(((s, e) for s, e in spans if s <= at < e), None)
        if gold is None:
            continue
        words = _words(q["question"])
        others = sorted((sp for sp in spans if sp != gold), key=lambda sp: -len(words & _words(text[sp[0]:sp[1]])))
        asked = ask(q["question"])
        cands = []
        for s, e in [gold, *others[:distractors]]:
            cands += [(c.text, f) for c, f in observations(asked, parsed[(doc_id, s, e)], s)]
        out.append((doc_id, q["answers"], cands))
        if progress and n % 200 == 0:
            print(f"  {n}/{len(qs)} questions read", file=sys.stderr)
    return out


def _matrix(rows, names: dict[str, int]):
    x = np.zeros((len(rows), len(names)))
    for i, f in enumerate(rows):
        for k, v in f.items():
            j = names.get(k)
            if j is not None:
                x[i, j] = v
    return x


def fit(data, c: float) -> dict[str, float]:
    """The conditional logit (:mod:`.conditional_logit`) over each question's candidates,
    as log-odds with the classes balanced (the reader's thresholds are set on that scale)."""
    groups = [(cands, golds) for _, golds, cands in data
              if len(cands) > 1 and any(exact_match(t, golds) for t, _ in cands)]
    # no bias: it is the same for every candidate of a question (the Platt intercept sets it)
    rows = [{k: v for k, v in f.items() if k not in FIXED and k != "bias"} for cands, _ in groups for _, f in cands]
    y = np.array([exact_match(t, golds) > 0 for cands, golds in groups for t, _ in cands])
    names = {k: i for i, k in enumerate(sorted({k for f in rows for k in f}))}
    w, a, b = conditional_logit.fit(_matrix(rows, names), y, [len(cands) for cands, _ in groups], c, balanced=True)
    out = {k: round(a * float(w[i]), 4) for k, i in names.items() if abs(a * w[i]) >= 1e-4}
    out["bias"] = round(b, 4)
    return out


def top(weights: dict[str, float], cands) -> str:
    """The best-scored candidate's text, with the fixed weights as the product uses them."""
    if not cands:
        return ""
    w = span_model.combined(weights)
    return max(cands, key=lambda tf: span_model.score(tf[1], w))[0]


def _graded(weights: dict[str, float], data) -> tuple[list[float], list[float]]:
    """Exact match and token F1 of the top candidate, per question."""
    picks = [(top(weights, cands), golds) for _, golds, cands in data]
    return [exact_match(t, g) for t, g in picks], [f1_score(t, g) for t, g in picks]


def _means(em: list[float], f1: list[float]) -> dict[str, float]:
    return {"exact_match": round(float(np.mean(em)), 3), "f1": round(float(np.mean(f1)), 3)}


def scores(weights: dict[str, float], data) -> dict[str, float]:
    return _means(*_graded(weights, data))


def cross_validate(data, c: float, folds: int, by_document: bool = True) -> dict[str, float]:
    """The top candidates of every held-out fold. ``by_document``: each document's questions
    in one fold (new documents); else the questions dealt out one by one (new questions on
    the same documents, as a set's held-back questions are)."""
    if by_document:
        groups = sorted({g for g, _, _ in data})
        fold_of = {g: i % folds for i, g in enumerate(groups)}
        folds_of = [fold_of[g] for g, _, _ in data]
    else:  # a fixed shuffle, so that neighbouring questions (one paragraph's) are spread
        rank = np.argsort(np.random.default_rng(0).permutation(len(data)))
        folds_of = [int(r) % folds for r in rank]
    em, f1 = [], []
    for k in range(folds):
        w = fit([d for d, n in zip(data, folds_of) if n != k], c)
        e, f = _graded(w, [d for d, n in zip(data, folds_of) if n == k])
        em += e
        f1 += f
    return _means(em, f1)


def main(argv=None) -> int:
    from index import environment

    environment.configure()
    ap = argparse.ArgumentParser(prog="python -m qa.eval.train_spans", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True, help="corpus.jsonl of the training set")
    ap.add_argument("--questions", type=Path, required=True, help="questions.jsonl with answers and answer_starts")
    ap.add_argument("--out", type=Path, default=PATH, help=f"where to write the weights (default {PATH})")
    ap.add_argument("--folds", type=int, default=5, help="folds of each cross-validation, by document and by question (default 5)")
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 regularisation strength (default 1, chosen by the cross-validation)")
    ap.add_argument("--distractors", type=int, default=DISTRACTORS,
                    help=f"other sentences of the document read beside the gold one, most shared words first "
                         f"(default {DISTRACTORS}; -1: all of them)")
    ap.add_argument("--dry-run", action="store_true", help="report the cross-validation only; write nothing")
    args = ap.parse_args(argv)
    for p in (args.corpus, args.questions):
        if not p.is_file():
            ap.error(f"{p} does not exist")
    try:
        import sklearn  # noqa: F401
    except ImportError:
        ap.error("training needs scikit-learn (a test extra): run `make train-spans`, "
                 "or `.venv/bin/pip install 'scikit-learn>=1.5,<2'`")
    data = examples(args.corpus, args.questions, distractors=None if args.distractors < 0 else args.distractors)
    if not data:
        ap.error(f"no question of {args.questions} has a gold answer start in {args.corpus}")
    oracle = float(np.mean([any(exact_match(t, golds) for t, _ in cands) for _, golds, cands in data]))
    previous = json.loads(args.out.read_text())["weights"] if args.out.is_file() else None
    cv = cross_validate(data, args.c, args.folds)
    report = {"questions": len(data), "candidates": sum(len(c) for _, _, c in data),
              "oracle_exact_match": round(oracle, 3), "cross_validated": cv,
              "cross_validated_by_question": cross_validate(data, args.c, args.folds, by_document=False)}
    if previous is not None:
        report["previous_weights"] = scores(previous, data)
    print(json.dumps(report, indent=2))
    if args.dry_run:
        return 0
    weights = fit(data, args.c)
    out = {"trained_on": f"{args.questions.parent.name}/{args.questions.name}", "c": args.c,
           "report": report, "weights": dict(sorted(weights.items()))}
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(weights)} weights)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
