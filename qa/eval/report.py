"""Render an :class:`~qa.eval.runner.EvalRun`: a terminal table and a self-contained HTML page.

The page draws its plots as inline SVG made here (no plotting library, nothing fetched):
the hit@k curve of the retriever and each baseline, and a histogram of answer latency;
then the worst misses with what was retrieved for them, and (``review``, from
:mod:`qa.eval.review`) the answers users rated down. Every text from the data is HTML-escaped.
"""
from __future__ import annotations

import html
import json
from typing import Sequence

from .runner import RANK_DEPTH, EvalRun, QuestionResult

_ROWS = (
    ("hit@1", "retrieval hit@1"), ("hit@5", "retrieval hit@5"), ("hit@10", "retrieval hit@10"),
    ("mrr@10", "retrieval MRR@10"), ("shown_hit", "shown passages hold gold"),
    ("exact_match", "answer exact match"), ("f1", "answer token F1"),
    ("contains_answer", "answer contains gold"), ("citation_precision", "citation precision"),
    ("short_exact_match", "short answer exact match"),
    ("short_f1", "short answer token F1"),
    ("short_answered", "answers with a short answer"),
    ("citation_recall", "citation recall"), ("refusal_rate", "refusals (answerable)"),
    ("unanswerable_refusal_rate", "refusals (unanswerable)"), ("latency_p50_ms", "latency p50 ms"),
    ("latency_p95_ms", "latency p95 ms"), ("build_seconds", "index build s"),
)
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def format_table(run: EvalRun) -> str:
    """The summary, one metric a row; baselines (retrieval metrics) as extra columns."""
    names = list(run.baselines)
    header = ["metric", "retrieve()"] + names
    rows = [header]
    for key, label in _ROWS:
        row = [label, _fmt(run.summary.get(key))]
        row += [_fmt(run.baselines[n].get(key)) if key.startswith(("hit", "mrr", "latency")) or
                (key == "build_seconds" and "build_seconds" in run.baselines[n]) else "" for n in names]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    meta = run.meta
    title = (f"{meta.get('corpus')}: {meta.get('questions')} questions, {meta.get('documents')} documents, "
             f"{meta.get('chunks')} chunks ({meta.get('chunk_size')}/{meta.get('chunk_overlap')}), "
             f"k={meta.get('k')}, answerer={meta.get('answerer') or 'none (retrieval only)'}")
    return title + "\n" + "\n".join(lines)


# --------------------------------------------------------------------------- SVG


def _svg_hit_curve(curves: dict[str, Sequence[float]], width: int = 520, height: int = 300) -> str:
    left, right, top, bottom = 48, 130, 16, 36
    pw, ph = width - left - right, height - top - bottom
    lo = min((v for c in curves.values() for v in c if v is not None), default=0.0)
    lo = max(0.0, min(lo, 0.9) - 0.05)
    lo = int(lo * 20) / 20

    def x(k: int) -> float:
        return left + (k - 1) / (RANK_DEPTH - 1) * pw

    def y(v: float) -> float:
        return top + (1 - (v - lo) / (1 - lo)) * ph

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="hit at k">', f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>']
    steps = 5
    for i in range(steps + 1):
        v = lo + (1 - lo) * i / steps
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">{v:.2f}</text>')
    for k in range(1, RANK_DEPTH + 1):
        parts.append(f'<text x="{x(k):.1f}" y="{top + ph + 16}" font-size="11" text-anchor="middle">{k}</text>')
    parts.append(f'<text x="{left + pw / 2:.1f}" y="{height - 4}" font-size="12" text-anchor="middle">k</text>')
    for n, (name, curve) in enumerate(curves.items()):
        colour = _COLOURS[n % len(_COLOURS)]
        pts = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in enumerate(curve, 1) if v is not None)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        ly = top + 14 + 18 * n
        parts.append(f'<line x1="{left + pw + 10}" x2="{left + pw + 28}" y1="{ly - 4}" y2="{ly - 4}" '
                     f'stroke="{colour}" stroke-width="3"/><text x="{left + pw + 32}" y="{ly}" '
                     f'font-size="12">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_histogram(values: Sequence[float], width: int = 520, height: int = 240, bins: int = 30) -> str:
    if not values:
        return "<p>No latencies.</p>"
    left, right, top, bottom = 48, 12, 12, 36
    pw, ph = width - left - right, height - top - bottom
    hi = sorted(values)[int(0.99 * (len(values) - 1))] or max(values) or 1.0
    step = hi / bins
    counts = [0] * bins
    for v in values:
        counts[min(int(v / step), bins - 1) if step else 0] += 1
    peak = max(counts) or 1
    bw = pw / bins
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="latency histogram">', f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>']
    for i, c in enumerate(counts):
        h = c / peak * ph
        parts.append(f'<rect x="{left + i * bw + 1:.1f}" y="{top + ph - h:.1f}" width="{bw - 2:.1f}" '
                     f'height="{h:.1f}" fill="#1f77b4"><title>{i * step:.0f}–{(i + 1) * step:.0f} ms: {c}</title></rect>')
    for i in range(0, bins + 1, 5):
        parts.append(f'<text x="{left + i * bw:.1f}" y="{top + ph + 16}" font-size="11" '
                     f'text-anchor="middle">{i * step:.0f}</text>')
    parts.append(f'<text x="{left - 6}" y="{top + 10}" font-size="11" text-anchor="end">{peak}</text>')
    parts.append(f'<text x="{left + pw / 2:.1f}" y="{height - 4}" font-size="12" text-anchor="middle">'
                 f'milliseconds (last bin: ≥ p99)</text></svg>')
    return "".join(parts)


# --------------------------------------------------------------------------- HTML


def worst_misses(results: Sequence[QuestionResult], n: int = 25) -> list[QuestionResult]:
    """Answerable questions that retrieval missed first (no hit in the top 10, then the
    lowest ranks), ties broken by the lowest answer F1."""
    pool = [r for r in results if r.question.answerable and (r.rank is None or r.rank > 1 or (r.f1 or 0) < 0.5)]
    return sorted(pool, key=lambda r: (-(r.rank or RANK_DEPTH + 1), r.f1 if r.f1 is not None else 0.0))[:n]


def _miss_html(r: QuestionResult) -> str:
    e = html.escape
    q = r.question
    rank = f"first hit at rank {r.rank}" if r.rank else f"no hit in the top {RANK_DEPTH}"
    out = [f"<details><summary><b>{e(q.question)}</b> — {rank}"
           + (f", F1 {r.f1:.2f}" if r.f1 is not None else "") + "</summary>",
           f"<p>gold: {e(' | '.join(q.answers))} <small>({e(', '.join(q.gold_doc_ids))})</small></p>"]
    if r.answer is not None:
        out.append(f"<p>answer{' (refused)' if r.answer.refused else ''}: {e(r.answer.text)}</p>")
    out.append("<ol>")
    for p in r.passages[:5]:
        mark = " gold-doc" if p.source in q.gold_doc_ids else ""
        out.append(f'<li class="p{mark}"><small>{e(p.source)} [{p.start}:{p.end}] score {p.score:.3f}</small>'
                   f"<br>{e(p.text)}</li>")
    out.append("</ol></details>")
    return "\n".join(out)


def render_html(run: EvalRun, *, misses: int = 25, review: str = "") -> str:
    """The report page; ``review``: a section of :func:`qa.eval.review.review_html`."""
    e = html.escape
    curves = {"retrieve()": run.summary.get("hit_curve") or []}
    curves.update({n: b.get("hit_curve") or [] for n, b in run.baselines.items()})
    table = format_table(run)
    latencies = [r.latency_ms for r in run.results]
    summary = {k: v for k, v in run.summary.items() if k != "hit_curve"}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation: {e(str(run.meta.get('corpus')))}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}
li.p {{ margin: .4em 0; }} li.gold-doc {{ background: #fff7e0; }}
details {{ border-bottom: 1px solid #eee; padding: .4em 0; }}
.plots {{ display: flex; flex-wrap: wrap; gap: 2em; }}
p.comment {{ background: #fff0f0; padding: .3em .6em; }}
</style></head><body>
<h1>Evaluation</h1>
<pre>{e(table)}</pre>
<div class="plots">
<figure><figcaption>Retrieval hit@k (chunk level)</figcaption>{_svg_hit_curve(curves)}</figure>
<figure><figcaption>Answer latency ({len(latencies)} questions)</figcaption>{_svg_histogram(latencies)}</figure>
</div>
<h2>Worst misses</h2>
{''.join(_miss_html(r) for r in worst_misses(run.results, misses))}
{review}<h2>Run</h2>
<pre>{e(json.dumps({"summary": summary, "meta": run.meta}, indent=2))}</pre>
</body></html>
"""


def render_review_page(review: str) -> str:
    """A page of only the review section (``python -m qa.eval --feedback F --report R``)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Review of rated answers</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }}
details {{ border-bottom: 1px solid #eee; padding: .4em 0; }}
p.comment {{ background: #fff0f0; padding: .3em .6em; }}
</style></head><body>
<h1>Feedback review</h1>
{review}</body></html>
"""
