"""The report endpoints' part of the OpenAPI document (merged by helpdesk.api.openapi)."""

from __future__ import annotations

from typing import Any

from helpdesk.tickets.models import TIERS

_INT = {"type": "integer", "minimum": 0}
_DATE = {"type": "string", "format": "date"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_FAILED = {
    "type": "object",
    "required": ["query", "searches", "people", "last_seen"],
    "additionalProperties": False,
    "properties": {
        "query": {"type": "string", "description": "normalised; typo variants counted with it"},
        "searches": _INT,
        "people": {**_INT, "description": "distinct people (never who)"},
        "last_seen": {"type": "string", "format": "date-time"},
    },
}
_COUNTS = {
    "type": "object",
    "required": ["met", "due"],
    "additionalProperties": False,
    "properties": {"met": _INT, "due": {**_INT, "description": "milestones that fell due or were reached"}},
}
_TIER = {
    "type": "object",
    "required": ["first_response", "resolution"],
    "additionalProperties": False,
    "properties": {"first_response": _ref("SlaCounts"), "resolution": _ref("SlaCounts")},
}
_PERIOD = {"from": _DATE, "to": _DATE, "state": {"type": ["string", "null"]}}

SCHEMAS: dict[str, Any] = {
    "FailedQuery": _FAILED,
    "NotHelpful": {
        "type": "object",
        "required": ["article", "no_votes", "reasons"],
        "additionalProperties": False,
        "properties": {
            "article": {"type": "string", "description": "the article's slug"},
            "no_votes": _INT,
            "reasons": {"type": "array", "items": {"type": "string"}, "description": "newest first, at most 5"},
        },
    },
    "ContentGaps": {
        "type": "object",
        "required": ["from", "to", "state", "zero_result", "no_click", "not_helpful"],
        "additionalProperties": False,
        "properties": {
            **_PERIOD,
            "zero_result": {"type": "array", "items": _ref("FailedQuery")},
            "no_click": {"type": "array", "items": _ref("FailedQuery")},
            "not_helpful": {"type": "array", "items": _ref("NotHelpful")},
        },
    },
    "SlaCounts": _COUNTS,
    "DeskReport": {
        "type": "object",
        "additionalProperties": False,
        "required": ["from", "to", "state", "opened", "resolved", "deflections", "deflection_rate", "sla"],
        "properties": {
            **_PERIOD,
            "opened": _INT,
            "resolved": _INT,
            "deflections": _INT,
            "deflection_rate": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "deflections / (deflections + opened)",
            },
            "sla": {
                "type": "object",
                "required": list(TIERS),
                "additionalProperties": False,
                "properties": {tier: _TIER for tier in TIERS},
            },
        },
    },
}

_PARAMETERS = [
    {"name": "from", "in": "query", "schema": _DATE, "description": "first day (UTC); default 29 days before to"},
    {"name": "to", "in": "query", "schema": _DATE, "description": "last day (UTC), included; default today"},
    {
        "name": "state",
        "in": "query",
        "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
        "description": "national administrators: one state's activity; others may only name their own",
    },
]


def report_paths(errors: Any, json: Any, security: list[dict[str, list[str]]]) -> dict[str, Any]:
    """Return the two report paths (the caller passes its error and response helpers)."""

    def one(operation: str, summary: str, description: str, schema: str) -> dict[str, Any]:
        return {
            "get": {
                "operationId": operation,
                "security": security,
                "summary": summary,
                "description": description,
                "parameters": _PARAMETERS,
                "responses": {"200": json(_ref(schema), "The report"), **errors(400, 401, 403, 429)},
            }
        }

    return {
        "/api/v1/reports/content-gaps": one(
            "contentGaps",
            "Searches that failed and articles voted not helpful",
            "National administrators (every state, or `state`) and compact offices (their state's users' "
            "searches). Queries come without who typed them. 403 for other roles or another state.",
            "ContentGaps",
        ),
        "/api/v1/reports/desk": one(
            "deskReport",
            "Requests opened and resolved, deflections and SLA attainment per tier",
            "National administrators (every state, or `state`); compact offices and state administrators their "
            "state; supervisors and local IT their agency. 403 otherwise.",
            "DeskReport",
        ),
    }
