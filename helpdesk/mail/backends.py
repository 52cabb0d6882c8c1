"""Backends that hand outbox mail over: SMTP through Flask-Mail, or `.eml` files plus a console notice."""

from __future__ import annotations

import datetime as dt
import os
import re
import smtplib
import ssl
import sys
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack, suppress
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from pathlib import Path
from typing import Any, TextIO

from flask_mail import BadHeaderError, Connection, Message

from helpdesk.extensions import mail as flask_mail
from helpdesk.mail.delivery import Backend, BackendUnavailable, OutgoingMail, PermanentFailure

_LINK = re.compile(r"https?://[^\s<>\"'\[\]{}|\\^`]+")
_LINK_TAIL = ".,;:!?)'\""


def safe_headers(mail: OutgoingMail) -> tuple[str, str]:
    """Return (recipient, subject) safe to put in headers; PermanentFailure when the recipient cannot be."""
    for name, value in (("recipient", mail.recipient), ("Message-ID", mail.message_id)):
        if any(char in value for char in "\r\n\0"):
            raise PermanentFailure(f"{name} contains a line break or NUL: {value!r}")
    addresses = getaddresses([mail.recipient])
    if len(addresses) != 1 or "@" not in addresses[0][1]:
        raise PermanentFailure(f"recipient is not exactly one e-mail address: {mail.recipient!r}")
    # Folding every kind of line break to a space keeps user text in the subject from starting a header.
    subject = "".join(char for char in " ".join(mail.subject.split()) if char.isprintable())
    return mail.recipient, subject


def find_links(text: str) -> list[str]:
    """Return the http(s) links in `text`, in order, without trailing punctuation."""
    return [match.rstrip(_LINK_TAIL) for match in _LINK.findall(text)]


def build_email(mail: OutgoingMail, *, sender: str) -> EmailMessage:
    """Return `mail` as a MIME message: plain text, plus an HTML alternative when there is one."""
    recipient, subject = safe_headers(mail)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = mail.message_id
    message.set_content(mail.body_text)
    if mail.body_html is not None:
        message.add_alternative(mail.body_html, subtype="html")
    return message


class _Connection(Connection):
    """Flask-Mail's connection, with a timeout and verified TLS (its own opens sockets with neither)."""

    def __init__(self, state: Any, timeout: float) -> None:
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        context = ssl.create_default_context()
        host: smtplib.SMTP
        if state.use_ssl:
            host = smtplib.SMTP_SSL(state.server, state.port, timeout=self.timeout, context=context)
        else:
            host = smtplib.SMTP(state.server, state.port, timeout=self.timeout)
        try:
            if state.use_tls:
                host.starttls(context=context)
            if state.username and state.password:
                host.login(state.username, state.password)
        except BaseException:
            host.close()
            raise
        return host


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


class SmtpBackend:
    """Send through Flask-Mail over one SMTP connection per pass; `send` needs an app context (Flask-Mail's)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        # Read from `config` now rather than at init_app, so the CLI and tests see the current MAIL_* values;
        # sending is suppressed only when MAIL_SUPPRESS_SEND says so, never silently because TESTING is on.
        self.state = flask_mail.init_mail(dict(config))
        self.sender: str = config["MAIL_DEFAULT_SENDER"]
        self.timeout = float(config.get("MAIL_TIMEOUT", 30))
        self._stack = ExitStack()
        self._connection: Connection | None = None

    def send(self, mail: OutgoingMail) -> None:
        """Send one message; BackendUnavailable when the server cannot be reached or refuses the login."""
        recipient, subject = safe_headers(mail)
        message = Message(subject=subject, recipients=[recipient], body=mail.body_text, html=mail.body_html,
                          sender=self.sender)
        # Flask-Mail writes `msgId` as the Message-ID header; `extra_headers` would add a second one.
        message.msgId = mail.message_id
        connection = self._connect()
        try:
            connection.send(message)
        except Exception as exc:
            self.close()  # the connection's state is unknown: the next message opens a fresh one
            if isinstance(exc, BadHeaderError):
                raise PermanentFailure("a header contains a line break") from exc
            if _is_permanent(exc):
                raise PermanentFailure(str(exc)) from exc
            raise

    def close(self) -> None:
        """Quit the connection of this pass, if any."""
        stack, self._stack, self._connection = self._stack, ExitStack(), None
        with suppress(OSError, smtplib.SMTPException):  # the server may have hung up already: nothing to lose
            stack.close()

    def _connect(self) -> Connection:
        if self._connection is None:
            try:
                self._connection = self._stack.enter_context(_Connection(self.state, self.timeout))
            except (OSError, smtplib.SMTPException) as exc:
                raise BackendUnavailable(f"SMTP server {self.state.server}:{self.state.port}: {exc}") from exc
        return self._connection


class FileBackend:
    """Development default: each message becomes an `.eml` file, and a notice with its links goes to stderr."""

    def __init__(self, directory: Path, sender: str, stream: TextIO | None = None) -> None:
        self.directory = Path(directory)
        self.sender = sender
        self.stream = stream

    def send(self, mail: OutgoingMail) -> None:
        """Write the message to a new file named so that the files sort by time, and print the notice."""
        message = build_email(mail, sender=self.sender)
        path = self._write(mail.id, message.as_bytes())
        links = find_links(mail.body_text)
        notice = f"[mail] to {message['To']}: {message['Subject']} ({path})"
        if links:
            notice += "  links: " + " ".join(links)
        print(notice, file=self.stream or sys.stderr, flush=True)

    def close(self) -> None:
        """Nothing to close."""

    def _write(self, mail_id: int, data: bytes) -> Path:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{mail_id}.eml"
        # mkstemp makes the file 0600: its links sign people in. Readers never see a half-written file.
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(temporary)
            raise
        return path


def get_backend(config: Mapping[str, Any]) -> Backend:
    """Return SMTP when MAIL_SERVER is set, else the `.eml` folder MAIL_DIR (a fresh install needs no server)."""
    if config.get("MAIL_SERVER"):
        return SmtpBackend(config)
    return FileBackend(Path(config["MAIL_DIR"]), config["MAIL_DEFAULT_SENDER"])
