"""``python -m qa "question"`` — a thin shell over :func:`qa.answer`;
``python -m qa feedback --export`` — the stored thumbs up/down (:mod:`qa.history`) as JSON lines."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EPILOG = """examples:
  python -m qa "how many personnel were injured?"
  python -m qa "when was the first ballistic missile attack?" --json
  python -m qa "and how many in March?" --history-file chat.json
  python -m qa "who was killed?" --answerer extractive --k 8
  python -m qa "what did the audit find?" --source report.pdf --source "notes/*.md"
  python -m qa feedback --export > feedback.jsonl     (see python -m qa feedback --help)

--history-file holds the earlier turns, oldest first, as JSON:
  [{"question": "how many personnel were injured?", "answer": "..."}]
(or one such object a line). Settings come from .env and the environment: QA_CHROMA_PATH,
QA_SOURCE_DIR (built into an index on first use if there is none), QA_TOP_K,
QA_ANSWERER, OPENAI_BASE_URL / OPENAI_API_KEY for the LLM answerer, ...
Exit status: 0 answered (or said the documents don't hold the answer), 1 error.
To ask a question that is the word "feedback": python -m qa -- feedback
"""

FEEDBACK_EPILOG = """The thumbs up/down given in the web app are stored with the answer they rate in
QA_HISTORY_PATH (default: history.sqlite3 in QA_CHROMA_PATH). --export prints one JSON object
a line, oldest first:
  {"question", "answer", "citations", "answerer", "collection", "rating": "up"|"down",
   "comment", "time", "conversation_id", "turn"}
Review the thumbs-down answers in an evaluation report:
  python -m qa feedback --export > feedback.jsonl
  python -m qa.eval --corpus C.jsonl --questions Q.jsonl --feedback feedback.jsonl --report out.html
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m qa",
        description="Answer a question from the indexed documents, with verified citations.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("question", help="the question (quote it)")
    p.add_argument("--json", action="store_true", help="print the whole answer as one JSON object")
    p.add_argument("--k", type=int, metavar="N", help="passages to retrieve (default QA_TOP_K, 5)")
    p.add_argument("--answerer", choices=("auto", "extractive", "llm"),
                   help="auto (default): the LLM if one is configured, else extractive")
    p.add_argument("--source", action="append", metavar="NAME", dest="sources",
                   help="answer only from this document (a name as `python -m index status` "
                        "lists it, or a glob such as 'reports/*.pdf'); repeat for several")
    p.add_argument("--history-file", type=Path, metavar="F",
                   help="earlier turns of the conversation (JSON, see below)")
    return p


def _feedback_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m qa feedback", description="The feedback given on answers in the web app.",
        epilog=FEEDBACK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--export", action="store_true", required=True,
                   help="print every rated answer as JSON lines (to stdout)")
    return p


def feedback_main(argv: list[str]) -> int:
    _feedback_parser().parse_args(argv)
    from index import environment

    environment.configure()
    from . import QAError, Settings
    from .history import History

    try:
        settings = Settings.from_env()
        if not settings.history_path.exists():
            print(f"No feedback yet ({settings.history_path} does not exist).", file=sys.stderr)
            return 0
        for row in History(settings).feedback_rows():
            print(json.dumps(row, ensure_ascii=False))
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _history(path: Path):
    from . import BadRequest
    from .types import Turn

    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadRequest(f"Cannot read the history file {path}: {exc.strerror or exc}.") from exc
    try:
        data = json.loads(raw) if raw.lstrip().startswith("[") else [
            json.loads(line) for line in raw.splitlines() if line.strip()
        ]
    except ValueError as exc:
        raise BadRequest(f"The history file {path} is not valid JSON ({exc}).") from exc
    turns = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise BadRequest(
                f"The history file {path} must hold a list of objects with a \"question\" "
                "(and optionally an \"answer\")."
            )
        turns.append(Turn(item["question"], str(item.get("answer") or "")))
    return turns


def render(answer) -> str:
    """The answer, then its numbered sources."""
    lines = [answer.text]
    if answer.notice:
        lines += ["", f"Note: {answer.notice}"]
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            page = f", page {c.page}" if c.page else ""
            quote = " ".join(c.quote.split())
            lines.append(f"[{c.number}] {c.source}{page} (chars {c.start}–{c.end}): \"{quote}\"")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["feedback"]:
        return feedback_main(argv[1:])
    args = _parser().parse_args(argv)
    from index import environment

    environment.configure()
    from . import QAError, Settings, answer as ask

    try:
        history = _history(args.history_file) if args.history_file else ()
        answer = ask(args.question, history, Settings.from_env(), answerer=args.answerer, top_k=args.k,
                     sources=args.sources)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        print(render(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
