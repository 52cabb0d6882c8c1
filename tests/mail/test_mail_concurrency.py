"""Several deliverers at once over one outbox: every message goes out once (SKIP LOCKED, or SQLite's one writer)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.mail.backends import SmtpBackend
from helpdesk.mail.delivery import deliver_due
from helpdesk.mail.models import OutboxMessage
from tests.smtp_server import LoopbackSMTP


@pytest.mark.db
def test_two_deliverers_send_fifty_messages_once_each(
    smtp_app: Flask, smtp: LoopbackSMTP, sessions: sessionmaker[Session], rows: Callable[[], list[OutboxMessage]]
) -> None:
    with sessions() as session, session.begin():
        session.add_all(
            OutboxMessage(
                message_id=f"<m{n}@helpdesk.test>",
                recipient=f"user{n}@example.org",
                subject=f"Message {n}",
                body_text=f"Body {n}\n",
                kind="test",
            )
            for n in range(50)
        )
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    claimed: Counter[str] = Counter()

    def run(worker: str) -> None:
        try:
            with smtp_app.app_context():
                backend = SmtpBackend(smtp_app.config)
                start.wait()
                # Each pass opens its own sessions from the factory: no session is shared between threads.
                while (counts := deliver_due(sessions, backend, worker_id=worker, batch=4)).claimed:
                    claimed[worker] += counts.claimed
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and sum(claimed.values()) == 50

    messages = smtp.wait_for(50)
    ids = Counter(message["Message-ID"] for message in messages)
    assert len(messages) == 50 and len(ids) == 50 and max(ids.values()) == 1
    assert set(ids) == {row.message_id for row in rows()}
    assert {(row.status, row.attempts) for row in rows()} == {("sent", 0)}
