"""Tickets: requests, their history of events, location/system incidents, attachments, deflections."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import Agency, User
from helpdesk.orm import Base, utcnow
from helpdesk.vocabulary import OPEN_STATUSES as OPEN_STATUSES  # re-exported: the ticket modules read it here
from helpdesk.vocabulary import Status, Tier

CATEGORIES = ("login", "error", "slow", "access", "privacy", "reopen", "other")
STATUSES = tuple(Status)
TIERS = tuple(Tier)
AFFECTED = ("me", "location", "unknown")
#: The condition of the partial indexes of open work, written out from OPEN_STATUSES (queries.status_in writes the
#: same list, so that the planner can prove it); the text is the migration's exactly.
_OPEN_ROWS = "status IN ({})".format(", ".join(f"'{status}'" for status in OPEN_STATUSES))


class Incident(Base):
    """Several reports of one problem: at one location (agency) or system-wide (several states)."""

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_open", "scope", "category", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # "location" or "system"
    category: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_report_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    notified_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    reason: Mapped[str] = mapped_column(String(1000), default="")


class Ticket(Base):
    """A request for help that self-help did not solve."""

    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("reporter_id", "idempotency_key", name="uq_ticket_reporter_key"),
        Index("ix_ticket_queue_local", "tier", "agency_id", "status", "resolution_due"),
        Index("ix_ticket_queue_state", "tier", "state_code", "status", "resolution_due"),
        # Also a whole tier's open queue (status IN ..., tier = ?): the due order leads with a CASE (overdue first),
        # so no index gives its order and this one filters those rows as well as a partial (tier, due) one did.
        Index("ix_ticket_due", "status", "tier", "first_response_due"),
        Index("ix_ticket_agency_category_created", "agency_id", "category", "created_at"),
        # A category's recent reports across agencies (system-wide incidents) are read from ix_ticket_report_created
        # (created_at first, category in it): no (category, created_at) index of their own (0018).
        # The "everything" queue by last change (read backwards: newest first) and by first response due.
        Index(
            "ix_ticket_open_updated",
            "updated_at",
            "id",
            postgresql_where=text(_OPEN_ROWS),
            sqlite_where=text(_OPEN_ROWS),
        ),
        # The response order puts unanswered requests first: the same expression leads the index.
        Index(
            "ix_ticket_open_response",
            text("(first_responded_at IS NOT NULL)"),
            "first_response_due",
            "id",
            postgresql_where=text(_OPEN_ROWS),
            sqlite_where=text(_OPEN_ROWS),
        ),
        # Only rows with a holder or an incident: most open tickets have neither, and every row an UPDATE moves
        # on PostgreSQL (the escalation sweep's 100,000) would otherwise add an entry for NULL to each.
        Index(
            "ix_ticket_assignee_id",
            "assignee_id",
            postgresql_where=text("assignee_id IS NOT NULL"),
            sqlite_where=text("assignee_id IS NOT NULL"),
        ),
        Index(
            "ix_ticket_incident_id",
            "incident_id",
            postgresql_where=text("incident_id IS NOT NULL"),
            sqlite_where=text("incident_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: No index of its own: uq_ticket_reporter_key starts with it (0017).
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    state_code: Mapped[str | None] = mapped_column(String(2))
    category: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    tried: Mapped[str] = mapped_column(Text, default="")
    affected: Mapped[str] = mapped_column(String(16), default="unknown")
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW.value)
    tier: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    route_reason: Mapped[str] = mapped_column(String(1000))
    #: The knowledge-base answers shown before filing, as "slug#question" separated by spaces.
    suggestions_shown: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    first_response_due: Mapped[dt.datetime | None]
    resolution_due: Mapped[dt.datetime | None]
    first_responded_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    escalated_at: Mapped[dt.datetime | None]
    #: Optimistic lock: a change based on an older version is refused with a conflict, never lost.
    version: Mapped[int] = mapped_column(Integer, default=1)

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    agency: Mapped[Agency] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class TicketEvent(Base):
    """One step of a ticket's history: who, when, what, why; replies are public, notes internal."""

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_ticket_event_ticket_created", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    body: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(1000))

    actor: Mapped[User | None] = relationship(lazy="joined")


class Attachment(Base):
    """A file attached to a ticket, stored outside the web root under a random name."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Deflection(Base):
    """A request that self-help answered: "This answered my question" instead of a ticket."""

    __tablename__ = "deflection"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    article_slug: Mapped[str | None] = mapped_column(String(200))
    question_id: Mapped[str | None] = mapped_column(String(300))
    #: What the person had typed as the subject when search offered the answer (evidence for learned phrasings).
    query: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
