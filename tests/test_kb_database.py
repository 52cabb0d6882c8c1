"""Articles kept in the database: the first start imports the folder; drafts, archive, rename and restore."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpdesk import create_app
from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent
from helpdesk.audit.services import SYSTEM
from helpdesk.extensions import db
from helpdesk.kb import get_library
from helpdesk.kb.content_models import Article, ArticleRevision
from helpdesk.kb.editing import (
    Draft,
    EditConflict,
    EditInvalid,
    archive_article,
    find_article,
    restore_revision,
    save_article,
)
from helpdesk.kb.models import Comment, Vote
from helpdesk.kb.services import cast_vote
from helpdesk.orm import utcnow
from helpdesk.search import get_engine
from tests.factories import make_user
from tests.helpers import close_app

LOGIN = "errors-and-technical-support"
NEW_BODY = """How to reach the night shift.

## Who answers the telephone at night?

The duty officer of the compact office answers after 6 pm.

## Can I e-mail the night shift?

Yes: write to the duty mailbox; it is read every hour.
"""

pytestmark = pytest.mark.db


def editor(app: Flask, role: str = "kb_editor", state: str | None = None) -> User:
    """A national editor (or a state's one)."""
    return make_user(app, role=role, state=state)


def write(
    app: Flask,
    actor: User,
    draft: Draft,
    *,
    slug: str | None = None,
    publish: bool = False,
    base: int | None = None,
    **options: Any,
) -> tuple[str, int]:
    """Save through the service in its own transaction; return (slug, revision number)."""
    with app.app_context():
        get_library()  # the first use seeds the empty database from the folder
        user = db.session.get(User, actor.id)
        article = find_article(db.session, slug) if slug else None
        saved, revision = save_article(
            db.session,
            article,
            draft,
            actor=user,
            origin=SYSTEM,
            now=utcnow(),
            base_revision=base,
            publish=publish,
            **options,
        )
        db.session.commit()
        return saved.slug, revision.number


def night_shift() -> Draft:
    return Draft(
        title="The night shift", section="troubleshooting", body=NEW_BODY, tags=["night", "phone"], note="first version"
    )


def search_urls(app: Flask, text: str) -> list[str]:
    with app.app_context():
        get_engine().ensure_index()  # what the periodic check does in the background, waited for
        return [hit.url for hit in get_engine().search(text).results]


def test_first_start_imports_the_folder_once(app: Flask, client: FlaskClient) -> None:
    page = client.get(f"/articles/{LOGIN}").get_data(as_text=True)
    assert "make sure your caps lock is off" in page
    assert '<time datetime="2026-11-22">November 22, 2026</time>' in page  # the file's date, kept
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Article)) == 4
        assert db.session.scalar(select(func.count()).select_from(ArticleRevision)) == 4
        # A second app on the same database imports nothing again.
    other = create_app({**app.config})
    with other.app_context():
        assert len(get_library().articles) == 4
        assert db.session.scalar(select(func.count()).select_from(ArticleRevision)) == 4
    close_app(other)


def test_a_fresh_instance_gets_exactly_its_own_corpus(app_config: dict[str, Any], tmp_path: Path) -> None:
    corpus = tmp_path / "other"
    corpus.mkdir()
    (corpus / "sections.yml").write_text("- slug: misc\n  title: Miscellaneous\n", encoding="utf-8")
    (corpus / "parking.md").write_text(
        "---\ntitle: Parking\nsection: misc\n---\nWhere to park.\n\n"
        "## Where do visitors park their bicycles?\n\nBehind the east wing.\n",
        encoding="utf-8",
    )
    app = create_app({**app_config, "ARTICLES_DIR": corpus})
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["articles"] == 1, health.json
    assert search_urls(app, "bicycles")[0] == "/articles/parking#where-do-visitors-park-their-bicycles"
    assert search_urls(app, "caps lock") == []
    assert client.get(f"/articles/{LOGIN}").status_code == 404
    close_app(app)


def test_drafts_are_invisible_to_readers_until_published(app: Flask, client: FlaskClient) -> None:
    author = editor(app)
    slug, number = write(app, author, night_shift())
    assert (slug, number) == ("the-night-shift", 1)
    assert client.get("/articles/the-night-shift").status_code == 404
    assert not [u for u in search_urls(app, "who answers the telephone at night") if "night-shift" in u]
    assert "the-night-shift" not in client.get("/api/v1/articles").get_data(as_text=True)
    assert client.get("/api/v1/articles/the-night-shift").status_code == 404
    assert "the-night-shift" not in client.get(f"/articles/{LOGIN}").get_data(as_text=True)  # related
    assert "The night shift" not in client.get("/sections/troubleshooting").get_data(as_text=True)
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"https://help.example.org/articles/{LOGIN}</loc>" in sitemap and "night-shift" not in sitemap

    write(app, author, night_shift(), slug=slug, publish=True, base=1)
    assert "The duty officer" in client.get("/articles/the-night-shift").get_data(as_text=True)
    assert "/articles/the-night-shift</loc>" in client.get("/sitemap.xml").get_data(as_text=True)
    assert (
        search_urls(app, "who answers the telephone at night")[0]
        == "/articles/the-night-shift#who-answers-the-telephone-at-night"
    )


def test_a_draft_of_a_published_article_leaves_readers_the_published_text(app: Flask, client: FlaskClient) -> None:
    author = editor(app)
    slug, _ = write(app, author, night_shift(), publish=True)
    changed = night_shift()
    changed.body = NEW_BODY.replace("after 6 pm", "after 7 pm")
    write(app, author, changed, slug=slug, base=1)
    assert "after 6 pm" in client.get(f"/articles/{slug}").get_data(as_text=True)
    with app.app_context():
        article = find_article(db.session, slug)
        assert (article.status, article.current_revision, article.published_revision) == ("published", 2, 1)


def test_archived_articles_leave_pages_search_and_api(app: Flask, client: FlaskClient) -> None:
    author = editor(app)
    with app.app_context():
        get_library()
        archive_article(
            db.session,
            find_article(db.session, LOGIN),
            actor=db.session.get(User, author.id),
            origin=SYSTEM,
            now=utcnow(),
        )
        db.session.commit()
    assert client.get(f"/articles/{LOGIN}").status_code == 404
    assert client.get(f"/api/v1/articles/{LOGIN}").status_code == 404
    assert not [u for u in search_urls(app, "caps lock") if LOGIN in u]


def test_a_stale_base_revision_is_a_conflict_and_saves_nothing(app: Flask) -> None:
    author = editor(app)
    slug, _ = write(app, author, night_shift())
    write(app, author, night_shift(), slug=slug, base=1)
    with pytest.raises(EditConflict) as raised:
        write(app, author, night_shift(), slug=slug, base=1)
    assert raised.value.current == 2
    with app.app_context():
        assert find_article(db.session, slug).current_revision == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "Errors and Technical Support"}, "title"),  # another article's title
        ({"section": "nowhere"}, "section"),
        ({"body": "x" * 1_000_000}, "body"),
        ({"body": "<script>alert(1)</script>"}, "body"),  # renders to nothing
        ({"slug": LOGIN}, "slug"),
    ],
)
def test_bad_drafts_are_refused_by_field(app: Flask, change: dict[str, str], field: str) -> None:
    draft = night_shift()
    for key, value in change.items():
        setattr(draft, key, value)
    with pytest.raises(EditInvalid) as raised:
        write(app, editor(app), draft)
    assert field in raised.value.errors
    with app.app_context():
        assert find_article(db.session, "the-night-shift") is None


def test_only_editors_of_the_section_may_write(app: Flask) -> None:
    with pytest.raises(PermissionError):
        write(app, make_user(app, role="compact_office"), night_shift())
    with pytest.raises(PermissionError):
        write(app, editor(app, state="TX"), night_shift())  # a state's editor: not the national FAQ
    assert write(app, make_user(app, role="national_admin"), night_shift())[1] == 1
    texas = Draft(title="Texas contacts", section="tx", body="Call Austin.")
    with app.app_context():
        from helpdesk.kb.content_models import Section

        db.session.add(Section(slug="tx", title="Texas", description="", position=9))
        db.session.commit()
    with pytest.raises(PermissionError):
        write(app, editor(app, state="TX"), texas)  # per-state sections are off by default
    assert write(app, editor(app, state="TX"), texas, state_sections=True)[1] == 1
    with pytest.raises(PermissionError):
        write(app, editor(app, state="OH"), Draft(title="Ohio", section="tx", body="x"), state_sections=True)


def test_restore_adds_a_revision_and_publishes_it(app: Flask, client: FlaskClient) -> None:
    author = editor(app)
    slug, _ = write(app, author, night_shift(), publish=True)
    changed = night_shift()
    changed.body = NEW_BODY.replace("after 6 pm", "after 9 pm")
    write(app, author, changed, slug=slug, base=1, publish=True)
    assert "after 9 pm" in client.get(f"/articles/{slug}").get_data(as_text=True)
    with app.app_context():
        article = find_article(db.session, slug)
        revision = restore_revision(
            db.session, article, 1, actor=db.session.get(User, author.id), origin=SYSTEM, now=utcnow()
        )
        db.session.commit()
        assert (revision.number, revision.note) == (3, "Restored revision 1")
        assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "article_restored")).one()
    assert "after 6 pm" in client.get(f"/articles/{slug}").get_data(as_text=True)


def test_rename_redirects_and_keeps_votes_and_comments(app: Flask, client: FlaskClient) -> None:
    author = editor(app)
    with app.app_context():
        get_library()
        cast_vote(db.session, LOGIN, voter="u:1", helpful=True)
        db.session.add(
            Comment(
                article_slug=LOGIN,
                author_id=author.id,
                body_md="hi",
                body_html="<p>hi</p>",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        db.session.commit()
    with app.app_context():
        article = find_article(db.session, LOGIN)
        revision = db.session.scalars(select(ArticleRevision).where(ArticleRevision.article_id == article.id)).one()
        draft = Draft(title=revision.title, section="troubleshooting", body=revision.body, slug="errors-and-support")
    write(app, author, draft, slug=LOGIN, base=1, publish=True)
    old = client.get(f"/articles/{LOGIN}")
    assert old.status_code == 301 and old.headers["Location"].endswith("/articles/errors-and-support")
    page = client.get("/articles/errors-and-support").get_data(as_text=True)
    assert "1 out of 1 found this helpful" in page
    with app.app_context():
        cast_vote(db.session, LOGIN, voter="u:2", helpful=False)  # from a host still showing the old slug
        db.session.commit()
        assert db.session.scalars(select(Vote.article_slug)).all() == ["errors-and-support"] * 2
        assert db.session.scalars(select(Comment.article_slug)).all() == ["errors-and-support"]


def test_two_instances_on_one_database_see_each_others_changes(app: Flask, client: FlaskClient) -> None:
    second = create_app({**app.config, "INDEX_DIR": app.config["INDEX_DIR"].parent / "second_index"})
    reader = second.test_client()
    assert reader.get(f"/articles/{LOGIN}").status_code == 200
    author = editor(app)
    write(app, author, night_shift(), publish=True)
    assert reader.get("/articles/the-night-shift").status_code == 200
    assert search_urls(second, "who answers the telephone at night")[0].startswith("/articles/the-night-shift")
    close_app(second)


def test_revision_dates_are_the_day_of_the_save(app: Flask) -> None:
    slug, _ = write(app, editor(app), night_shift(), publish=True)
    with app.app_context():
        assert get_library().get(slug).updated == dt.datetime.now(dt.UTC).date()
