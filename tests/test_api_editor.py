"""The editors' API: the contract other tools rely on (fields, answers, 409 naming the newer revision)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.accounts.api_tokens import create_api_token
from helpdesk.accounts.models import User
from helpdesk.audit.services import SYSTEM
from helpdesk.extensions import db
from tests.factories import make_user, sign_in
from tests.helpers import read_csrf_token

BODY = "Where to park.\n\n## Where do visitors park their bicycles?\n\nBehind the east wing.\n"

pytestmark = pytest.mark.db


def token_of(app: Flask, user: User) -> dict[str, str]:
    with app.app_context():
        _, plaintext = create_api_token(db.session, actor=db.session.get(User, user.id), name="tool", origin=SYSTEM)
        db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def test_the_editor_api_contract(app: Flask, client: FlaskClient) -> None:
    auth = token_of(app, make_user(app, role="kb_editor", state=None))
    created = client.post(
        "/api/v1/editor/articles",
        headers=auth,
        json={
            "title": "Parking",
            "section": "access",
            "body": BODY,
            "summary": "Bicycles",
            "tags": ["parking"],
            "note": "first",
        },
    )
    assert created.status_code == 201, created.json
    assert {k: created.json[k] for k in ("slug", "status", "revision")} == {
        "slug": "parking",
        "status": "draft",
        "revision": 1,
    }
    assert client.get("/api/v1/articles/parking").status_code == 404  # readers: not yet
    saved = client.put(
        "/api/v1/editor/articles/parking",
        headers=auth,
        json={"title": "Parking", "section": "access", "body": BODY + "\nAsk reception.\n", "base_revision": 1},
    )
    assert (saved.status_code, saved.json["revision"], saved.json["status"]) == (200, 2, "draft")
    stale = client.put(
        "/api/v1/editor/articles/parking",
        headers=auth,
        json={"title": "Parking", "section": "access", "body": "Lost edit.", "base_revision": 1},
    )
    assert stale.status_code == 409 and stale.json["revision"] == 2 and "revision 2" in stale.json["message"]
    published = client.post("/api/v1/editor/articles/parking/publish", headers=auth)
    assert (published.json["status"], published.json["revision"]) == ("published", 2)
    assert "Ask reception" in client.get("/api/v1/articles/parking").get_data(as_text=True)
    restored = client.post("/api/v1/editor/articles/parking/restore", headers=auth, json={"revision": 1})
    assert (restored.status_code, restored.json["revision"], restored.json["status"]) == (200, 3, "published")
    assert "Ask reception" not in client.get("/api/v1/articles/parking").get_data(as_text=True)
    history = client.get("/api/v1/editor/articles/parking/revisions", headers=auth).json["revisions"]
    assert [(r["number"], r["note"]) for r in history] == [(3, "Restored revision 1"), (2, ""), (1, "first")]
    archived = client.post("/api/v1/editor/articles/parking/archive", headers=auth)
    assert archived.json["status"] == "archived"
    assert client.get("/api/v1/articles/parking").status_code == 404
    listed = client.get("/api/v1/editor/articles", headers=auth).json["articles"]
    assert {a["slug"]: a["status"] for a in listed}["parking"] == "archived"


def test_bad_fields_are_422_naming_the_field(app: Flask, client: FlaskClient) -> None:
    auth = token_of(app, make_user(app, role="national_admin"))
    for payload, field in [
        ({"title": "T", "section": "nowhere", "body": "x"}, "section"),
        ({"title": "", "section": "access", "body": "x"}, "title"),
        ({"title": "T", "section": "access", "body": 5}, "body"),
        ({"title": "T", "section": "access", "body": "x", "tags": [1]}, "tags"),
    ]:
        response = client.post("/api/v1/editor/articles", headers=auth, json=payload)
        assert response.status_code == 422 and response.json["field"] == field, response.json
    response = client.put("/api/v1/editor/articles/icots-privacy-policy", headers=auth, json={"title": "T"})
    assert response.status_code == 422 and response.json["field"] == "base_revision"


def test_readers_and_other_roles_are_refused(app: Flask, client: FlaskClient) -> None:
    assert client.get("/api/v1/editor/articles").status_code == 401
    auth = token_of(app, make_user(app, role="compact_office"))
    assert client.get("/api/v1/editor/articles", headers=auth).status_code == 403
    assert (
        client.post(
            "/api/v1/editor/articles", headers=auth, json={"title": "T", "section": "access", "body": "x"}
        ).status_code
        == 403
    )


def test_a_session_needs_the_csrf_header(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app, role="kb_editor", state=None))
    payload = {"title": "Parking", "section": "access", "body": BODY}
    assert client.post("/api/v1/editor/articles", json=payload).status_code == 400
    token = read_csrf_token(client)
    assert client.post("/api/v1/editor/articles", json=payload, headers={"X-CSRFToken": token}).status_code == 201
