"""A conditional logit: weights that make each group's positive rows likeliest among the
rows of *that group* (one question's candidate phrases or sentences), then scaled to
log-odds by a logistic regression on the score (Platt scaling).

Which candidate answers depends on the other candidates of the same question, so this
fits the choice a reader makes better than a yes/no regression over all rows at once (the
multinomial form of the SQuAD paper's logistic regression, Rajpurkar et al. 2016).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def fit(x: np.ndarray, y: np.ndarray, sizes: Sequence[int], c: float,
        balanced: bool = False) -> tuple[np.ndarray, float, float]:
    """``x`` rows grouped consecutively (``sizes``: rows per group, every group with a
    positive); L2 strength ``1/c``. Returns the weights, and the slope and intercept that
    turn ``x @ w`` into log-odds (``balanced``: as if positives were as many as negatives)."""
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression

    starts = np.cumsum([0, *sizes[:-1]])
    group = np.repeat(np.arange(len(sizes)), sizes)
    y = y.astype(float)

    def loss(w):
        s = x @ w
        e = np.exp(s - np.maximum.reduceat(s, starts)[group])
        z_all = np.add.reduceat(e, starts)
        z_pos = np.add.reduceat(e * y, starts)
        value = np.sum(np.log(z_all) - np.log(z_pos)) + 0.5 * w @ w / c
        grad = x.T @ (e / z_all[group] - e * y / z_pos[group]) + w / c
        return value, grad

    w = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x
    platt = LogisticRegression(C=1e6, max_iter=1000, class_weight="balanced" if balanced else None)
    platt.fit((x @ w).reshape(-1, 1), y)
    return w, float(platt.coef_[0][0]), float(platt.intercept_[0])
