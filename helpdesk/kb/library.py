"""The set of published articles: loaded from `articles/`, re-read only where files changed."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from helpdesk.kb.articles import Article, ArticleError, parse_article

log = logging.getLogger(__name__)

SECTIONS_FILE = "sections.yml"
_Stamp = tuple[int, int]  # (mtime_ns, size): enough to notice an edited file without reading it


@dataclass(frozen=True, slots=True)
class Section:
    """A section of the knowledge base (access, privacy, troubleshooting)."""

    slug: str
    title: str
    description: str


@dataclass(slots=True)
class ArticleLibrary:
    """Published articles by slug, their sections, a content fingerprint and the files refused."""

    articles: dict[str, Article]
    sections: list[Section]
    errors: dict[str, str] = field(default_factory=dict)
    stamps: dict[str, _Stamp] = field(default_factory=dict)
    fingerprint: str = ""
    #: related() per slug: a library never changes once loaded (a changed file makes a new one), so neither do they.
    _related: dict[tuple[str, int], list[Article]] = field(default_factory=dict, repr=False, compare=False)

    def get(self, slug: str) -> Article | None:
        """Return the article with this slug, if published."""
        return self.articles.get(slug)

    def section(self, slug: str) -> Section | None:
        """Return the section with this slug."""
        return next((s for s in self.sections if s.slug == slug), None)

    def in_section(self, slug: str) -> list[Article]:
        """Return the section's articles by title."""
        return sorted((a for a in self.articles.values() if a.section == slug), key=lambda a: a.title.lower())

    def related(self, article: Article, limit: int = 4) -> list[Article]:
        """Return other articles sharing the section or tags, most shared first (computed once per library)."""
        cached = self._related.get((article.slug, limit))
        if cached is not None and self.articles.get(article.slug) is article:
            return cached
        tags = set(article.tags)

        def score(other: Article) -> tuple[int, str]:
            shared = len(tags & set(other.tags)) + (2 if other.section == article.section else 0)
            return (-shared, other.title.lower())

        others = [a for a in self.articles.values() if a.slug != article.slug]
        related = [a for a in sorted(others, key=score) if score(a)[0] < 0][:limit]
        if self.articles.get(article.slug) is article:
            self._related[(article.slug, limit)] = related
        return related


def _load_sections(directory: Path) -> list[Section]:
    path = directory / SECTIONS_FILE
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ArticleError(f"{SECTIONS_FILE} must be a list of sections")
    return [Section(str(d["slug"]), str(d["title"]), str(d.get("description", ""))) for d in data]


def scan_stamps(directory: Path) -> dict[str, _Stamp]:
    """Return (mtime, size) for every article file and the sections file."""
    stamps: dict[str, _Stamp] = {}
    try:
        entries = list(directory.iterdir())
    except FileNotFoundError:
        return stamps
    for entry in entries:
        if entry.suffix == ".md" or entry.name == SECTIONS_FILE:
            try:
                st = entry.stat()
            except FileNotFoundError:  # deleted between listing and stat
                continue
            stamps[entry.name] = (st.st_mtime_ns, st.st_size)
    return stamps


def load_library(directory: Path, previous: ArticleLibrary | None = None) -> ArticleLibrary:
    """Load every article in `directory`, reusing `previous` for files that did not change."""
    stamps = scan_stamps(directory)
    sections = _load_sections(directory)
    known = {s.slug for s in sections}
    articles: dict[str, Article] = {}
    errors: dict[str, str] = {}
    for name, stamp in sorted(stamps.items()):
        if not name.endswith(".md"):
            continue
        slug = name[:-3]
        old = previous.articles.get(slug) if previous else None
        if old is not None and previous is not None and previous.stamps.get(name) == stamp:
            articles[slug] = old
            continue
        try:
            article = parse_article(slug, (directory / name).read_text(encoding="utf-8"))
            if known and article.section not in known:
                raise ArticleError(f"section {article.section!r} is not listed in {SECTIONS_FILE}")
        except (ArticleError, OSError, UnicodeDecodeError) as exc:
            errors[name] = str(exc)
            log.warning("article %s not published: %s", name, exc)
            continue
        articles[slug] = article
    digest = hashlib.sha256()
    for section in sections:
        digest.update(f"section:{section.slug}:{section.title}\n".encode())
    for slug in sorted(articles):
        digest.update(f"{slug}:{articles[slug].digest}\n".encode())
    return ArticleLibrary(articles, sections, errors, stamps, digest.hexdigest())


class LibraryStore:
    """Hold the current library for one process and reload it when `articles/` changes."""

    def __init__(
        self, directory: Path, check_interval: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.directory = directory
        self.check_interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._library: ArticleLibrary | None = None
        self._checked_at = 0.0

    def current(self) -> ArticleLibrary:
        """Return the library, re-reading changed files at most once per `check_interval`."""
        library, now = self._library, self._clock()
        if library is not None and now - self._checked_at < self.check_interval:
            return library
        with self._lock:
            if self._library is None or self._clock() - self._checked_at >= self.check_interval:
                if self._library is None or scan_stamps(self.directory) != self._library.stamps:
                    self._library = load_library(self.directory, self._library)
                self._checked_at = self._clock()
            return self._library
