"""Signed-out pages rendered once per content and worker: the HTML kept, each session's CSRF token put in per view."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Response, current_app, make_response
from flask_wtf.csrf import generate_csrf

from helpdesk.kb.conditional import not_modified, page_etag, with_etag

#: Stands for the session's CSRF token in a kept page (pages never hold NUL: the text normaliser removes it).
_TOKEN = "\0csrf-token\0"
_EXTENSION = "helpdesk.page_cache"
#: Names of comment authors and the like are not in the key; a minute bounds how long a renamed one shows.
MAX_AGE = 60.0
SIZE = 256


class PageCache:
    """A small least-recently-used store of rendered pages, shared by a worker's threads."""

    def __init__(self, size: int = SIZE, max_age: float = MAX_AGE) -> None:
        self._pages: OrderedDict[Hashable, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._size, self._max_age = size, max_age

    def get(self, key: Hashable) -> str | None:
        """Return the kept page for `key`, or None when there is none or it is too old."""
        with self._lock:
            found = self._pages.get(key)
            if found is None or time.monotonic() - found[0] >= self._max_age:
                return None
            self._pages.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, page: str) -> None:
        """Keep `page` under `key`, dropping the least recently used page beyond the size."""
        with self._lock:
            self._pages[key] = (time.monotonic(), page)
            self._pages.move_to_end(key)
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)


def _cache() -> PageCache:
    """Return this app's page cache (each app its own: tests run many apps in one process)."""
    cache = current_app.extensions.get(_EXTENSION)
    if cache is None:
        cache = current_app.extensions[_EXTENSION] = PageCache()
    return cache


def shared_page(parts: tuple[Hashable, ...], render: Callable[[], str]) -> Response:
    """Answer a GET page made of `parts` (everything it shows): 304 when the browser has it, else the kept page.

    Only pages that get an ETag are shared: `page_etag` refuses signed-in pages and ones about to show a flash.
    """
    etag = page_etag(*parts)
    if cached := not_modified(etag):
        return cached
    return with_etag(make_response(render() if etag is None else _render_shared(parts, render)), etag)


def _render_shared(key: Hashable, render: Callable[[], str]) -> str:
    """Return the page for `key` with this session's token; render and keep it on a miss."""
    token = generate_csrf()
    cache = _cache()
    kept = cache.get(key)
    if kept is not None:
        return kept.replace(_TOKEN, token)
    page = render()
    cache.put(key, page.replace(token, _TOKEN))
    return page
