"""Filing a request: validate, route by the triage policy, group bursts into incidents, notify; or a deflection."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.services import Origin, record_event
from helpdesk.orm import utcnow
from helpdesk.text import clean_line, clean_text
from helpdesk.tickets.agencies import AgencyDirectory, agency_info
from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.escalation.escalate import move_ticket, set_due_times
from helpdesk.tickets.history import record_change
from helpdesk.tickets.incidents import attach, earlier_reports, route_in_turn
from helpdesk.tickets.models import AFFECTED, Deflection, Incident, Ticket
from helpdesk.tickets.notifications import notify_incident, notify_new_ticket, notify_received, responders
from helpdesk.triage.policy import Cause, Tier, TriagePolicy, UnknownCategoryError
from helpdesk.triage.routing import AgencyInfo, RoutingDecision, escalation_decision, route_report
from helpdesk.vocabulary import Status

_ANSWER_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:#[a-z0-9_-]+)?$")
#: An Idempotency-Key the service accepts (the API and the web form check it with this too).
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
MAX_DESCRIPTION = 20_000
MAX_SUGGESTIONS = 20


@dataclass(frozen=True, slots=True)
class Submission:
    """The ticket of a submission; `created` is False when the same submission had already made it."""

    ticket: Ticket
    created: bool
    decision: RoutingDecision | None = None


def submit_ticket(
    session: Session,
    triage: Triage,
    *,
    reporter: User,
    category: str,
    subject: str,
    description: str,
    idempotency_key: str,
    origin: Origin,
    tried: str = "",
    affected: str = "unknown",
    suggestions: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> Submission:
    """File a request: route it, group it into an incident when part of a burst, and notify; idempotent per key.

    :param suggestions: the knowledge-base answers shown before filing, as "slug#question".
    :param idempotency_key: one per form; a double click or a resend returns the ticket the first one made.
    """
    now = now or utcnow()
    if not reporter.is_active:
        raise PermissionError("a deactivated user cannot file requests")
    fields = _clean(triage, category, subject, description, tried, affected, suggestions, idempotency_key)
    category = fields["category"]
    existing = _find(session, reporter.id, idempotency_key)
    if existing is not None:
        return Submission(existing, created=False)
    policy = triage.policy
    info = agency_info(session, reporter.agency)  # read before the lock: reports of the category wait for its holder
    # Routed first as if no other report counted: that is the final routing of a category that groups no incidents,
    # and for one that does, the row is written before the category's turn (below), which then only updates it.
    decision = route_report(policy, category=category, agency=info)
    ticket = Ticket(
        reporter_id=reporter.id,
        agency_id=reporter.agency_id,
        state_code=reporter.agency.state_code,
        status=Status.NEW.value,
        created_at=now,
        updated_at=now,
        **fields,
    )
    _route(ticket, decision, policy, info, now)
    try:
        # A SAVEPOINT: a concurrent twin of this submission that won the race leaves our transaction usable.
        with session.begin_nested():
            session.add(ticket)
    except IntegrityError:
        existing = _find(session, reporter.id, idempotency_key)
        if existing is None:
            raise
        return Submission(existing, created=False)
    incident: Incident | None = None
    if policy.groups_incidents(category):  # only incident categories count earlier reports: the others need no turn
        decision, incident = route_in_turn(session, policy, ticket, info, now)
        _route(ticket, decision, policy, info, now)
    _record_submission(session, ticket, decision, reporter, origin, now)
    if incident is None:
        notify_new_ticket(
            session, triage.link, ticket, responders(info, decision.tier, decision.assignee, mailbox=True)
        )
    else:
        _group(session, triage, ticket, incident, decision, info, origin, now)
    notify_received(session, triage.link, ticket, decision.reporter_notice)
    return Submission(ticket, created=True, decision=decision)


def _route(ticket: Ticket, decision: RoutingDecision, policy: TriagePolicy, info: AgencyInfo, now: dt.datetime) -> None:
    """Give the ticket the decision's tier, reason, holder and due times (unchanged values write nothing)."""
    ticket.tier = decision.tier.value
    ticket.route_reason = decision.reason
    ticket.assignee_id = decision.assignee.id if decision.assignee else None
    set_due_times(ticket, policy, info.time_zone, now)


def record_deflection(
    session: Session,
    triage: Triage,
    *,
    user: User,
    category: str,
    answer: str | None,
    origin: Origin,
    now: dt.datetime | None = None,
    query: str | None = None,
) -> Deflection:
    """Record that self-help answered the question ("This answered my question"): no ticket is filed.

    `query` is what the user had typed when search offered the answer (kept only with an answer).
    """
    _category(triage, category)
    slug, question = None, None
    if answer:
        if not _ANSWER_RE.match(answer):
            raise TicketError("The answer must be given as an article slug, optionally with #question-id.")
        slug, _, question = answer.partition("#")
    deflection = Deflection(
        user_id=user.id,
        category=category,
        article_slug=slug,
        question_id=question or None,
        query=(" ".join((query or "").split())[:200] or None) if slug else None,
        created_at=now or utcnow(),
    )
    session.add(deflection)
    session.flush()
    record_event(
        session,
        "ticket_deflected",
        origin=origin,
        actor_id=user.id,
        actor_email=user.email,
        target_type="deflection",
        target_id=deflection.id,
        state_code=user.state_code,
        detail=f"{category}: {answer or 'checklist'}",
    )
    return deflection


def _record_submission(
    session: Session, ticket: Ticket, decision: RoutingDecision, reporter: User, origin: Origin, now: dt.datetime
) -> None:
    record_change(
        session,
        ticket,
        "submitted",
        actor=reporter,
        origin=origin,
        now=now,
        touch=False,
        detail=f"category {ticket.category}, tier {ticket.tier}",
    )
    record_change(session, ticket, "routed", actor=None, origin=origin, now=now, reason=decision.reason, touch=False)
    if decision.reporter_notice and ticket.incident_id is not None:
        record_change(
            session,
            ticket,
            "incident",
            actor=None,
            origin=origin,
            now=now,
            body=decision.reporter_notice,
            reason=f"part of {decision.incident} incident {ticket.incident_id}",
            touch=False,
        )


def _group(
    session: Session,
    triage: Triage,
    ticket: Ticket,
    incident: Incident,
    decision: RoutingDecision,
    info: AgencyInfo,
    origin: Origin,
    now: dt.datetime,
) -> None:
    """Count the report in its incident; a new incident takes in the burst's earlier reports and is notified once."""
    incident.report_count += 1
    incident.last_report_at = now
    if not decision.notify:
        return  # joined an open incident: its queue was told when it opened
    earlier = earlier_reports(session, triage.policy, incident, ticket, now)
    attach(session, incident, earlier, origin=origin, now=now)
    if incident.scope == "system":
        _escalate_to_system(session, triage, earlier, origin, now)
    recipients = responders(info, decision.tier, decision.assignee, mailbox=True)
    notify_incident(session, triage.link, incident, [*earlier, ticket], recipients, decision.queue.label)


def _escalate_to_system(
    session: Session, triage: Triage, tickets: list[Ticket], origin: Origin, now: dt.datetime
) -> None:
    """Move the earlier reports of a new system-wide incident up to the national office (rule system_wide)."""
    directory = AgencyDirectory()
    directory.load(session, {ticket.agency_id for ticket in tickets})
    for ticket in tickets:
        if ticket.tier == Tier.NATIONAL.value:
            continue
        info = directory[ticket.agency_id]
        decision = escalation_decision(
            triage.policy,
            category=ticket.category,
            tier=Tier(ticket.tier),
            agency=info,
            cause=Cause.SYSTEM_WIDE,
            open_system_incident=True,
        )
        if decision is not None:
            move_ticket(
                session, triage.policy, ticket, decision, actor=None, origin=origin, now=now, time_zone=info.time_zone
            )


def _find(session: Session, reporter_id: int, key: str) -> Ticket | None:
    return session.scalars(
        select(Ticket).where(Ticket.reporter_id == reporter_id, Ticket.idempotency_key == key)
    ).first()


def _category(triage: Triage, category: str) -> str:
    try:
        return triage.policy.category(category).code
    except UnknownCategoryError as exc:
        raise TicketError(f"Choose what kind of problem this is: {exc}.", field="category") from None


def _clean(
    triage: Triage,
    category: str,
    subject: str,
    description: str,
    tried: str,
    affected: str,
    suggestions: Iterable[str],
    key: str,
) -> dict[str, str]:
    """Return the ticket's text columns, or raise TicketError naming the first bad field (the web form and the API
    both rely on this one check)."""
    category = _category(triage, clean_line(category))
    subject = " ".join(clean_line(subject).split())
    if not 3 <= len(subject) <= 200:
        raise TicketError("Give the request a subject of 3 to 200 characters.", field="subject")
    description, tried = clean_text(description).strip(), clean_text(tried).strip()
    if not description:
        raise TicketError("Describe the problem: what happened, and what you expected.", field="description")
    if len(description) > MAX_DESCRIPTION:
        raise TicketError(f"Keep the description under {MAX_DESCRIPTION:,} characters.", field="description")
    if len(tried) > MAX_DESCRIPTION:
        raise TicketError(f"Keep what you tried under {MAX_DESCRIPTION:,} characters.", field="tried")
    if affected not in AFFECTED:
        raise TicketError(f"Say who is affected: {', '.join(AFFECTED)}.", field="affected")
    shown = list(dict.fromkeys(s.strip() for s in suggestions if s.strip()))
    if len(shown) > MAX_SUGGESTIONS or any(not _ANSWER_RE.match(s) for s in shown):
        # No field: the answers were shown by search, not typed, so the person cannot correct them.
        raise TicketError("The answers shown must be article slugs with an optional #question-id.")
    if not IDEMPOTENCY_KEY.match(key or ""):
        raise TicketError("The form has expired: reload the page and send it again.", field="idempotency_key")
    return {
        "category": category,
        "subject": subject,
        "description": description,
        "tried": tried,
        "affected": affected,
        "suggestions_shown": " ".join(shown),
        "idempotency_key": key,
    }
