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

import json
import math
from functools import lru_cache
from pathlib import Path

PATH = Path(__file__).with_name("sentence_model.json")
FIXED = {"contradicts": -3.0, "agrees": 0.5}


def combined(learned: dict[str, float]) -> dict[str, float]:
    """Learned weights with the fixed ones on top."""
    return {**learned, **FIXED}


@lru_cache(maxsize=1)
def weights() -> dict[str, float]:
    return combined(json.loads(PATH.read_text(encoding="utf-8"))["weights"])


def log_odds(features: dict[str, float], w: dict[str, float] | None = None) -> float:
    w = weights() if w is None else w
    return sum(w.get(name, 0.0) * value for name, value in features.items())


def probability(features: dict[str, float], w: dict[str, float] | None = None) -> float:
    """The chance that the sentence holds the answer (``w``: weights of a training fold)."""
    z = log_odds(features, w)
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))
