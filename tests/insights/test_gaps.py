"""The failed-search lists: handled items leave the list, however far down the unhandled ones are."""

from __future__ import annotations

import datetime as dt
from itertools import product

import pytest
from flask import Flask
from sqlalchemy import delete

from helpdesk.extensions import db
from helpdesk.insights import gaps
from helpdesk.insights.gaps import failed_searches
from helpdesk.insights.models import HandledItem
from helpdesk.insights.scope import Period
from helpdesk.search.models import SearchQuery
from tests.factories import make_user

pytestmark = pytest.mark.db

DAY = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
#: Three-letter queries: too short for typo grouping, so each is its own item.
QUERIES = ["".join(letters) for letters in product("bcdfgh", repeat=3)][:130]


def test_the_list_fills_from_beyond_the_handled_items(app: Flask) -> None:
    """The 110 most searched items are handled (past the first slice read): the list shows the next ones."""
    editor = make_user(app, role="kb_editor", state=None)
    handled, rest = QUERIES[:110], QUERIES[110:]
    assert len(handled) > gaps._SLICE  # the handling is read in slices: the second one is needed too
    with app.app_context():
        session = db.session
        session.execute(delete(SearchQuery))
        at = DAY + dt.timedelta(hours=1)
        session.add_all(
            [
                SearchQuery(query=q, hits=0, source="page", person=f"p{n % 3}", created_at=at)
                for q in handled
                for n in range(2)
            ]
        )
        session.add_all([SearchQuery(query=q, hits=0, source="page", person="p9", created_at=at) for q in rest])
        session.add_all(
            [
                HandledItem(
                    kind="zero_result",
                    item_key=q,
                    action="dismissed",
                    handled_by_id=editor.id,
                    handled_at=DAY + dt.timedelta(hours=2),
                )
                for q in handled
            ]
        )
        session.commit()
        period = Period(DAY.date(), DAY.date())
        found = failed_searches(session, period, None)["zero_result"]
        assert [(g.query, g.searches, g.people) for g in found] == [(q, 1, 1) for q in sorted(rest)]
        # Searched again after its handling, an item comes back, at the top (three searches).
        session.add(
            SearchQuery(query=handled[105], hits=0, source="page", person="p5", created_at=DAY + dt.timedelta(hours=3))
        )
        session.commit()
        found = failed_searches(session, period, None)["zero_result"]
        assert [(g.query, g.searches, g.people) for g in found[:2]] == [(handled[105], 3, 3), (sorted(rest)[0], 1, 1)]
        assert len(found) == len(rest) + 1
        session.rollback()
