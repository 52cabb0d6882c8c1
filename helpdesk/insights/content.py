"""The content-gap report: failed searches, unhelpful articles, opened and unopened answers, deflections."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVarTuple, cast

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.insights.desk_reading import SLACK
from helpdesk.insights.gaps import FailedQuery, failed_searches
from helpdesk.insights.models import HandledItem
from helpdesk.insights.scope import Period, Scope, scope_people, scope_voter_keys
from helpdesk.kb.models import Vote
from helpdesk.search.models import SearchClick, SearchQuery
from helpdesk.tickets.models import Deflection, Ticket

_Ts = TypeVarTuple("_Ts")  # the column types of a query a helper narrows and hands back

TOP = 20
REASONS = 5


@dataclass(slots=True)
class NotHelpful:
    """An article with "No" votes not handled yet, and the newest reasons given."""

    article: str
    no_votes: int
    reasons: list[str] = field(default_factory=list)

    def to_api(self) -> dict[str, object]:
        """Return the item as the API contract has it."""
        return {"article": self.article, "no_votes": self.no_votes, "reasons": self.reasons}


@dataclass(slots=True)
class ContentReport:
    """Every figure of the content-gap report for one scope and period."""

    period: Period
    scope: Scope
    zero_result: list[FailedQuery]
    no_click: list[FailedQuery]
    not_helpful: list[NotHelpful]
    most_opened: list[tuple[str, int]]  # (document key, opens)
    filed_after: list[tuple[str, int]]  # (document key, requests filed after it was shown)
    deflections_by_category: list[tuple[str, int]]
    deflections_by_answer: list[tuple[str, int]]
    never_opened: list[str]  # article slugs

    def to_api(self) -> dict[str, object]:
        """Return the report as `GET /api/v1/reports/content-gaps` answers it."""
        return {
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "state": self.scope.state,
            "zero_result": [g.to_api() for g in self.zero_result],
            "no_click": [g.to_api() for g in self.no_click],
            "not_helpful": [item.to_api() for item in self.not_helpful],
        }


def _key(slug: str | None, question_id: str | None) -> str:
    return f"{slug}#{question_id}" if question_id else (slug or "")


def not_helpful_articles(session: Session, period: Period, voters: list[str] | None) -> list[NotHelpful]:
    """Return articles by "No" votes of the period cast since they were last handled, most first."""
    handled = (
        select(HandledItem.item_key.label("slug"), func.max(HandledItem.handled_at).label("at"))
        .where(HandledItem.kind == "not_helpful")
        .group_by(HandledItem.item_key)
        .subquery()
    )
    where = [
        Vote.helpful.is_(False),
        Vote.updated_at >= period.start,
        Vote.updated_at < period.end,
        or_(handled.c.at.is_(None), Vote.updated_at > handled.c.at),
    ]
    if voters is not None:
        if not voters:
            return []
        where.append(Vote.voter_key.in_(voters))
    base = select(Vote).outerjoin(handled, handled.c.slug == Vote.article_slug).where(*where)
    counted = base.with_only_columns(Vote.article_slug, func.count()).group_by(Vote.article_slug)
    items = [
        NotHelpful(slug, n)
        for slug, n in session.execute(counted.order_by(func.count().desc(), Vote.article_slug).limit(TOP))
    ]
    by_slug = {item.article: item for item in items}
    if by_slug:
        reasons = (
            base.with_only_columns(Vote.article_slug, Vote.reason)
            .where(Vote.article_slug.in_(list(by_slug)), Vote.reason.is_not(None), Vote.reason != "")
            .order_by(Vote.updated_at.desc(), Vote.id.desc())
        )
        for slug, reason in session.execute(reasons):
            if len(by_slug[slug].reasons) < REASONS:
                by_slug[slug].reasons.append(cast(str, reason))  # cast: the WHERE leaves out NULL reasons
    return items


def _clicks(period: Period, people: list[str] | None) -> Select[str, str | None, int]:
    query = select(SearchClick.article_slug, SearchClick.question_id, func.count()).where(
        SearchClick.created_at >= period.start, SearchClick.created_at < period.end
    )
    if people is not None:  # from the people's searches (their index) to the clicks
        query = query.where(
            SearchClick.search_id.in_(
                select(SearchQuery.id).where(
                    SearchQuery.person.in_(people or [""]),
                    SearchQuery.created_at >= period.start - SLACK,
                    SearchQuery.created_at < period.end,
                )
            )
        )
    return query.group_by(SearchClick.article_slug, SearchClick.question_id)


def _user_scope(query: Select[*_Ts], scope: Scope) -> Select[*_Ts]:
    if scope.everyone:
        return query
    query = query.join(User, User.id == Deflection.user_id)
    return (
        query.where(User.agency_id == scope.agency_id)
        if scope.agency_id
        else query.where(User.state_code == scope.state)
    )


def _ticket_scope(query: Select[*_Ts], scope: Scope) -> Select[*_Ts]:
    if scope.agency_id:
        return query.where(Ticket.agency_id == scope.agency_id)
    return query.where(Ticket.state_code == scope.state) if scope.state else query


def content_report(
    session: Session, scope: Scope, period: Period, articles: Mapping[str, str], *, full: bool = True
) -> ContentReport:
    """Compute the content-gap report; `articles` maps the published slugs to their titles.

    Without `full`, only the API's lists (failed searches, unhelpful articles) are computed."""
    people, voters = scope_people(session, scope), scope_voter_keys(session, scope)
    failed = failed_searches(session, period, people)
    if not full:
        return ContentReport(
            period=period,
            scope=scope,
            zero_result=failed["zero_result"],
            no_click=failed["no_click"],
            not_helpful=not_helpful_articles(session, period, voters),
            most_opened=[],
            filed_after=[],
            deflections_by_category=[],
            deflections_by_answer=[],
            never_opened=[],
        )
    opened = Counter({_key(slug, qid): n for slug, qid, n in session.execute(_clicks(period, people))})
    opened_slugs = {key.split("#", 1)[0] for key in opened}
    filed: Counter[str] = Counter()
    shown = _ticket_scope(
        select(Ticket.suggestions_shown).where(
            Ticket.created_at >= period.start, Ticket.created_at < period.end, Ticket.suggestions_shown != ""
        ),
        scope,
    )
    for text in session.scalars(shown):
        filed.update(set(text.split()))
    in_period = (Deflection.created_at >= period.start, Deflection.created_at < period.end)
    by_category = session.execute(
        _user_scope(select(Deflection.category, func.count()).where(*in_period), scope)
        .group_by(Deflection.category)
        .order_by(func.count().desc(), Deflection.category)
    ).all()
    by_answer: dict[str, int] = defaultdict(int)
    for slug, qid, n in session.execute(
        _user_scope(
            select(Deflection.article_slug, Deflection.question_id, func.count()).where(
                *in_period, Deflection.article_slug.is_not(None)
            ),
            scope,
        ).group_by(Deflection.article_slug, Deflection.question_id)
    ):
        by_answer[_key(slug, qid)] += n
    return ContentReport(
        period=period,
        scope=scope,
        zero_result=failed["zero_result"],
        no_click=failed["no_click"],
        not_helpful=not_helpful_articles(session, period, voters),
        most_opened=opened.most_common(TOP),
        filed_after=filed.most_common(TOP),
        deflections_by_category=[(c, n) for c, n in by_category],
        deflections_by_answer=sorted(by_answer.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP],
        never_opened=sorted(slug for slug in articles if slug not in opened_slugs),
    )
