"""The library readers see, built from the published revisions in the database and re-read when content changes."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from helpdesk.kb.articles import Article, build_article
from helpdesk.kb.content_models import Article as ArticleRow
from helpdesk.kb.content_models import ArticleRevision, ContentState
from helpdesk.kb.content_models import Section as SectionRow
from helpdesk.kb.exchange import ArticleFields, article_text
from helpdesk.kb.library import ArticleLibrary, Section
from helpdesk.orm import once_more_after_a_disconnect

log = logging.getLogger(__name__)


def revision_fields(slug: str, section: str, revision: ArticleRevision) -> ArticleFields:
    """Return a revision's fields in the exchange format."""
    tags = tuple(t for t in revision.tags.split(",") if t) if revision.tags else ()
    return ArticleFields(slug, revision.title, section, tags, revision.updated_on, revision.summary, revision.body)


def render_fields(fields: ArticleFields) -> Article:
    """Render an article from its fields; its digest is that of its exported file (the same on every host)."""
    digest = hashlib.sha256(article_text(fields).encode("utf-8")).hexdigest()
    return build_article(
        fields.slug,
        title=fields.title,
        section=fields.section,
        tags=fields.tags,
        updated=fields.updated,
        summary=fields.summary,
        body=fields.body,
        digest=digest,
    )


def load_db_library(session: Session, previous: ArticleLibrary | None = None) -> ArticleLibrary:
    """Build the library of published articles, re-rendering only those whose published revision changed."""
    sections = session.scalars(select(SectionRow).order_by(SectionRow.position, SectionRow.id)).all()
    slugs = {s.id: s.slug for s in sections}
    rows = session.execute(
        select(ArticleRow, ArticleRevision)
        .join(
            ArticleRevision,
            (ArticleRevision.article_id == ArticleRow.id) & (ArticleRevision.number == ArticleRow.published_revision),
        )
        .where(ArticleRow.status == "published")
    ).all()
    articles: dict[str, Article] = {}
    stamps: dict[str, tuple[int, int]] = {}
    for row, revision in rows:
        stamp = (revision.id, row.section_id)
        old = previous.articles.get(row.slug) if previous is not None else None
        if old is not None and previous is not None and previous.stamps.get(row.slug) == stamp:
            articles[row.slug] = old  # unchanged: not rendered again
        else:
            articles[row.slug] = render_fields(revision_fields(row.slug, slugs[row.section_id], revision))
        stamps[row.slug] = stamp
    shown = [Section(s.slug, s.title, s.description) for s in sections]
    digest = hashlib.sha256()
    for section in shown:
        digest.update(f"section:{section.slug}:{section.title}\n".encode())
    for slug in sorted(articles):
        digest.update(f"{slug}:{articles[slug].digest}\n".encode())
    return ArticleLibrary(articles, shown, {}, stamps, digest.hexdigest())


def reader_engine(engine: Engine) -> Engine:
    """Return an engine for short reads that never wait for a request's SQLite write transaction."""
    if engine.dialect.name != "sqlite":
        return engine
    # The app's SQLite transactions BEGIN IMMEDIATE; a plain autocommit read in WAL mode never waits for them.
    return create_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"timeout": 30, "check_same_thread": False},
    )


class DbLibraryStore:
    """Hold one process's library; re-read it when the content version in the database changes.

    The version is checked at most once per `check_interval` seconds (the index check interval), so that an
    article published on any host is served by every host within that interval.
    """

    def __init__(
        self,
        engine: Engine,
        seed_dir: Path | None,
        check_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.writer = engine
        self.reader = reader_engine(engine)
        self.seed_dir = seed_dir
        self.check_interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._library: ArticleLibrary | None = None
        self._version: int | None = None
        self._checked_at = 0.0

    def current(self) -> ArticleLibrary:
        """Return the library, re-read when the content version changed (checked once per interval)."""
        library = self._library
        if library is not None and self._clock() - self._checked_at < self.check_interval:
            return library
        with self._lock:
            if self._library is None or self._clock() - self._checked_at >= self.check_interval:
                try:
                    # After a lost connection a fresh one reads the articles: giving up would leave a worker that
                    # never read them with none (404s) until the next check.
                    once_more_after_a_disconnect(self._refresh)
                except Exception as exc:  # the database restarting must not take the pages down with it
                    log.warning("knowledge base: cannot read the articles (%s); keeping the last ones", exc)
                    if self._library is None:
                        self._library = ArticleLibrary({}, [])
                    self._checked_at = self._clock()
            assert self._library is not None
            return self._library

    def _refresh(self) -> None:
        if self._library is None:
            self.seed()
        with Session(self.reader) as session:
            version = session.scalar(select(ContentState.version).where(ContentState.id == 1))
            if self._library is None or version != self._version:
                self._library = load_db_library(session, self._library)
                self._version = version
        self._checked_at = self._clock()

    def try_seed(self) -> None:
        """Seed if the database is reachable and migrated; otherwise leave it to the first use of the library."""
        try:
            self.seed()
        except Exception as exc:
            log.debug("knowledge base: not seeded at start-up (%s)", exc)

    def seed(self) -> bool:
        """Import the seed folder into an empty database, once (any process; the others wait, then skip)."""
        with Session(self.reader) as session:
            if session.scalar(select(ContentState.seeded).where(ContentState.id == 1)) is not False:
                return False
        from helpdesk.kb.importing import seed_database

        with Session(self.writer) as session:
            imported = seed_database(session, self.seed_dir)
            session.commit()
        if imported:
            log.info("knowledge base: imported %d articles from %s into the empty database", imported, self.seed_dir)
        return imported > 0
