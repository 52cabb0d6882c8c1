"""Votes: cast or change one, count them exactly (in the counter row), rank articles by helpfulness."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from helpdesk.kb.models import VOTE_REASON_MAX, Vote
from helpdesk.kb.stats import add_votes, get_stats_many
from helpdesk.orm import utcnow
from helpdesk.text import clean_line


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
    reason = " ".join(clean_line(reason).split())[:VOTE_REASON_MAX]
    return reason or None


def cast_vote(
    session: Session, article_slug: str, *, voter: str, helpful: bool, reason: str | None = None
) -> VoteCounts:
    """Record `voter`'s vote on an article (replacing an earlier one) and return the new counts.

    The counter row changes in the same transaction by the vote's difference: the earlier vote is read under a
    row lock (FOR UPDATE on PostgreSQL; SQLite's write transactions run one at a time), and a first vote is an
    INSERT that does nothing on a concurrent twin, which is then re-read and updated instead.
    """
    # A host whose library is a moment behind a rename still shows the old slug: the vote follows the article.
    article_slug = current_slug(session, article_slug)
    now, reason = utcnow(), clean_reason(helpful, reason)
    mine = (Vote.article_slug == article_slug, Vote.voter_key == voter)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for _ in range(3):
        earlier = session.execute(select(Vote.helpful).where(*mine).with_for_update()).first()
        if earlier is not None:
            session.execute(
                update(Vote)
                .where(*mine)
                .values(helpful=helpful, reason=reason, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if earlier.helpful == helpful:
                return get_vote_counts(session, article_slug)
            stats = add_votes(session, article_slug, helpful=1 if helpful else -1, total=0)
            return VoteCounts(stats.helpful, stats.total)
        created = session.execute(
            insert(Vote)
            .values(
                article_slug=article_slug,
                voter_key=voter,
                helpful=helpful,
                reason=reason,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[Vote.article_slug, Vote.voter_key])
            .returning(Vote.id)
        ).first()
        if created is not None:
            stats = add_votes(session, article_slug, helpful=int(helpful), total=1)
            return VoteCounts(stats.helpful, stats.total)
    raise RuntimeError(f"could not record the vote of {voter} on {article_slug}")  # a twin vanished 3 times


def current_slug(session: Session, slug: str) -> str:
    """Return the article's slug now, following a rename (the slug itself when it was never renamed)."""
    from helpdesk.kb.editing import redirect_target  # the editing module imports the models of this package

    return redirect_target(session, slug) or slug


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
    """Return counts per article slug (all articles when `slugs` is None), from the counter rows."""
    return {
        slug: VoteCounts(stats.helpful, stats.total)
        for slug, stats in get_stats_many(session, slugs).items()
        if stats.total
    }


def rank_most_helpful(counts: dict[str, VoteCounts], slugs: list[str], limit: int = 5) -> list[str]:
    """Return the slugs with at least one "Yes", by Wilson lower bound of the helpful share."""

    def lower_bound(c: VoteCounts) -> float:
        # Wilson score (95 %): 2 of 2 must not beat 40 of 45.
        if c.total == 0:
            return 0.0
        z, n, p = 1.96, c.total, c.helpful / c.total
        root: float = ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5  # a float's power is typed Any
        return (p + z * z / (2 * n) - z * root) / (1 + z * z / n)

    ranked = sorted(
        (s for s in slugs if counts.get(s, VoteCounts()).helpful > 0), key=lambda s: (-lower_bound(counts[s]), s)
    )
    return ranked[:limit]
