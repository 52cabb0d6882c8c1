"""Votes: cast or change one, count them exactly, rank articles by helpfulness."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from helpdesk.database import utcnow
from helpdesk.kb.models import VOTE_REASON_MAX, Vote


@dataclass(frozen=True, slots=True)
class VoteCounts:
    """`helpful` out of `total` found this helpful."""

    helpful: int = 0
    total: int = 0

    def to_dict(self) -> dict[str, int]:
        """Return the API shape `{"helpful": N, "total": M}`."""
        return {"helpful": self.helpful, "total": self.total}


def clean_reason(helpful: bool, reason: str | None) -> str | None:
    """Return the reason worth keeping: only with a "No", trimmed, empty as None."""
    if helpful or reason is None:
        return None
    reason = " ".join(reason.split())[:VOTE_REASON_MAX]
    return reason or None


def cast_vote(session: Session, article_slug: str, *, voter: str, helpful: bool,
              reason: str | None = None) -> VoteCounts:
    """Record `voter`'s vote on an article (replacing an earlier one) and return the new counts."""
    # A host whose library is a moment behind a rename still shows the old slug: the vote follows the article.
    article_slug = current_slug(session, article_slug)
    now = utcnow()
    values = {"article_slug": article_slug, "voter_key": voter, "helpful": helpful,
              "reason": clean_reason(helpful, reason), "created_at": now, "updated_at": now}
    # One statement that inserts or updates: concurrent votes by the same voter can never make two rows.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Vote).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[Vote.article_slug, Vote.voter_key],
        set_={"helpful": statement.excluded.helpful, "reason": statement.excluded.reason,
              "updated_at": statement.excluded.updated_at},
    )
    session.execute(statement)
    return get_vote_counts(session, article_slug)


def current_slug(session: Session, slug: str) -> str:
    """Return the article's slug now, following a rename (the slug itself when it was never renamed)."""
    from helpdesk.kb.content_models import Article, SlugRedirect

    moved = session.scalars(select(Article.slug).join(SlugRedirect, SlugRedirect.article_id == Article.id)
                            .where(SlugRedirect.old_slug == slug)).first()
    return moved or slug


def add_vote_reason(session: Session, article_slug: str, *, voter: str, reason: str) -> bool:
    """Attach a reason to the voter's existing "No" vote; return False when there is none."""
    vote = get_vote(session, article_slug, voter=voter)
    if vote is None or vote.helpful:
        return False
    vote.reason = clean_reason(False, reason)
    vote.updated_at = utcnow()
    session.flush()
    return True


def get_vote(session: Session, article_slug: str, *, voter: str) -> Vote | None:
    """Return the voter's vote on the article, if any."""
    return session.scalars(select(Vote).where(Vote.article_slug == article_slug, Vote.voter_key == voter)).first()


def get_vote_counts(session: Session, article_slug: str) -> VoteCounts:
    """Return the article's exact counts."""
    return get_vote_counts_many(session, [article_slug]).get(article_slug, VoteCounts())


def get_vote_counts_many(session: Session, slugs: list[str] | None = None) -> dict[str, VoteCounts]:
    """Return counts per article slug (all articles when `slugs` is None)."""
    helpful = func.sum(case((Vote.helpful.is_(True), 1), else_=0))
    query = select(Vote.article_slug, helpful, func.count()).group_by(Vote.article_slug)
    if slugs is not None:
        query = query.where(Vote.article_slug.in_(slugs))
    return {slug: VoteCounts(int(h or 0), int(t)) for slug, h, t in session.execute(query)}


def rank_most_helpful(counts: dict[str, VoteCounts], slugs: list[str], limit: int = 5) -> list[str]:
    """Return the slugs with at least one "Yes", by Wilson lower bound of the helpful share."""

    def lower_bound(c: VoteCounts) -> float:
        # Wilson score (95 %): 2 of 2 must not beat 40 of 45.
        if c.total == 0:
            return 0.0
        z, n, p = 1.96, c.total, c.helpful / c.total
        return (p + z * z / (2 * n) - z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5) / (1 + z * z / n)

    ranked = sorted((s for s in slugs if counts.get(s, VoteCounts()).helpful > 0),
                    key=lambda s: (-lower_bound(counts[s]), s))
    return ranked[:limit]
