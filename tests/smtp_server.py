"""A real SMTP server on loopback for tests (aiosmtpd), collecting what it receives as parsed e-mails.

Usage::

    with LoopbackSMTP() as smtp:
        app_config.update(smtp.mail_config())  # MAIL_SERVER/MAIL_PORT pointing at it
        ...  # deliver
        [message] = smtp.wait_for(1)  # email.message.EmailMessage
        assert smtp.received[0].rcpt_tos == ["user@example.org"]

`LoopbackSMTP(port)` may name a port that is closed for now (see `free_port`) and `start()` later: a test can
simulate an SMTP outage and the server coming back on the same address.
"""

from __future__ import annotations

import itertools
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def _port_sequence() -> Iterator[int]:
    """Yield this process's candidate ports: its own slice of 20000-31999, from a random start, each once."""
    # Below Linux's ephemeral range (32768+): an outgoing connection (to PostgreSQL, a polled server) never takes the
    # port between free_port() and the server binding it. A slice per xdist worker: workers never hand out the same
    # port; the random start keeps two runs on one machine apart.
    count = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), 1)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) % count if worker.isdigit() else 0
    span = 12000 // count
    first = 20000 + index * span
    offset = random.SystemRandom().randrange(span)
    for step in itertools.count():
        yield first + (offset + step) % span


_PORTS = _port_sequence()


def free_port() -> int:
    """Return a loopback port that nothing listens on right now (and that this process has not handed out yet)."""
    for port in itertools.islice(_PORTS, 1000):
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:  # taken by another run or program
                continue
            return port
    raise RuntimeError("no free loopback port found")


@dataclass(frozen=True)
class Received:
    """One message as the server got it: the SMTP envelope and the parsed e-mail."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    #: The DATA exactly as it arrived (header lines before any parsing).
    raw: bytes = b""


class _Handler:
    def __init__(self, owner: LoopbackSMTP) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.owner._add(Received(envelope.mail_from, list(envelope.rcpt_tos), message, envelope.original_content))
        return "250 Message accepted for delivery"


class LoopbackSMTP:
    """An aiosmtpd server on 127.0.0.1 that records every message; a context manager that starts and stops it."""

    def __init__(self, port: int | None = None) -> None:
        self.host = HOST
        self.port = port or free_port()
        #: Everything received since creation, in order (kept across stop/start).
        self.received: list[Received] = []
        self._changed = threading.Condition()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        """The parsed e-mails received so far."""
        with self._changed:
            return [item.message for item in self.received]

    def mail_config(self) -> dict[str, Any]:
        """Return the Flask config keys that make the app send mail here."""
        return {
            "MAIL_SERVER": self.host,
            "MAIL_PORT": self.port,
            "MAIL_USE_TLS": False,
            "MAIL_USE_SSL": False,
            "MAIL_TIMEOUT": 5,
        }

    def start(self) -> LoopbackSMTP:
        """Start listening (again) on `port`."""
        if self._controller is None:
            # server_hostname: without it aiosmtpd asks DNS for our FQDN, which can take seconds.
            controller = Controller(
                _Handler(self), hostname=self.host, port=self.port, server_hostname="localhost", ready_timeout=5
            )
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening; the port is closed until the next `start()`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived and return them all; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} messages, received {len(self.received)}")
                self._changed.wait(left)
            return [item.message for item in self.received]

    def _add(self, item: Received) -> None:
        with self._changed:
            self.received.append(item)
            self._changed.notify_all()

    def __enter__(self) -> LoopbackSMTP:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
