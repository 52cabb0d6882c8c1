"""The `helpdesk` command: serve, index, search and db upgrade (also available as `flask --app helpdesk`)."""

from __future__ import annotations

import json
import os
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from helpdesk.config import ConfigError, Settings
from helpdesk.kb import get_library
from helpdesk.orm import upgrade_database
from helpdesk.search import fusion, get_engine
from helpdesk.search.engine import normalize_query


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default HELPDESK_HOST or 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default HELPDESK_PORT or 5000).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker processes (default 2).")
@click.option("--demo", is_flag=True, help="Load the demo organisation and print its sign-ins.")
@with_appcontext
def serve_command(host: str | None, port: int | None, workers: int | None, demo: bool) -> None:
    """Upgrade the database, build the search index if needed, then serve with a production WSGI server."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if port is not None and port != Settings.from_env().port:
        app = _app_on_port(app, port)
    with app.app_context():
        _serve(app, host, workers, demo)


def _app_on_port(app: Flask, port: int) -> Flask:
    """Make `--port` mean exactly what HELPDESK_PORT means: the default base URL of this process, its workers
    and its children (mail deliverer, escalation) follows it, so printed and mailed links point at it."""
    from helpdesk import create_app

    os.environ["HELPDESK_PORT"] = str(port)
    with app.app_context():
        get_engine().close()  # the app built before the options were read is not used again
    return create_app()


def _serve(app: Flask, host: str | None, workers: int | None, demo: bool) -> None:
    from helpdesk.server import run_server

    settings = Settings.from_env()
    upgrade_database(app.config["DATABASE_URL"])
    if demo:
        from helpdesk.accounts.cli import load_and_print_demo

        load_and_print_demo()  # refused (exit 1) when HELPDESK_ENV=production
    _build_index(check_only=False, quiet=True)
    # Finish the index's background threads before gunicorn forks: a fork copies locks they hold, but not them.
    get_engine().close()
    run_server(host or settings.host, settings.port, workers or settings.workers, app.config["BASE_URL"])


def _build_index(*, check_only: bool, quiet: bool = False) -> int:
    engine = get_engine()
    if check_only:
        problems = engine.check()
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        if not problems:
            click.echo(f"index ok: {engine.status().get('documents')} documents")
        return 1 if problems else 0
    if quiet and not engine.check():
        return 0
    total = len(get_library().articles)
    with click.progressbar(length=total, label="Indexing articles", file=sys.stderr) as bar:
        done_so_far = 0

        def progress(done: int, _total: int) -> None:
            nonlocal done_so_far
            bar.update(done - done_so_far)
            done_so_far = done

        embedding = _LazyBar("Embedding new texts")
        try:
            documents = engine.rebuild(progress=progress, embed_progress=embedding.update)
        finally:
            embedding.close()
    click.echo(f"indexed {total} articles as {documents} search documents")
    return 0


class _LazyBar:
    """A progress bar shown from the first report on (its length is known only then; unchanged texts cost none)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: object | None = None
        self._done = 0

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr).__enter__()
        self._bar.update(done - self._done)  # type: ignore[attr-defined]
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)  # type: ignore[attr-defined]


@click.command("index")
@click.option("--check", is_flag=True, help="Only verify the index; exit 1 when it needs a rebuild.")
@with_appcontext
def index_command(check: bool) -> None:
    """Build (or rebuild) the search index from the published articles, atomically."""
    sys.exit(_build_index(check_only=check))


@click.command("search")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as GET /api/v1/search.")
@click.option("--limit", type=click.IntRange(1, 50), default=10, show_default=True)
@click.option("--explain", is_flag=True, help="Show each hit's lexical and semantic ranks and scores.")
@with_appcontext
def search_command(text: str, as_json: bool, limit: int, explain: bool) -> None:
    """Search the knowledge base from the command line."""
    if explain:
        _explain(text, limit)
        return
    response = get_engine().search(normalize_query(text), limit=limit)
    if as_json:
        click.echo(json.dumps(response.to_dict(), indent=2))
        return
    if response.suggestion:
        click.echo(f"Did you mean: {response.suggestion}?")
    click.echo(f"{response.total} matching documents")
    for rank, hit in enumerate(response.results, start=1):
        click.echo(f"{rank:>2}. {hit.question or hit.title}  [{hit.url}]  score {hit.score:.2f}")


def _explain(text: str, limit: int) -> None:
    """Print why each candidate ranks where it does: both signals, the fusion and the relevance floor."""
    engine = get_engine()
    engine.ensure_index()
    status = engine.status()
    click.echo(f"ranking: {status['ranking']}; model: {status['model'] or 'none'}; fusion: {fusion.FUSION}")
    for rank, row in enumerate(engine.explain(text, limit=limit), start=1):
        lex = f"#{row['lexical_rank']} {row['lexical_score']:.3f}" if row["lexical_rank"] else "-"
        sem = "-" if row["semantic_score"] is None else f"{row['semantic_score']:.3f}"
        if row["semantic_rank"]:
            sem = f"#{row['semantic_rank']} {sem}"
        floor = "relevant" if row["relevant"] else "below the relevance floor"
        confident = ", confident" if row["confident"] else ""
        click.echo(
            f"{rank:>2}. {row['key']}\n    lexical {lex} | semantic {sem} | fused {row['fused']:.4f} | "
            f"{floor}{confident}"
        )
        if row["learned_phrasing"]:
            click.echo("    learned phrasing matched")


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade_command(revision: str) -> None:
    """Apply the Alembic migrations (also done automatically by `serve`)."""
    upgrade_database(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database upgraded to {revision}")


def init_app(app: Flask) -> None:
    """Register the commands on the app's CLI."""
    from helpdesk.kb.cli import articles_group
    from helpdesk.search.learn_cli import learn_command

    for command in (serve_command, index_command, search_command, learn_command, db_group, articles_group):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from helpdesk import create_app

    return create_app()


def main() -> None:
    """Entry point of the `helpdesk` console script; a bad setting exits with status 2."""
    try:
        Settings.from_env()
    except ConfigError as exc:
        click.echo(f"helpdesk: configuration error: {exc}", err=True)
        sys.exit(2)
    FlaskGroup(
        create_app=_create_app, name="helpdesk", help="Helpdesk: the self-service help desk and knowledge base."
    )(prog_name="helpdesk")
