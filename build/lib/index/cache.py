"""The one cache helper: what is kept in memory between questions.

:class:`LRU` is a small thread-safe map that forgets its least recently used entry past
its size. What belongs to one generation of one index (its BM25 index and vocabulary, its
sentence vectors and entities, a document's chunks) is keyed by :func:`generation_key`:
the store (its Chroma folder or server), the physical collection and the generation. An
index deleted and rebuilt starts again at generation 1, but in a new physical collection,
so nothing kept for the old one is ever served for the new one.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from .records import IndexState


class Located(Protocol):
    """A store: ``where`` names its folder or server (:class:`index.store.ChromaStore`)."""

    where: str

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING = object()


class LRU(Generic[K, V]):
    """At most ``size`` entries; reading or writing one makes it the most recent."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"an LRU cache holds at least one entry, not {size}")
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K, default=None):
        with self._lock:
            value = self._items.get(key, _MISSING)
            if value is _MISSING:
                return default
            self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value kept for ``key``, else ``make()``'s, kept (None too). ``make`` runs
        outside the lock: two threads missing at once both make it; the later is kept."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = make()
            self.put(key, value)
        return value

    def discard(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def generation_key(store: Located, state: IndexState) -> tuple[str, str, int]:
    """What identifies one generation of one index: the store (``store.where`` names its
    folder or server), the physical collection and the generation."""
    return (store.where, state.physical, state.generation)
