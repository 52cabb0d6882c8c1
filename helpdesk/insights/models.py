"""What the content editors did about a content gap: the history of handled items (never deleted)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.orm import Base, utcnow
from helpdesk.search.models import PERSON_MAX, QUERY_MAX

#: The kinds of items a gap report lists and an editor can handle.
KINDS = ("zero_result", "no_click", "not_helpful")
ACTIONS = ("phrasing", "article", "dismissed")


class HandledItem(Base):
    """One handling of a gap item: a failed query (by its normalised text) or an article's "No" votes."""

    __tablename__ = "insight_handled"
    __table_args__ = (Index("ix_insight_handled_kind_key", "kind", "item_key", "handled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: The normalised query, or the article slug of a not-helpful item.
    item_key: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(16))
    #: What was done, e.g. the question a phrasing now leads to.
    detail: Mapped[str] = mapped_column(String(500), default="")
    handled_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    handled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SearchDay(Base):
    """Everyone's searches of one finished UTC day by normalised query and kind: the national reports' rollup."""

    __tablename__ = "search_day"
    # Clustered by its key: a period is one range of the table. PostgreSQL's key index INCLUDEs searches, last_seen
    # and shown (migration 0016), so that a period is read from the index alone, as SQLite reads it.
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    #: "zero_result", "no_click" (results nobody opened, typeahead excluded) or "other".
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    query: Mapped[str] = mapped_column(String(QUERY_MAX), primary_key=True)
    searches: Mapped[int]
    last_seen: Mapped[dt.datetime]
    shown: Mapped[int]  # the most results it was shown that day


class SearchWeekPerson(Base):
    """Who (the log's anonymous hash, never a name) searched a query of a kind in a week, and on which rolled days.

    A week, not a day, per row: people who search the same thing day after day are one row, not seven."""

    __tablename__ = "search_week_person"
    __table_args__ = {"sqlite_with_rowid": False}  # PostgreSQL's key index INCLUDEs days (migration 0016)

    week: Mapped[dt.date] = mapped_column(primary_key=True)  # its Monday
    query: Mapped[str] = mapped_column(String(QUERY_MAX), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    person: Mapped[str] = mapped_column(String(PERSON_MAX), primary_key=True)
    days: Mapped[int]  # bit d set: searched it on weekday d (Monday 0)


class SearchRollup(Base):
    """A day whose searches the two rollup tables hold in full (the reports read its raw rows no more)."""

    __tablename__ = "search_rollup"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    rolled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def _report_indexes() -> None:
    """Indexes the reports and the log sweep need on other features' tables (declared here, made by 0009, 0014)."""
    from helpdesk.search.models import SearchClick
    from helpdesk.tickets.models import Deflection, Ticket

    ticket = Ticket.__table__.c
    Index("ix_search_click_created", SearchClick.__table__.c.created_at)
    Index("ix_deflection_created", Deflection.__table__.c.created_at)
    # The desk's reads of a period's requests, from the index alone (it replaced ix_ticket_created).
    Index(
        "ix_ticket_report_created",
        ticket.created_at,
        ticket.tier,
        ticket.category,
        ticket.state_code,
        ticket.agency_id,
        ticket.first_responded_at,
        ticket.resolved_at,
        ticket.first_response_due,
        ticket.resolution_due,
    )
    # The backlog by age; status last, as SQLite needs it in the index to answer from the index alone.
    Index(
        "ix_ticket_open_created",
        ticket.state_code,
        ticket.created_at,
        ticket.status,
        postgresql_where=text("status IN ('new', 'open', 'pending')"),
        sqlite_where=text("status IN ('new', 'open', 'pending')"),
    )
    Index("ix_ticket_state_created", ticket.state_code, ticket.created_at)
    # Only resolved rows: an open ticket's NULL would be written again by every UPDATE of it on PostgreSQL.
    Index(
        "ix_ticket_resolved",
        ticket.resolved_at,
        postgresql_where=ticket.resolved_at.is_not(None),
        sqlite_where=ticket.resolved_at.is_not(None),
    )


_report_indexes()
