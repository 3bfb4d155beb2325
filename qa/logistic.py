"""Learned logistic-regression weights kept as data, with a few weights fixed in code.

The span model (:mod:`qa.span_model`) and the sentence ranker (:mod:`qa.sentence_model`)
each read their learned weights from a JSON file beside them (``{"weights": {...}}``,
written by their trainer) and lay their :data:`FIXED` weights on top: constraints the
training questions state too rarely to teach. A feature the file does not name weighs
nothing.
"""
from __future__ import annotations

import json
import math
from functools import cached_property
from pathlib import Path


class Weights:
    def __init__(self, path: Path, fixed: dict[str, float]):
        self.path, self.fixed = path, fixed

    def combined(self, learned: dict[str, float]) -> dict[str, float]:
        """Learned weights with the fixed ones on top."""
        return {**learned, **self.fixed}

    @cached_property
    def shipped(self) -> dict[str, float]:
        return self.combined(json.loads(self.path.read_text(encoding="utf-8"))["weights"])

    def log_odds(self, features: dict[str, float], w: dict[str, float] | None = None) -> float:
        """``Σ weight·value`` under the shipped weights, or under ``w`` (training:
        :meth:`combined` weights of a fold)."""
        w = self.shipped if w is None else w
        return sum(w.get(name, 0.0) * value for name, value in features.items())

    def probability(self, features: dict[str, float], w: dict[str, float] | None = None) -> float:
        z = self.log_odds(features, w)
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))
