"""The .eml file backend of a fresh install, and headers that user text can never add to."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask import Flask

from helpdesk.mail.backends import FileBackend, build_email, find_links, get_backend
from helpdesk.mail.delivery import DeliveryCounts, OutgoingMail, PermanentFailure
from helpdesk.mail.models import OutboxMessage
from tests.mail.conftest import SENDER
from tests.smtp_server import LoopbackSMTP

RESET_TEXT = ("Hello,\n\nReset your password at https://help.example.org/reset/t0k3n.\n"
              "Or sign in (http://127.0.0.1:5000/login?next=%2F), then read https://help.example.org/kb/x#a.\n")


def _mail(**fields: object) -> OutgoingMail:
    values: dict[str, object] = {"id": 7, "message_id": "<x@helpdesk.test>", "recipient": "dan@example.org",
                                 "subject": "Hello", "body_text": "Hi\n", "body_html": None, "attempts": 0}
    return OutgoingMail(**{**values, **fields})  # type: ignore[arg-type]


def test_find_links_returns_each_link_without_trailing_punctuation() -> None:
    assert find_links(RESET_TEXT) == ["https://help.example.org/reset/t0k3n", "http://127.0.0.1:5000/login?next=%2F",
                                      "https://help.example.org/kb/x#a"]


def test_fresh_install_writes_eml_files_and_prints_the_links(
        app: Flask, add_mail: Callable[..., int], deliver: Callable[..., DeliveryCounts],
        rows: Callable[[], list[OutboxMessage]], capsys: pytest.CaptureFixture[str]) -> None:
    mail_dir = Path(app.config["MAIL_DIR"])
    assert not app.config["MAIL_SERVER"] and isinstance(get_backend(app.config), FileBackend)
    add_mail(recipient="erin@example.org", subject="Reset your password", body_text=RESET_TEXT,
             body_html="<p><a href='https://help.example.org/reset/t0k3n'>Reset</a></p>")
    add_mail(recipient="frank@example.org", subject="Second")

    assert deliver(get_backend(app.config)).sent == 2

    files = sorted(mail_dir.iterdir())
    assert [path.suffix for path in files] == [".eml", ".eml"]  # no temporary file left behind
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
    first, second = (message_from_bytes(path.read_bytes(), policy=policy.default) for path in files)
    assert (first["To"], second["To"]) == ("erin@example.org", "frank@example.org")  # sorted by time
    assert first["Message-ID"] == rows()[0].message_id and first["From"] == SENDER
    assert "reset/t0k3n" in first.get_body(("plain",)).get_content()
    assert "href='https://help.example.org/reset/t0k3n'" in first.get_body(("html",)).get_content()
    notices = capsys.readouterr().err.splitlines()
    assert len(notices) == 2
    assert all(part in notices[0] for part in ("erin@example.org", "Reset your password", files[0].name,
                                               "https://help.example.org/reset/t0k3n",
                                               "http://127.0.0.1:5000/login?next=%2F"))


def test_file_backend_folds_the_subject_and_refuses_a_recipient_with_a_line_break(tmp_path: Path) -> None:
    stream = io.StringIO()
    backend = FileBackend(tmp_path, SENDER, stream=stream)
    backend.send(_mail(subject="Hi\r\nBcc: evil@example.org\nX-Injected: 1"))
    [path] = tmp_path.iterdir()
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Hi Bcc: evil@example.org X-Injected: 1"
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert len(stream.getvalue().splitlines()) == 1
    for recipient in ("dan@example.org\r\nBcc: evil@example.org", "dan@example.org\nX-Injected: 1",
                      "dan@example.org, evil@example.org", "not an address"):
        with pytest.raises(PermanentFailure):
            build_email(_mail(recipient=recipient), sender=SENDER)


def test_smtp_headers_cannot_be_injected(smtp_app: Flask, smtp: LoopbackSMTP, add_mail: Callable[..., int],
                                         deliver: Callable[..., DeliveryCounts],
                                         rows: Callable[[], list[OutboxMessage]]) -> None:
    folded = add_mail(subject="Hello\r\nBcc: evil@example.org\r\nX-Injected: yes")
    add_mail(recipient="alice@example.org\r\nBcc: evil@example.org")
    add_mail(recipient="alice@example.org\nX-Injected: yes")
    add_mail(recipient="alice@example.org, evil@example.org")

    counts = deliver()

    assert (counts.sent, counts.dead, counts.retrying) == (1, 3, 0)  # bad addresses are never retried
    [message] = smtp.wait_for(1)
    assert [item.rcpt_tos for item in smtp.received] == [["alice@example.org"]]
    assert message["Subject"] == "Hello Bcc: evil@example.org X-Injected: yes"
    assert message["Bcc"] is None and message["X-Injected"] is None
    by_id = {row.id: row for row in rows()}
    assert by_id.pop(folded).status == "sent"
    assert all(row.status == "dead" and "recipient" in (row.last_error or "") for row in by_id.values())
