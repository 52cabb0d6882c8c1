"""Reading the reports (an audited read) and closing the loop on a gap: a curated phrasing, or handled by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import is_national
from helpdesk.audit.services import Origin, record_event
from helpdesk.domain_errors import DomainError
from helpdesk.insights.content import ContentReport, content_report
from helpdesk.insights.desk import DeskReport, desk_report
from helpdesk.insights.models import KINDS, HandledItem
from helpdesk.insights.scope import Period, report_scope
from helpdesk.orm import utcnow
from helpdesk.search.documents import split_key
from helpdesk.search.learning import learnable_phrase
from helpdesk.search.models import QUERY_MAX, LearnedPhrasing
from helpdesk.triage.sla import BusinessCalendar
from helpdesk.vocabulary import Role


class GapActionError(DomainError):
    """A phrasing or handling that cannot be done: the message says why."""

    code = "gap_action_refused"


def read_content_report(
    session: Session, actor: User, period: Period, state: str | None, articles: Mapping[str, str], *, full: bool = True
) -> ContentReport:
    """Return the content-gap report `actor` may see (PermissionError beyond their reach)."""
    return content_report(session, report_scope(actor, "content", state), period, articles, full=full)


def read_desk_report(
    session: Session,
    actor: User,
    period: Period,
    state: str | None,
    *,
    calendar: Callable[[str], BusinessCalendar],
    now: dt.datetime | None = None,
    full: bool = True,
) -> DeskReport:
    """Return the desk's dashboard `actor` may see (PermissionError beyond their reach)."""
    return desk_report(
        session, report_scope(actor, "desk", state), period, now=now or utcnow(), calendar=calendar, full=full
    )


def can_handle_gaps(user: User) -> bool:
    """Tell whether the user edits content: the help center's editors and national administrators."""
    return user.is_active and (is_national(user) or user.role == Role.KB_EDITOR)


def handle_gap(
    session: Session,
    *,
    actor: User,
    origin: Origin,
    kind: str,
    key: str,
    action: str,
    detail: str = "",
    now: dt.datetime | None = None,
) -> HandledItem:
    """Record that an item of the report was handled (it leaves the list; the history stays), audited."""
    if not can_handle_gaps(actor):
        raise PermissionError("only the help center's editors handle content gaps")
    if kind not in KINDS or not key.strip():
        raise GapActionError("unknown item")
    item = HandledItem(
        kind=kind,
        item_key=key[:QUERY_MAX],
        action=action,
        detail=detail[:500],
        handled_by_id=actor.id,
        handled_at=now or utcnow(),
    )
    session.add(item)
    session.flush()
    record_event(
        session,
        "content_gap_handled",
        origin=origin,
        actor_id=actor.id,
        actor_email=actor.email,
        target_type="insight_handled",
        target_id=item.id,
        state_code=actor.state_code,
        detail=f"{kind} {key!r}: {action}{' ' + detail if detail else ''}",
    )
    return item


def add_gap_phrasing(
    session: Session,
    *,
    actor: User,
    origin: Origin,
    kind: str,
    query: str,
    question_key: str,
    known_keys: Callable[[str], bool],
    now: dt.datetime | None = None,
) -> LearnedPhrasing:
    """Make a failed query a curated phrasing of a question (indexed with it at once) and mark the item handled."""
    if not can_handle_gaps(actor):
        raise PermissionError("only the help center's editors add phrasings")
    phrase = learnable_phrase(query)
    if phrase is None:
        raise GapActionError("This query cannot be a phrasing: it needs 1 to 12 words, one of them a real word.")
    if not known_keys(question_key):
        raise GapActionError("Choose one of the questions of the help center.")
    now = now or utcnow()
    row = session.scalars(
        select(LearnedPhrasing).where(LearnedPhrasing.phrase == phrase, LearnedPhrasing.question_key == question_key)
    ).first()
    if row is None:
        row = LearnedPhrasing(phrase=phrase, question_key=question_key, people=0, created_at=now, updated_at=now)
        session.add(row)
    else:  # an editor's choice outranks an earlier removal
        row.removed_at, row.removed_by_id, row.updated_at = None, None, now
    session.flush()
    record_event(
        session,
        "phrasing_added",
        origin=origin,
        actor_id=actor.id,
        actor_email=actor.email,
        target_type="learned_phrasing",
        target_id=row.id,
        state_code=actor.state_code,
        detail=f"{phrase!r} -> {question_key} (from the content-gap report)",
    )
    slug, question_id = split_key(question_key)
    handle_gap(
        session,
        actor=actor,
        origin=origin,
        kind=kind,
        key=query,
        action="phrasing",
        detail=f"phrasing of {slug}{'#' + question_id if question_id else ''}",
        now=now,
    )
    return row


def handling_history(session: Session, limit: int = 50) -> list[tuple[HandledItem, str]]:
    """Return the latest handled items with who handled them (names: editors are staff, not searchers)."""
    rows = session.execute(
        select(HandledItem, User.name)
        .join(User, User.id == HandledItem.handled_by_id)
        .order_by(HandledItem.handled_at.desc(), HandledItem.id.desc())
        .limit(limit)
    )
    return [(item, name) for item, name in rows]
