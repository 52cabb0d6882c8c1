"""Demo articles: one with three revisions (history to compare and restore) and a draft readers do not see."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.services import SYSTEM
from helpdesk.kb.content_models import Section
from helpdesk.kb.editing import Draft, find_article, save_article

SHARED = "working-on-a-shared-computer"
_BODY = """What to do when several people use one computer at your office.

## Should I sign out when I leave a shared computer?

Yes. Sign out{extra} before you leave: the next person must not see your cases.

## Can the browser remember my password on a shared computer?

No. Never let the browser save your password on a computer others use.
"""
REVISIONS = (
    ("First version", _BODY.format(extra="")),
    ("Say where the Sign out button is", _BODY.format(extra=" (the button at the top right of every page)")),
    (
        "Mention locking the screen",
        _BODY.format(
            extra=" (the button at the top right of every page), or lock the screen with Windows+L for a short break"
        ),
    ),
)
DRAFT = Draft(
    title="Using ICOTS on a phone",
    section="",
    note="Started: needs screenshots",
    body=(
        "ICOTS works in a phone's browser.\n\n## Can I use ICOTS on my phone?\n\n"
        "Yes, through the browser; your agency's rules on phones apply.\n"
    ),
)


def load_demo_articles(session: Session, *, editor: User, now: dt.datetime) -> None:
    """Write the demo articles as `editor`, once (nothing is written again when they exist)."""
    section = (
        session.scalars(select(Section.slug).where(Section.slug == "troubleshooting")).first()
        or session.scalars(select(Section.slug).order_by(Section.position)).first()
    )
    if section is None or find_article(session, SHARED) is not None:
        return
    article = None
    for number, (note, body) in enumerate(REVISIONS, start=1):
        draft = Draft(
            title="Working on a shared computer",
            section=section,
            body=body,
            note=note,
            tags=["shared", "sign out"],
            summary="Signing out and passwords on computers others use.",
        )
        article, _ = save_article(
            session,
            article,
            draft,
            actor=editor,
            origin=SYSTEM,
            now=now - dt.timedelta(days=len(REVISIONS) - number),
            publish=True,
        )
    draft = Draft(DRAFT.title, section, DRAFT.body, note=DRAFT.note)
    save_article(session, None, draft, actor=editor, origin=SYSTEM, now=now)
