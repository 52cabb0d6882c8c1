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

from helpdesk.mail.backends import FileBackend, find_links, get_backend
from helpdesk.mail.delivery import DeliveryCounts, OutgoingMail, PermanentFailure
from helpdesk.mail.headers import build_message
from helpdesk.mail.models import OutboxMessage
from tests.mail.conftest import SENDER
from tests.smtp_server import LoopbackSMTP

RESET_TEXT = (
    "Hello,\n\nReset your password at https://help.example.org/reset/t0k3n.\n"
    "Or sign in (http://127.0.0.1:5000/login?next=%2F), then read https://help.example.org/kb/x#a.\n"
)


def _mail(**fields: object) -> OutgoingMail:
    values: dict[str, object] = {
        "id": 7,
        "message_id": "<x@helpdesk.test>",
        "recipient": "dan@example.org",
        "subject": "Hello",
        "body_text": "Hi\n",
        "body_html": None,
        "attempts": 0,
    }
    return OutgoingMail(**{**values, **fields})  # type: ignore[arg-type]


def test_find_links_returns_each_link_without_trailing_punctuation() -> None:
    assert find_links(RESET_TEXT) == [
        "https://help.example.org/reset/t0k3n",
        "http://127.0.0.1:5000/login?next=%2F",
        "https://help.example.org/kb/x#a",
    ]


def test_fresh_install_writes_eml_files_and_prints_the_links(
    app: Flask,
    add_mail: Callable[..., int],
    deliver: Callable[..., DeliveryCounts],
    rows: Callable[[], list[OutboxMessage]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    mail_dir = Path(app.config["MAIL_DIR"])
    assert not app.config["MAIL_SERVER"] and isinstance(get_backend(app.config), FileBackend)
    add_mail(
        recipient="erin@example.org",
        subject="Reset your password",
        body_text=RESET_TEXT,
        body_html="<p><a href='https://help.example.org/reset/t0k3n'>Reset</a></p>",
    )
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
    assert all(
        part in notices[0]
        for part in (
            "erin@example.org",
            "Reset your password",
            files[0].name,
            "https://help.example.org/reset/t0k3n",
            "http://127.0.0.1:5000/login?next=%2F",
        )
    )


def test_file_backend_folds_the_subject_and_refuses_a_recipient_with_a_line_break(tmp_path: Path) -> None:
    stream = io.StringIO()
    backend = FileBackend(tmp_path, SENDER, stream=stream)
    backend.send(_mail(subject="Hi\r\nBcc: evil@example.org\nX-Injected: 1"))
    [path] = tmp_path.iterdir()
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Hi Bcc: evil@example.org X-Injected: 1"
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert len(stream.getvalue().splitlines()) == 1
    for recipient in (
        "dan@example.org\r\nBcc: evil@example.org",
        "dan@example.org\nX-Injected: 1",
        "dan@example.org, evil@example.org",
        "not an address",
    ):
        with pytest.raises(PermanentFailure):
            build_message(_mail(recipient=recipient), sender=SENDER)


def test_smtp_headers_cannot_be_injected(
    smtp_app: Flask,
    smtp: LoopbackSMTP,
    add_mail: Callable[..., int],
    deliver: Callable[..., DeliveryCounts],
    rows: Callable[[], list[OutboxMessage]],
) -> None:
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


#: Issue 8 item 1: an RFC 2047 encoded-word that decodes to a Bcc header, a Content-Type and a fake body.
ENCODED_WORD = (
    "Printer =?utf-8?q?=0D=0ABcc:_attacker@evil.example=0D=0AContent-Type:_text/plain=0D=0A=0D=0A"
    "Your_password_expired._Sign_in_at_http://evil.example/login?="
)


@pytest.mark.parametrize(
    "subject",
    [
        ENCODED_WORD,
        "A\x0bB\x0cC\x1cD\x1dE\x1eF\x85G\u2028H\u2029I\rJ\nK\x00L",
        "Déjà =?utf-8?b?DQpCY2M6IGV2aWxAZXhhbXBsZS5vcmc=?= vu " * 6,
        "é" * 300,
    ],
)
def test_no_subject_adds_a_header_or_a_line(tmp_path: Path, subject: str) -> None:
    stream = io.StringIO()
    FileBackend(tmp_path, f'"{ENCODED_WORD}" <helpdesk@example.org>', stream=stream).send(
        _mail(subject=subject, recipient=f'"{ENCODED_WORD}" <dan@example.org>')
    )
    [path] = tmp_path.iterdir()
    raw = path.read_bytes()
    message = message_from_bytes(raw, policy=policy.default)
    assert sorted(message.keys()) == [
        "Content-Transfer-Encoding",
        "Content-Type",
        "Date",
        "From",
        "MIME-Version",
        "Message-ID",
        "Subject",
        "To",
    ]
    head = raw.split(b"\n\n", 1)[0].decode("ascii")  # every header line is ours, ASCII, and short
    assert all(len(line) <= 78 for line in head.splitlines()), head
    assert "evil" not in head and message.get_content() == "Hi\n"
    shown = str(message["Subject"])
    assert shown.splitlines() == [shown] and "=?" not in shown and shown.startswith(subject[:1])
    assert message["To"].addresses[0].addr_spec == "dan@example.org" and "\n" not in str(message["From"])
    assert len(stream.getvalue().splitlines()) == 1


def test_an_address_that_could_hold_an_encoded_word_is_refused() -> None:
    for recipient in ("=?utf-8?q?=0D=0ABcc:_evil@example.org?=@example.org", "dän@example.org", "dan@exämple.org"):
        with pytest.raises(PermanentFailure):
            build_message(_mail(recipient=recipient), sender=SENDER)
