"""Filing a request on the web: the form with its self-help checklists, "This answered my question", my requests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from helpdesk.accounts.session import current_origin
from helpdesk.errors import error_response
from helpdesk.extensions import db
from helpdesk.forms import SelectChoice
from helpdesk.kb import get_library
from helpdesk.orm import utcnow
from helpdesk.tickets.attachments import MAX_FILES, AttachmentError, AttachmentStore, Upload, check_uploads, size_words
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.queries import list_my_requests
from helpdesk.tickets.submit import IDEMPOTENCY_KEY, MAX_SUGGESTIONS, Submission, record_deflection, submit_ticket
from helpdesk.tickets.web.attachments import attachment_dir, max_attachment_bytes
from helpdesk.tickets.web.blueprint import acting_user, bp, triage
from helpdesk.tickets.web.forms import STATUS_FILTERS, DeflectForm, MyRequestsFilterForm, RequestForm
from helpdesk.tickets.web.ticket import STATUS_WORDS
from helpdesk.triage.routing import TIER_NAMES
from helpdesk.vocabulary import Status

ViewResult = Response | tuple[str, int]
TIER_WORDS = {str(tier): name[:1].upper() + name[1:] for tier, name in TIER_NAMES.items()}
#: A reporter reads their own list: "pending" is waiting for them.
REPORTER_STATUS_WORDS = {**STATUS_WORDS, Status.PENDING: "Waiting for you"}
#: Room for the text fields and the multipart framing on top of the files themselves.
FORM_ALLOWANCE = 1024 * 1024
#: The forms that carry files: the request form and the reply of a request's page.
UPLOAD_ENDPOINTS = frozenset({"tickets.new_request", "tickets.reply"})


@dataclass(frozen=True, slots=True)
class HelpLink:
    """A knowledge-base answer offered with a checklist: where it is, its "slug#question" id, its question."""

    href: str
    answer: str
    text: str


@dataclass(frozen=True, slots=True)
class Checklist:
    """A category's self-help steps and answers, shown before the request is sent."""

    code: str
    label: str
    steps: tuple[str, ...]
    links: tuple[HelpLink, ...]


def checklists() -> list[Checklist]:
    """Return every category's checklist, in the policy's order, with each answer's question as its link text."""
    library, result = get_library(), []
    for category in triage().policy.categories.values():
        links = []
        for link in category.articles:
            answer = link.removeprefix("/articles/")
            slug, _, question_id = answer.partition("#")
            article = library.get(slug)
            question = article.question(question_id) if article and question_id else None
            text = question.text if question else (article.title if article else answer)
            links.append(HelpLink(url_for("kb.article", slug=slug, _anchor=question_id or None), answer, text))
        result.append(Checklist(category.code, category.label, category.checklist, tuple(links)))
    return result


@bp.url_value_preprocessor
def _allow_uploads(endpoint: str | None, values: dict[str, object] | None) -> None:
    # Runs before the CSRF check reads the body: the app-wide limit (1 MB) would refuse legal attachments.
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = MAX_FILES * max_attachment_bytes() + FORM_ALLOWANCE


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Response:
    if request.endpoint not in UPLOAD_ENDPOINTS:
        return error_response(413, exc.description or "The request is too large.")
    return error_response(
        413,
        f"The files are too large: attach at most {MAX_FILES} files of up to "
        f"{size_words(max_attachment_bytes())} each. Nothing was sent: go back, choose "
        "smaller files, and send it again.",
    )


def _render(form: RequestForm, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    found = checklists()
    codes = {checklist.code for checklist in found}
    selected = form.category.data if form.category.data in codes else None
    if not IDEMPOTENCY_KEY.match(form.idempotency_key.data or ""):
        form.idempotency_key.data = secrets.token_urlsafe(24)  # one per form: a resend returns the first ticket
    return render_template(
        "tickets/submit.html",
        form=form,
        checklists=found,
        selected=selected,
        error=error,
        max_files=MAX_FILES,
        max_size=size_words(max_attachment_bytes()),
    ), status


@bp.route("/requests/new", methods=["GET", "POST"])
def new_request() -> ViewResult:
    """Show the request form with the self-help checklists; file the request (and its attachments) when sent."""
    form = RequestForm()
    form.category.choices = [SelectChoice(code, c.label) for code, c in triage().policy.categories.items()]
    if request.method == "GET":
        wanted = request.args.get("category", "")
        form.category.data = wanted if wanted in triage().policy.categories else None
        return _render(form)
    valid = form.validate_on_submit()
    files = [(f.filename, f.stream) for f in request.files.getlist(form.attachments.name) if f.filename]
    uploads: list[Upload] = []
    try:  # every file is checked before anything is filed: one bad file files nothing
        uploads = check_uploads(files, max_bytes=max_attachment_bytes())
    except AttachmentError as exc:
        form.attachments.errors = exc.problems
        valid = False
    if not valid:
        return _render(form, status=400)
    try:
        submission = _file(form, uploads)
    except PermissionError:
        abort(403, "Your account cannot file requests.")
    except TicketError as exc:  # the form is shown again with the reason; the 400 rolls the request back
        return _render(form, error=str(exc), status=400)
    flash(_filed_message(submission, len(uploads)), "success" if submission.created else "info")
    return redirect(url_for("tickets.ticket", ticket_id=submission.ticket.id), 303)


def _file(form: RequestForm, uploads: list[Upload]) -> Submission:
    """File the request and store its files in the request's transaction; if it does not commit, no file remains."""
    user, now, origin = acting_user(), utcnow(), current_origin()
    category = form.category.data or ""
    # The chosen category's answers were on the page too (with or without JavaScript).
    shown = [link.removeprefix("/articles/") for link in triage().policy.category(category).articles]
    suggestions = [*form.suggestion_list(), *shown]
    with AttachmentStore(attachment_dir()) as store:
        submission = submit_ticket(
            db.session,
            triage(),
            reporter=user,
            category=category,
            subject=form.subject.data or "",
            description=form.description.data or "",
            tried=form.tried.data or "",
            affected=form.affected.data or "",
            suggestions=list(dict.fromkeys(suggestions))[:MAX_SUGGESTIONS],
            idempotency_key=form.idempotency_key.data or "",
            origin=origin,
            now=now,
        )
        if submission.created and uploads:  # a resend of the same form: its files came with the first one
            store.save(db.session, submission.ticket, uploads, uploader=user, origin=origin, now=now, touch=False)
    return submission


def _filed_message(submission: Submission, files: int) -> str:
    ticket = submission.ticket
    if not submission.created:
        return f"This request was already sent as request #{ticket.id}; it was not filed twice."
    parts = [f"Your request #{ticket.id} was sent and {ticket.route_reason.rstrip('.')}."]
    if submission.decision and submission.decision.reporter_notice:
        parts.append(submission.decision.reporter_notice)
    if files:
        parts.append(f"{files} file{'s' if files != 1 else ''} attached.")
    return " ".join(parts)


@bp.post("/requests/deflect")
def deflect() -> Response:
    """ "This answered my question": count the deflection and end without filing a request."""
    form = DeflectForm()
    if not form.validate_on_submit():
        problems = [error for errors in form.errors.values() for error in errors]
        abort(400, " ".join(str(p) for p in problems) or "The form could not be read: please try again.")
    answer = form.answer.data or None
    try:
        record_deflection(
            db.session,
            triage(),
            user=acting_user(),
            category=form.category.data or "",
            answer=answer,
            origin=current_origin(),
            query=form.query.data or None,
        )
    except TicketError as exc:  # a bad deflection is a bad form here (400), not the API's 422
        abort(400, str(exc))
    flash("Glad that helped — no request was filed.", "success")
    slug, _, question_id = (answer or "").partition("#")
    if slug and get_library().get(slug) is not None:
        return redirect(url_for("kb.article", slug=slug, _anchor=question_id or None), 303)
    return redirect(url_for("kb.home"), 303)


@bp.get("/requests")
def my_requests() -> tuple[str, int]:
    """List the signed-in user's own requests, newest first, filtered by status."""
    form = MyRequestsFilterForm(formdata=request.args)
    valid = form.validate()
    status = (form.status.data or "all") if valid else "all"
    found = list_my_requests(
        db.session, acting_user(), statuses=STATUS_FILTERS[status][1], page=(form.page.data or 1) if valid else 1
    )
    labels = {code: category.label for code, category in triage().policy.categories.items()}
    return render_template(
        "tickets/my_requests.html",
        form=form,
        found=found,
        status=status,
        filters=STATUS_FILTERS,
        labels=labels,
        tiers=TIER_WORDS,
        statuses=REPORTER_STATUS_WORDS,
    ), 200 if valid else 400
