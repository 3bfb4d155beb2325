"""``python -m qa.eval`` — a thin shell over :func:`qa.eval.evaluate`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EPILOG = """examples:
  python -m qa.eval --corpus ../shared/datasets/covid-qa/corpus.jsonl \\
      --questions ../shared/datasets/covid-qa/questions.jsonl --baselines --report covid.html
  python -m qa.eval --corpus C.jsonl --questions Q.jsonl --limit 300 --retrieval-only
  python -m qa.eval --corpus C.jsonl --questions Q.jsonl --unanswerable tests/unanswerable_covid.jsonl
  python -m qa feedback --export > fb.jsonl
  python -m qa.eval --corpus C.jsonl --questions Q.jsonl --feedback fb.jsonl --report out.html
  python -m qa.eval --feedback fb.jsonl --report review.html      (the review list alone)

The corpus is indexed into its own collection, eval-<corpus>-<QA_CHUNK_SIZE>-<QA_CHUNK_OVERLAP>,
under QA_CHROMA_PATH, incrementally (a second run reuses it). Settings come from .env and
the environment (QA_CHUNK_SIZE, QA_CHUNK_OVERLAP, QA_CHROMA_PATH, QA_EMBED_MODEL, ...).
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m qa.eval", description="Score retrieval and answers on a question set.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--corpus", type=Path, help="documents, .jsonl: {doc_id, text, title?} (required "
                   "unless only reviewing --feedback)")
    p.add_argument("--questions", type=Path, nargs="+",
                   help="one or more .jsonl files: {qid, question, answers, gold_doc_ids, answer_start(s)?}")
    p.add_argument("--unanswerable", type=Path, nargs="*", default=[],
                   help=".jsonl files of questions the corpus cannot answer (scored on refusals)")
    p.add_argument("--k", type=int, default=None, help="passages given to the answerer (default QA_TOP_K)")
    p.add_argument("--answerer", choices=("extractive", "llm"), default="extractive")
    p.add_argument("--baselines", action="store_true", help="also score BM25, dense, plain RRF and llama-index")
    p.add_argument("--json", type=Path, metavar="OUT.json", help="write the figures as JSON")
    p.add_argument("--report", type=Path, metavar="OUT.html", help="write an HTML report with plots and misses")
    p.add_argument("--limit", type=int, help="only the first N questions of each file")
    p.add_argument("--retrieval-only", action="store_true", help="score retrieval only (no answers)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--feedback", type=Path, metavar="FILE",
                   help="the JSON lines of `python -m qa feedback --export`: the report gets a "
                        "\"Review: thumbs-down answers\" section (question, answer, citations, comment)")
    return p


def main(argv: list[str] | None = None, *, embedder=None) -> int:
    """The command line; ``embedder`` replaces the one the settings name (tests pass theirs)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not (args.corpus and args.questions):
        if args.corpus or args.questions or not (args.feedback and args.report):
            parser.error("--corpus and --questions are required (or only --feedback with --report)")
        return _review_only(args.feedback, args.report)
    from index import environment

    environment.configure()
    from qa import QAError, Settings

    from . import evaluate, eval_settings, load_questions
    from .report import format_table, render_html
    from .review import load_feedback, review_html

    try:
        review = review_html(load_feedback(args.feedback)) if args.feedback else ""
        base = Settings.from_env()
        settings = eval_settings(base, args.corpus)
        questions = load_questions(args.questions, unanswerable=args.unanswerable, limit=args.limit)
        if args.baselines:
            from .baselines import evaluate_with_baselines

        run = (evaluate_with_baselines if args.baselines else evaluate)(
            settings, args.corpus, questions, k=args.k or base.top_k, answerer=args.answerer,
            retrieval_only=args.retrieval_only, progress=not args.no_progress,
            embedder=embedder,
        )
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_table(run))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(run.to_json(), indent=2) + "\n")
        print(f"wrote {args.json}")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(render_html(run, review=review), encoding="utf-8")
        print(f"wrote {args.report}")
    return 0


def _review_only(feedback: Path, report: Path) -> int:
    from qa import QAError

    from .report import render_review_page
    from .review import load_feedback, review_html, thumbs_down

    try:
        rows = load_feedback(feedback)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(render_review_page(review_html(rows)), encoding="utf-8")
    print(f"{len(thumbs_down(rows))} thumbs-down answers of {len(rows)} rated; wrote {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
