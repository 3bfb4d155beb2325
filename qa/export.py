"""A conversation as a file: Markdown with footnote citations, or JSON.

    export_markdown(answers)   # each question a heading; [n] markers become footnotes [^t-n]
    export_json(answers)       # a JSON list of Answer.to_dict()

``answers`` are :class:`~qa.types.Answer` objects or their ``to_dict()`` dicts (what
:meth:`qa.history.History.answers` returns), oldest first. A footnote holds the file, the
page (paged documents), the character offsets and the quote, verbatim: a quote's later lines
are indented by four spaces (Markdown's continuation of a footnote), nothing else changes.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from .markers import MARKER
from .types import Answer

__all__ = ["export_json", "export_markdown", "footnote_label"]

_CONTINUATION = "    "


def _dicts(answers: Iterable[Answer | Mapping]) -> list[dict]:
    return [a.to_dict() if isinstance(a, Answer) else dict(a) for a in answers]


def footnote_label(turn: int, number: int) -> str:
    """The footnote of citation ``number`` of turn ``turn`` (1-based): ``1-2``."""
    return f"{turn}-{number}"


def _footnote(turn: int, citation: Mapping) -> str:
    page = f", page {citation['page']}" if citation.get("page") else ""
    quote = citation["quote"].replace("\n", "\n" + _CONTINUATION)
    return (f"[^{footnote_label(turn, citation['number'])}]: {citation['source']}{page}, "
            f"characters {citation['start']}–{citation['end']}: \"{quote}\"")


def _with_footnotes(text: str, turn: int, numbers: set[int]) -> tuple[str, set[int]]:
    """``text`` with each marker of a known citation as footnote references; the numbers used."""
    used: set[int] = set()

    def replace(m) -> str:
        found = [int(n) for n in m.group(1).replace(";", ",").split(",")]
        if not all(n in numbers for n in found):
            return m.group(0)  # not one of this answer's citations: leave the text as it is
        used.update(found)
        return "".join(f"[^{footnote_label(turn, n)}]" for n in found)

    return MARKER.sub(replace, text), used


def _question(text: str) -> str:
    return " ".join(text.split()) or "(no question)"


def export_markdown(answers: Iterable[Answer | Mapping], *, title: str = "Conversation") -> str:
    """The conversation as Markdown: a heading per question, the answer with footnote
    citations, any notice as a quote, then the footnotes of that turn."""
    out = [f"# {title}", ""]
    for turn, answer in enumerate(_dicts(answers), 1):
        citations = sorted(answer.get("citations") or (), key=lambda c: c["number"])
        text, used = _with_footnotes(answer.get("text") or "", turn, {c["number"] for c in citations})
        unreferenced = [c["number"] for c in citations if c["number"] not in used]
        if unreferenced:  # a footnote nothing points at would be dropped by Markdown renderers
            text += " (sources: " + "".join(f"[^{footnote_label(turn, n)}]" for n in unreferenced) + ")"
        out += [f"## {turn}. {_question(answer.get('question') or '')}", ""]
        if answer.get("refused"):
            out += ["*Not found in the documents.*", ""]
        out += [text.strip(), ""]
        if answer.get("notice"):
            out += [f"> {' '.join(answer['notice'].split())}", ""]
        if citations:
            out += [_footnote(turn, c) for c in citations] + [""]
    return "\n".join(out)


def export_json(answers: Iterable[Answer | Mapping]) -> str:
    """The conversation as a JSON list of ``Answer.to_dict()``, oldest first."""
    return json.dumps(_dicts(answers), ensure_ascii=False, indent=2) + "\n"
