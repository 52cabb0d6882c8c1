"""`helpdesk articles import` and `export`: a byte-stable round trip, all or nothing, a bad file named by line."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.kb.content_models import ArticleRevision
from tests.helpers import close_app

pytestmark = pytest.mark.db


def revisions(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ArticleRevision)) or 0


def files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_export_import_round_trip_is_byte_stable(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, app_config: dict
) -> None:
    first = tmp_path / "export1"
    result = runner.invoke(args=["articles", "export", str(first)])
    assert result.exit_code == 0 and "exported 4 articles" in result.output, result.output
    assert set(files(first)) == {
        "sections.yml",
        "errors-and-technical-support.md",
        "icots-privacy-policy.md",
        "getting-help-with-this-help-desk.md",
        "user-administration-and-system-access.md",
    }
    # Importing what was exported changes nothing: no new revision.
    before = revisions(app)
    result = runner.invoke(args=["articles", "import", str(first)])
    assert result.exit_code == 0 and "changed 0 of 4" in result.output, result.output
    assert revisions(app) == before
    # A fresh instance seeded from the export exports the very same bytes.
    other = create_app(
        {
            **app_config,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}",
            "ARTICLES_DIR": first,
            "INDEX_DIR": tmp_path / "other-index",
        }
    )
    from helpdesk.orm import upgrade_database

    upgrade_database(other.config["DATABASE_URL"])
    second = tmp_path / "export2"
    assert other.test_cli_runner().invoke(args=["articles", "export", str(second)]).exit_code == 0
    assert files(second) == files(first)
    close_app(other)


def test_import_creates_and_updates_one_revision_each(
    app: Flask, client, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "changes"
    assert runner.invoke(args=["articles", "export", str(folder)]).exit_code == 0
    path = folder / "errors-and-technical-support.md"
    path.write_text(path.read_text(encoding="utf-8").replace("caps lock", "CAPS LOCK key"), encoding="utf-8")
    (folder / "new-one.md").write_text(
        "---\ntitle: A new one\nsection: access\n---\nHello.\n\n## Why?\n\nBecause.\n", encoding="utf-8"
    )
    dry = runner.invoke(args=["articles", "import", "--dry-run", str(folder)])
    assert dry.exit_code == 0 and "new-one: created" in dry.output and "would change 2" in dry.output, dry.output
    assert client.get("/articles/new-one").status_code == 404
    before = revisions(app)
    result = runner.invoke(args=["articles", "import", str(folder)])
    assert "errors-and-technical-support: updated" in result.output and "new-one: created" in result.output
    assert revisions(app) == before + 2
    assert "CAPS LOCK key" in client.get("/articles/errors-and-technical-support").get_data(as_text=True)
    assert client.get("/articles/new-one").status_code == 200


def test_a_bad_file_is_named_with_its_line_and_nothing_is_imported(
    app: Flask, client, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    assert runner.invoke(args=["articles", "export", str(folder)]).exit_code == 0
    (folder / "aaa-good.md").write_text("---\ntitle: Fine\nsection: access\n---\nFine.\n", encoding="utf-8")
    (folder / "zzz-bad.md").write_text(
        "---\ntitle: Broken\nsection: access\ntags: [unclosed\n---\nText.\n", encoding="utf-8"
    )
    before = revisions(app)
    result = runner.invoke(args=["articles", "import", str(folder)])
    assert result.exit_code != 0
    assert "zzz-bad.md:" in result.output and "nothing was imported" in result.output, result.output
    assert revisions(app) == before
    assert client.get("/articles/aaa-good").status_code == 404
    (folder / "zzz-bad.md").write_text("---\ntitle: Broken\nsection: nowhere\n---\nText.\n", encoding="utf-8")
    result = runner.invoke(args=["articles", "import", str(folder)])
    assert "zzz-bad.md:3: section 'nowhere'" in result.output, result.output


@pytest.mark.slow  # a subprocess server or CLI
def test_a_served_fresh_instance_answers_its_own_corpus_at_the_first_200(tmp_path: Path) -> None:
    """Tools serve another corpus: when /healthz first says 200, that corpus, and only it, is searchable."""
    import json
    import urllib.request

    from tests.helpers import start_server, stop_server

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "sections.yml").write_text("- slug: misc\n  title: Miscellaneous\n", encoding="utf-8")
    (corpus / "parking.md").write_text(
        "---\ntitle: Parking\nsection: misc\n---\nWhere to park.\n\n"
        "## Where do visitors park their bicycles?\n\nBehind the east wing.\n",
        encoding="utf-8",
    )
    process, base = start_server(tmp_path, workers=1, extra_env={"HELPDESK_ARTICLES_DIR": str(corpus)})
    try:
        with urllib.request.urlopen(f"{base}/api/v1/search?q=bicycles") as response:
            hits = json.loads(response.read())["results"]
        with urllib.request.urlopen(f"{base}/api/v1/articles") as response:
            listed = json.loads(response.read())
    finally:
        stop_server(process)
    assert hits[0]["url"] == "/articles/parking#where-do-visitors-park-their-bicycles"
    assert {h["url"].split("#")[0] for h in hits} == {"/articles/parking"}
    assert [a["slug"] for a in listed["articles"]] == ["parking"]
