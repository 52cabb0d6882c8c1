"""The rate limits' in-process storage (no Redis): limits' memory storage, its expired keys swept once a second."""

from __future__ import annotations

import threading
import time

from limits.storage import MemoryStorage

#: The URI scheme of this storage (HELPDESK_REDIS_URL unset); importing this module registers it with `limits`.
SCHEME = "helpdesk-memory"
#: The longest an expired key stays in memory unread (a read of it drops it at once: the counts are exact).
SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """limits' MemoryStorage without a new thread for every hit.

    The parent starts a 10 ms timer thread on each hit once the last one has finished, so under load nearly every
    vote and search started a thread (and waited for it to start) to sweep keys that `get` expires anyway.
    """

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        self._sweep_lock = threading.Lock()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:  # the parent's private hook, called by every hit
        now = time.monotonic()
        if now < self._next_sweep:
            return
        with self._sweep_lock:
            if now < self._next_sweep:
                return
            self._next_sweep = now + SWEEP_SECONDS
        super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]
