"""Comments: signed-in authors, own edits only, hiding by compact office and national staff, no script anywhere."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect
from werkzeug.test import TestResponse

from helpdesk.extensions import db
from helpdesk.kb.models import Comment
from tests.accounts.support import ARTICLE, SLUG, all_rows, audit
from tests.factories import make_user, sign_in
from tests.helpers import post_form, without_csrf

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

COMMENTS = f"{ARTICLE}/comments"


def comment(client: FlaskClient, body: str) -> TestResponse:
    return post_form(client, COMMENTS, {"body": body}, form_page=ARTICLE)


def only_comment(app: Flask) -> Comment:
    [row] = all_rows(app, Comment)
    return row


def comments_section(page: str) -> str:
    return page[page.index('<section id="comments"') :]


class _Markup(HTMLParser):
    """Collect the tags and attributes of an HTML fragment (what a browser would act on, not escaped text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def active_parts(fragment: str) -> list[str]:
    """Return what in `fragment` could run script: dangerous tags, event handlers, script URLs."""
    parser = _Markup()
    parser.feed(fragment)
    found = []
    for tag, attrs in parser.tags:
        if tag in {"script", "iframe", "svg", "style", "form", "object", "embed", "input", "base", "link", "meta"}:
            found.append(f"<{tag}>")
        for name, value in attrs:
            url = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name.startswith("on") or (
                name in {"href", "src", "action", "formaction"}
                and url.startswith(("javascript:", "vbscript:", "data:"))
            ):
                found.append(f"{tag} {name}={value}")
    return found


def signed_in_as(app: Flask, role: str = "po", **fields: object) -> FlaskClient:
    client = app.test_client()
    user = make_user(app, role=role, **fields)
    assert sign_in(client, user).status_code == 303
    return client


def test_signed_out_readers_are_asked_to_sign_in(app: Flask, client: FlaskClient) -> None:
    page = client.get(ARTICLE).get_data(as_text=True)
    assert "Please sign in to leave a comment" in page and 'name="body"' not in page
    link = re.search(r'<a href="([^"]+)">Please sign in to leave a comment', page)
    assert link and link.group(1).startswith("/login?next=")
    response = comment(client, "Anonymous words")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert all_rows(app, Comment) == []


def test_signed_in_users_comment(app: Flask) -> None:
    client = signed_in_as(app)
    response = comment(client, "Restarting the browser **fixed** it for me.")
    assert response.status_code == 303
    row = only_comment(app)
    assert response.headers["Location"].endswith(f"{ARTICLE}#comment-{row.id}")
    page = client.get(ARTICLE).get_data(as_text=True)
    assert "Restarting the browser <strong>fixed</strong> it for me." in page
    [event] = audit(app, "comment_added")
    assert (event.target_id, event.actor_id, event.detail) == (str(row.id), row.author_id, SLUG)


def test_authors_edit_only_their_own_comments(app: Flask) -> None:
    author, other = signed_in_as(app), signed_in_as(app)
    comment(author, "First version")
    row = only_comment(app)
    edit = f"/comments/{row.id}/edit"
    assert other.get(edit).status_code == 403
    assert post_form(other, edit, {"body": "Hijacked"}, form_page=ARTICLE).status_code == 403
    assert only_comment(app).body_md == "First version"
    assert post_form(author, edit, {"body": "Second version"}).status_code == 303
    assert only_comment(app).body_md == "Second version"
    [event] = audit(app, "comment_edited")
    assert (event.target_id, event.actor_id) == (str(row.id), row.author_id)


def test_only_compact_office_and_national_staff_hide_comments(app: Flask, client: FlaskClient) -> None:
    author = signed_in_as(app)
    comment(author, "Call me on my personal phone about case 12-345")
    row = only_comment(app)
    for role in ("po", "po_supervisor", "local_it", "po_support"):
        response = post_form(signed_in_as(app, role), f"/comments/{row.id}/hide", {"reason": "no"}, form_page=ARTICLE)
        assert response.status_code == 403, role
    assert only_comment(app).hidden_at is None
    moderator = signed_in_as(app, "compact_office")
    assert (
        post_form(moderator, f"/comments/{row.id}/hide", {"reason": "case details"}, form_page=ARTICLE).status_code
        == 303
    )
    hidden = only_comment(app)
    assert hidden.hidden_at is not None and hidden.hidden_reason == "case details"
    assert "case 12-345" not in client.get(ARTICLE).get_data(as_text=True)  # readers
    assert "case 12-345" not in author.get(ARTICLE).get_data(as_text=True)  # the author too
    assert author.get(f"/comments/{row.id}/edit").status_code == 404
    staff_view = moderator.get(ARTICLE).get_data(as_text=True)
    assert "case 12-345" in staff_view and "Hidden from readers: case details" in staff_view
    [event] = audit(app, "comment_hidden")
    assert (event.target_id, event.detail, event.outcome) == (str(row.id), "case details", "success")
    assert post_form(moderator, f"/comments/{row.id}/unhide", {}, form_page=ARTICLE).status_code == 303
    assert "case 12-345" in client.get(ARTICLE).get_data(as_text=True)
    assert len(audit(app, "comment_unhidden")) == 1
    national = signed_in_as(app, "national_admin")
    assert post_form(national, f"/comments/{row.id}/hide", {"reason": "again"}, form_page=ARTICLE).status_code == 303
    assert only_comment(app).hidden_reason == "again"


def test_moderation_stays_within_the_moderator_s_state(app: Flask) -> None:
    author = signed_in_as(app, state="TX")
    comment(author, "Texas words to moderate")
    row = only_comment(app)
    ohio = signed_in_as(app, "compact_office", state="OH")
    assert f"/comments/{row.id}/hide" not in ohio.get(ARTICLE).get_data(as_text=True)  # no button for Texas
    missing = post_form(ohio, "/comments/999999/hide", {"reason": "off topic"}, form_page=ARTICLE)
    foreign = post_form(ohio, f"/comments/{row.id}/hide", {"reason": "off topic"}, form_page=ARTICLE)
    assert foreign.status_code == missing.status_code == 404  # another state's comment is answered like a missing one
    assert without_csrf(foreign.get_data(as_text=True)) == without_csrf(missing.get_data(as_text=True))
    assert only_comment(app).hidden_at is None and audit(app, "comment_hidden") == []
    national = signed_in_as(app, "national_admin")
    reason = "Hidden by the national office: off topic"
    assert post_form(national, f"/comments/{row.id}/hide", {"reason": reason}, form_page=ARTICLE).status_code == 303
    assert only_comment(app).hidden_reason == reason
    [event] = audit(app, "comment_hidden")
    assert event.state_code == "TX"  # filed under the author's state, not the moderator's
    assert "Texas words to moderate" not in ohio.get(ARTICLE).get_data(as_text=True)  # Ohio does not see it hidden
    assert post_form(ohio, f"/comments/{row.id}/unhide", {}, form_page=ARTICLE).status_code == 404
    assert only_comment(app).hidden_at is not None
    texas = signed_in_as(app, "compact_office", state="TX")
    assert "Texas words to moderate" in texas.get(ARTICLE).get_data(as_text=True)
    assert reason in signed_in_as(app, "state_admin", state="TX").get("/admin/audit").get_data(as_text=True)
    assert reason not in signed_in_as(app, "state_admin", state="OH").get("/admin/audit").get_data(as_text=True)
    assert post_form(texas, f"/comments/{row.id}/unhide", {}, form_page=ARTICLE).status_code == 303
    assert [e.state_code for e in audit(app, "comment_unhidden")] == ["TX"]


def test_the_show_again_button_shows_the_comment_again(app: Flask, client: FlaskClient) -> None:
    author = signed_in_as(app)
    comment(author, "Temporarily hidden words")
    row = only_comment(app)
    moderator = signed_in_as(app, "compact_office")
    post_form(moderator, f"/comments/{row.id}/hide", {"reason": "checking"}, form_page=ARTICLE)
    page = moderator.get(ARTICLE).get_data(as_text=True)
    form = re.search(rf'<form method="post" action="/comments/{row.id}/unhide">(.*?)</form>', page, flags=re.DOTALL)
    assert form, "no unhide form"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))
    assert moderator.post(f"/comments/{row.id}/unhide", data=fields).status_code == 303
    assert only_comment(app).hidden_at is None


PAYLOADS = [
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert('xss')>",
    "[click me](javascript:alert('xss'))",
    "[click me](JaVaScRiPt:alert('xss'))",
    "<a href=\"data:text/html,<script>alert('xss')</script>\">x</a>",
    "<svg onload=alert('xss')>",
    '<iframe src="https://evil.example"></iframe>',
    '<style>body{display:none}</style><form action="https://evil.example"><input name=q></form>',
    "[x](vbscript:msgbox('xss'))",
    '<a href="&#106;avascript:alert(1)">entity-encoded</a>',
]


def test_script_in_comments_is_inert(app: Flask, subtests: pytest.Subtests) -> None:
    client = signed_in_as(app)
    for number, payload in enumerate(PAYLOADS):
        assert comment(client, f"Before{number} {payload} after{number}").status_code == 303
    section = comments_section(client.get(ARTICLE).get_data(as_text=True))
    bodies = re.findall(r'<div class="comment-body">(.*?)</div>', section, flags=re.DOTALL)
    assert len(bodies) == len(PAYLOADS)
    for number, (payload, rendered) in enumerate(zip(PAYLOADS, bodies, strict=True)):
        with subtests.test(payload=payload):
            assert f"Before{number}" in rendered and f"after{number}" in rendered
            assert active_parts(rendered) == []


def test_script_in_names_is_inert(app: Flask) -> None:
    name = "<script>alert('name')</script><img src=x onerror=alert(1)>Eve"
    client = signed_in_as(app, name=name)
    comment(client, "Hello")
    for path in (ARTICLE, "/account", "/"):
        page = client.get(path).get_data(as_text=True)
        assert "alert" not in " ".join(re.findall(r"<script[^>]*>.*?</script>", page, flags=re.DOTALL)), path
        assert not any("onerror" in part for part in active_parts(page)), path
        assert name in html.unescape(page), path  # shown, as text


def test_sql_shaped_comments_are_just_text(app: Flask) -> None:
    client = signed_in_as(app)
    text = "'; DROP TABLE comment; -- and ' OR 1=1 --"
    assert comment(client, text).status_code == 303
    assert only_comment(app).body_md == text
    assert text in html.unescape(client.get(ARTICLE).get_data(as_text=True))
    with app.app_context():
        assert inspect(db.engine).has_table("comment")


def test_comment_forms_need_a_valid_csrf_token(app: Flask) -> None:
    author, moderator = signed_in_as(app), signed_in_as(app, "compact_office")
    comment(author, "Original")
    row = only_comment(app)
    attempts = [
        (author, COMMENTS, {"body": "Forged"}),
        (author, f"/comments/{row.id}/edit", {"body": "Forged"}),
        (moderator, f"/comments/{row.id}/hide", {"reason": "forged"}),
        (moderator, f"/comments/{row.id}/unhide", {}),
    ]
    for client, path, data in attempts:
        for token in (None, "forged-token", "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.aaaa.bbbb"):
            sent = data if token is None else {**data, "csrf_token": token}
            assert client.post(path, data=sent).status_code == 400, (path, token)
    after = only_comment(app)
    assert (after.body_md, after.hidden_at, len(all_rows(app, Comment))) == ("Original", None, 1)
    assert len(audit(app, "comment_added")) == 1
    assert audit(app, "comment_edited") == audit(app, "comment_hidden") == []
