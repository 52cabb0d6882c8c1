"""The OpenAPI 3.1 document of API v1 (a test checks it against the app's routes and responses)."""

from __future__ import annotations

from typing import Any

from helpdesk.ids import MAX_ID
from helpdesk.insights.openapi import SCHEMAS as REPORT_SCHEMAS
from helpdesk.insights.openapi import report_paths
from helpdesk.tickets.models import AFFECTED, CATEGORIES, STATUSES, TIERS
from helpdesk.tickets.submit import MAX_DESCRIPTION, MAX_SUGGESTIONS

_STR = {"type": "string"}
_INT = {"type": "integer", "minimum": 0}
_NULLABLE_STR = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "Bad input",
        401: "Not signed in, or the token is not valid (with WWW-Authenticate: Bearer)",
        403: "The privacy policy is not accepted yet (error privacy_not_accepted)",
        404: "Not found",
        422: "Invalid field",
        429: "Too many requests",
    }
    return {str(c): _json(_ref("Error"), words[c]) for c in codes}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": _STR,
            "message": _STR,
            "field": {"type": "string", "description": "the request field at fault, if one"},
        },
    },
    "SearchHit": {
        "type": "object",
        "required": ["article", "question_id", "title", "question", "url", "snippet", "score"],
        "properties": {
            "article": _STR,
            "question_id": _NULLABLE_STR,
            "title": _STR,
            "question": _NULLABLE_STR,
            "url": {"type": "string", "description": "/articles/<slug>#<question-id>, or /articles/<slug>"},
            "snippet": {"type": "string", "description": "HTML-escaped excerpt; matches wrapped in <mark>"},
            "score": {"type": "number"},
        },
    },
    "SearchResponse": {
        "type": "object",
        "required": ["query", "total", "suggestion", "results"],
        "properties": {
            "query": _STR,
            "total": _INT,
            "suggestion": _NULLABLE_STR,
            "results": {"type": "array", "items": _ref("SearchHit")},
        },
    },
    "VoteCounts": {"type": "object", "required": ["helpful", "total"], "properties": {"helpful": _INT, "total": _INT}},
    "VoteRequest": {
        "type": "object",
        "required": ["helpful"],
        "properties": {"helpful": {"type": "boolean"}, "reason": {"type": "string", "maxLength": 500}},
    },
    "QuestionLink": {
        "type": "object",
        "required": ["id", "question", "url"],
        "properties": {
            "id": _STR,
            "question": _STR,
            "url": _STR,
            "answer_html": {"type": "string", "description": "sanitised HTML"},
        },
    },
    "ArticleSummary": {
        "type": "object",
        "required": ["slug", "title", "section", "summary", "tags", "updated", "url", "votes", "questions"],
        "properties": {
            "slug": _STR,
            "title": _STR,
            "section": _STR,
            "summary": _STR,
            "tags": {"type": "array", "items": _STR},
            "updated": {"type": ["string", "null"], "format": "date"},
            "url": _STR,
            "votes": _ref("VoteCounts"),
            "questions": {"type": "array", "items": _ref("QuestionLink")},
        },
    },
    "Article": {
        "allOf": [
            _ref("ArticleSummary"),
            {"type": "object", "required": ["html", "intro_html"], "properties": {"html": _STR, "intro_html": _STR}},
        ],
    },
    "ArticleList": {
        "type": "object",
        "required": ["articles", "sections"],
        "properties": {
            "articles": {"type": "array", "items": _ref("ArticleSummary")},
            "sections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["slug", "title", "description"],
                    "properties": {"slug": _STR, "title": _STR, "description": _STR},
                },
            },
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "database", "index", "documents", "articles", "search"],
        "properties": {
            "status": {"enum": ["ok", "unavailable"]},
            "database": _STR,
            "index": _STR,
            "documents": _INT,
            "articles": _INT,
            "search": {
                "enum": ["hybrid", "lexical"],
                "description": "lexical: no embedding model, or its embeddings not built",
            },
            "embedding_model": {"type": ["string", "null"]},
        },
    },
}

_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_TIME = {"type": "string", "format": "date-time"}
_PERSON = {"oneOf": [{"type": "null"}, _ref("Person")]}
_TICKET_KEYS = [
    "id",
    "url",
    "category",
    "subject",
    "description",
    "tried",
    "affected",
    "status",
    "tier",
    "assignee",
    "reporter",
    "agency",
    "state",
    "route_reason",
    "incident",
    "created_at",
    "updated_at",
    "first_response_due",
    "resolution_due",
    "resolved_at",
    "closed_at",
    "version",
]
SCHEMAS.update(
    {
        "Person": {"type": "object", "required": ["id", "name"], "properties": {"id": _INT, "name": _STR}},
        "TicketEvent": {
            "type": "object",
            "required": ["id", "kind", "public", "created_at", "actor", "body", "reason"],
            "properties": {
                "id": _INT,
                "kind": {"type": "string", "description": "submitted, routed, reply, note, ..."},
                "public": {"type": "boolean", "description": "false: an internal note (staff only)"},
                "created_at": _TIME,
                "actor": _PERSON,
                "body": _NULLABLE_STR,
                "reason": _NULLABLE_STR,
            },
        },
        "Ticket": {
            "type": "object",
            "required": _TICKET_KEYS,
            "properties": {
                "id": _INT,
                "url": {"type": "string", "description": "absolute link of the request's page"},
                "category": {"enum": list(CATEGORIES)},
                "subject": _STR,
                "description": _STR,
                "tried": _STR,
                "affected": {"enum": list(AFFECTED)},
                "status": {"enum": list(STATUSES)},
                "tier": {"enum": list(TIERS)},
                "assignee": _PERSON,
                "reporter": _PERSON,
                "agency": {"type": "object", "required": ["id", "name"], "properties": {"id": _INT, "name": _STR}},
                "state": {"type": ["string", "null"], "description": "two-letter state code"},
                "route_reason": {"type": "string", "description": "why the request went where it is, in words"},
                "incident": {
                    "type": ["integer", "null"],
                    "description": "the location or system incident it is part of",
                },
                "created_at": _TIME,
                "updated_at": _TIME,
                "first_response_due": _NULLABLE_TIME,
                "resolution_due": _NULLABLE_TIME,
                "resolved_at": _NULLABLE_TIME,
                "closed_at": _NULLABLE_TIME,
                "version": {"type": "integer", "minimum": 1},
            },
        },
        "TicketWithEvents": {
            "allOf": [
                _ref("Ticket"),
                {
                    "type": "object",
                    "required": ["events"],
                    "properties": {
                        "events": {"type": "array", "items": _ref("TicketEvent"), "description": "oldest first"}
                    },
                },
            ]
        },
        "TicketList": {
            "type": "object",
            "required": ["tickets", "total", "page", "per_page", "pages"],
            "properties": {
                "tickets": {"type": "array", "items": _ref("Ticket")},
                "total": _INT,
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
            },
        },
        "NewTicket": {
            "type": "object",
            "required": ["category", "subject", "description"],
            "additionalProperties": False,
            "properties": {
                "category": {"enum": list(CATEGORIES)},
                "subject": {"type": "string", "minLength": 3, "maxLength": 200},
                "description": {"type": "string", "minLength": 1, "maxLength": MAX_DESCRIPTION},
                "tried": {
                    "type": "string",
                    "maxLength": MAX_DESCRIPTION,
                    "description": "what the reporter already tried",
                },
                "affected": {"enum": list(AFFECTED), "default": "unknown"},
                "idempotency_key": {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9._:-]{8,64}$",
                    "description": "one per request you mean to file; a resend with the same key "
                    "returns the first ticket (200) instead of filing a second",
                },
                "suggestions": {
                    "type": "array",
                    "maxItems": MAX_SUGGESTIONS,
                    "items": _STR,
                    "description": "knowledge-base answers shown before filing, as article-slug#question-id",
                },
            },
        },
    }
)
SCHEMAS.update(REPORT_SCHEMAS)
_SECURITY: list[dict[str, list[str]]] = [{"bearerToken": []}, {"session": []}]
_CSRF_HEADER = {
    "name": "X-CSRFToken",
    "in": "header",
    "schema": _STR,
    "description": "required with a session (the page's meta csrf-token); not with a bearer token",
}
_SLUG = {"name": "slug", "in": "path", "required": True, "schema": _STR}


def _ticket_paths() -> dict[str, Any]:
    one = {"200": _json(_ref("TicketWithEvents"), "The request with its history (internal notes for staff only)")}
    return {
        "/api/v1/tickets": {
            "get": {
                "operationId": "listTickets",
                "security": _SECURITY,
                "summary": "List the requests the caller may see, newest first",
                "description": "A reporter sees their own; local IT their agency's; the compact office its "
                "state's; national staff every state's.",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": _STR,
                        "description": "new, open, pending, resolved, closed; comma-separated or repeated",
                    },
                    {"name": "category", "in": "query", "schema": _STR},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
                    },
                ],
                "responses": {"200": _json(_ref("TicketList"), "A page of requests"), **_errors(400, 401, 403, 429)},
            },
            "post": {
                "operationId": "createTicket",
                "security": _SECURITY,
                "summary": "File a request",
                "description": "Routed by the triage policy like the web form. Send an idempotency key (in the "
                "body or the Idempotency-Key header) so that a resend after a network error "
                "cannot file a second request; without one, every call files a new request.",
                "parameters": [_CSRF_HEADER, {"name": "Idempotency-Key", "in": "header", "schema": _STR}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewTicket")}}},
                "responses": {
                    "201": _json(_ref("TicketWithEvents"), "Filed"),
                    "200": _json(_ref("TicketWithEvents"), "Already filed with this idempotency key"),
                    **_errors(400, 401, 403, 422, 429),
                },
            },
        },
        "/api/v1/tickets/{ticket_id}": {
            "get": {
                "operationId": "getTicket",
                "security": _SECURITY,
                "summary": "One request with its history",
                "description": "A request the caller may not see answers 404, exactly like a missing one.",
                "parameters": [
                    {
                        "name": "ticket_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    }
                ],
                "responses": {**one, **_errors(401, 403, 404, 429)},
            }
        },
    }


_EDITOR_SCHEMAS: dict[str, Any] = {
    "EditorArticle": {
        "type": "object",
        "required": ["slug", "status", "revision", "published_revision", "title", "section"],
        "properties": {
            "slug": _STR,
            "status": {"enum": ["draft", "published", "archived"]},
            "revision": {"type": "integer", "minimum": 0, "description": "the latest revision's number"},
            "published_revision": {"type": ["integer", "null"], "description": "the revision readers see"},
            "title": _STR,
            "section": {"type": "string", "description": "a section slug"},
            "updated_at": _STR,
            "body": {"type": "string", "description": "Markdown"},
            "summary": _STR,
            "tags": {"type": "array", "items": _STR},
            "note": _STR,
        },
    },
    "EditorArticleList": {
        "type": "object",
        "required": ["articles"],
        "properties": {"articles": {"type": "array", "items": _ref("EditorArticle")}},
    },
    "ArticleWrite": {
        "type": "object",
        "required": ["title", "section", "body"],
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "section": {"type": "string", "description": "slug"},
            "body": {
                "type": "string",
                "maxLength": 200000,
                "description": "Markdown: an introduction, then one '## ' heading per question",
            },
            "summary": _STR,
            "tags": {"type": "array", "items": _STR},
            "note": {"type": "string", "maxLength": 500},
            "slug": {"type": "string", "description": "a new slug renames the article (the old one redirects)"},
            "publish": {"type": "boolean", "default": False},
            "base_revision": {"type": "integer", "description": "PUT only: the revision this edit is based on"},
        },
    },
    "Restore": {"type": "object", "required": ["revision"], "properties": {"revision": {"type": "integer"}}},
    "Conflict": {
        "type": "object",
        "required": ["error", "message", "revision"],
        "properties": {
            "error": {"const": "conflict"},
            "message": _STR,
            "revision": {"type": "integer", "description": "the newer revision"},
        },
    },
    "RevisionList": {
        "type": "object",
        "required": ["slug", "revisions"],
        "properties": {
            "slug": _STR,
            "revisions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["number", "title", "author", "created_at", "note", "published"],
                    "properties": {
                        "number": {"type": "integer"},
                        "title": _STR,
                        "author": _NULLABLE_STR,
                        "created_at": _STR,
                        "note": _STR,
                        "published": {"type": "boolean"},
                    },
                },
            },
        },
    },
}
SCHEMAS.update(_EDITOR_SCHEMAS)


def _editor_paths() -> dict[str, Any]:
    one = {"200": _json(_ref("EditorArticle"), "The article")}
    errors = _errors(400, 401, 403, 404, 422, 429)
    body = {"required": True, "content": {"application/json": {"schema": _ref("ArticleWrite")}}}
    base = {"security": _SECURITY, "parameters": [_SLUG, _CSRF_HEADER]}

    def action(op: str, summary: str, **more: Any) -> dict[str, Any]:
        return {"post": {"operationId": op, "summary": summary, **base, **more, "responses": {**one, **errors}}}

    return {
        "/api/v1/editor/articles": {
            "get": {
                "operationId": "editorListArticles",
                "security": _SECURITY,
                "summary": "Every article with its status and latest revision (editors only)",
                "responses": {"200": _json(_ref("EditorArticleList"), "Articles"), **_errors(401, 403, 429)},
            },
            "post": {
                "operationId": "editorCreateArticle",
                "security": _SECURITY,
                "parameters": [_CSRF_HEADER],
                "summary": "Create an article (a draft, or published with publish: true)",
                "requestBody": body,
                "responses": {"201": _json(_ref("EditorArticle"), "Created"), **_errors(400, 401, 403, 422, 429)},
            },
        },
        "/api/v1/editor/articles/{slug}": {
            "get": {
                "operationId": "editorGetArticle",
                "security": _SECURITY,
                "parameters": [_SLUG],
                "summary": "The latest revision",
                "responses": {**one, **errors},
            },
            "put": {
                "operationId": "editorUpdateArticle",
                **base,
                "requestBody": body,
                "summary": "Save the next revision (base_revision required; a stale one is 409)",
                "responses": {
                    **one,
                    "409": _json(_ref("Conflict"), "A newer revision was saved"),
                    **_errors(400, 401, 403, 404, 422, 429),
                },
            },
        },
        "/api/v1/editor/articles/{slug}/publish": action("editorPublishArticle", "Publish the latest revision"),
        "/api/v1/editor/articles/{slug}/archive": action("editorArchiveArticle", "Archive (readers get 404)"),
        "/api/v1/editor/articles/{slug}/restore": action(
            "editorRestoreRevision",
            "Add a new revision with the text of an earlier one",
            requestBody={"required": True, "content": {"application/json": {"schema": _ref("Restore")}}},
        ),
        "/api/v1/editor/articles/{slug}/revisions": {
            "get": {
                "operationId": "editorListRevisions",
                "security": _SECURITY,
                "parameters": [_SLUG],
                "summary": "Every revision, newest first, with author, time and note",
                "responses": {"200": _json(_ref("RevisionList"), "Revisions"), **errors},
            }
        },
    }


def build_openapi() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document."""
    paths: dict[str, Any] = {
        "/api/v1/search": {
            "get": {
                "operationId": "search",
                "summary": "Search the knowledge base down to the single question",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 200}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                    },
                    {
                        "name": "typeahead",
                        "in": "query",
                        "description": "1 while the user is typing (not logged)",
                        "schema": {"type": "string", "enum": ["0", "1"]},
                    },
                ],
                "responses": {"200": _json(_ref("SearchResponse"), "Hits, best first"), **_errors(400, 429)},
            }
        },
        "/api/v1/articles": {
            "get": {
                "operationId": "listArticles",
                "summary": "List published articles",
                "responses": {"200": _json(_ref("ArticleList"), "Articles and sections")},
            }
        },
        "/api/v1/articles/{slug}": {
            "get": {
                "operationId": "getArticle",
                "summary": "One article with rendered HTML, questions and votes",
                "parameters": [_SLUG],
                "responses": {"200": _json(_ref("Article"), "The article"), **_errors(404)},
            }
        },
        "/api/v1/articles/{slug}/vote": {
            "post": {
                "operationId": "voteArticle",
                "summary": "Cast or change the caller's helpfulness vote",
                "description": (
                    "Send the page's CSRF token (meta csrf-token) in the X-CSRFToken header. A signed-out "
                    "voter is known by the signed hd_voter cookie the first vote sets; without a valid one "
                    "a new voter id is issued, and one address gets a limited number per hour (429)."
                ),
                "parameters": [_SLUG, {"name": "X-CSRFToken", "in": "header", "required": True, "schema": _STR}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("VoteRequest")}}},
                "responses": {
                    "200": _json(_ref("VoteCounts"), "The article's new counts"),
                    **_errors(400, 404, 422, 429),
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1 document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "200 when the app, database and index are usable",
                "parameters": [
                    {
                        "name": "deep",
                        "in": "query",
                        "required": False,
                        "schema": {"enum": ["0", "1"]},
                        "description": "1: also verify the index on disk and bring it up to date (slower)",
                    }
                ],
                "responses": {"200": _json(_ref("Health"), "Healthy"), "503": _json(_ref("Health"), "Not usable")},
            }
        },
    }
    paths.update(_ticket_paths())
    paths.update(_editor_paths())
    paths.update(report_paths(_errors, _json, _SECURITY))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Helpdesk API",
            "version": "1.0.0",
            "description": "Search and read the knowledge base; vote on articles; file and follow requests. "
            "A URL (path and query) over 4,094 bytes is answered 414 with the JSON error body; "
            "a request line over 8,190 bytes is refused by the server itself (414, not "
            "JSON), and so is a header over 8,190 bytes (431).",
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (hd_...) from /account/tokens; no CSRF header.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The signed-in browser session; unsafe methods need the X-CSRFToken header.",
                },
            },
        },
    }
