"""The thumbs-down answers of ``python -m qa feedback --export``, as a review list in the report.

    rows = load_feedback(Path("feedback.jsonl"))      # every rated answer
    review_html(rows)                                 # the "Review: thumbs-down answers" section

Each entry shows the question, the answer, its citations (file, page, offsets, quote) and
the user's comment; every text is HTML-escaped.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from qa.errors import BadRequest

from .data import read_jsonl

__all__ = ["REVIEW_HEADING", "load_feedback", "review_html", "thumbs_down"]

REVIEW_HEADING = "Review: thumbs-down answers"
_FIELDS = ("question", "answer", "rating")


def load_feedback(path: Path) -> list[dict]:
    """The JSON lines of ``python -m qa feedback --export`` (blank lines skipped)."""
    rows = []
    for number, row in read_jsonl(path):
        if any(not isinstance(row.get(f), str) for f in _FIELDS):
            raise BadRequest(f"{path}, line {number}, needs \"question\", \"answer\" and \"rating\": "
                             "make the file with `python -m qa feedback --export`.")
        rows.append(row)
    return rows


def thumbs_down(rows: Sequence[dict]) -> list[dict]:
    return [r for r in rows if r.get("rating") == "down"]


def _citation_html(c: dict) -> str:
    e = html.escape
    page = f", page {c['page']}" if c.get("page") else ""
    return (f"<li><small>[{e(str(c.get('number', '')))}] {e(str(c.get('source', '')))}{page} "
            f"[{e(str(c.get('start', '')))}:{e(str(c.get('end', '')))}]</small>"
            f"<br><q>{e(str(c.get('quote', '')))}</q></li>")


def _entry_html(row: dict) -> str:
    e = html.escape
    meta = ", ".join(e(str(row[k])) for k in ("answerer", "collection", "time") if row.get(k))
    citations = row.get("citations") or []
    out = [f'<details class="review" open><summary><b>{e(row["question"])}</b>'
           + (f" <small>({meta})</small>" if meta else "") + "</summary>",
           f'<p>answer: {e(row["answer"])}</p>']
    if row.get("comment"):
        out.append(f'<p class="comment">comment: {e(str(row["comment"]))}</p>')
    out.append("<ol>" + "".join(_citation_html(c) for c in citations if isinstance(c, dict)) + "</ol>"
               if citations else "<p><small>no citations</small></p>")
    out.append("</details>")
    return "\n".join(out)


def review_html(rows: Sequence[dict]) -> str:
    """The report section: each thumbs-down answer of ``rows``, oldest first."""
    down = thumbs_down(rows)
    body = "".join(_entry_html(r) for r in down) if down else "<p>No thumbs-down answers.</p>"
    return (f'<h2 id="review">{REVIEW_HEADING}</h2>\n'
            f"<p>{len(down)} of {len(rows)} rated answers were rated down.</p>\n{body}\n")
