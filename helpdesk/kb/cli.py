"""`helpdesk articles import DIR [--dry-run]` and `helpdesk articles export DIR`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from helpdesk.extensions import db
from helpdesk.kb.exchange import ExchangeError
from helpdesk.kb.importing import export_articles, import_articles


@click.group("articles")
def articles_group() -> None:
    """Import and export the articles (Markdown files with front matter, and sections.yml)."""


@articles_group.command("import")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--dry-run", is_flag=True, help="Only report what would change.")
@with_appcontext
def import_command(directory: Path, dry_run: bool) -> None:
    """Create or update every article of DIRECTORY (one published revision each); all or nothing."""
    from helpdesk.kb import get_library

    get_library()  # an empty database is seeded first, so that the import reports changes against it
    session = db.session
    try:
        report = import_articles(session, directory, actor=None, dry_run=dry_run)
    except ExchangeError as exc:
        session.rollback()
        raise click.ClickException(f"{exc} (nothing was imported)") from None
    if dry_run:
        session.rollback()
    else:
        session.commit()
    for line in report:
        click.echo(line)
    changed = sum(1 for line in report if not line.endswith("unchanged"))
    click.echo(f"{'would change' if dry_run else 'changed'} {changed} of {len(report)}")


@articles_group.command("export")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@with_appcontext
def export_command(directory: Path) -> None:
    """Write every published article and sections.yml to DIRECTORY (the same content, the same bytes)."""
    from helpdesk.kb import get_library

    get_library()
    count = export_articles(db.session, directory)
    db.session.rollback()
    click.echo(f"exported {count} articles to {directory}")
