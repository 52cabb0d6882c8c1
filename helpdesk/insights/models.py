"""What the content editors did about a content gap: the history of handled items (never deleted)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.orm import Base, utcnow

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


def _report_indexes() -> None:
    """Indexes the reports and the log sweep need on other features' tables (declared here, made by 0009)."""
    from helpdesk.search.models import SearchClick, SearchQuery
    from helpdesk.tickets.models import Deflection, Ticket

    Index("ix_search_click_created", SearchClick.__table__.c.created_at)
    searches = SearchQuery.__table__.c
    # Covers the reports' scan of a period: no row lookups.
    Index("ix_search_query_report", searches.created_at, searches.query, searches.hits, searches.source,
          searches.person)
    Index("ix_deflection_created", Deflection.__table__.c.created_at)
    Index("ix_ticket_created", Ticket.__table__.c.created_at)
    Index("ix_ticket_state_created", Ticket.__table__.c.state_code, Ticket.__table__.c.created_at)
    Index("ix_ticket_resolved", Ticket.__table__.c.resolved_at)


_report_indexes()
