"""The editor's list: every article with status, last editor, last change, helpfulness and "No" reasons (no Flask)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.kb.content_models import STATUSES, Article, ArticleRevision, Section
from helpdesk.kb.models import Vote
from helpdesk.kb.services import VoteCounts, get_vote_counts_many


@dataclass(frozen=True, slots=True)
class EditorRow:
    """One line of the editor's list."""

    slug: str
    title: str
    section: str
    status: str
    revision: int
    published_revision: int | None
    editor: str | None
    changed_at: dt.datetime
    votes: VoteCounts
    reasons: int


def list_editor_rows(session: Session, *, status: str = "", query: str = "") -> list[EditorRow]:
    """Return the articles, most recently changed first; `status` and `query` (title or slug words) filter."""
    statement = (
        select(Article, ArticleRevision, Section.title, User.name)
        .join(
            ArticleRevision,
            (ArticleRevision.article_id == Article.id) & (ArticleRevision.number == Article.current_revision),
        )
        .join(Section, Section.id == Article.section_id)
        .outerjoin(User, User.id == ArticleRevision.author_id)
        .order_by(Article.updated_at.desc(), Article.id.desc())
    )
    if status in STATUSES:
        statement = statement.where(Article.status == status)
    for word in query.lower().split()[:8]:
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        statement = statement.where(func.lower(ArticleRevision.title).like(pattern) | Article.slug.like(pattern))
    rows = session.execute(statement).all()
    slugs = [article.slug for article, *_ in rows]
    counts = get_vote_counts_many(session, slugs)
    reasons = dict(
        session.execute(
            select(Vote.article_slug, func.count())
            .where(Vote.article_slug.in_(slugs), Vote.helpful.is_(False), Vote.reason.is_not(None))
            .group_by(Vote.article_slug)
        ).all()
    )
    return [
        EditorRow(
            a.slug,
            r.title,
            section,
            a.status,
            a.current_revision,
            a.published_revision,
            editor,
            a.updated_at,
            counts.get(a.slug, VoteCounts()),
            int(reasons.get(a.slug, 0)),
        )
        for a, r, section, editor in rows
    ]


def list_no_reasons(session: Session, slug: str, limit: int = 20) -> list[str]:
    """Return the latest "No" reasons readers left on the article."""
    return list(
        session.scalars(
            select(Vote.reason)
            .where(Vote.article_slug == slug, Vote.helpful.is_(False), Vote.reason.is_not(None))
            .order_by(Vote.updated_at.desc())
            .limit(limit)
        )
    )
