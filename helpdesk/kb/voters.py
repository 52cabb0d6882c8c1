"""Who is voting: a signed-in user, or a signed-out browser known by a random id the server issued and signed."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_login import current_user
from itsdangerous import BadSignature, Signer

from helpdesk.extensions import limiter

COOKIE = "hd_voter"
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{24}$")
_ONE_YEAR = 365 * 24 * 3600


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt="helpdesk.voter")


def _cookie_voter_id() -> str | None:
    """Return the voter id of the cookie when this server issued it (signed with its key), else None."""
    cookie = request.cookies.get(COOKIE, "")
    if not cookie or len(cookie) > 128:
        return None
    try:
        voter_id = _signer().unsign(cookie).decode("ascii")
    except (BadSignature, UnicodeDecodeError):
        return None
    return voter_id if _ID_RE.match(voter_id) else None


def voter_key() -> str:
    """Return the current voter's key: the user when signed in, else a signed cookie id (issued on first vote)."""
    if current_user.is_authenticated:
        return f"u:{current_user.id}"
    if "voter_key" not in g:
        voter_id = _cookie_voter_id()
        if voter_id is None:  # no cookie, or one made up by the client: a new id, counted per address
            voter_id = secrets.token_urlsafe(18)
            g.new_voter_cookie = _signer().sign(voter_id).decode("ascii")
        g.voter_key = f"c:{voter_id}"
    return str(g.voter_key)


def known_voter_key() -> str | None:
    """Return the voter's key without issuing a cookie (for showing an earlier vote)."""
    if current_user.is_authenticated:
        return f"u:{current_user.id}"
    voter_id = _cookie_voter_id()
    return f"c:{voter_id}" if voter_id else None


def _is_known_voter() -> bool:
    """Tell whether the request comes from a signed-in user or a browser holding an id this server issued."""
    return bool(current_user.is_authenticated or _cookie_voter_id())


def limit_key() -> str:
    """Rate-limit key per voter; a cookie-less first vote gets its own bucket (the address limit still applies)."""
    return voter_key()


def _per_voter() -> str:
    return str(current_app.config["VOTE_LIMIT_PER_VOTER"])


def _per_address() -> str:
    return str(current_app.config["VOTE_LIMIT_PER_ADDRESS"])


def _new_voters_per_address() -> str:
    return str(current_app.config["NEW_VOTERS_PER_ADDRESS"])


def _issues_voter(response: Response) -> bool:
    return bool(g.get("new_voter_cookie")) and response.status_code < 400


def limit_votes(view: Callable[..., Any]) -> Callable[..., Any]:
    """Rate-limit a vote endpoint per voter, per address (loosely), and the new anonymous voter ids per address."""
    # Vote stuffing needs a fresh voter each time; an office behind one address needs many votes, not many new ids
    # (its people keep theirs, or sign in). So only ids actually issued count, per address.
    new_voters = limiter.limit(
        _new_voters_per_address, scope="vote-new-voter", exempt_when=_is_known_voter, deduct_when=_issues_voter
    )
    return limiter.limit(_per_voter, key_func=limit_key, scope="vote-voter")(
        limiter.limit(_per_address, scope="vote-address")(new_voters(view))
    )


def _remember_voter(response: Response) -> Response:
    cookie = g.get("new_voter_cookie")
    if cookie and response.status_code < 400:  # a refused vote (429 above all) gets no id to come back with
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=_ONE_YEAR,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


def init_app(app: Flask) -> None:
    """Set the voter cookie on responses that issued one."""
    app.after_request(_remember_voter)
