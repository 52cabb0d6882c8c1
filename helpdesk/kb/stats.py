"""Per-article counters (votes, visible comments) kept in one row, changed in the transaction that changes them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from helpdesk.kb.models import ArticleStats, Comment


@dataclass(frozen=True, slots=True)
class Stats:
    """What an article page shows of the database: vote counts, visible comments, the comments' version."""

    helpful: int = 0
    total: int = 0
    comments: int = 0
    comment_version: int = 0


#: `session.info` key: the slugs whose counters the session changed (the kept counters drop them at the commit).
CHANGED_SLUGS = "helpdesk.changed_stats"
_COLUMNS = (ArticleStats.helpful, ArticleStats.total, ArticleStats.comments, ArticleStats.comment_version)


def _upsert(session: Session, article_slug: str, **increments: int) -> Stats:
    """Add `increments` to the article's row (creating it), atomically, and return the row as it now is."""
    session.info.setdefault(CHANGED_SLUGS, set()).add(article_slug)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ArticleStats).values(article_slug=article_slug, **increments)
    upsert = statement.on_conflict_do_update(
        index_elements=[ArticleStats.article_slug],
        set_={name: getattr(ArticleStats, name) + getattr(statement.excluded, name) for name in increments},
    ).returning(*_COLUMNS)
    return Stats(*session.execute(upsert).one())


def add_votes(session: Session, article_slug: str, *, helpful: int, total: int) -> Stats:
    """Change the article's vote counts by these differences (the caller holds the vote row's lock)."""
    return _upsert(session, article_slug, helpful=helpful, total=total)


def refresh_comments(session: Session, article_slug: str) -> Stats:
    """Record that the article's comments changed: raise the version and recount the visible ones.

    The version bump locks the row first, so the count that follows (a new statement, hence a new snapshot under
    READ COMMITTED) sees every comment change committed before ours: concurrent moderators keep the count exact.
    """
    session.flush()
    _upsert(session, article_slug, comment_version=1)
    visible = session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(Comment.article_slug == article_slug, Comment.hidden_at.is_(None))
    )
    row = session.execute(
        update(ArticleStats)
        .where(ArticleStats.article_slug == article_slug)
        .values(comments=visible)
        .returning(*_COLUMNS)
        .execution_options(synchronize_session=False)
    ).one()
    return Stats(*row)


def get_stats(session: Session, article_slug: str) -> Stats:
    """Return the article's counters (zeros when nothing happened to it yet)."""
    row = session.execute(select(*_COLUMNS).where(ArticleStats.article_slug == article_slug)).first()
    return Stats(*row) if row else Stats()


def get_stats_many(session: Session, slugs: list[str] | None = None) -> dict[str, Stats]:
    """Return the counters per article slug (every article that has a row when `slugs` is None)."""
    query = select(ArticleStats.article_slug, *_COLUMNS)
    if slugs is not None:
        query = query.where(ArticleStats.article_slug.in_(slugs))
    return {slug: Stats(*rest) for slug, *rest in session.execute(query)}
