"""The vocabulary of the index: corrects misspelled query words and completes the word being typed."""

from __future__ import annotations

import bisect
import gzip
import heapq
import json
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources

log = logging.getLogger(__name__)

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
MIN_CORRECTED = 4  # shorter words have too many neighbours for a guess to be right
MIN_DISTANCE_TWO = 7  # two edits only make sense in long words
MAX_PREFIX_SCAN = 5000  # bound the work a very short prefix can cause
#: English words at least this frequent (in pyspellchecker's English list) are never "corrected": a user who
#: types "must" or "expired" means it even if no article uses the word. Rarer entries are mostly noise.
ENGLISH_MIN_COUNT = 200


def english_words() -> frozenset[str]:
    """Return common English words (loaded once per process; empty if the word list is not installed)."""
    with _ENGLISH_LOCK:  # a query and the index warm-up may ask at once: load it once, not twice in parallel
        return _english_words()


_ENGLISH_LOCK = threading.Lock()


def _fresh_lock_in_child() -> None:
    # A process forked (gunicorn workers) while another thread held the lock would inherit it locked for ever,
    # and its first spelling correction would hang.
    global _ENGLISH_LOCK
    _ENGLISH_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_lock_in_child)


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    try:
        data = (resources.files("spellchecker") / "resources" / "en.json.gz").read_bytes()
        counts: dict[str, int] = json.loads(gzip.decompress(data))
    except (ImportError, OSError, ValueError) as exc:
        log.warning("English word list unavailable (%s): every unknown word may be corrected", exc)
        return frozenset()
    return frozenset(w for w, n in counts.items() if n >= ENGLISH_MIN_COUNT and w.isalpha())


def _edits1(word: str) -> set[str]:
    """Return every string one deletion, transposition, substitution or insertion away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + transposes + replaces + inserts)


def distance(a: str, b: str, bound: int = 2) -> int:
    """Return the edit distance with transpositions, or bound + 1 as soon as it must exceed `bound`."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > bound:  # every later row only grows
            return bound + 1
        previous2, previous = previous, current
    return previous[-1]


class Vocabulary:
    """Words of the index with their document frequencies."""

    def __init__(self, frequencies: Mapping[str, int], extra: Iterable[str] = ()) -> None:
        self.frequency: dict[str, int] = dict(frequencies)
        for word in extra:  # synonym words are valid corrections even where no article uses them
            self.frequency.setdefault(word, 1)
        self.sorted = sorted(self.frequency)
        self._buckets: dict[tuple[str, int], list[str]] | None = None

    def __contains__(self, word: str) -> bool:
        return word in self.frequency

    def __len__(self) -> int:
        return len(self.frequency)

    def correct(self, word: str) -> str | None:
        """Return the likeliest known word for an unknown `word`, or None if none is close enough."""
        if word in self.frequency or len(word) < MIN_CORRECTED or not word.isalpha() or word in english_words():
            return None
        close = [w for w in _edits1(word) if w in self.frequency]
        if not close and len(word) >= MIN_DISTANCE_TWO:
            close = [w for w in self._neighbours(word) if distance(word, w) <= 2]
        if not close:
            return None
        # The most frequent wins; then the one keeping the typed first letter; then alphabetical, to be stable.
        return min(close, key=lambda w: (-self.frequency[w], w[0] != word[0], w))

    def _neighbours(self, word: str) -> list[str]:
        if self._buckets is None:
            buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
            for w in self.sorted:
                buckets[(w[0], len(w))].append(w)
            self._buckets = dict(buckets)
        found: list[str] = []
        for length in range(len(word) - 2, len(word) + 3):
            found.extend(self._buckets.get((word[0], length), ()))
        return found

    def complete(self, prefix: str, limit: int = 6) -> list[str]:
        """Return the most frequent known words that start with `prefix`."""
        start = bisect.bisect_left(self.sorted, prefix)
        candidates: list[str] = []
        for word in self.sorted[start : start + MAX_PREFIX_SCAN]:
            if not word.startswith(prefix):
                break
            candidates.append(word)
        return heapq.nlargest(limit, candidates, key=lambda w: (self.frequency[w], -len(w)))
