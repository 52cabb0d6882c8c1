"""JSON API v1: search, articles, votes, health and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from helpdesk.api.openapi import build_openapi
from helpdesk.errors import RETRY_AFTER_SECONDS, error_response
from helpdesk.extensions import db, limiter
from helpdesk.ids import parse_id
from helpdesk.kb import get_library
from helpdesk.kb.articles import Article
from helpdesk.kb.models import VOTE_REASON_MAX
from helpdesk.kb.services import VoteCounts, cast_vote, get_vote_counts, get_vote_counts_many
from helpdesk.kb.voters import limit_votes, voter_key
from helpdesk.search import get_engine, get_log_writer
from helpdesk.search.engine import normalize_query
from helpdesk.search.services import log_search_later
from helpdesk.search.views import current_person, search_limit

bp = Blueprint("api", __name__)
MAX_LIMIT = 50


def _article_summary(article: Article, counts: VoteCounts) -> dict[str, Any]:
    return {
        "slug": article.slug,
        "title": article.title,
        "section": article.section,
        "summary": article.summary,
        "tags": list(article.tags),
        "updated": article.updated.isoformat() if article.updated else None,
        "url": article.url,
        "votes": counts.to_dict(),
        "questions": [{"id": q.id, "question": q.text, "url": f"{article.url}#{q.id}"} for q in article.questions],
    }


@bp.get("/api/v1/search")
@limiter.limit(search_limit, scope="search")
def search() -> Response:
    """Search the knowledge base: `q` (required), `limit` (1-50, default 10), `typeahead` (0/1)."""
    query = normalize_query(request.args.get("q", ""))
    if not query:
        return error_response(400, "Give the text to search for in the q parameter.", "invalid_query")
    limit = parse_id(request.args.get("limit", "10"))
    if limit is None or limit > MAX_LIMIT:
        return error_response(400, f"limit must be a whole number from 1 to {MAX_LIMIT}.", "invalid_limit")
    typeahead = request.args.get("typeahead", "0") in ("1", "true", "yes")
    response = get_engine().search(query, limit=limit, typeahead=typeahead)
    if not typeahead:  # keystrokes are not searches: only finished ones go to the content-gap log
        person = current_person()
        log_search_later(db.session, get_log_writer(), query, hits=response.total, source="api", person=person)
    return jsonify(response.to_dict())


@bp.get("/api/v1/articles")
def list_articles() -> Response:
    """List the published articles with their questions and vote counts."""
    library = get_library()
    counts = get_vote_counts_many(db.session, list(library.articles))
    articles = sorted(library.articles.values(), key=lambda a: (a.section, a.title.lower()))
    return jsonify(
        articles=[_article_summary(a, counts.get(a.slug, VoteCounts())) for a in articles],
        sections=[{"slug": s.slug, "title": s.title, "description": s.description} for s in library.sections],
    )


@bp.get("/api/v1/articles/<slug>")
def get_article(slug: str) -> Response:
    """Return one article with its rendered (sanitised) HTML."""
    article = get_library().get(slug)
    if article is None:
        return error_response(404, f"There is no article {slug!r}.")
    body = _article_summary(article, get_vote_counts(db.session, slug))
    body["intro_html"] = article.intro_html
    for entry, question in zip(body["questions"], article.questions, strict=True):
        entry["answer_html"] = question.answer_html
    body["html"] = article.intro_html + "".join(
        f'<h2 id="{q.id}">{q.html}</h2>{q.answer_html}' for q in article.questions
    )
    return jsonify(body)


@bp.post("/api/v1/articles/<slug>/vote")
@limit_votes
def vote(slug: str) -> Response:
    """Cast or change the caller's vote: `{"helpful": true|false, "reason"?: str}`."""
    article = get_library().get(slug)
    if article is None:
        return error_response(404, f"There is no article {slug!r}.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error_response(400, 'Send a JSON object such as {"helpful": true}.', "invalid_json")
    helpful, reason = data.get("helpful"), data.get("reason")
    if not isinstance(helpful, bool):
        return error_response(422, '"helpful" must be true or false.', "invalid_helpful")
    if reason is not None and (not isinstance(reason, str) or len(reason) > VOTE_REASON_MAX):
        return error_response(422, f'"reason" must be text of at most {VOTE_REASON_MAX} characters.', "invalid_reason")
    counts = cast_vote(db.session, article.slug, voter=voter_key(), helpful=helpful, reason=reason)
    return jsonify(counts.to_dict())


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI 3.1 description of this API."""
    return jsonify(build_openapi())


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Answer 200 when the app, the database and the search index are usable, 503 otherwise.

    Cheap by default (one trivial query, the open index's state), so monitors may call it often; `?deep=1` also
    verifies the index on disk and updates it. A missing index is built either way.
    """
    checks: dict[str, Any] = {}
    try:
        db.ping()
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not usable"; the detail goes to the caller
        checks["database"] = f"error: {exc.__class__.__name__}"
    engine = get_engine()
    deep = request.args.get("deep") == "1"
    status = {} if deep else engine.status()
    if deep or not status.get("ok"):
        engine.ensure_index()
        status = engine.status()
    problems = engine.check() if deep else []
    if not status.get("ok") and not problems:
        problems = [str(status.get("detail"))]
    checks["index"] = "ok" if not problems else f"error: {'; '.join(problems)}"
    checks["documents"] = status.get("documents", 0)
    # "hybrid" (lexical + semantic) or "lexical" (no embedding model, or its embeddings not built yet): search
    # works either way, so this never makes the check fail.
    checks["search"] = status.get("ranking", "lexical")
    checks["embedding_model"] = status.get("model")
    checks["articles"] = len(get_library().articles)
    healthy = checks["database"] == "ok" and checks["index"] == "ok"
    response = jsonify(status="ok" if healthy else "unavailable", **checks)
    if not healthy:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)  # a load balancer's cue to look again soon
    return response, 200 if healthy else 503
