"""Failed searches grouped by normalised query, typo variants together, with distinct people (no names)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.insights.models import HandledItem
from helpdesk.insights.rollup import query_counts, query_people
from helpdesk.insights.scope import Period
from helpdesk.search.analysis import words
from helpdesk.search.spelling import distance

#: Distinct queries read per list before merging variants; the report shows the most frequent groups.
_READ = 2000
LIST_LENGTH = 25
#: Groups whose handling is read at a time (most searched first) until the list is full.
_SLICE = 100


@dataclass(slots=True)
class FailedQuery:
    """One normalised query (with its typo variants) that found nothing, or whose results nobody opened."""

    query: str
    searches: int
    last_seen: dt.datetime
    shown: int  # the most results it was shown (0 for no result)
    variants: list[str] = field(default_factory=list)
    people: int = 0

    def to_api(self) -> dict[str, object]:
        """Return the item as the API contract has it."""
        return {
            "query": self.query,
            "searches": self.searches,
            "people": self.people,
            "last_seen": self.last_seen.isoformat(),
        }


@lru_cache(maxsize=65_536)
def _typo(a: str, b: str) -> bool:
    """Tell whether two different words are one slip apart (two in long words); short words must match."""
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 2:
        return False
    return distance(a, b, 2) <= (1 if len(a) < 8 else 2)


@lru_cache(maxsize=65_536)
def _tokens(query: str) -> tuple[str, ...]:
    """Return a query's words (the query itself when it has none); cached, as the same queries come back."""
    return tuple(words(query)) or (query,)


def _merge(rows: list[tuple[str, int, dt.datetime, int]]) -> list[FailedQuery]:
    """Group queries whose words differ by a typo in one word under the most searched spelling."""
    groups: list[FailedQuery] = []
    by_words: dict[tuple[str, ...], FailedQuery] = {}
    # Queries one word apart share a key with that word blanked: only those are compared (not every pair). A block
    # holds the blanked word of each group's first spelling, in the order the groups were made.
    blocks: dict[tuple[str, ...], list[tuple[str, FailedQuery]]] = defaultdict(list)
    for query, count, last, shown in sorted(rows, key=lambda r: (-r[1], r[0])):
        key = tokens = _tokens(query)
        blanks = [(*key[:i], "\0", *key[i + 1 :]) for i in range(len(key))]
        target = by_words.get(key)
        if target is None:
            target = _similar(blocks, blanks, tokens)
        if target is None:
            target = FailedQuery(query=query, searches=0, last_seen=last, shown=0)
            groups.append(target)
            for i, blank in enumerate(blanks):
                blocks[blank].append((tokens[i], target))
        by_words[key] = target
        target.variants.append(query)
        target.searches += count
        target.last_seen = max(target.last_seen, last)
        target.shown = max(target.shown, shown)
    return groups


def _similar(
    blocks: dict[tuple[str, ...], list[tuple[str, FailedQuery]]], blanks: list[tuple[str, ...]], tokens: tuple[str, ...]
) -> FailedQuery | None:
    """Return the first group (by blanked word, then age) one typo away from `tokens`, or None."""
    for i, blank in enumerate(blanks):
        found = blocks.get(blank)
        word = tokens[i]
        if not found or len(word) < 4:  # `_typo` is False for short words: skip the block's calls
            continue
        for other, group in found:
            if _typo(other, word):
                return group
    return None


def _handled(session: Session, kind: str, keys: list[str]) -> dict[str, dt.datetime]:
    found: dict[str, dt.datetime] = {}
    for start in range(0, len(keys), 500):
        for key, at in session.execute(
            select(HandledItem.item_key, func.max(HandledItem.handled_at))
            .where(HandledItem.kind == kind, HandledItem.item_key.in_(keys[start : start + 500]))
            .group_by(HandledItem.item_key)
        ):
            found[key] = at
    return found


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def failed_searches(
    session: Session, period: Period, people: list[str] | None, *, limit: int = LIST_LENGTH
) -> dict[str, list[FailedQuery]]:
    """Return {"zero_result", "no_click"}: the most frequent failed queries of the period by the people in scope."""
    if people is not None and not people:
        return {kind: [] for kind in ("zero_result", "no_click")}
    found = {}
    for kind in ("zero_result", "no_click"):
        # Each kind is one aggregate: the daily rollups of finished days plus the raw rows of the others.
        rows = query_counts(session, period, (kind,), people, limit=_READ)
        found[kind] = _top(session, kind, rows, period, people, limit)
    return found


def _top(
    session: Session,
    kind: str,
    rows: list[tuple[str, int, dt.datetime, int]],
    period: Period,
    people: list[str] | None,
    limit: int,
) -> list[FailedQuery]:
    """Merge typo variants, drop handled items, and count the distinct people of the groups shown."""
    groups = _merge(rows)
    top: list[FailedQuery] = []
    # A handled query leaves the list, and comes back only if people fail with it again afterwards. Read in slices
    # of the list, most searched first, until it is full: not the handling of all the groups read.
    for start in range(0, len(groups), _SLICE):
        chunk = groups[start : start + _SLICE]
        handled = _handled(session, kind, [v for g in chunk for v in g.variants])
        top += [g for g in chunk if not any(_aware(handled[v]) >= g.last_seen for v in g.variants if v in handled)]
        if len(top) >= limit:
            break
    top = top[:limit]
    # Someone who typed two spellings is one person: only the groups shown have their people counted.
    for group, count in zip(
        top, query_people(session, period, (kind,), people, [g.variants for g in top]), strict=True
    ):
        group.people = count
    return top
