"""The span model: a logistic regression over :mod:`qa.span_features` that scores how
likely a candidate phrase is the answer, as the log-odds ``Σ weight·value``.

The learned weights are data, in ``span_model.json`` beside this module, written by
``python -m qa.eval.train_spans`` (which records what it was trained on and how it scored
in a cross-validation by document). A feature the file does not name weighs nothing.

A few weights are not learned but set here (:data:`FIXED`): they check constraints the
question states, which the training questions state too rarely to teach ("in kilometres":
a length in km, not an area), and the ambiguity of a sentence that gives two counts of
the counted noun ("23 … and 25 … personnel").
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

PATH = Path(__file__).with_name("span_model.json")
FIXED = {"unit_match": 1.0, "unit_miss": -1.5, "several_counts": -1.0}


def combined(learned: dict[str, float]) -> dict[str, float]:
    """Learned weights with the fixed ones on top."""
    return {**learned, **FIXED}


@lru_cache(maxsize=1)
def weights() -> dict[str, float]:
    return combined(json.loads(PATH.read_text(encoding="utf-8"))["weights"])


def score(features: dict[str, float], w: dict[str, float] | None = None) -> float:
    """The log-odds of ``features`` under the shipped weights, or under ``w`` (training:
    :func:`combined` weights of a fold)."""
    w = weights() if w is None else w
    return sum(w.get(name, 0.0) * value for name, value in features.items())
