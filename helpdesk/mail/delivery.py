"""Deliver the outbox: claim due rows atomically, send each, then mark it sent, due again later, or dead."""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from helpdesk.mail.models import OutboxMessage
from helpdesk.orm import is_unavailable, utcnow

logger = logging.getLogger(__name__)

#: First retry after 60 s (30 s · 2^1), doubling, never more than an hour apart.
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=1)
#: A row in `sending` for this long belongs to a deliverer that died mid-send.
STUCK_AFTER = dt.timedelta(minutes=15)
#: How long an outcome is retried while the database is away (sending stops at STUCK_AFTER / 2: this ends before).
RECORD_RETRY = dt.timedelta(minutes=5)
RECORD_FIRST_DELAY, RECORD_MAX_DELAY = 0.2, 5.0


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """What a backend needs to send one outbox row (a plain copy: no session is open while sending)."""

    id: int
    message_id: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    attempts: int


class Backend(Protocol):
    """Hands a message to the world; raises on failure, `close()` ends a pass (e.g. quits an SMTP connection)."""

    def send(self, mail: OutgoingMail) -> None: ...

    def close(self) -> None: ...


class PermanentFailure(Exception):
    """This message can never be delivered as it is (bad address, rejected for good): no retry."""


class BackendUnavailable(Exception):
    """The backend cannot send anything now (SMTP down, login refused): the rest of the pass fails the same way."""


@dataclass(slots=True)
class DeliveryCounts:
    """What one `deliver_due` pass did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    recovered: int = 0
    released: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, retrying {self.retrying}, dead {self.dead}, "
            f"recovered {self.recovered}, released {self.released}"
        )

    @property
    def active(self) -> bool:
        """Whether the pass changed anything."""
        return bool(self.claimed or self.recovered)


def retry_delay(attempts: int) -> dt.timedelta:
    """Return the wait before the next try of a message that has failed `attempts` times."""
    doubling: int = 2 ** min(attempts, 20)  # typed Any (a negative power is a float); attempts are never negative
    return min(BASE_DELAY * doubling, MAX_DELAY)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def recover_stuck(session: Session, *, now: dt.datetime, stuck_after: dt.timedelta, max_attempts: int) -> int:
    """Return rows left in `sending` by a dead deliverer to `pending` (counted as an attempt); return how many."""
    cutoff = now - stuck_after
    stuck = (OutboxMessage.status == "sending", OutboxMessage.claimed_at < cutoff)
    error = "interrupted: the deliverer stopped while sending (the message may have gone out)"
    # Counted as an attempt, so a message that kills its deliverer every time ends up dead, not in a loop.
    dead = session.execute(
        update(OutboxMessage)
        .where(*stuck, OutboxMessage.attempts + 1 >= max_attempts)
        .values(status="dead", attempts=OutboxMessage.attempts + 1, last_error=error)
        .returning(OutboxMessage.message_id, OutboxMessage.recipient)
        .execution_options(synchronize_session=False)
    ).all()
    for message_id, recipient in dead:
        logger.error("mail %s to %r is dead after %d attempts: %s", message_id, recipient, max_attempts, error)
    recovered = _rowcount(
        session.execute(
            update(OutboxMessage)
            .where(*stuck)
            .values(
                status="pending",
                attempts=OutboxMessage.attempts + 1,
                last_error=error,
                next_attempt_at=now,
                claimed_by=None,
                claimed_at=None,
            )
            .execution_options(synchronize_session=False)
        )
    )
    return recovered + len(dead)


def claim_due(session: Session, *, token: str, now: dt.datetime, batch: int) -> list[OutgoingMail]:
    """Mark up to `batch` due pending rows as `sending` by `token` and return them; the caller commits."""
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
    )
    claim = update(OutboxMessage).values(status="sending", claimed_by=token, claimed_at=now)
    claim = claim.execution_options(synchronize_session=False)
    if _dialect(session) == "sqlite":
        # One statement: SQLite runs writers one at a time, so no other deliverer can claim between the
        # choice and the update (a SELECT first would also risk SQLITE_BUSY on upgrading the lock).
        session.execute(claim.where(OutboxMessage.status == "pending", OutboxMessage.id.in_(due)))
    else:
        ids = session.scalars(due.with_for_update(skip_locked=True)).all()
        if not ids:
            return []
        session.execute(claim.where(OutboxMessage.id.in_(ids)))
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.message_id,
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.body_text,
            OutboxMessage.body_html,
            OutboxMessage.attempts,
        )
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_by == token)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    ).all()
    return [OutgoingMail(*row) for row in rows]


def deliver_due(
    session_factory: Callable[[], Session],
    backend: Backend,
    *,
    worker_id: str,
    batch: int = 20,
    now: dt.datetime | None = None,
    max_attempts: int = 8,
    stuck_after: dt.timedelta = STUCK_AFTER,
) -> DeliveryCounts:
    """Run one delivery pass: recover stuck rows, claim due ones, send each and record the outcome.

    `now` freezes the clock (tests); by default each step reads the real time.
    """
    clock: Callable[[], dt.datetime] = (lambda: now.astimezone(dt.UTC)) if now is not None else utcnow
    # A fresh token per pass: rows of a pass that failed half-way are never mistaken for this pass's.
    token = f"{worker_id[:55]}:{secrets.token_hex(4)}"
    counts = DeliveryCounts()
    with session_factory() as session, session.begin():
        counts.recovered = recover_stuck(session, now=clock(), stuck_after=stuck_after, max_attempts=max_attempts)
        claimed = claim_due(session, token=token, now=clock(), batch=batch)
    counts.claimed = len(claimed)
    started = time.monotonic()
    left = list(claimed)
    try:
        while left:
            if time.monotonic() - started > stuck_after.total_seconds() / 2:
                break  # before another deliverer would take our claims for stuck ones and send them again
            mail = left.pop(0)
            try:
                backend.send(mail)
            except BackendUnavailable as exc:
                for failed in (mail, *left):
                    _record_failure(session_factory, failed, token, exc, clock(), max_attempts, counts)
                left = []
            except Exception as exc:
                _record_failure(session_factory, mail, token, exc, clock(), max_attempts, counts)
            else:
                _finish(
                    session_factory,
                    mail,
                    token,
                    status="sent",
                    sent_at=clock(),
                    last_error=None,
                    body_text=redact_secrets(mail.body_text),
                    body_html=redact_secrets(mail.body_html),
                )
                counts.sent += 1
    finally:
        backend.close()
        if left:
            counts.released = _release(session_factory, [mail.id for mail in left], token)
    return counts


#: Single-use links carry a secret token; once a message is sent (or dead) the outbox keeps no usable copy.
_SECRET_LINK = re.compile(r"(/reset/)[A-Za-z0-9_-]{16,}")


def redact_secrets(text: str | None) -> str | None:
    """Return the text with the tokens of password links replaced (the mail itself has left already)."""
    return None if text is None else _SECRET_LINK.sub(r"\1[removed after delivery]", text)


def _record_failure(
    session_factory: Callable[[], Session],
    mail: OutgoingMail,
    token: str,
    exc: Exception,
    now: dt.datetime,
    max_attempts: int,
    counts: DeliveryCounts,
) -> None:
    attempts = mail.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:1000]
    if isinstance(exc, PermanentFailure) or attempts >= max_attempts:
        logger.error("mail %s to %r is dead after %d attempts: %s", mail.message_id, mail.recipient, attempts, error)
        _finish(
            session_factory,
            mail,
            token,
            status="dead",
            attempts=attempts,
            last_error=error,
            body_text=redact_secrets(mail.body_text),
            body_html=redact_secrets(mail.body_html),
        )
        counts.dead += 1
        return
    logger.warning(
        "mail %s to %r failed (attempt %d), retrying later: %s", mail.message_id, mail.recipient, attempts, error
    )
    _finish(
        session_factory,
        mail,
        token,
        status="pending",
        attempts=attempts,
        last_error=error,
        next_attempt_at=now + retry_delay(attempts),
        claimed_by=None,
        claimed_at=None,
    )
    counts.retrying += 1


def _finish(session_factory: Callable[[], Session], mail: OutgoingMail, token: str, **values: Any) -> None:
    """Record the outcome in its own transaction, so that a later crash cannot undo it.

    The deliverer alone knows whether the mail left: while the database is away (a restart, a fail-over) it keeps
    trying, with back-off, rather than leave the row in `sending` until the stuck timeout.
    """
    delay, deadline = RECORD_FIRST_DELAY, time.monotonic() + RECORD_RETRY.total_seconds()
    while True:
        try:
            with session_factory() as session, session.begin():
                result = session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == mail.id,
                        OutboxMessage.status == "sending",
                        OutboxMessage.claimed_by == token,
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
            break
        except Exception as exc:
            if not is_unavailable(exc) or time.monotonic() + delay > deadline:
                raise
            logger.warning(
                "mail %s: could not record %s (%s); trying again in %.1f s",
                mail.message_id,
                values["status"],
                str(exc).splitlines()[0],
                delay,
            )
            time.sleep(delay)
            delay = min(delay * 2, RECORD_MAX_DELAY)
    if _rowcount(result) != 1:
        logger.warning(
            "mail %s: the claim was taken over before its outcome (%s) was recorded", mail.message_id, values["status"]
        )


def _release(session_factory: Callable[[], Session], ids: Sequence[int], token: str) -> int:
    """Give claimed, never-tried rows back to `pending` (they were not sent, so no attempt is counted)."""
    try:
        with session_factory() as session, session.begin():
            return _rowcount(
                session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_(ids), OutboxMessage.status == "sending", OutboxMessage.claimed_by == token
                    )
                    .values(status="pending", claimed_by=None, claimed_at=None)
                    .execution_options(synchronize_session=False)
                )
            )
    except Exception:
        # Already unwinding from another error: the rows come back via `recover_stuck` later.
        logger.exception("could not release %d claimed mails", len(ids))
        return 0


def _rowcount(result: Any) -> int:
    return int(result.rowcount)
