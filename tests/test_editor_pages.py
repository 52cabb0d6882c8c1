"""The editors' pages: list, new and edit with preview, bad input, conflicts, history, diff and restore."""

from __future__ import annotations

import html

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from helpdesk.kb.content_models import Article
from tests.factories import make_user, sign_in
from tests.helpers import read_csrf_token

BODY = "Where to park.\n\n## Where do visitors park their bicycles?\n\nBehind the east wing.\n"

pytestmark = pytest.mark.db


def editor_client(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    assert sign_in(client, make_user(app, role="kb_editor", state=None)).status_code == 303
    return client, read_csrf_token(client, "/editor")


def fields(token: str, **more: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "title": "Parking",
        "section": "access",
        "body": BODY,
        "summary": "",
        "tags": "parking, visitors",
        "note": "first",
        **more,
    }


def articles(app: Flask) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Article)).all())


def test_only_editors_open_the_editor(app: Flask, client: FlaskClient) -> None:
    assert client.get("/editor").status_code == 302  # to the sign-in
    sign_in(client, make_user(app, role="compact_office"))
    assert client.get("/editor").status_code == 403
    editor, _ = editor_client(app)
    page = editor.get("/editor").get_data(as_text=True)
    assert "Errors and Technical Support" in page and "Published" in page and "Imported" in page
    assert 'href="/editor"' in editor.get("/").get_data(as_text=True)  # in the menu


def test_new_from_a_failed_search_starts_with_the_question(app: Flask) -> None:
    editor, _ = editor_client(app)
    page = editor.get("/editor/new", query_string={"question": "How do I park a <b>bicycle</b>?"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "## How do I park a &lt;b&gt;bicycle&lt;/b&gt;?\n" in text
    assert "<code>#how-do-i-park-a-bicycle</code>" in text  # the anchor it will get


def test_preview_saves_nothing_and_warns_what_is_stripped(app: Flask) -> None:
    editor, token = editor_client(app)
    body = BODY + "\n<script>alert(1)</script>\n<iframe src=x></iframe>\n\n## Where do visitors park their bicycles?\n"
    page = editor.post("/editor/new", data=fields(token, body=body, action="preview"))
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and articles(app) == 4
    assert "<script> will be removed" in text and "<iframe> will be removed" in text
    assert "the second gets the anchor #where-do-visitors-park-their-bicycles_1" in text
    assert "<script>alert(1)</script>" not in page.get_data(as_text=True)
    fragment = editor.post(
        "/editor/preview", data={"body": "## Hello?\n\nWorld", "slug": ""}, headers={"X-CSRFToken": token}
    )
    assert fragment.status_code == 200 and "<code>#hello</code>" in fragment.get_data(as_text=True)


def test_bad_input_keeps_the_text_and_saves_nothing(app: Flask) -> None:
    editor, token = editor_client(app)
    page = editor.post("/editor/new", data=fields(token, title="", action="save"))
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and "Give the article a title." in text
    assert "Behind the east wing." in text and articles(app) == 4
    long = editor.post("/editor/new", data=fields(token, body="word " * 220_000, action="save"))  # 1.1 MB
    assert long.status_code == 400 and "The text is too long" in long.get_data(as_text=True)
    assert long.get_data(as_text=True).count("word ") >= 220_000 and articles(app) == 4  # the text kept


def test_publish_then_readers_see_it(app: Flask, client: FlaskClient) -> None:
    editor, token = editor_client(app)
    response = editor.post("/editor/new", data=fields(token, action="publish"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/editor/parking")
    assert "Behind the east wing." in client.get("/articles/parking").get_data(as_text=True)
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"article_saved", "article_published"} <= actions


def test_a_second_save_on_an_old_revision_shows_both_texts(app: Flask) -> None:
    editor, token = editor_client(app)
    editor.post("/editor/new", data=fields(token, action="save"))
    first = editor.post(
        "/editor/parking", data=fields(token, body=BODY + "\nMine first.\n", base_revision="1", action="save")
    )
    assert first.status_code == 303
    second = editor.post(
        "/editor/parking", data=fields(token, body=BODY + "\nTheirs later.\n", base_revision="1", action="save")
    )
    text = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Theirs later." in text and "Mine first." in text and "Revision 2 was saved" in text
    with app.app_context():
        assert db.session.scalars(select(Article.current_revision).where(Article.slug == "parking")).one() == 2


def test_history_diff_and_restore(app: Flask, client: FlaskClient) -> None:
    editor, token = editor_client(app)
    editor.post("/editor/new", data=fields(token, action="publish"))
    editor.post(
        "/editor/parking",
        data=fields(token, body=BODY.replace("east", "west"), base_revision="1", note="moved", action="publish"),
    )
    history = editor.get("/editor/parking/history").get_data(as_text=True)
    assert "moved" in history and "Restore 1" in history
    diff = editor.get("/editor/parking/diff", query_string={"from": 1, "to": 2}).get_data(as_text=True)
    assert "- Behind the east wing." in diff and "+ Behind the west wing." in diff
    assert editor.get("/editor/parking/diff", query_string={"from": "x", "to": 2}).status_code == 400
    response = editor.post("/editor/parking/restore", data={"csrf_token": token, "revision": "1"})
    assert response.status_code == 303
    assert "Behind the east wing." in client.get("/articles/parking").get_data(as_text=True)
    assert "Restored revision 1" in editor.get("/editor/parking/history").get_data(as_text=True)


def test_archive_from_the_edit_page(app: Flask, client: FlaskClient) -> None:
    editor, token = editor_client(app)
    editor.post("/editor/new", data=fields(token, action="publish"))
    assert editor.post("/editor/parking", data=fields(token, base_revision="1", action="archive")).status_code == 303
    assert client.get("/articles/parking").status_code == 404
    assert "Archived" in editor.get("/editor", query_string={"status": "archived"}).get_data(as_text=True)


def test_demo_lists_an_editor_and_shows_history_and_a_draft(app: Flask, client: FlaskClient) -> None:
    import json

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    editors = [u for u in json.loads(result.output)["users"] if u["role"] == "kb_editor"]
    national = next(u for u in editors if u["state"] is None)
    assert runner.invoke(args=["demo", "--json"]).exit_code == 0  # idempotent: no fourth revision
    editor = app.test_client()
    token = read_csrf_token(editor, "/login")
    assert (
        editor.post(
            "/login", data={"email": national["email"], "password": national["password"], "csrf_token": token}
        ).status_code
        == 303
    )
    history = editor.get("/editor/working-on-a-shared-computer/history").get_data(as_text=True)
    assert "Mention locking the screen" in history and "Restore 2" in history and "Restore 3" not in history
    listing = editor.get("/editor").get_data(as_text=True)
    assert "Using ICOTS on a phone" in listing and "Draft" in listing
    assert client.get("/articles/using-icots-on-a-phone").status_code == 404
    assert "Windows+L" in client.get("/articles/working-on-a-shared-computer").get_data(as_text=True)


def test_a_reworded_question_is_warned_about_and_can_keep_its_anchor(app: Flask, client: FlaskClient) -> None:
    editor, token = editor_client(app)
    editor.post("/editor/new", data=fields(token, action="publish"))
    reworded = BODY.replace("Where do visitors park their bicycles?", "Where can visitors leave a bicycle?")
    page = html.unescape(
        editor.post("/editor/parking", data=fields(token, body=reworded, base_revision="1", action="preview")).get_data(
            as_text=True
        )
    )
    assert "The anchor #where-do-visitors-park-their-bicycles" in page
    assert "end the question's line with {#where-do-visitors-park-their-bicycles}" in page
    kept = reworded.replace("a bicycle?", "a bicycle? {#where-do-visitors-park-their-bicycles}")
    editor.post("/editor/parking", data=fields(token, body=kept, base_revision="1", action="publish"))
    article = client.get("/articles/parking").get_data(as_text=True)
    assert 'id="where-do-visitors-park-their-bicycles"' in article and "Where can visitors leave a bicycle?" in article
    assert "{#" not in article
