"""What every embedder shares: its input checks, de-duplication, normalisation and the
models' token limits (:mod:`index.onnx_embedder`, :mod:`index.openai_embedder`)."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

__all__ = ["LOCAL_MAX_TOKENS", "LOCAL_MODEL", "OPENAI_MAX_TOKENS", "Progress", "check_texts",
           "dedupe", "l2_normalise"]

Progress = Callable[[int], None]

LOCAL_MODEL = "all-MiniLM-L6-v2"
LOCAL_MAX_TOKENS = 256  # word-pieces incl. [CLS]/[SEP]; sentence-transformers' max_seq_length
OPENAI_MAX_TOKENS = 8191

def check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed() takes a sequence of strings; use embed_query() for one string")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"embed(): item {i} is {type(t).__name__}, not str")
    return out


def dedupe(texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Unique texts (first-seen order), index of each input's unique text, multiplicity."""
    first: dict[str, int] = {}
    inverse = np.empty(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        inverse[i] = first.setdefault(t, len(first))
    counts = np.bincount(inverse, minlength=len(first)) if len(texts) else np.zeros(0, np.int64)
    return list(first), inverse, counts


def l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    return (x / norms).astype(np.float32, copy=False)
