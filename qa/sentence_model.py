"""The sentence ranker: a logistic regression over :mod:`qa.sentence_features` that says
how likely a retrieved sentence holds the answer, as a probability.

The learned weights are data, in ``sentence_model.json`` beside this module, written by
``python -m qa.eval.train_sentences`` (which records what it was trained on and how the
top sentence did on documents it was not fitted on). A feature the file does not name
weighs nothing.

Two weights are set here, not learned (:data:`FIXED`): a sentence that states another year
or quarter than the asked one loses to one that agrees. The training questions state a
year too rarely to teach it, and the question's constraints must hold (:mod:`qa.constraints`).
"""
from __future__ import annotations

from pathlib import Path

from .logistic import Weights

PATH = Path(__file__).with_name("sentence_model.json")
FIXED = {"contradicts": -3.0, "agrees": 0.5}
_MODEL = Weights(PATH, FIXED)
combined = _MODEL.combined  # learned weights with the fixed ones on top
log_odds = _MODEL.log_odds


def weights() -> dict[str, float]:
    return _MODEL.shipped


def probability(features: dict[str, float], w: dict[str, float] | None = None) -> float:
    """The chance that the sentence holds the answer (``w``: weights of a training fold)."""
    return _MODEL.probability(features, w)
