"""Delivery through a real SMTP server: commit before send, retries with back-off, dead letters, stuck claims."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.mail.backends import SmtpBackend
from helpdesk.mail.delivery import DeliveryCounts, retry_delay
from helpdesk.mail.models import OutboxMessage
from helpdesk.orm import utcnow
from tests.mail.conftest import SENDER, aware
from tests.smtp_server import LoopbackSMTP, free_port

Deliver = Callable[..., DeliveryCounts]


def test_only_committed_mail_is_sent_with_its_message_id_text_and_html(
    smtp_app: Flask,
    smtp: LoopbackSMTP,
    sessions: sessionmaker[Session],
    deliver: Deliver,
    rows: Callable[[], list[OutboxMessage]],
) -> None:
    with sessions() as session:
        session.add(
            OutboxMessage(
                message_id="<rolled-back@helpdesk.test>",
                recipient="bob@example.org",
                subject="Never",
                body_text="never sent",
                kind="test",
            )
        )
        session.flush()
        session.rollback()
    with sessions() as session, session.begin():
        session.add(
            OutboxMessage(
                message_id="<committed@helpdesk.test>",
                recipient="Alice <alice@example.org>",
                subject="Réinitialiser your password",
                kind="test",
                body_text="Reset: https://help.example.org/reset/abc\n",
                body_html="<p><a href='https://help.example.org/reset/abc'>Reset</a></p>\n",
            )
        )

    counts = deliver()

    assert (counts.claimed, counts.sent) == (1, 1)
    [message] = smtp.wait_for(1)
    assert smtp.received[0].rcpt_tos == ["alice@example.org"]
    assert message.get_all("Message-ID") == ["<committed@helpdesk.test>"]
    assert message["Subject"] == "Réinitialiser your password"
    assert message["From"] == SENDER and message["To"] == "Alice <alice@example.org>"
    assert message.get_body(("plain",)).get_content().splitlines() == ["Reset: https://help.example.org/reset/abc"]
    assert "href='https://help.example.org/reset/abc'" in message.get_body(("html",)).get_content()
    [row] = rows()
    assert (row.status, row.attempts, row.last_error) == ("sent", 0, None) and row.sent_at is not None
    assert deliver().claimed == 0


def test_smtp_outage_keeps_mail_pending_until_the_server_is_back(
    app: Flask, add_mail: Callable[..., int], deliver: Deliver, rows: Callable[[], list[OutboxMessage]]
) -> None:
    smtp = LoopbackSMTP(free_port())  # nothing listens on its port yet: SMTP is down
    app.config.update(smtp.mail_config())
    first, second = add_mail(), add_mail()
    before = utcnow()

    counts = deliver()

    # One failed connection fails the whole pass at once: no waiting for a timeout per message.
    assert (counts.claimed, counts.retrying, counts.sent) == (2, 2, 0)
    for row in rows():
        assert (row.status, row.attempts, row.claimed_by) == ("pending", 1, None)
        assert row.last_error and "SMTP server" in row.last_error
        assert aware(row.next_attempt_at) >= before + retry_delay(1)
    due = aware(rows()[0].next_attempt_at)
    with smtp:
        assert deliver().claimed == 0  # back, but the retry is not due yet
        assert deliver(now=due + dt.timedelta(seconds=1)).sent == 2
        assert deliver(now=due + dt.timedelta(days=1)).claimed == 0
        smtp.wait_for(2)
    assert sorted(m["Message-ID"] for m in smtp.messages) == sorted(r.message_id for r in rows())
    assert [(r.id, r.status, r.attempts) for r in rows()] == [(first, "sent", 1), (second, "sent", 1)]


def test_mail_is_dead_after_max_attempts(
    app: Flask,
    add_mail: Callable[..., int],
    deliver: Deliver,
    rows: Callable[[], list[OutboxMessage]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app.config.update(LoopbackSMTP(free_port()).mail_config())
    add_mail(recipient="carol@example.org")
    moment = utcnow()
    for attempt in range(1, 4):  # MAIL_MAX_ATTEMPTS is 3 in these tests
        counts = deliver(now=moment)
        assert counts.claimed == 1
        [row] = rows()
        assert row.attempts == attempt
        moment = aware(row.next_attempt_at) + dt.timedelta(seconds=1)
    assert (row.status, counts.dead) == ("dead", 1)
    assert deliver(now=moment + dt.timedelta(days=30)).claimed == 0
    assert any(
        record.levelno == logging.ERROR and "carol@example.org" in record.getMessage() and "dead" in record.getMessage()
        for record in caplog.records
    )


def test_back_off_doubles_and_is_capped_at_an_hour() -> None:
    assert [retry_delay(n).total_seconds() for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_stuck_sending_row_is_recovered_and_recent_claims_are_left_alone(
    smtp_app: Flask,
    smtp: LoopbackSMTP,
    add_mail: Callable[..., int],
    deliver: Deliver,
    rows: Callable[[], list[OutboxMessage]],
) -> None:
    now = utcnow()
    stuck = add_mail(status="sending", claimed_by="crashed:1", claimed_at=now - dt.timedelta(hours=1))
    busy = add_mail(status="sending", claimed_by="busy:2", claimed_at=now - dt.timedelta(minutes=1))
    hopeless = add_mail(status="sending", claimed_by="crashed:1", claimed_at=now - dt.timedelta(hours=1), attempts=2)

    counts = deliver(now=now)

    assert (counts.recovered, counts.sent, counts.dead) == (2, 1, 0)
    by_id = {row.id: row for row in rows()}
    assert (by_id[stuck].status, by_id[stuck].attempts) == ("sent", 1)  # the interrupted try counts
    assert (by_id[busy].status, by_id[busy].claimed_by) == ("sending", "busy:2")
    assert (by_id[hopeless].status, by_id[hopeless].attempts) == ("dead", 3)
    assert [m["Message-ID"] for m in smtp.wait_for(1)] == [by_id[stuck].message_id]


def test_a_claim_taken_over_is_not_overwritten(
    smtp_app: Flask,
    add_mail: Callable[..., int],
    sessions: sessionmaker[Session],
    deliver: Deliver,
    rows: Callable[[], list[OutboxMessage]],
) -> None:
    mail_id = add_mail()

    class TakeOver(SmtpBackend):
        """Sends, but meanwhile another deliverer recovers the claim (as if this one had been too slow)."""

        def send(self, mail: object) -> None:
            with sessions() as session, session.begin():
                session.get(OutboxMessage, mail_id).claimed_by = "other:9"  # type: ignore[union-attr]
            super().send(mail)  # type: ignore[arg-type]

    with smtp_app.app_context():
        counts = deliver(TakeOver(smtp_app.config))
    assert counts.sent == 1
    [row] = rows()
    assert (row.status, row.claimed_by) == ("sending", "other:9")
