"""Pages through the test client: home, sections, articles, search, no-results, the request page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.search.models import SearchClick, SearchQuery

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

LOGIN_Q = "what-do-i-do-when-i-get-an-error-or-if-i-cant-log-into-icots"


def test_home_lists_sections_articles_and_a_way_to_get_help(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'role="search"' in page and 'name="q"' in page and 'for="q-home"' in page
    for title in (
        "Access and accounts",
        "Privacy",
        "Errors and troubleshooting",
        "User Administration and System Access",
        "Errors and Technical Support",
        "The ICOTS Privacy Policy",
        "Getting help with this help desk",
    ):
        assert title in page
    assert 'href="/request"' in page
    assert '<main id="main"' in page and 'class="skip-link" href="#main"' in page


def test_home_shows_most_helpful_articles(client: FlaskClient, csrf_token: str) -> None:
    client.post(
        "/api/v1/articles/errors-and-technical-support/vote",
        json={"helpful": True},
        headers={"X-CSRFToken": csrf_token},
    )
    page = client.get("/").get_data(as_text=True)
    assert "Most helpful articles" in page and "1 out of 1 found this helpful" in page


def test_section_page_lists_questions_with_deep_links(client: FlaskClient) -> None:
    page = client.get("/sections/troubleshooting").get_data(as_text=True)
    assert f'href="/articles/errors-and-technical-support#{LOGIN_Q}"' in page
    assert client.get("/sections/nope").status_code == 404


def test_article_page_has_everything_a_reader_needs(client: FlaskClient) -> None:
    page = client.get("/articles/errors-and-technical-support").get_data(as_text=True)
    assert 'aria-label="Breadcrumb"' in page and 'href="/sections/troubleshooting"' in page
    assert f'<a href="#{LOGIN_Q}">' in page  # the list of questions links to the answers
    assert f'<h2 id="{LOGIN_Q}" tabindex="-1">' in page  # answers have anchors
    assert '<time datetime="2026-11-22">November 22, 2026</time>' in page
    assert "Related articles" in page and 'href="/articles/getting-help-with-this-help-desk"' in page
    assert "Was this article helpful?" in page and "found this helpful" not in page  # nothing until a vote
    assert 'name="csrf_token"' in page and '<meta name="csrf-token"' in page
    assert "make sure your caps lock is off" in page


def test_unknown_article_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/articles/no-such-thing")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_article_edits_show_without_restart(app: Flask, client: FlaskClient) -> None:
    """An article published in the database (the editor's save) shows on the next request, without a restart."""
    from helpdesk.audit.services import SYSTEM
    from helpdesk.kb.editing import Draft, find_article, get_revision, save_article
    from helpdesk.orm import utcnow
    from tests.factories import make_user

    assert "Reopening closed cases" in client.get("/articles/errors-and-technical-support").get_data(as_text=True)
    editor = make_user(app, role="kb_editor", state=None)
    with app.app_context():
        article = find_article(db.session, "errors-and-technical-support")
        old = get_revision(db.session, article, article.current_revision)
        body = old.body.replace("Reopening closed cases", "Reopening CLOSED cases")
        draft = Draft(old.title, "troubleshooting", body, old.summary, old.tags.split(","))
        save_article(
            db.session, article, draft, actor=db.session.merge(editor), origin=SYSTEM, now=utcnow(), publish=True
        )
        db.session.commit()
    assert "Reopening CLOSED cases" in client.get("/articles/errors-and-technical-support").get_data(as_text=True)


def test_search_page_deep_links_through_the_click_log(app: Flask, client: FlaskClient) -> None:
    page = client.get("/search", query_string={"q": "I can't log in"}).get_data(as_text=True)
    links = re.findall(r'href="(/search/open\?[^"]+)"', page)
    assert links, page
    first = links[0].replace("&amp;", "&")
    assert f"question={LOGIN_Q}" in first
    response = client.get(first)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/articles/errors-and-technical-support#{LOGIN_Q}"
    with app.app_context():
        search = db.session.scalars(select(SearchQuery)).one()
        click = db.session.scalars(select(SearchClick)).one()
    assert (search.query, search.source) == ("i can't log in", "page") and search.hits > 0
    assert click.search_id == search.id and click.rank == 1
    assert (click.article_slug, click.question_id) == ("errors-and-technical-support", LOGIN_Q)


def test_opened_typeahead_hit_is_logged_with_its_query(app: Flask, client: FlaskClient) -> None:
    response = client.get(
        "/search/open",
        query_string={"q": "caps lock", "article": "errors-and-technical-support", "question": LOGIN_Q, "rank": 1},
    )
    assert response.status_code == 303
    with app.app_context():
        search = db.session.scalars(select(SearchQuery)).one()
    assert (search.query, search.source) == ("caps lock", "typeahead")


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example", 'x"><script>'])
def test_click_log_is_no_open_redirect(client: FlaskClient, target: str) -> None:
    assert client.get("/search/open", query_string={"article": target}).status_code == 404
    response = client.get("/search/open", query_string={"article": "errors-and-technical-support", "question": target})
    assert response.headers["Location"] == "/articles/errors-and-technical-support"


def test_no_results_page_helps(client: FlaskClient) -> None:
    page = client.get("/search", query_string={"q": "zzqx flurbination"}).get_data(as_text=True)
    assert "No answers matched" in page
    assert "Popular articles" in page and "How to get help" in page and 'href="/request"' in page


def test_search_suggests_a_spelling(client: FlaskClient) -> None:
    page = client.get("/search", query_string={"q": "pasword"}).get_data(as_text=True)
    assert "Did you mean" in page and "password" in page


@pytest.mark.parametrize("query", ["title:(", '"unterminated', "*", "' OR 1=1 --", "x" * 5000, "%", "🙂"])
def test_search_page_never_fails(client: FlaskClient, query: str) -> None:
    assert client.get("/search", query_string={"q": query}).status_code == 200


def test_search_escapes_the_query(client: FlaskClient) -> None:
    page = client.get("/search", query_string={"q": "<script>alert(1)</script>"}).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_request_page_explains_the_path(client: FlaskClient) -> None:
    page = client.get("/request").get_data(as_text=True)
    assert "local IT" in page and "state compact office" in page
