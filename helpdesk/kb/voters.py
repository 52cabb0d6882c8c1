"""Who is voting: a signed-in user, or a signed-out browser known by a random cookie id."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_login import current_user

from helpdesk.extensions import limiter

COOKIE = "hd_voter"
_COOKIE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_ONE_YEAR = 365 * 24 * 3600


def voter_key() -> str:
    """Return the current voter's key: the user when signed in, else a cookie id (issued on first vote)."""
    if current_user.is_authenticated:
        return f"u:{current_user.id}"
    if "voter_key" not in g:
        cookie = request.cookies.get(COOKIE, "")
        if not _COOKIE_RE.match(cookie):
            cookie = secrets.token_urlsafe(18)
            g.new_voter_cookie = cookie
        g.voter_key = f"c:{cookie}"
    return str(g.voter_key)


def known_voter_key() -> str | None:
    """Return the voter's key without issuing a cookie (for showing an earlier vote)."""
    if current_user.is_authenticated:
        return f"u:{current_user.id}"
    cookie = request.cookies.get(COOKIE, "")
    return f"c:{cookie}" if _COOKIE_RE.match(cookie) else None


def limit_key() -> str:
    """Rate-limit key per voter; a cookie-less first vote gets its own bucket (the address limit still applies)."""
    return voter_key()


def _per_voter() -> str:
    return str(current_app.config["VOTE_LIMIT_PER_VOTER"])


def _per_address() -> str:
    return str(current_app.config["VOTE_LIMIT_PER_ADDRESS"])


def limit_votes(view: Callable[..., Any]) -> Callable[..., Any]:
    """Rate-limit a vote endpoint per voter first, then (loosely, for shared office addresses) per address."""
    return limiter.limit(_per_voter, key_func=limit_key, scope="vote-voter")(
        limiter.limit(_per_address, scope="vote-address")(view))


def _remember_voter(response: Response) -> Response:
    cookie = g.get("new_voter_cookie")
    if cookie:
        response.set_cookie(COOKIE, cookie, max_age=_ONE_YEAR, httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def init_app(app: Flask) -> None:
    """Set the voter cookie on responses that issued one."""
    app.after_request(_remember_voter)
