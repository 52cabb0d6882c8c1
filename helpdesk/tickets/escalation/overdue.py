"""The overdue sweep's writes: escalations written set-based, one mail per receiving queue per batch."""

from __future__ import annotations

import datetime as dt
import typing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, String, cast, insert, literal, null, select, true, update
from sqlalchemy.orm import Session

from helpdesk.audit.models import AuditEvent
from helpdesk.audit.services import SYSTEM_ACTOR, Origin
from helpdesk.orm import UTCDateTime, table_of
from helpdesk.tickets import notifications
from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketConflict
from helpdesk.tickets.escalation.deciding import Decided, Decisions
from helpdesk.tickets.escalation.scratch import BATCH_GROUPS, BATCH_ROWS, BatchRow, Move, fill_scratch, roomy_cache
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.notifications import notify_escalated, responders
from helpdesk.triage.policy import Cause, Tier
from helpdesk.triage.routing import AgencyInfo, RoutingDecision, escalation_decision, hours_words
from helpdesk.triage.sla import due_at


@dataclass(frozen=True, slots=True)
class _Listed:
    """A ticket as an escalation mail lists it."""

    id: int
    subject: str
    agency: AgencyInfo


@dataclass(slots=True)
class _Mail:
    """One receiving queue's mail of a batch: the first requests listed, and how many there are."""

    decision: RoutingDecision
    info: AgencyInfo
    listed: list[tuple[_Listed, str]]
    total: int = 0


class EscalationWriter:
    """The escalations of one batch, written as escalation.move_ticket would (columns, public event, audit row),
    set-based: the decisions go into temporary tables, then two INSERT ... SELECT and one UPDATE.

    Deciding needs no session: a batch can be decided from rows read before the transaction that writes it, whose
    UPDATE then only moves tickets still at the version that was read.
    """

    def __init__(self, triage: Triage, now: dt.datetime, origin: Origin, decisions: Decisions | None = None) -> None:
        self._triage, self._now, self._origin = triage, now, origin
        #: Decisions of this pass by (agency, category, cause), with the elapsed words their reason holds: shared
        #: by the pass's batches.
        self._decisions = {} if decisions is None else decisions
        self._rows: list[BatchRow] = []
        self._moves: list[Move] = []
        self._groups: dict[tuple[str, int | None, str], int] = {}
        self._mails: dict[tuple[object, ...], _Mail] = {}
        #: Per (agency, category, cause) of this batch: the decision, its group and its mail (None: no rule).
        self._routes: dict[tuple[object, ...], tuple[Decided, int, _Mail] | None] = {}

    def add(self, row: Any, info: AgencyInfo, cause: Cause, elapsed: dt.timedelta) -> None:
        """Decide the escalation of one overdue tier-1 ticket (nothing when the policy has no rule for it)."""
        key = (info.id, row.category, cause)
        try:
            route = self._routes[key]
        except KeyError:
            route = self._routes[key] = self._route(key, row.category, info, cause, elapsed)
        if route is None:
            return
        decided, group, mail = route
        # The decision depends on the ticket only through the key, and on the elapsed time only through the words
        # "(N business hours elapsed)" of its reason: those are swapped in, the policy is not asked again.
        words = hours_words(elapsed)
        if decided.tail is not None and len(words) <= decided.room:
            reason = decided.head + words + decided.tail
        elif words == decided.words:  # an unsplit reason: head is the whole of it
            reason = decided.head
        else:
            decision = self._ask(row.category, info, cause, elapsed)
            if decision is None:
                return
            reason = decision.reason
        self._rows.append((row.id, group, reason, row.state_code, row.version))
        mail.total += 1
        if len(mail.listed) < notifications.MAX_LISTED:
            mail.listed.append((_Listed(row.id, row.subject, info), reason))

    def _route(
        self, key: tuple[object, ...], category: str, info: AgencyInfo, cause: Cause, elapsed: dt.timedelta
    ) -> tuple[Decided, int, _Mail] | None:
        """Return the pass's decision for a key (asking the policy the first time), its group and its mail."""
        decided = self._decisions.get(key)
        if decided is None:
            decided = self._decisions[key] = Decided.of(self._ask(category, info, cause, elapsed), hours_words(elapsed))
        decision = decided.decision
        if decision is None:
            return None
        assignee = decision.assignee.id if decision.assignee else None
        group_key = (decision.tier.value, assignee, info.time_zone)
        group = self._groups.get(group_key)
        if group is None:
            group = self._groups[group_key] = len(self._moves)
            self._moves.append(self._move(decision.tier, assignee, info.time_zone))
        queue = decision.queue
        mail_key = (queue.tier, queue.state_code, queue.agency_id, assignee)
        mail = self._mails.get(mail_key)
        if mail is None:
            mail = self._mails[mail_key] = _Mail(decision, info, [])
        return decided, group, mail

    def _ask(self, category: str, info: AgencyInfo, cause: Cause, elapsed: dt.timedelta) -> RoutingDecision | None:
        """Return the policy's escalation decision for a tier-1 ticket."""
        return escalation_decision(
            self._triage.policy, category=category, tier=Tier.LOCAL_IT, agency=info, cause=cause, elapsed=elapsed
        )

    def _move(self, tier: Tier, assignee: int | None, time_zone: str) -> Move:
        # Every ticket of the batch reaches its new tier now: the due times depend only on tier and zone.
        calendar, target = self._triage.policy.calendar(time_zone), self._triage.policy.targets[tier]
        return Move(
            tier.value,
            assignee,
            due_at(self._now, target, "first_response", calendar),
            due_at(self._now, target, "resolution", calendar),
        )

    def __len__(self) -> int:
        return len(self._rows)

    def write(self, session: Session) -> int:
        """Write the batch's escalations and mails; return how many tickets moved.

        Only tickets still at the version that was read move (every change of a ticket raises its version); when
        one has changed, TicketConflict is raised before any mail is queued and the caller rolls the batch back.
        """
        if not self._rows:
            return 0
        rows = sorted(self._rows)
        with roomy_cache(session):  # for the history and audit rows' index pages too
            moved = self._write_rows(session, rows)
        if moved != len(rows):
            raise TicketConflict(rows[0][0])
        self._send_mails(session)
        return len(rows)

    def _write_rows(self, session: Session, rows: list[BatchRow]) -> int:
        """Write the tickets' columns, history and audit rows; return how many tickets the UPDATE changed."""
        batch = BATCH_ROWS
        fill_scratch(session, rows, self._moves)
        now = literal(self._now, UTCDateTime())
        # History and audit first: on PostgreSQL each history row's foreign key check locks its ticket FOR KEY
        # SHARE, which the UPDATE's own lock then covers; after the UPDATE it would lock (and log) every new row
        # version again. A ticket the UPDATE then misses raises TicketConflict: the whole batch rolls back.
        session.execute(
            insert(table_of(TicketEvent)).from_select(
                ["ticket_id", "actor_id", "created_at", "kind", "public", "body", "reason"],
                select(batch.c.id, null(), now, literal("escalated"), true(), null(), batch.c.route_reason),
            )
        )
        session.execute(
            insert(table_of(AuditEvent)).from_select(  # the columns record_event writes
                [
                    "created_at",
                    "action",
                    "outcome",
                    "actor_id",
                    "actor_email",
                    "target_type",
                    "target_id",
                    "state_code",
                    "ip",
                    "user_agent",
                    "detail",
                ],
                select(
                    now,
                    literal("ticket_escalated"),
                    literal("success"),
                    null(),
                    literal(SYSTEM_ACTOR),
                    literal("ticket"),
                    cast(batch.c.id, String),
                    batch.c.state_code,
                    literal(self._origin.ip),
                    literal(self._origin.user_agent),
                    batch.c.route_reason,
                ),
            )
        )
        return self._update(session, rows, now)

    def _send_mails(self, session: Session) -> None:
        """Queue one mail per receiving queue (or named person) of the batch."""
        for mail in self._mails.values():
            notify_escalated(
                session,
                self._triage.link,
                [item for item, _ in mail.listed],
                responders(mail.info, mail.decision.tier, mail.decision.assignee),
                mail.decision.target,
                {item.id: reason for item, reason in mail.listed},
                total=mail.total,
            )

    def _update(self, session: Session, rows: list[BatchRow], now: Any) -> int:
        """Update the batch's tickets in one statement, each from its group's row; return how many rows changed."""
        batch, groups, ticket = BATCH_ROWS, BATCH_GROUPS, table_of(Ticket)
        # cast: Session.execute is declared to return a Result; an UPDATE's is a CursorResult (rowcount).
        return typing.cast(
            "CursorResult[Any]",
            session.execute(
                # The id range lets SQLite walk the batch's stretch of the primary key, not the whole table.
                update(ticket)
                .where(
                    ticket.c.id.between(rows[0][0], rows[-1][0]),
                    ticket.c.id == batch.c.id,
                    ticket.c.version == batch.c.version,  # unchanged since it was read
                    batch.c.grp == groups.c.grp,
                )
                .values(
                    tier=groups.c.tier,
                    assignee_id=groups.c.assignee_id,
                    route_reason=batch.c.route_reason,
                    first_response_due=groups.c.first_response_due,
                    resolution_due=groups.c.resolution_due,
                    escalated_at=now,
                    updated_at=now,
                    version=ticket.c.version + 1,
                )
            ),
        ).rowcount
