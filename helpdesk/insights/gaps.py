"""Failed searches grouped by normalised query, typo variants together, with distinct people (no names)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, exists, func, select
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


def failure_condition(kind: str) -> ColumnElement[bool]:
    """Return the condition of a failed search: no result, or results of which none was opened."""
    if kind == "zero_result":
        return SearchQuery.hits == 0
    opened = exists().where(SearchClick.search_id == SearchQuery.id)
    return and_(SearchQuery.hits > 0, SearchQuery.source != "typeahead", ~opened)


def _similar(a: list[str], b: list[str]) -> bool:
    """Tell whether two queries are typo variants: same words but for a slip in words of 4+ letters."""
    if len(a) != len(b) or a == b:
        return a == b
    return all(x == y or (min(len(x), len(y)) >= 4 and distance(x, y, 2) <= (1 if len(x) < 8 else 2))
               for x, y in zip(a, b, strict=True))


def _merge(rows: list[tuple[str, int, dt.datetime, int]]) -> list[FailedQuery]:
    """Group queries whose words differ by a typo under the most searched spelling."""
    groups: list[tuple[list[str], FailedQuery]] = []
    by_words: dict[tuple[str, ...], FailedQuery] = {}
    for query, count, last, shown in sorted(rows, key=lambda r: (-r[1], r[0])):
        tokens = words(query) or [query]
        key = tuple(tokens)
        target = by_words.get(key) or next((g for t, g in groups if _similar(t, tokens)), None)
        if target is None:
            target = FailedQuery(query=query, searches=0, last_seen=last, shown=0)
            groups.append((tokens, target))
        by_words[key] = target
        target.variants.append(query)
        target.searches += count
        target.last_seen = max(target.last_seen, last)
        target.shown = max(target.shown, shown)
    return [group for _tokens, group in groups]


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


def failed_searches(session: Session, kind: str, period: Period, people: list[str] | None, *,
                    limit: int = LIST_LENGTH) -> list[FailedQuery]:
    """Return the most frequent failed queries of the period by the people in scope (None: everyone)."""
    where = [SearchQuery.created_at >= period.start, SearchQuery.created_at < period.end, failure_condition(kind)]
    if people is not None:
        if not people:
            return []
        where.append(SearchQuery.person.in_(people))
    rows = session.execute(
        select(SearchQuery.query, func.count(), func.max(SearchQuery.created_at), func.max(SearchQuery.hits))
        .where(*where).group_by(SearchQuery.query).order_by(func.count().desc(), SearchQuery.query).limit(_READ))
    groups = _merge([(q, n, _aware(last), shown) for q, n, last, shown in rows])
    handled = _handled(session, kind, [v for g in groups for v in g.variants])
    # A handled query leaves the list, and comes back only if people fail with it again afterwards.
    groups = [g for g in groups if not any(_aware(handled[v]) >= g.last_seen for v in g.variants if v in handled)]
    top = groups[:limit]
    variants = {v: g for g in top for v in g.variants}
    if variants:
        seen: dict[int, set[str]] = {id(g): set() for g in top}
        for query, person in session.execute(
                select(SearchQuery.query, SearchQuery.person).where(*where, SearchQuery.query.in_(list(variants)),
                                                                    SearchQuery.person.is_not(None)).distinct()):
            seen[id(variants[query])].add(person)
        for group in top:
            group.people = len(seen[id(group)])
    return top
