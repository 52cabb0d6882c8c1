"""The rate limits' in-process storage: exact counts, expired keys swept, no new thread for every hit."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import Flask

from helpdesk import create_app
from helpdesk.config import Settings
from helpdesk.extensions import limiter
from helpdesk.rate_storage import SCHEME, SWEEP_SECONDS, SweptMemoryStorage
from tests.helpers import close_app, read_csrf_token

API_URL = "/api/v1/articles/errors-and-technical-support/vote"


def test_counts_are_exact_and_expire_when_read() -> None:
    storage = SweptMemoryStorage()
    assert [storage.incr("voter", 0.2) for _ in range(3)] == [1, 2, 3]
    assert storage.get("voter") == 3 and storage.get("other") == 0
    time.sleep(0.25)
    assert storage.get("voter") == 0  # expired: read as a new window at once, swept or not
    assert storage.incr("voter", 10) == 1


def test_a_burst_of_hits_starts_one_sweep_and_the_sweep_drops_expired_keys() -> None:
    storage = SweptMemoryStorage()
    storage.incr("old", 0.01)
    time.sleep(SWEEP_SECONDS)
    sweepers = []
    for number in range(50):  # over 0.1 s: limits' own storage started a new timer thread every 10 ms
        storage.incr(f"new-{number}", 60)
        if not any(sweeper is storage.timer for sweeper in sweepers):
            sweepers.append(storage.timer)
        time.sleep(0.002)
    assert len(sweepers) == 1
    sweepers[0].join(5)
    assert "old" not in storage.storage and "old" not in storage.expirations  # never read again, still dropped
    assert len(storage.storage) == 50


def test_the_app_keeps_its_limits_there_without_redis(app_config: dict[str, Any], tmp_path: Path) -> None:
    settings = Settings.from_env({"HELPDESK_INSTANCE_DIR": str(tmp_path)})
    assert settings.flask_config()["RATELIMIT_STORAGE_URI"] == f"{SCHEME}://"
    app: Flask = create_app({**app_config, "RATELIMIT_STORAGE_URI": f"{SCHEME}://"})
    try:
        with app.app_context():
            assert isinstance(limiter.storage, SweptMemoryStorage)
        client = app.test_client()
        headers = {"X-CSRFToken": read_csrf_token(client)}
        statuses = [client.post(API_URL, json={"helpful": True}, headers=headers).status_code for _ in range(11)]
        assert statuses == [200] * 10 + [429]  # HELPDESK_VOTE_LIMIT_PER_VOTER: 10 per minute
    finally:
        close_app(app)
