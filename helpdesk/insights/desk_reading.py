"""What people read and searched, for the desk's dashboard: the most read articles' helpfulness, top searches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from helpdesk.insights.rollup import KINDS, query_counts, query_people
from helpdesk.insights.scope import Period
from helpdesk.kb.models import Vote
from helpdesk.search.models import SearchClick, SearchQuery

TOP = 10
#: A hit is opened soon after its search: searches this much before the period may have clicks inside it.
SLACK = dt.timedelta(days=1)


def most_read(session: Session, period: Period, people: list[str] | None) -> list[tuple[str, int, int, int]]:
    """Return (slug, opens from search, helpful votes, votes) of the most opened articles of the period."""
    opens = select(SearchClick.article_slug, func.count()).where(
        SearchClick.created_at >= period.start, SearchClick.created_at < period.end
    )
    if people is not None:  # from the people's searches (their index) to the clicks, not every click to its search
        opens = opens.where(
            SearchClick.search_id.in_(
                select(SearchQuery.id).where(
                    SearchQuery.person.in_(people or [""]),
                    SearchQuery.created_at >= period.start - SLACK,
                    SearchQuery.created_at < period.end,
                )
            )
        )
    top = session.execute(
        opens.group_by(SearchClick.article_slug).order_by(func.count().desc(), SearchClick.article_slug).limit(TOP)
    ).all()
    if not top:
        return []
    # Helpfulness is the article's, as its page shows it to everyone: all votes, not only the scope's.
    votes = {
        slug: (int(yes or 0), int(total))
        for slug, yes, total in session.execute(
            select(Vote.article_slug, func.sum(case((Vote.helpful.is_(True), 1), else_=0)), func.count())
            .where(Vote.article_slug.in_([slug for slug, _n in top]))
            .group_by(Vote.article_slug)
        )
    }
    return [(slug, int(n), *votes.get(slug, (0, 0))) for slug, n in top]


def top_searches(session: Session, period: Period, people: list[str] | None) -> list[tuple[str, int, int]]:
    """Return (query, searches, distinct people) of the most frequent searches of the period, never who."""
    rows = query_counts(session, period, KINDS, people, limit=TOP)
    people_counts = query_people(session, period, KINDS, people, [[query] for query, *_rest in rows])
    return [(query, n, p) for (query, n, _last, _shown), p in zip(rows, people_counts, strict=True)]
