"""The one path from an answer's claims to its verified, numbered citations.

Both answerers say what they claim and which quotes each claim rests on: a list of
:class:`Claim` (the extractive answerer's lead and quotes, the LLM's checked sentences).
:func:`compose` verifies every quote verbatim against its document at its offsets
(:func:`verify_quote`: the retrieved passages first, the index's chunks for a quote
outside them), numbers the verified ones 1..n in order of first appearance (one number
per quoted place), writes the markers (:mod:`qa.markers`), and drops a claim whose
quotes all failed: no text leaves without a checked citation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable, Sequence

from . import markers
from .types import Citation, Passage

if TYPE_CHECKING:  # pragma: no cover
    from index import IndexReader

__all__ = ["Claim", "Composed", "compose", "verify_quote"]


@dataclass(frozen=True)
class Claim:
    """A piece of answer text and the quotes behind it.

    ``marks`` are ``(offset in text, quotes)``: where markers go and what they cite (the
    quotes' ``number`` is not used: :func:`compose` numbers them). ``gap`` is what
    separates the claim from the one before it.
    """

    text: str
    marks: tuple[tuple[int, tuple[Citation, ...]], ...]
    gap: str = " "

    @classmethod
    def cited(cls, text: str, *quotes: Citation, before_stop: bool = False, gap: str = " ") -> "Claim":
        """``text`` with one marker group at its end (before its full stop with ``before_stop``)."""
        at = len(text) - 1 if before_stop and text.endswith(".") else len(text)
        return cls(text, ((at, tuple(quotes)),), gap)

    @property
    def quotes(self) -> tuple[Citation, ...]:
        return tuple(q for _, qs in self.marks for q in qs)


@dataclass(frozen=True)
class Composed:
    """The answer text with its markers, the verified citations they point at, and flags
    naming what was dropped."""

    text: str
    citations: tuple[Citation, ...]
    flags: tuple[str, ...]


def _place(c: Citation) -> tuple[str, int, int]:
    return (c.source, c.start, c.end)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)  # "word [7]." minus the marker: "word ."
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r"[ \t]+\n", "\n", text).strip()


def compose(
    claims: Sequence[Claim], evidence: "IndexReader | Sequence[Passage]",
    fallback: "IndexReader | None" = None,
) -> Composed:
    """Verify, number and mark the claims' quotes; drop claims left without one.

    ``evidence`` is the retrieved passages (or a reader); ``fallback`` (a reader) is asked
    about quotes the passages don't cover.
    """
    checked: dict[tuple[str, int, int], bool] = {}
    flags: list[str] = []

    def ok(q: Citation) -> bool:
        if _place(q) not in checked:
            good = verify_quote(q, evidence=evidence)
            if not good and fallback is not None:
                good = verify_quote(q, evidence=fallback)
            checked[_place(q)] = good
            if not good:
                flags.append(f"dropped citation: quote not found verbatim in {q.source} at {q.start}-{q.end}")
        return checked[_place(q)]

    numbers: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    out: list[str] = []
    for claim in claims:
        groups: list[tuple[int, list[Citation]]] = []
        for at, qs in sorted(claim.marks, key=lambda m: m[0]):
            good = [q for q in qs if ok(q)]
            if groups and not claim.text[groups[-1][0] : at].strip():  # "[1] [2]": one place
                groups[-1] = (at, groups[-1][1] + good)
            else:
                groups.append((at, good))
        if claim.marks and not any(qs for _, qs in groups):
            flags.append(f"dropped claim without a verified citation: {_short(claim.text)}")
            continue
        parts, pos = [], 0
        for at, qs in groups:
            for q in qs:
                if _place(q) not in numbers:
                    numbers[_place(q)] = len(citations) + 1
                    citations.append(replace(q, number=numbers[_place(q)], verified=True))
            left = claim.text[pos:at]
            group = markers.render(dict.fromkeys(numbers[_place(q)] for q in qs))
            parts.append(f"{left.rstrip()} {group}" if group and left.strip() else left + group)
            pos = at
        parts.append(claim.text[pos:])
        sentence = _tidy("".join(parts))
        out.append((claim.gap if out else "") + sentence)
    return Composed(_tidy("".join(out)), tuple(citations), tuple(flags))


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _covers(text: str, start: int, quote: str, q_start: int, q_end: int) -> bool | None:
    """``True``/``False`` if ``text`` (at ``start``) covers the quote's span; ``None`` if not."""
    if q_start < start or q_end > start + len(text):
        return None
    return text[q_start - start : q_end - start] == quote


def verify_quote(
    quote: str | Citation,
    source: str | None = None,
    start: int | None = None,
    end: int | None = None,
    evidence: "IndexReader | Iterable[Passage] | None" = None,
) -> bool:
    """Whether ``quote`` is ``document[start:end]`` of ``source``.

    ``quote`` may be a :class:`Citation` (its fields fill the rest). ``evidence`` is the
    retrieved passages or an :class:`~index.IndexReader`; with a reader, a quote no single
    passage covers is checked against the document's stored chunks.
    """
    if isinstance(quote, Citation):
        source = quote.source if source is None else source
        start = quote.start if start is None else start
        end = quote.end if end is None else end
        quote = quote.quote
    if source is None or start is None or end is None or evidence is None:
        raise TypeError("verify_quote needs source, start, end and the passages or a reader")
    if not quote or not quote.strip() or end - start != len(quote) or start < 0:
        return False
    if hasattr(evidence, "document_chunks"):
        chunks = [(c.text, c.start) for c in evidence.document_chunks(source)]
    else:
        # a passage is evidence only if it is document[start:end]: its length says so
        chunks = [(p.text, p.start) for p in evidence if p.source == source and p.end - p.start == len(p.text)]
    for text, at in chunks:
        covered = _covers(text, at, quote, start, end)
        if covered is not None:
            return covered
    # A quote that spans chunks: stitch the document back from the chunks around it.
    pieces = sorted((at, text) for text, at in chunks if at < end and at + len(text) > start)
    if not pieces:
        return False
    doc: dict[int, str] = {}
    for at, text in pieces:
        for i, ch in enumerate(text):
            doc.setdefault(at + i, ch)
    return all(doc.get(start + i) == ch for i, ch in enumerate(quote))
