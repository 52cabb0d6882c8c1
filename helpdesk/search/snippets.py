"""Highlighted excerpts: escaped text with the matched words wrapped in <mark>, and nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from helpdesk.search.analysis import is_content_word, stem, token_spans
from helpdesk.search.cache import LRUCache

WINDOW = 28  # words in a snippet: about two lines of a results page
MAX_CHARS = 320  # a hard cap for very long tokens (URLs, identifiers)
ELLIPSIS = "\u2026"
MAX_HITS = 200  # window search is quadratic in matches; a long answer full of them needs no more
_spans: LRUCache[str, list[tuple[int, int, str]]] = LRUCache(1024)  # ~10 kB a long answer: ~10 MB at most


def make_snippet(text: str, stems: Iterable[str]) -> str:
    """Return the window of `text` with the most distinct matches, as safe HTML."""
    targets = frozenset(stems)
    spans = _spans.get(text)
    if spans is None:  # the same answers come back query after query: they are split into words once
        spans = token_spans(text)
        _spans.put(text, spans)
    if not spans:
        return escape(text[:MAX_CHARS], quote=True)
    matching = {w for w in {word for _, _, word in spans} if is_content_word(w) and stem(w) in targets}
    hits = [i for i, (_, _, word) in enumerate(spans) if word in matching][:MAX_HITS]
    first = _best_window(spans, hits)
    last = min(first + WINDOW, len(spans)) - 1
    begin = 0 if first == 0 else spans[first][0]
    end = len(text) if last == len(spans) - 1 else spans[last][1]
    if end - begin > MAX_CHARS:
        end = begin + MAX_CHARS
    hit_set = set(hits)
    out: list[str] = [ELLIPSIS + " " if begin > 0 else ""]
    cursor = begin
    for i in range(first, last + 1):
        start, stop, _ = spans[i]
        if start >= end:
            break
        if i in hit_set and stop <= end:
            out.append(escape(text[cursor:start], quote=True))
            out.append(f"<mark>{escape(text[start:stop], quote=True)}</mark>")
            cursor = stop
    out.append(escape(text[cursor:end], quote=True))
    if end < len(text):
        out.append(" " + ELLIPSIS)
    return "".join(out).strip()


def _best_window(spans: list[tuple[int, int, str]], hits: list[int]) -> int:
    """Return the first token of the window holding the most distinct matched words (earliest wins ties)."""
    if not hits:
        return 0
    best, best_key = 0, (-1, -1)
    for h in hits:
        first = max(0, h - 3)  # a little context before the first match reads better
        inside = [spans[i][2] for i in hits if first <= i < first + WINDOW]
        key = (len({stem(w) for w in inside}), len(inside))
        if key > best_key:
            best, best_key = first, key
    if best + WINDOW > len(spans):  # show a full window at the end of the text rather than a short one
        best = max(0, len(spans) - WINDOW)
    return best
