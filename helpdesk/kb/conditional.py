"""Conditional GET for signed-out pages: an ETag from what the page shows, and 304 when the browser has it."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from flask import Response, current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

_BUILD = "helpdesk.page_build"
#: Revalidate every time; only the browser (never a shared cache) may keep the page, which has a per-session token.
CACHE_CONTROL = "private, no-cache"


def _build() -> str:
    """Return a digest of the templates: a deployment with other templates must not answer 304 to old pages."""
    digest = current_app.extensions.get(_BUILD)
    if digest is None:
        sha = hashlib.sha256()
        folder = Path(current_app.template_folder or "templates")
        for path in sorted(folder.rglob("*.html")):
            sha.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        digest = current_app.extensions[_BUILD] = sha.hexdigest()
    return str(digest)


def page_etag(*parts: Any) -> str | None:
    """Return the ETag of this GET page, built from `parts` (everything the page shows), or None where unsafe.

    Signed-in pages and pages about to show a flashed message get none. The page embeds the session's CSRF token,
    so the tag includes a digest of it (another session never matches) and the half of the token's lifetime the
    page was made in: a page the browser re-shows after a 304 still carries a token that is valid.
    """
    if request.method not in ("GET", "HEAD") or current_user.is_authenticated or session.get("_flashes"):
        return None
    generate_csrf()  # the page will embed it: make sure the session has its token before we read it
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    limit = current_app.config.get("WTF_CSRF_TIME_LIMIT", 3600)
    period = int(time.time() // (limit / 2)) if limit else 0
    text = "\0".join(str(part) for part in (_build(), session.get(field, ""), period, *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def not_modified(etag: str | None) -> Response | None:
    """Return a 304 when the browser already has the page with this ETag, else None."""
    if etag is None or not request.if_none_match.contains(etag):
        return None
    return with_etag(Response(status=304), etag)


def with_etag(response: Response, etag: str | None) -> Response:
    """Return `response` with its ETag and a cache policy that makes the browser revalidate (when it has a tag)."""
    if etag is not None and response.status_code in (200, 304):
        response.set_etag(etag)
        response.headers["Cache-Control"] = CACHE_CONTROL
    return response
