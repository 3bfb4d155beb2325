"""The span model: a logistic regression over :mod:`qa.span_features` that scores how
likely a candidate phrase is the answer, as the log-odds ``Σ weight·value``.

The learned weights are data, in ``span_model.json`` beside this module, written by
``python -m qa.eval.train_spans`` (which records what it was trained on and how it scored
in a cross-validation by document). A feature the file does not name weighs nothing.

A few weights are not learned but set here (:data:`FIXED`): they check constraints the
question states, which the training questions state too rarely to teach ("in kilometres":
a length in km, not an area; "how many *times*": the number that counts times, of which
xquad-en has 37 questions; a name the question states nearer the number than another name:
"900 in Syria", not "2,500 troops in Iraq"), and the ambiguity of a sentence that gives two counts of the
counted noun ("23 … and 25 … personnel"), and the other side of an "is" from the focus of "What is
the main cause of X?" ("*Rotavirus* is the most common cause of …"), which a reading of the
question's parse gives and the training questions' rarer copulas did not teach.
"""
from __future__ import annotations

from pathlib import Path

from .logistic import Weights

PATH = Path(__file__).with_name("span_model.json")
FIXED = {"unit_match": 1.0, "unit_miss": -1.5, "several_counts": -1.0, "counts_focus": 1.0,
         "stated_name_nearer": 0.25, "other_name_nearer": -0.25, "across_copula": 1.0}
_MODEL = Weights(PATH, FIXED)
combined = _MODEL.combined  # learned weights with the fixed ones on top


def weights() -> dict[str, float]:
    return _MODEL.shipped


def score(features: dict[str, float], w: dict[str, float] | None = None) -> float:
    """The log-odds of ``features`` under the shipped weights, or under ``w`` (training:
    :func:`combined` weights of a fold)."""
    return _MODEL.log_odds(features, w)
