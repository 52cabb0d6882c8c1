"""One request lifecycle: one commit at the end of a successful request, a rollback otherwise, one error handler."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator

import pytest
from flask import Blueprint, Flask, redirect
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from helpdesk.accounts.api_tokens import TokenError
from helpdesk.accounts.services import AccountError, TakeoverError
from helpdesk.api.tickets import _Invalid
from helpdesk.audit.models import AuditEvent
from helpdesk.audit.services import SYSTEM, record_event
from helpdesk.domain_errors import DomainError
from helpdesk.extensions import csrf, db
from helpdesk.insights.scope import ReportInputError
from helpdesk.insights.services import GapActionError
from helpdesk.kb.articles import ArticleError
from helpdesk.kb.comments import CommentError
from helpdesk.kb.editing import EditConflict, EditInvalid
from helpdesk.kb.exchange import ExchangeError
from helpdesk.kb.models import Vote
from helpdesk.tickets.attachments import AttachmentError
from helpdesk.tickets.errors import TicketConflict, TicketError
from helpdesk.triage.policy import UnknownCategoryError
from tests import factories
from tests.helpers import read_csrf_token

PROBE = "lifecycle_probe"
SLUG = "errors-and-technical-support"
#: One instance of every domain error class the services raise.
ERRORS: dict[str, Callable[[], DomainError]] = {
    "TicketError": lambda: TicketError("This request is closed."),
    "TicketConflict": lambda: TicketConflict(7, 1, 2),
    "AttachmentError": lambda: AttachmentError(["virus.exe: only PDF or TXT files are accepted."]),
    "TokenError": lambda: TokenError("Give the token a name."),
    "AccountError": lambda: AccountError("You cannot deactivate your own account."),
    "TakeoverError": lambda: TakeoverError("Choose another active user of your state to take over the work."),
    "CommentError": lambda: CommentError("Write a comment first."),
    "EditInvalid": lambda: EditInvalid({"title": "Give the article a title."}),
    "EditConflict": lambda: EditConflict(4),
    "ReportInputError": lambda: ReportInputError("state must be a two-letter state code"),
    "GapActionError": lambda: GapActionError("That question no longer exists."),
    "UnknownCategoryError": lambda: UnknownCategoryError("Unknown category bogus."),
    "ExchangeError": lambda: ExchangeError("line 3: a section needs a title."),
    "ArticleError": lambda: ArticleError("The article has no title."),
    "Invalid": lambda: _Invalid("subject", '"subject" must be 3 to 200 characters.'),
}


def _probe(detail: str) -> None:
    record_event(db.session, PROBE, origin=SYSTEM, detail=detail)
    db.session.flush()  # written to the database, inside the request's transaction


def _probes(app: Flask, detail: str | None = None) -> int:
    with app.app_context():
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == PROBE)
        if detail is not None:
            query = query.where(AuditEvent.detail == detail)
        return db.session.scalar(query) or 0


@pytest.fixture
def probe_app(app: Flask) -> Flask:
    """The app with a few views that write an audit row and then answer or fail in each way."""
    bp = Blueprint("lifecycle_probe", __name__)

    def fail(name: str) -> Response:
        _probe(f"before {name}")
        raise ERRORS[name]()

    def ok() -> Response:
        _probe("ok")
        return redirect("/", 303)

    def kept() -> tuple[str, int]:
        _probe("kept")
        db.keep_refused()
        return "refused, but the record stays", 409

    def refused() -> tuple[str, int]:
        _probe("refused")
        return "refused", 409

    def kept_then_raised() -> Response:
        _probe("kept then raised")
        db.keep_refused()
        raise TicketError("Refused after all.")

    def commit_fails(taken: int) -> Response:
        _probe("lost")
        db.session.add(AuditEvent(id=taken, action=PROBE, origin="system", detail="duplicate"))
        return redirect("/", 303)  # the duplicate key only fails at the request's commit

    for path, view in (
        ("/lifecycle/fail/<name>", fail),
        ("/api/v1/lifecycle/fail/<name>", fail),
        ("/lifecycle/ok", ok),
        ("/lifecycle/kept", kept),
        ("/lifecycle/refused", refused),
        ("/lifecycle/kept-then-raised", kept_then_raised),
        ("/lifecycle/commit-fails/<int:taken>", commit_fails),
    ):
        bp.add_url_rule(path, f"{view.__name__}{'_api' if path.startswith('/api/') else ''}", view, methods=["POST"])
    csrf.exempt(bp)
    app.register_blueprint(bp)
    return app


@pytest.fixture
def commits(app: Flask) -> Iterator[list[Session]]:
    """Every commit of a session on the app's database, in order."""
    engine = app.extensions["helpdesk.db"][0]
    seen: list[Session] = []

    def count(session: Session) -> None:
        if session.bind is engine:
            seen.append(session)

    event.listen(Session, "after_commit", count)
    yield seen
    event.remove(Session, "after_commit", count)


@pytest.mark.parametrize("name", list(ERRORS))
def test_each_domain_error_answers_its_status_in_html_and_leaves_nothing(probe_app: Flask, name: str) -> None:
    error = ERRORS[name]()
    response = probe_app.test_client().post(f"/lifecycle/fail/{name}")
    assert response.status_code == error.status and response.mimetype == "text/html"
    assert error.message in html.unescape(response.get_data(as_text=True))
    assert _probes(probe_app) == 0


@pytest.mark.parametrize("name", list(ERRORS))
def test_each_domain_error_answers_its_status_in_json_under_api(probe_app: Flask, name: str) -> None:
    error = ERRORS[name]()
    response = probe_app.test_client().post(f"/api/v1/lifecycle/fail/{name}")
    expected = {"error": error.code, "message": error.message, **error.details()}
    if error.field is not None:
        expected["field"] = error.field
    assert response.status_code == error.status and response.json == expected
    assert _probes(probe_app) == 0


def test_statuses_and_fields_of_the_refusals() -> None:
    statuses = {name: make().status for name, make in ERRORS.items()}
    assert statuses["TicketConflict"] == statuses["EditConflict"] == 409
    assert statuses["TicketError"] == statuses["EditInvalid"] == statuses["Invalid"] == 422
    assert statuses["AccountError"] == 409 and statuses["TakeoverError"] == statuses["TokenError"] == 400
    assert ERRORS["EditInvalid"]().field == "title" and ERRORS["Invalid"]().field == "subject"
    assert ERRORS["TakeoverError"]().field == "reassign_to" and ERRORS["AttachmentError"]().field == "attachments"
    assert all(isinstance(make(), ValueError) for make in ERRORS.values())  # older `except ValueError` still works


def test_a_successful_request_commits_once(probe_app: Flask, commits: list[Session]) -> None:
    response = probe_app.test_client().post("/lifecycle/ok")
    assert response.status_code == 303 and len(commits) == 1 and _probes(probe_app, "ok") == 1


def test_a_refusal_without_an_exception_rolls_back(probe_app: Flask, commits: list[Session]) -> None:
    assert probe_app.test_client().post("/lifecycle/refused").status_code == 409
    assert commits == [] and _probes(probe_app) == 0


def test_a_refusal_marked_kept_persists(probe_app: Flask, commits: list[Session]) -> None:
    assert probe_app.test_client().post("/lifecycle/kept").status_code == 409
    assert len(commits) == 1 and _probes(probe_app, "kept") == 1


def test_an_exception_after_keep_refused_still_rolls_back(probe_app: Flask) -> None:
    assert probe_app.test_client().post("/lifecycle/kept-then-raised").status_code == 422
    assert _probes(probe_app) == 0


def test_a_failed_commit_is_an_error_never_a_success(probe_app: Flask) -> None:
    client = probe_app.test_client()
    assert client.post("/lifecycle/ok").status_code == 303
    with probe_app.app_context():
        taken = db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == PROBE))
    response = client.post(f"/lifecycle/commit-fails/{taken}")
    assert response.status_code == 500 and "Something went wrong" in response.get_data(as_text=True)
    assert _probes(probe_app, "lost") == 0 and _probes(probe_app) == 1


def test_a_real_form_post_commits_once(app: Flask, commits: list[Session]) -> None:
    client = app.test_client()
    token = read_csrf_token(client, f"/articles/{SLUG}")
    commits.clear()
    response = client.post(f"/articles/{SLUG}/vote", data={"csrf_token": token, "helpful": "yes"})
    assert response.status_code == 303 and len(commits) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vote).where(Vote.article_slug == SLUG)) == 1


def test_a_refused_form_post_commits_nothing(app: Flask, commits: list[Session]) -> None:
    client = app.test_client()
    token = read_csrf_token(client, f"/articles/{SLUG}")
    commits.clear()
    response = client.post(f"/articles/{SLUG}/vote", data={"csrf_token": token, "helpful": "maybe"})
    assert response.status_code == 400 and commits == []


def test_a_failed_sign_in_keeps_its_count_and_audit_row(app: Flask) -> None:
    user = factories.make_user(app)
    client = app.test_client()
    token = read_csrf_token(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "email": user.email, "password": "wrong guess"})
    assert response.status_code == 200
    with app.app_context():
        stored = db.session.get(type(user), user.id)
        assert stored is not None and stored.failed_logins == 1
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "sign_in", AuditEvent.outcome == "failure")
            )
            == 1
        )


def test_a_refused_reset_link_keeps_its_audit_row_with_a_410(client: FlaskClient, app: Flask) -> None:
    assert client.get("/reset/not-a-real-token").status_code == 410
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "password_link_opened", AuditEvent.outcome == "failure")
            )
            == 1
        )


def test_a_denied_request_keeps_its_audit_row(app: Flask) -> None:
    client = factories.signed_in_client(app, factories.make_user(app, role="po"))
    assert client.get("/admin/users").status_code == 403
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "access_denied"))
            == 1
        )
