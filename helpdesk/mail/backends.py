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
from pathlib import Path
from typing import Any, TextIO

from flask_mail import Connection

from helpdesk.extensions import mail as flask_mail
from helpdesk.mail.delivery import Backend, BackendUnavailable, OutgoingMail, PermanentFailure
from helpdesk.mail.headers import build_message, header_text, mailbox

_LINK = re.compile(r"https?://[^\s<>\"'\[\]{}|\\^`]+")
_LINK_TAIL = ".,;:!?)'\""


def find_links(text: str) -> list[str]:
    """Return the http(s) links in `text`, in order, without trailing punctuation."""
    return [match.rstrip(_LINK_TAIL) for match in _LINK.findall(text)]


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
        self.sender: str | tuple[str, str] = config["MAIL_DEFAULT_SENDER"]
        self.timeout = float(config.get("MAIL_TIMEOUT", 30))
        self._stack = ExitStack()
        self._connection: Connection | None = None

    def send(self, mail: OutgoingMail) -> None:
        """Send one message; BackendUnavailable when the server cannot be reached or refuses the login."""
        # Our bytes, not Flask-Mail's Message: its headers go through the library's folding (see headers.py).
        data = build_message(mail, sender=self.sender, linesep="\r\n")
        envelope = mailbox(self.sender, "MAIL_DEFAULT_SENDER")[1], [mailbox(mail.recipient)[1]]
        connection = self._connect()
        if connection.host is None:  # MAIL_SUPPRESS_SEND
            return
        try:
            connection.host.sendmail(*envelope, data)
        except Exception as exc:
            self.close()  # the connection's state is unknown: the next message opens a fresh one
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
                # flask_mail types __exit__'s arguments as never None, so it is no context manager to typeshed.
                self._connection = self._stack.enter_context(_Connection(self.state, self.timeout))  # type: ignore[arg-type]
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
        path = self._write(mail.id, build_message(mail, sender=self.sender))
        links = find_links(mail.body_text)
        # One console line: the subject as header text (no line break), links only from our link pattern.
        notice = f"[mail] to {mail.recipient}: {header_text(mail.subject)} ({path})"
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
