"""With HELPDESK_REDIS_URL, rate limits are shared by every worker: two app instances count together."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest

from helpdesk import create_app
from tests.helpers import close_app, read_csrf_token

REDIS = ("127.0.0.1", 6379)
#: Keys carry a per-test prefix, so parallel runs may share the database (HELPDESK_TEST_REDIS_URL picks another).
REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")
def test_two_workers_share_the_per_voter_limit(app_config: dict[str, Any], tmp_path: Path) -> None:
    # A private key prefix: parallel runs on the same Redis never share counters.
    config = {
        **app_config,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "VOTE_LIMIT_PER_VOTER": "3 per minute",
    }
    first, second = create_app(config), create_app(config)
    try:
        browser = first.test_client()
        token = read_csrf_token(browser)
        url = "/api/v1/articles/errors-and-technical-support/vote"
        statuses = [
            browser.post(url, json={"helpful": True}, headers={"X-CSRFToken": token}).status_code for _ in range(2)
        ]
        # The same browser (same cookies) now reaches the other worker: its earlier votes count there too.
        other = second.test_client()
        for name in ("session", "hd_voter"):
            cookie = browser.get_cookie(name)
            assert cookie is not None
            other.set_cookie(name, cookie.value)
        statuses += [
            other.post(url, json={"helpful": True}, headers={"X-CSRFToken": token}).status_code for _ in range(2)
        ]
        assert statuses == [200, 200, 200, 429]
    finally:
        for app in (first, second):
            close_app(app)


@pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")
def test_two_workers_count_failed_api_tokens_together(app_config: dict[str, Any]) -> None:
    """Issue 8, item 9: failed bearer tokens are counted in the shared storage, not per worker."""
    import redis

    # A private key prefix, deleted afterwards: no FLUSHDB, which would wipe the counters of a test running in
    # parallel (another xdist worker, another checkout's run) on the same Redis database.
    url, prefix = REDIS_URL, f"test-{uuid.uuid4().hex}"
    config = {
        **app_config,
        "RATELIMIT_STORAGE_URI": url,
        "RATELIMIT_KEY_PREFIX": prefix,
        "API_TOKEN_FAILURE_LIMIT": "4 per minute",
    }
    first, second = create_app(config), create_app(config)
    try:
        bad = {"Authorization": "Bearer not-a-token"}
        statuses = [first.test_client().get("/api/v1/tickets", headers=bad).status_code for _ in range(3)]
        statuses += [second.test_client().get("/api/v1/tickets", headers=bad).status_code for _ in range(2)]
        assert statuses == [401, 401, 401, 401, 429]
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)
        for app in (first, second):
            close_app(app)
