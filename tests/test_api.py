"""JSON API v1: the search contract of DESIGN.md, articles, errors, health, and an OpenAPI document that matches."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from sqlalchemy import select

from helpdesk.api.openapi import build_openapi
from helpdesk.extensions import db
from helpdesk.search.models import SearchQuery
from tests.helpers import close_app, remove_tree

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

HIT_KEYS = {"article", "question_id", "title", "question", "url", "snippet", "score"}


def validate(instance: Any, schema_name: str) -> None:
    """Validate a response body against a schema of our OpenAPI document."""
    spec = build_openapi()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    Draft202012Validator(schema).validate(instance)


def test_search_answers_the_design_contract(client: FlaskClient) -> None:
    body = client.get("/api/v1/search", query_string={"q": "I can't log in", "limit": 3}).json
    assert set(body) == {"query", "total", "suggestion", "results"}
    assert body["query"] == "i can't log in" and body["total"] >= 1 and len(body["results"]) <= 3
    top = body["results"][0]
    assert set(top) == HIT_KEYS
    assert top["url"] == f"/articles/{top['article']}#{top['question_id']}"
    scores = [hit["score"] for hit in body["results"]]
    assert scores == sorted(scores, reverse=True)
    validate(body, "SearchResponse")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "invalid_query"),
        ({"q": "   "}, "invalid_query"),
        ({"q": "x", "limit": "0"}, "invalid_limit"),
        ({"q": "x", "limit": "51"}, "invalid_limit"),
        ({"q": "x", "limit": "ten"}, "invalid_limit"),
    ],
)
def test_bad_search_parameters_are_400_json(client: FlaskClient, params: dict[str, str], code: str) -> None:
    response = client.get("/api/v1/search", query_string=params)
    assert response.status_code == 400 and response.json["error"] == code
    validate(response.json, "Error")


def test_api_searches_are_logged_but_keystrokes_are_not(
    slow_writer_config: dict[str, Any], app: Flask, client: FlaskClient
) -> None:
    client.get("/api/v1/search", query_string={"q": "pass", "typeahead": "1"})
    client.get("/api/v1/search", query_string={"q": "  Password   RESET "})
    assert app.extensions["helpdesk.search.log"].flush() == 1  # written in the writer's batch, not the request
    with app.app_context():
        rows = db.session.scalars(select(SearchQuery)).all()
    assert [(r.query, r.source) for r in rows] == [("password reset", "api")]
    assert rows[0].hits > 0


def test_typeahead_matches_a_word_being_typed(client: FlaskClient) -> None:
    body = client.get("/api/v1/search", query_string={"q": "reset my passw", "typeahead": "1"}).json
    assert any("password" in (hit["question"] or "").lower() for hit in body["results"])


def test_articles_list_and_detail(client: FlaskClient) -> None:
    body = client.get("/api/v1/articles").json
    validate(body, "ArticleList")
    slugs = {a["slug"] for a in body["articles"]}
    assert "user-administration-and-system-access" in slugs
    article = client.get("/api/v1/articles/errors-and-technical-support").json
    validate(article, "Article")
    assert article["votes"] == {"helpful": 0, "total": 0}
    assert article["questions"][0]["url"].startswith("/articles/errors-and-technical-support#")
    assert "<h2 id=" in article["html"] and "<script" not in article["html"]
    missing = client.get("/api/v1/articles/nope")
    assert missing.status_code == 404 and missing.json["error"] == "not_found"


def test_unknown_api_path_and_method_are_json(client: FlaskClient) -> None:
    assert client.get("/api/v1/nothing").json["error"] == "not_found"
    response = client.delete("/api/v1/articles/errors-and-technical-support")
    assert response.status_code == 405 and response.json["error"] == "method_not_allowed"


def test_openapi_document_matches_the_routes(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/healthz":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served
    Draft202012Validator.check_schema({"components": spec["components"]})


def test_health_is_ok_then_rebuilds_a_deleted_index(app: Flask, client: FlaskClient) -> None:
    body = client.get("/healthz").json
    validate(body, "Health")
    assert body["status"] == "ok" and body["documents"] > body["articles"] >= 4
    # As under a running server: the health check's warm-up may still be writing its warm file into the index.
    remove_tree(app.config["INDEX_DIR"])
    search = client.get("/api/v1/search", query_string={"q": "caps lock"})
    assert search.status_code == 200 and search.json["results"]
    assert client.get("/healthz").status_code == 200


def test_health_is_503_when_the_database_is_unreachable(app_config: dict[str, Any]) -> None:
    from helpdesk import create_app

    app_config["DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=2"
    app = create_app(app_config)
    try:
        response = app.test_client().get("/healthz")
    finally:
        close_app(app)
    assert response.status_code == 503
    assert response.json["status"] == "unavailable" and response.json["database"].startswith("error")
    assert response.headers["Retry-After"].isdigit()  # a load balancer's cue to look again
