"""`helpdesk mail deliver`: one delivery pass, or a loop that runs until SIGTERM/SIGINT (what `serve` starts)."""

from __future__ import annotations

import os
import socket
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import sessionmaker

from helpdesk.extensions import db
from helpdesk.loops import stop_on_signals
from helpdesk.mail.backends import get_backend
from helpdesk.mail.delivery import DeliveryCounts, deliver_due


@click.group("mail")
def mail_group() -> None:
    """Outgoing e-mail."""


@mail_group.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering until SIGTERM or SIGINT.")
@click.option(
    "--interval",
    type=click.FloatRange(0.05, 3600),
    default=5.0,
    show_default=True,
    help="Seconds between passes with --loop.",
)
@click.option("--batch", type=click.IntRange(1, 1000), default=20, show_default=True, help="Messages claimed per pass.")
@with_appcontext
def deliver_command(loop: bool, interval: float, batch: int) -> None:
    """Send the outbox messages that are due; failures are retried later with back-off."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session_factory = sessionmaker(db.engine, expire_on_commit=False)
    backend = get_backend(app.config)
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    stop = threading.Event()
    with stop_on_signals(stop):
        while not stop.is_set():
            try:
                counts = deliver_due(
                    session_factory,
                    backend,
                    worker_id=worker_id,
                    batch=batch,
                    max_attempts=app.config.get("MAIL_MAX_ATTEMPTS", 8),
                )
            except Exception:
                if not loop:
                    raise
                # The database may be restarting: the loop outlives it and tries again next time.
                app.logger.exception("mail delivery pass failed")
                counts = DeliveryCounts()
            if counts.active or not loop:
                click.echo(f"mail: {counts}")
            if not loop:
                return
            if counts.claimed < batch:  # a full batch means more may be due: go on without waiting
                stop.wait(interval)
