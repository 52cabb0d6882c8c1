"""A small thread-safe LRU cache for search responses."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    """Least-recently-used mapping with a size bound; `tag` names what the entries were computed from."""

    def __init__(self, size: int) -> None:
        self.size = max(0, int(size))
        self.tag: str | None = None
        self.hits = 0
        self.misses = 0
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """Return the cached value and mark it recently used, or None."""
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: K, value: V) -> None:
        """Store a value, evicting the least recently used entries beyond the size bound."""
        if self.size == 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self, tag: str | None = None) -> None:
        """Drop every entry and remember what the next entries are computed from."""
        with self._lock:
            self._data.clear()
            self.tag = tag

    def __len__(self) -> int:
        return len(self._data)
