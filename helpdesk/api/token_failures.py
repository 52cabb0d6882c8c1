"""Failed bearer tokens, counted in the rate limiter's storage (Redis when configured, so shared by every worker).

A valid token is always accepted: the count decides only whether a failure is answered 401 or 429. Failures of a
well-formed token count against its prefix (a script retrying a revoked token slows down only itself); anything
else (no `hd_` prefix, too short) counts against the caller's address.
"""

from __future__ import annotations

import logging
import math
import time

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse

from helpdesk.accounts.api_tokens import PREFIX
from helpdesk.extensions import limiter

log = logging.getLogger(__name__)
SCOPE = "api-token-failures"
#: `hd_` and 8 characters of the secret: enough to tell one token from another, far too few to help a guess.
PREFIX_LENGTH = len(PREFIX) + 8


def failure_key(plaintext: str) -> str:
    """Return the counter a failed token counts against: its prefix, or the caller's address."""
    head = plaintext[:PREFIX_LENGTH]
    if plaintext.startswith(PREFIX) and len(plaintext) > PREFIX_LENGTH and head.isascii() and head.isprintable():
        return f"token:{head}"
    return f"address:{get_remote_address()}"


def count_token_failure(plaintext: str) -> int | None:
    """Count one failure; return the seconds to wait when its counter is over the limit, else None."""
    item = parse(str(current_app.config.get("API_TOKEN_FAILURE_LIMIT", "10 per minute")))
    keys = (str(current_app.config.get("RATELIMIT_KEY_PREFIX", "")), SCOPE, failure_key(plaintext))
    try:
        if limiter.limiter.hit(item, *keys):
            return None
        reset = limiter.limiter.get_window_stats(item, *keys).reset_time
    except Exception:  # an unreachable Redis must not turn a wrong token into a 500
        log.warning("could not count a failed API token", exc_info=True)
        return None
    return max(1, math.ceil(reset - time.time()))
