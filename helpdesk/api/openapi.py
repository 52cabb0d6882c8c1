"""The OpenAPI 3.1 document of API v1 (a test checks it against the app's routes and responses)."""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_INT = {"type": "integer", "minimum": 0}
_NULLABLE_STR = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "Bad input", 404: "Not found", 422: "Invalid field", 429: "Too many requests"}
    return {str(c): _json(_ref("Error"), words[c]) for c in codes}


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "message"], "properties": {"error": _STR, "message": _STR}},
    "SearchHit": {
        "type": "object",
        "required": ["article", "question_id", "title", "question", "url", "snippet", "score"],
        "properties": {
            "article": _STR, "question_id": _NULLABLE_STR, "title": _STR, "question": _NULLABLE_STR,
            "url": {"type": "string", "description": "/articles/<slug>#<question-id>, or /articles/<slug>"},
            "snippet": {"type": "string", "description": "HTML-escaped excerpt; matches wrapped in <mark>"},
            "score": {"type": "number"},
        },
    },
    "SearchResponse": {
        "type": "object", "required": ["query", "total", "suggestion", "results"],
        "properties": {"query": _STR, "total": _INT, "suggestion": _NULLABLE_STR,
                       "results": {"type": "array", "items": _ref("SearchHit")}},
    },
    "VoteCounts": {"type": "object", "required": ["helpful", "total"],
                   "properties": {"helpful": _INT, "total": _INT}},
    "VoteRequest": {"type": "object", "required": ["helpful"],
                    "properties": {"helpful": {"type": "boolean"}, "reason": {"type": "string", "maxLength": 500}}},
    "QuestionLink": {"type": "object", "required": ["id", "question", "url"],
                     "properties": {"id": _STR, "question": _STR, "url": _STR,
                                    "answer_html": {"type": "string", "description": "sanitised HTML"}}},
    "ArticleSummary": {
        "type": "object",
        "required": ["slug", "title", "section", "summary", "tags", "updated", "url", "votes", "questions"],
        "properties": {
            "slug": _STR, "title": _STR, "section": _STR, "summary": _STR,
            "tags": {"type": "array", "items": _STR}, "updated": {"type": ["string", "null"], "format": "date"},
            "url": _STR, "votes": _ref("VoteCounts"), "questions": {"type": "array", "items": _ref("QuestionLink")},
        },
    },
    "Article": {
        "allOf": [_ref("ArticleSummary"), {"type": "object", "required": ["html", "intro_html"],
                                           "properties": {"html": _STR, "intro_html": _STR}}],
    },
    "ArticleList": {
        "type": "object", "required": ["articles", "sections"],
        "properties": {
            "articles": {"type": "array", "items": _ref("ArticleSummary")},
            "sections": {"type": "array", "items": {"type": "object", "required": ["slug", "title", "description"],
                                                    "properties": {"slug": _STR, "title": _STR, "description": _STR}}},
        },
    },
    "Health": {"type": "object", "required": ["status", "database", "index", "documents", "articles"],
               "properties": {"status": {"enum": ["ok", "unavailable"]}, "database": _STR, "index": _STR,
                              "documents": _INT, "articles": _INT}},
}

_SLUG = {"name": "slug", "in": "path", "required": True, "schema": _STR}


def build_openapi() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document."""
    paths: dict[str, Any] = {
        "/api/v1/search": {"get": {
            "operationId": "search", "summary": "Search the knowledge base down to the single question",
            "parameters": [
                {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 200}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50,
                                                            "default": 10}},
                {"name": "typeahead", "in": "query", "description": "1 while the user is typing (not logged)",
                 "schema": {"type": "string", "enum": ["0", "1"]}},
            ],
            "responses": {"200": _json(_ref("SearchResponse"), "Hits, best first"), **_errors(400, 429)},
        }},
        "/api/v1/articles": {"get": {
            "operationId": "listArticles", "summary": "List published articles",
            "responses": {"200": _json(_ref("ArticleList"), "Articles and sections")},
        }},
        "/api/v1/articles/{slug}": {"get": {
            "operationId": "getArticle", "summary": "One article with rendered HTML, questions and votes",
            "parameters": [_SLUG],
            "responses": {"200": _json(_ref("Article"), "The article"), **_errors(404)},
        }},
        "/api/v1/articles/{slug}/vote": {"post": {
            "operationId": "voteArticle", "summary": "Cast or change the caller's helpfulness vote",
            "description": "Send the page's CSRF token (meta csrf-token) in the X-CSRFToken header.",
            "parameters": [_SLUG, {"name": "X-CSRFToken", "in": "header", "required": True, "schema": _STR}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("VoteRequest")}}},
            "responses": {"200": _json(_ref("VoteCounts"), "The article's new counts"),
                          **_errors(400, 404, 422, 429)},
        }},
        "/api/v1/openapi.json": {"get": {
            "operationId": "openapi", "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3.1 document",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
        "/healthz": {"get": {
            "operationId": "health", "summary": "200 when the app, database and index are usable",
            "responses": {"200": _json(_ref("Health"), "Healthy"), "503": _json(_ref("Health"), "Not usable")},
        }},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Helpdesk API", "version": "1.0.0",
                 "description": "Search and read the knowledge base; vote on articles."},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
