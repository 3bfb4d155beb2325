"""``python -m qa "question"`` — a thin shell over :func:`qa.answer`."""
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

--history-file holds the earlier turns, oldest first, as JSON:
  [{"question": "how many personnel were injured?", "answer": "..."}]
(or one such object a line). Settings come from .env and the environment: QA_CHROMA_PATH,
QA_SOURCE_DIR (built into an index on first use if there is none), QA_TOP_K,
QA_ANSWERER, OPENAI_BASE_URL / OPENAI_API_KEY for the LLM answerer, ...
Exit status: 0 answered (or said the documents don't hold the answer), 1 error.
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
