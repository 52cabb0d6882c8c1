"""The search page and the click-through that records which hit was opened."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from helpdesk.extensions import db, limiter
from helpdesk.ids import parse_id
from helpdesk.kb import get_library
from helpdesk.kb.articles import Article
from helpdesk.kb.library import ArticleLibrary
from helpdesk.kb.services import get_vote_counts_many, rank_most_helpful
from helpdesk.orm import utcnow
from helpdesk.search import get_engine, get_log_writer
from helpdesk.search.engine import normalize_query
from helpdesk.search.learning import person_of
from helpdesk.search.models import SearchQuery
from helpdesk.search.services import find_search, log_click, log_search, log_search_later, parse_stamp, stamp_token

bp = Blueprint("search", __name__)
PAGE_LIMIT = 20


def search_limit() -> str:
    """Return the per-address limit on searches (loose: a whole office may share one address)."""
    return str(current_app.config["SEARCH_LIMIT_PER_ADDRESS"])


def current_person() -> str:
    """Return who is searching, as the search log names them: the signed-in user, else the client's address."""
    if current_user.is_authenticated:
        return person_of(f"u:{current_user.id}")
    # Signed out, a browser can be anyone again by dropping a cookie; an address cannot: a script on one machine
    # (or a whole office behind one address) counts as one person, so it cannot teach search alone.
    return person_of(f"a:{request.remote_addr or ''}")


@bp.get("/search")
@limiter.limit(search_limit, scope="search")
def search() -> str:
    """Show the results of `q`, or a helpful page when nothing matches."""
    query = normalize_query(request.args.get("q", ""))
    library = get_library()
    if not query:
        return render_template("search/results.html", query="", response=None, popular=_popular(library))
    response = get_engine().search(query, limit=PAGE_LIMIT)
    # Read before the search is queued: a GET retried after a lost connection must not queue it twice.
    popular = _popular(library) if not response.results else []
    at = utcnow()
    entry = log_search_later(
        db.session, get_log_writer(), query, hits=response.total, source="page", person=current_person(), at=at
    )
    # A queued search is named by its time, which with the person who clicks finds it once written (the person
    # comes from the request, so a link can only name its user's own searches).
    link: dict[str, str | int] = {"sid": entry.id} if entry is not None else {"at": stamp_token(at)}
    return render_template(
        "search/results.html",
        query=query,
        response=response,
        link=link,
        popular=popular,
    )


def _popular(library: ArticleLibrary) -> list[Article]:
    """Return up to five articles to offer: the most helpful first, then by title."""
    slugs = list(library.articles)
    ranked = rank_most_helpful(get_vote_counts_many(db.session, slugs), slugs, limit=5)
    rest = sorted((s for s in slugs if s not in ranked), key=lambda s: library.articles[s].title.lower())
    return [library.articles[s] for s in (ranked + rest)[:5]]


@bp.get("/search/open")
@limiter.limit(search_limit, scope="search")
def open_hit() -> Response:
    """Record the opened hit, then go to the answer; only known articles and questions are targets."""
    article = get_library().get(request.args.get("article", ""))
    if article is None:
        abort(404)
    question = article.question(request.args.get("question", ""))
    rank = parse_id(request.args.get("rank"))
    sid = parse_id(request.args.get("sid"))
    entry = db.session.get(SearchQuery, sid) if sid is not None else None
    at = parse_stamp(request.args.get("at"))
    question_id, rank = question.id if question else None, rank if rank is not None and rank <= 1000 else None
    if entry is None and at is not None:
        # A results page's search, named by its time: this worker's queue is written now (it most often showed
        # the page); else the other worker's next batch brings it, and the click is written with it then.
        writer, person = get_log_writer(), current_person()
        writer.flush()
        entry = find_search(db.session, person=person, at=at)
        if entry is None and writer.buffered:
            writer.add_click(person=person, at=at, article_slug=article.slug, question_id=question_id, rank=rank)
    elif entry is None:
        # A hit opened from the results shown while typing: that search was not logged yet.
        typed = normalize_query(request.args.get("q", ""))
        entry = log_search(db.session, typed, hits=-1, source="typeahead", person=current_person()) if typed else None
    if entry is not None:
        log_click(db.session, entry, article_slug=article.slug, question_id=question_id, rank=rank)
    # The target is built from the known slug and question id, never from the raw parameter: no open redirect.
    return redirect(url_for("kb.article", slug=article.slug, _anchor=question.id if question else None), 303)
