"""`helpdesk learn`: one learning pass over the search log (or a pass every --interval seconds)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk.extensions import db
from helpdesk.locks import once_per_interval
from helpdesk.loops import run_every
from helpdesk.search import get_engine
from helpdesk.search.documents import document_key
from helpdesk.search.learning import learn_phrasings


def found_first(phrase: str, key: str) -> bool:
    """Tell whether searching `phrase` already ranks the document `key` first (then there is nothing to learn)."""
    results = get_engine().search(phrase, limit=1).results
    return bool(results) and document_key(results[0].article, results[0].question_id) == key


def learn_once(app: Flask) -> str:
    """Run one learning pass in a transaction of its own and return its summary."""
    with Session(db.engine, expire_on_commit=False) as session:
        try:
            report = learn_phrasings(session, min_people=app.config["LEARN_MIN_PEOPLE"], found_first=found_first)
            session.commit()
        except IntegrityError:  # another host learned the same phrasing at the same moment: the next pass agrees
            session.rollback()
            return "another learning pass ran at the same time; nothing learned this time"
    lines = [report.summary(), *(f"  learned: {item}" for item in report.learned)]
    return "\n".join(lines)


@click.command("learn")
@click.option("--loop", is_flag=True, help="Keep learning every --interval seconds until SIGTERM or SIGINT.")
@click.option(
    "--interval",
    type=click.FloatRange(1, 86_400),
    default=600.0,
    show_default=True,
    help="Seconds between passes with --loop.",
)
@with_appcontext
def learn_command(loop: bool, interval: float) -> None:
    """Learn phrasings from the search log: phrases that helped enough distinct people find an answer."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not loop:
        click.echo(learn_once(app))
        return

    def one_pass() -> str | None:
        summary = learn_once(app)
        return summary if "learned 0 " not in summary else None  # a quiet pass is not worth a log line

    engine = db.engine  # once per interval across hosts: a pass another host ran in this interval is not repeated
    run_every(
        interval,
        lambda: once_per_interval(engine, "helpdesk.learn", interval, one_pass),
        on_error=lambda: app.logger.exception("learning pass failed; retrying"),
    )
