"""Answers, documents and reports as HTML fragments for the page. Pure functions, no gradio.

Every piece of text that comes from a document, a question, a file name or an error is
passed through :func:`html.escape` here, so a ``<script>`` in a document is shown as text.
The output never contains a newline: Gradio's Chatbot runs ``inspect.cleandoc`` on message
strings, and line breaks are ``<br>`` anyway.

Anchors: the ``[n]`` markers of the answer to turn ``t`` link to ``#qa-t-n``, the id of the
n-th entry of that answer's "Sources" block. Each entry's "open" link carries its citation's
document, offsets and page (:func:`viewer_href`): the page script (:mod:`ui.assets`) opens
the document viewer there when a marker or that link is clicked. A long passage is
shown as the quote with one sentence of context each side; "show more" (the page script: a
nested ``<details>`` would be one more ``summary`` in the sources block) shows it whole.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import quote, urlencode

from index import BuildReport, IndexedDocument
from index.sentences import sentence_spans
from qa import markers
from qa.types import Answer, Citation, Passage

from .uploads import UploadResult



def _text(value: str) -> str:
    """Escaped text, with line breaks kept as ``<br>``."""
    return escape(value).replace("\r\n", "\n").replace("\n", "<br>")


def anchor_id(turn: int, number: int) -> str:
    return f"qa-{turn}-{number}"


def link_markers(escaped: str, turn: int, numbers: Iterable[int]) -> str:
    """Turn ``[n]`` markers of already-escaped text into links to the sources of ``turn``.

    Only numbers in ``numbers`` are linked; any other bracketed number stays text.
    """
    known = set(numbers)

    def link(match: re.Match[str]) -> str:
        parts = [int(p) for p in re.split(r"\s*[,;]\s*", match.group(1))]
        if not all(p in known for p in parts):
            return match.group(0)
        return "".join(
            f'<a class="qa-marker" href="#{anchor_id(turn, p)}" title="Source {p}">[{p}]</a>' for p in parts
        )

    return markers.MARKER.sub(link, escaped)


def question_html(question: str) -> str:
    return f'<div class="qa-question">{_text(question)}</div>'


def streaming_html(partial: str) -> str:
    """The answer while it streams in: plain escaped text (its sources are not known yet)."""
    return f'<div class="qa-answer qa-streaming">{_text(partial)}<span class="qa-cursor">▍</span></div>'


def error_html(message: str) -> str:
    return f'<div class="qa-error" role="alert"><strong>Error:</strong> {_text(message)}</div>'


def _locate(citation: Citation, passages: Sequence[Passage]) -> tuple[Passage, int, int] | None:
    """The passage holding the citation's quote, and the quote's offsets inside its text."""
    if not citation.quote:
        return None
    candidates = [p for p in passages if p.source == citation.source]
    for p in candidates:  # by document offsets: exact even if the quote occurs twice
        if p.start <= citation.start and citation.end <= p.end:
            at = citation.start - p.start
            if p.text[at:at + len(citation.quote)] == citation.quote:
                return p, at, at + len(citation.quote)
    for p in sorted(candidates, key=lambda p: p.chunk_id != citation.chunk_id):
        at = p.text.find(citation.quote)
        if at >= 0:
            return p, at, at + len(citation.quote)
    return None


HIDDEN_MIN_CHARS = 80  # a passage is cut to its quote's context only when that hides more


def context_span(text: str, start: int, end: int, sentences: int = 1) -> tuple[int, int]:
    """``text[start:end]`` widened by ``sentences`` whole sentences of ``text`` a side (and
    the rest of any sentence the quote starts or ends inside)."""
    spans = sentence_spans(text)
    before = [s for s, e in spans if e <= start]
    after = [e for s, e in spans if s >= end]
    lo = before[-sentences] if len(before) >= sentences else 0
    hi = after[sentences - 1] if len(after) >= sentences else len(text)
    return min(lo, start), max(hi, end)


def _marked(text: str, qs: int, qe: int, mark: str = "qa-quote") -> str:
    return f'{_text(text[:qs])}<mark class="{mark}">{_text(text[qs:qe])}</mark>{_text(text[qe:])}'


def _highlighted(citation: Citation, passages: Sequence[Passage]) -> str:
    found = _locate(citation, passages)
    if found is None:  # the passage is not among the retrieved ones: show the quote alone
        return f'<div class="qa-passage"><mark class="qa-quote">{_text(citation.quote)}</mark></div>'
    p, qs, qe = found
    cs, ce = context_span(p.text, qs, qe)
    if cs + len(p.text) - ce < HIDDEN_MIN_CHARS:
        return f'<div class="qa-passage">{_marked(p.text, qs, qe)}</div>'
    short = p.text[cs:ce]
    return (
        f'<div class="qa-passage">{"… " if cs else ""}{_marked(short, qs - cs, qe - cs)}'
        f'{" …" if ce < len(p.text) else ""}</div>'
        f'<div class="qa-passage-full">{_marked(p.text, qs, qe, "qa-quote-full")}</div>'
        f'<a class="qa-more" href="#qa-more" title="Show the whole passage">show more</a>'
    )


def _where(source: str, title: str, page: int | None) -> str:
    parts = [f'<span class="qa-file">{escape(source)}</span>']
    if title and title != source:
        parts.append(f'<span class="qa-title">{escape(title)}</span>')
    if page is not None:
        parts.append(f'<span class="qa-page">page {page}</span>')
    return " ".join(parts)


def _citation_entry(c: Citation, turn: int, passages: Sequence[Passage], collection: str | None = None) -> str:
    check = "" if c.verified else ' <span class="qa-unverified">quote not verified</span>'
    return (
        f'<li id="{anchor_id(turn, c.number)}" class="qa-source">'
        f'<div class="qa-source-head"><span class="qa-num">[{c.number}]</span> '
        f'{_where(c.source, c.title, c.page)} <span class="qa-score">score {c.score:.3f}</span>{check} '
        f'<a class="qa-open" href="{escape(viewer_href(c, collection))}" title="Show the whole document at this quote">'
        f"open</a></div>{_highlighted(c, passages)}</li>"
    )


def viewer_href(c: Citation, collection: str | None = None) -> str:
    """The "open" link's target: what the viewer needs, in the one place the page's HTML
    sanitizer keeps (it drops ``data-`` attributes): ``#qa-view?source=…&start=…&end=…&page=…``
    (and ``&collection=…``, the knowledge base, when not the default)."""
    fields = {"source": c.source, "start": c.start, "end": c.end}
    if c.page is not None:
        fields["page"] = c.page
    if collection:
        fields["collection"] = collection
    return "#qa-view?" + urlencode(fields, quote_via=quote)


def _passage_entry(p: Passage) -> str:
    return (
        f'<li class="qa-source"><div class="qa-source-head"><span class="qa-num">#{p.rank}</span> '
        f'{_where(p.source, p.title, p.page)} <span class="qa-score">score {p.score:.3f}</span></div>'
        f'<div class="qa-passage">{_text(p.text)}</div></li>'
    )


def sources_html(answer: Answer, turn: int, collection: str | None = None) -> str:
    """The collapsible block under an answer: its citations, or for a refusal the nearest passages."""
    if answer.refused or not answer.citations:
        if not answer.passages:
            return ""
        items = "".join(_passage_entry(p) for p in answer.passages)
        return (
            f'<details class="qa-sources qa-nearest" open><summary>Nearest passages ({len(answer.passages)})'
            f'</summary><ol class="qa-source-list">{items}</ol></details>'
        )
    items = "".join(_citation_entry(c, turn, answer.passages, collection) for c in answer.citations)
    return (
        f'<details class="qa-sources"><summary>Sources ({len(answer.citations)})</summary>'
        f'<ol class="qa-source-list">{items}</ol></details>'
    )


def _short_lead(answer: Answer) -> tuple[str, str]:
    """The answer's lead (its short answer and marker, "Eight U.S. personnel [1].") and the rest."""
    if answer.short_answer is None or answer.refused:
        return "", answer.text
    return markers.split_lead(answer.text)


def _rewritten(answer: Answer) -> bool:
    """The search ran on another wording than the question (a follow-up made standalone)."""
    def norm(text: str) -> str:
        return " ".join(text.lower().split()).rstrip("?.! ")

    return bool(answer.retrieval_query) and norm(answer.retrieval_query) != norm(answer.question)


def meta_html(answer: Answer) -> str:
    """Under an answer: what was searched for when a follow-up was rewritten, the answerer,
    and the time spent retrieving and answering."""
    searched = (f'<div class="qa-searched">searched for: “{_text(answer.retrieval_query)}”</div>'
                if _rewritten(answer) else "")
    answering = max(0.0, answer.seconds - answer.retrieval_seconds)
    return (f'{searched}<div class="qa-meta">{escape(answer.answerer)} · retrieved in '
            f'{answer.retrieval_seconds:.2f} s · answered in {answering:.2f} s</div>')


def answer_html(answer: Answer, turn: int, collection: str | None = None) -> str:
    """A finished answer: its short answer in bold above the quotes (markers linked), any
    notice, and its sources block (``collection``: the knowledge base its viewer links read)."""
    numbers = [c.number for c in answer.citations]
    lead, rest = _short_lead(answer)
    body = link_markers(_text(rest), turn, numbers)
    if lead:
        strong = link_markers(_text(lead), turn, numbers)
        body = f'<p class="qa-short"><strong>{strong}</strong></p>{body}'

    notice = f'<div class="qa-notice">{_text(answer.notice)}</div>' if answer.notice else ""
    meta = meta_html(answer)
    if answer.refused:
        return (
            f'<div class="qa-answer qa-refused"><div class="qa-refused-label">Not found in the documents</div>'
            f'<div class="qa-text">{body}</div>{notice}{sources_html(answer, turn, collection)}{meta}</div>'
        )
    return (
        f'<div class="qa-answer"><div class="qa-text">{body}</div>{notice}'
        f"{sources_html(answer, turn, collection)}{meta}</div>"
    )


# ---- documents panel ---------------------------------------------------------------------

def _when(iso: str) -> str:
    """``2025-11-25T10:16:00+00:00`` → ``2025-11-25 10:16 UTC``; anything else as given."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?(?:\+00:00|Z)", iso)
    return f"{m.group(1)} {m.group(2)} UTC" if m else iso


def documents_html(documents: Sequence[IndexedDocument]) -> str:
    if not documents:
        return '<p class="qa-empty">No documents are indexed yet. Upload some and rebuild the index.</p>'
    rows = "".join(
        f"<tr><td>{escape(d.source)}</td><td class=\"qa-num-cell\">{d.chunks}</td>"
        f"<td>{escape(_when(d.indexed_at))}</td></tr>"
        for d in documents
    )
    total = sum(d.chunks for d in documents)
    return (
        f'<table class="qa-documents"><thead><tr><th>Document</th><th>Chunks</th><th>Indexed</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
        f'<p class="qa-doc-total">{len(documents)} documents, {total} chunks</p>'
    )


def _names(label: str, names: Sequence[str], limit: int = 20) -> str:
    if not names:
        return ""
    shown = ", ".join(escape(n) for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"<li>{label}: {shown}{more}</li>"


def build_report_html(report: BuildReport) -> str:
    skipped = "".join(
        f"<li>skipped: {escape(s.path)} — {escape(s.reason)}</li>" for s in report.skipped
    )
    changes = (
        _names("added", report.files_added) + _names("changed", report.files_changed)
        + _names("removed", report.files_removed) + skipped
    )
    if not changes:
        changes = "<li>nothing changed</li>"
    return (
        f'<div class="qa-report"><strong>Index rebuilt</strong> in {report.seconds:.1f} s: '
        f"{report.documents_total} documents, {report.chunks_total} chunks "
        f"({report.chunks_embedded} embedded, {report.chunks_reused} reused, {report.chunks_deleted} deleted)."
        f"<ul>{changes}</ul></div>"
    )


def progress_text(stage: str, done: int, total: int) -> str:
    return f"{stage} {done}/{total}" if total else stage


def upload_report_html(result: UploadResult) -> str:
    items = [f"<li>saved {escape(s.name)}"
             + (f" (renamed from {escape(s.original)})" if s.original != s.name else "") + "</li>"
             for s in result.saved]
    items += [f"<li>already there: {escape(n)}</li>" for n in result.unchanged]
    items += [f'<li class="qa-rejected">rejected {escape(r.name)}: {escape(r.reason)}</li>'
              for r in result.rejected]
    hint = (' <span class="qa-hint">Click “Rebuild index” to add the new files.</span>'
            if result.saved else "")
    return f'<div class="qa-upload-report"><ul>{"".join(items)}</ul>{hint}</div>'
