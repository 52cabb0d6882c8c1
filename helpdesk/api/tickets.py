"""JSON API v1 for requests (placeholder until filled in)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_tickets", __name__)
