"""Rules that were checked in views and now live in the services, so that web, API, CLI and demo share them."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.accounts.services import AccountError, TakeoverError, deactivate_user
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from helpdesk.tickets.attachments import AttachmentStore, check_upload
from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.escalation.escalate import RULE_OUT_FIRST, escalate_ticket
from helpdesk.tickets.models import Attachment, Ticket
from helpdesk.tickets.submit import Submission
from helpdesk.tickets.workflow import reopen_ticket
from tests.tickets.conftest import ORIGIN, Org, events
from tests.tickets.test_web_caseload import held  # noqa: F401 (a fixture)
from tests.tickets.ticket_page_support import file_request

CHECKED = "Cleared the cache, tried another PC and another network: same error."


def test_the_service_refuses_to_escalate_from_local_it_unless_local_causes_are_ruled_out(
    session: Session, org: Org, triage: Triage, submit: Callable[..., Submission]
) -> None:
    ticket = submit(org["ana"], "error").ticket
    with pytest.raises(TicketError) as refused:
        escalate_ticket(session, triage, ticket, actor=org["pat"], expected_version=1, checked=CHECKED, origin=ORIGIN)
    assert str(refused.value) == RULE_OUT_FIRST and refused.value.field == "ruled_out"
    assert ticket.tier == "local_it" and ticket.version == 1 and events(session, ticket, "escalated") == []
    escalate_ticket(
        session, triage, ticket, actor=org["pat"], expected_version=1, checked=CHECKED, origin=ORIGIN, ruled_out=True
    )
    assert ticket.tier == "compact_office"


def test_the_compact_office_escalates_without_the_local_tick(
    session: Session, org: Org, triage: Triage, submit: Callable[..., Submission]
) -> None:
    ticket = submit(org["ana"], "access").ticket
    assert ticket.tier == "compact_office"
    escalate_ticket(
        session,
        triage,
        ticket,
        actor=org["robin"],
        expected_version=ticket.version,
        checked="Offices in three states report the same access error.",
        origin=ORIGIN,
    )
    assert ticket.tier == "national"


def test_the_service_refuses_to_reopen_an_open_request(
    session: Session, org: Org, triage: Triage, submit: Callable[..., Submission]
) -> None:
    ticket = submit(org["ana"], "error").ticket
    with pytest.raises(TicketError, match="This request is new: there is nothing to reopen."):
        reopen_ticket(
            session,
            triage,
            ticket,
            actor=org["robin"],
            reason="It fails again.",
            expected_version=ticket.version,
            origin=ORIGIN,
        )
    assert ticket.status == "new" and events(session, ticket, "reopened") == []
    with pytest.raises(PermissionError):  # the permission is checked first: a PO learns nothing of the status
        reopen_ticket(
            session,
            triage,
            ticket,
            actor=org["ana"],
            reason="It fails again.",
            expected_version=ticket.version,
            origin=ORIGIN,
        )


def test_the_service_checks_the_hand_over_target(app: Flask, org: Org, held: dict[str, list[int]]) -> None:  # noqa: F811
    with app.app_context():
        pat, tess = db.session.get(User, org.users["pat"]), db.session.get(User, org.users["tess"])
        assert pat is not None and tess is not None
        for name, words in (
            ("ana", "Ana Reyes cannot take request"),
            ("otto", "active user of your state"),
            ("pat", "active user of your state"),
        ):
            with pytest.raises(TakeoverError, match=words) as refused:
                deactivate_user(
                    db.session,
                    pat,
                    actor=tess,
                    origin=ORIGIN,
                    now=utcnow(),
                    reassign_to=db.session.get(User, org.users[name]),
                )
            assert refused.value.status == 400 and refused.value.field == "reassign_to"
            assert isinstance(refused.value, AccountError)  # the CLI's `except AccountError` still catches it
            db.session.rollback()
            assert pat.is_active
        moved = deactivate_user(
            db.session, pat, actor=tess, origin=ORIGIN, now=utcnow(), reassign_to=db.session.get(User, org.users["lee"])
        )
        assert moved == 3 and not pat.is_active


@pytest.mark.parametrize("commit", [True, False])
def test_attachment_files_follow_the_requests_transaction(app: Flask, org: Org, commit: bool) -> None:
    ticket_id = file_request(app, org)
    folder = Path(app.config["INSTANCE_DIR"]) / "attachments-probe"
    upload = check_upload("steps.txt", io.BytesIO(b"Steps I tried."))
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket is not None
        with AttachmentStore(folder) as store:  # left without an exception: the transaction decides
            store.save(db.session, ticket, [upload], uploader=org["ana"], origin=ORIGIN, now=ticket.created_at)
        assert len(list(folder.iterdir())) == 1
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
        assert len(list(folder.iterdir())) == (1 if commit else 0)
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == (1 if commit else 0)
