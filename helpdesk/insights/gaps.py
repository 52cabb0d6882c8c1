"""Failed searches grouped by normalised query, typo variants together, with distinct people (no names)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from helpdesk.insights.models import HandledItem
from helpdesk.insights.scope import Period
from helpdesk.search.analysis import words
from helpdesk.search.models import SearchClick, SearchQuery
from helpdesk.search.spelling import distance

#: Distinct queries read per list before merging variants; the report shows the most frequent groups.
_READ = 2000
LIST_LENGTH = 25


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
        return {"query": self.query, "searches": self.searches, "people": self.people,
                "last_seen": self.last_seen.isoformat()}


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
    # Queries one word apart share a key with that word blanked: only those are compared (not every pair).
    blocks: dict[tuple[str, ...], list[tuple[tuple[str, ...], FailedQuery]]] = defaultdict(list)
    for query, count, last, shown in sorted(rows, key=lambda r: (-r[1], r[0])):
        key = tokens = _tokens(query)
        blanks = [(*key[:i], "\0", *key[i + 1:]) for i in range(len(key))]
        target = by_words.get(key) or next((g for i, b in enumerate(blanks) for t, g in blocks.get(b, ())
                                            if _typo(t[i], tokens[i])), None)
        if target is None:
            target = FailedQuery(query=query, searches=0, last_seen=last, shown=0)
            groups.append(target)
            for blank in blanks:
                blocks[blank].append((tokens, target))
        by_words[key] = target
        target.variants.append(query)
        target.searches += count
        target.last_seen = max(target.last_seen, last)
        target.shown = max(target.shown, shown)
    return groups


def _handled(session: Session, kind: str, keys: list[str]) -> dict[str, dt.datetime]:
    found: dict[str, dt.datetime] = {}
    for start in range(0, len(keys), 500):
        for key, at in session.execute(select(HandledItem.item_key, func.max(HandledItem.handled_at)).where(
                HandledItem.kind == kind, HandledItem.item_key.in_(keys[start:start + 500]))
                .group_by(HandledItem.item_key)):
            found[key] = at
    return found


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def failed_searches(session: Session, period: Period, people: list[str] | None, *,
                    limit: int = LIST_LENGTH) -> dict[str, list[FailedQuery]]:
    """Return {"zero_result", "no_click"}: the most frequent failed queries of the period by the people in scope."""
    where = [SearchQuery.created_at >= period.start, SearchQuery.created_at < period.end]
    if people is not None:
        if not people:
            return {kind: [] for kind in ("zero_result", "no_click")}
        where.append(SearchQuery.person.in_(people))
    opened = exists().where(SearchClick.search_id == SearchQuery.id)
    kinds = {"zero_result": SearchQuery.hits == 0,
             "no_click": and_(SearchQuery.hits > 0, SearchQuery.source != "typeahead", ~opened)}
    found = {}
    for kind, condition in kinds.items():
        # Each kind is one aggregate over the period's searches, read from the covering report index.
        rows = session.execute(
            select(SearchQuery.query, func.count(), func.max(SearchQuery.created_at), func.max(SearchQuery.hits),
                   func.count(SearchQuery.person.distinct()))
            .where(*where, condition).group_by(SearchQuery.query)
            .order_by(func.count().desc(), SearchQuery.query).limit(_READ)).all()
        found[kind] = _top(session, kind, rows, [*where, condition], limit)
    return found


def _top(session: Session, kind: str, rows: list[Any], where: list[Any], limit: int) -> list[FailedQuery]:
    """Merge typo variants, drop handled items, and count the distinct people of the groups shown."""
    distinct = {q: int(p) for q, _n, _l, _s, p in rows}
    groups = _merge([(q, int(n), _aware(last), int(shown or 0)) for q, n, last, shown, _p in rows])
    handled = _handled(session, kind, [v for g in groups for v in g.variants])
    # A handled query leaves the list, and comes back only if people fail with it again afterwards.
    groups = [g for g in groups if not any(_aware(handled[v]) >= g.last_seen for v in g.variants if v in handled)]
    top = groups[:limit]
    for group in top:
        group.people = distinct[group.query]
    # Someone who typed two spellings is one person: groups of several spellings have their people listed.
    variants = {v: g for g in top if len(g.variants) > 1 for v in g.variants}
    if variants:
        seen: dict[int, set[str]] = {id(g): set() for g in variants.values()}
        for query, person in session.execute(
                select(SearchQuery.query, SearchQuery.person).where(
                    *where, SearchQuery.query.in_(list(variants)), SearchQuery.person.is_not(None)).distinct()):
            seen[id(variants[query])].add(person)
        for group in variants.values():
            group.people = len(seen[id(group)])
    return top
