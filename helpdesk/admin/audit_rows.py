"""Audit events as sentences: people by name, requests as "request #5", actions and details in words (no Flask)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Agency, State, User
from helpdesk.accounts.permissions import can_manage
from helpdesk.audit.models import AuditEvent
from helpdesk.audit.wording import NOT_A_PERSON, action_label, action_verb, detail_words, outcome_words

#: Older rows named people by id ("2 items to user 9").
_USER_ID = re.compile(r"\buser (\d{1,18})\b")
#: Verbs of failed attempts (a failed "sign_in" did not sign anyone in).
FAILED_VERBS = {
    "sign_in": "tried to sign in",
    "password_reset": "tried to reset a password with a link",
    "password_link_opened": "opened a password link that no longer works",
    "second_factor": "entered a wrong second-factor code",
}


@dataclass(frozen=True, slots=True)
class Ref:
    """Something a sentence names: its label, and what to link it to (kind "user" or "ticket", with its id)."""

    label: str
    kind: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One event as a sentence: actor, the verb around the target, then details; plus label and outcome."""

    event: AuditEvent
    label: str
    actor: Ref
    before: str
    target: Ref | None
    after: str
    detail: str
    outcome: str

    @property
    def sentence(self) -> str:
        """Return the event as one plain sentence (the CSV's "What happened")."""
        middle = f" {self.target.label}" if self.target else ""
        return f"{self.actor.label} {self.before}{middle}{self.after}."


@dataclass(slots=True)
class _Names:
    users: dict[int, User]
    agencies: dict[int, str]
    states: dict[str, str]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) <= 18 else None


def _names(session: Session, events: Sequence[AuditEvent]) -> _Names:
    user_ids = {e.actor_id for e in events if e.actor_id is not None}
    user_ids |= {i for e in events if e.target_type == "user" and (i := _int(e.target_id)) is not None}
    user_ids |= {int(found) for e in events for found in _USER_ID.findall(e.detail or "")}
    agency_ids = {i for e in events if e.target_type == "agency" and (i := _int(e.target_id)) is not None}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    found: Iterable[Row[int, str]] = (
        session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids))) if agency_ids else []
    )
    agencies = {row[0]: row[1] for row in found}
    states = {row[0]: row[1] for row in session.execute(select(State.code, State.name))}
    return _Names(users, agencies, states)


def _person(user: User | None, viewer: User, fallback: str) -> Ref:
    if user is None:
        return Ref(fallback)
    return Ref(user.name, "user" if can_manage(viewer, user.state_code) else None, user.id)


def _target(event: AuditEvent, names: _Names, viewer: User) -> Ref | None:
    kind, key = event.target_type, event.target_id
    number = _int(key)
    if kind is None or key is None:
        return None
    if kind == "user":
        if number is not None and number == event.actor_id:
            return Ref("their own account")
        return _person(names.users.get(number or -1), viewer, "a user no longer known")
    if kind == "ticket" and number is not None:
        return Ref(f"request #{number}", "ticket", number)
    if kind == "agency":
        return Ref(names.agencies.get(number or -1, "an agency"))
    if kind == "state":
        return Ref(names.states.get(key, key))
    return Ref(f"{kind.replace('_', ' ')} #{key}")


def _detail(event: AuditEvent, names: _Names) -> str:
    words = detail_words(event.action, event.detail)

    def name(found: re.Match[str]) -> str:
        user = names.users.get(int(found[1]))
        return user.name if user is not None else found[0]

    return _USER_ID.sub(name, words)


def describe_events(session: Session, events: Sequence[AuditEvent], viewer: User) -> list[AuditRow]:
    """Return the events as sentences; people the viewer administers are linkable, others are named only."""
    names = _names(session, events)
    rows = []
    for event in events:
        actor = _person(
            names.users.get(event.actor_id or -1),
            viewer,
            NOT_A_PERSON.get(event.actor_email or "", event.actor_email or "Someone unknown"),
        )
        verb = FAILED_VERBS.get(event.action, "") if event.outcome == "failure" else ""
        verb = verb or action_verb(event.action)
        target = _target(event, names, viewer)
        before, marker, after = verb.partition("{target}")
        if not marker:  # the verb says it all (a token or a comment: the detail names it)
            before, after, target = verb, "", None
        elif target is None:
            target = Ref("someone")
        rows.append(
            AuditRow(
                event=event,
                label=action_label(event.action),
                actor=actor,
                before=before.rstrip(),
                target=target,
                after=after,
                detail=_detail(event, names),
                outcome=outcome_words(event.outcome),
            )
        )
    return rows
