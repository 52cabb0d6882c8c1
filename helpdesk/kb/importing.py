"""Import a folder of article files into the database (first start, `helpdesk articles import`) and export it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.services import CLI_ACTOR, SYSTEM, Origin, record_event
from helpdesk.kb.content_models import Article, ArticleRevision, ContentState, Section
from helpdesk.kb.db_library import revision_fields
from helpdesk.kb.exchange import (
    SECTIONS_FILE,
    ArticleFields,
    SectionFields,
    article_text,
    read_directory,
    sections_text,
)
from helpdesk.orm import utcnow


def bump_content_version(session: Session) -> None:
    """Raise the content version: every worker re-reads the library at its next index check."""
    session.execute(update(ContentState).where(ContentState.id == 1).values(version=ContentState.version + 1))


def _current_fields(session: Session, article: Article, section: str) -> ArticleFields | None:
    revision = session.scalars(
        select(ArticleRevision).where(
            ArticleRevision.article_id == article.id, ArticleRevision.number == article.current_revision
        )
    ).first()
    return None if revision is None else revision_fields(article.slug, section, revision)


def _apply_sections(session: Session, sections: list[SectionFields], report: list[str], dry_run: bool) -> None:
    existing = {s.slug: s for s in session.scalars(select(Section))}
    for position, wanted in enumerate(sections):
        row = existing.get(wanted.slug)
        if row is None:
            report.append(f"section {wanted.slug}: created")
            if not dry_run:
                session.add(
                    Section(slug=wanted.slug, title=wanted.title, description=wanted.description, position=position)
                )
        elif (row.title, row.description, row.position) != (wanted.title, wanted.description, position):
            report.append(f"section {wanted.slug}: updated")
            if not dry_run:
                row.title, row.description, row.position = wanted.title, wanted.description, position
    if not dry_run:
        session.flush()


def import_articles(
    session: Session,
    directory: Path,
    *,
    actor: User | None,
    origin: Origin = SYSTEM,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    audit: bool = True,
) -> list[str]:
    """Create or update (one published revision each) every article of `directory`; return what changed.

    Every file is read and checked before anything is written: a bad file raises `ExchangeError` naming it and
    its line, and nothing is imported. The caller commits (or, on a dry run, need not).
    """
    now = now or utcnow()
    sections, files = read_directory(directory)
    report: list[str] = []
    _apply_sections(session, sections, report, dry_run)
    known = {s.slug: s for s in session.scalars(select(Section))}
    missing = {f.section for f in files} - set(known) - {s.slug for s in sections}
    if missing:
        from helpdesk.kb.exchange import ExchangeError

        raise ExchangeError(f"{SECTIONS_FILE}:1: sections {', '.join(sorted(missing))} do not exist")
    changed = 0
    for fields in files:
        article = session.scalars(select(Article).where(Article.slug == fields.slug)).first()
        section = known.get(fields.section)
        if (
            article is not None
            and article.status == "published"
            and _current_fields(session, article, fields.section) == fields
            and article.published_revision == article.current_revision
            and section is not None
            and section.id == article.section_id
        ):
            report.append(f"{fields.slug}: unchanged")
            continue
        report.append(f"{fields.slug}: {'created' if article is None else 'updated'}")
        changed += 1
        if dry_run:
            continue
        assert section is not None
        if article is None:
            article = Article(
                slug=fields.slug,
                section_id=section.id,
                status="published",
                current_revision=0,
                created_at=now,
                updated_at=now,
            )
            session.add(article)
            session.flush()
        number = article.current_revision + 1
        session.add(
            ArticleRevision(
                article_id=article.id,
                number=number,
                title=fields.title,
                summary=fields.summary,
                tags=",".join(fields.tags),
                body=fields.body,
                updated_on=fields.updated,
                author_id=actor.id if actor else None,
                created_at=now,
                note=f"Imported from {directory.name}/",
            )
        )
        article.section_id, article.status, article.updated_at = section.id, "published", now
        article.current_revision = article.published_revision = number
    if not dry_run and (changed or any(line.startswith("section") for line in report)):
        session.flush()
        bump_content_version(session)
    if not dry_run and changed and audit:
        record_event(
            session,
            "articles_imported",
            origin=origin,
            actor_id=actor.id if actor else None,
            actor_email=actor.email if actor else CLI_ACTOR,
            target_type="article",
            detail=f"{changed} articles from {directory}",
        )
    return report


def seed_database(session: Session, directory: Path | None) -> int:
    """On the first start, import `directory` into an empty database; return the number of articles imported.

    The update of the one content-state row is the lock: a second process starting at once waits for it, then
    finds the database seeded and does nothing.
    """
    # cast: Session.execute is declared to return a Result; an UPDATE's is a CursorResult (rowcount).
    claimed = cast(
        "CursorResult[Any]",
        session.execute(
            update(ContentState).where(ContentState.id == 1, ContentState.seeded.is_(False)).values(seeded=True)
        ),
    ).rowcount
    if not claimed or directory is None or not directory.is_dir():
        return 0
    if session.scalar(select(Article.id).limit(1)) is not None:
        return 0  # articles already written in the browser: the folder is only the seed of an empty database
    # Not audited: the seed is the installation's content, not anyone's action (the revisions say "Imported").
    report = import_articles(session, directory, actor=None, audit=False)
    return sum(1 for line in report if line.endswith(": created") and not line.startswith("section "))


def export_articles(session: Session, directory: Path) -> int:
    """Write every published article (its published revision) and `sections.yml` to `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    sections = session.scalars(select(Section).order_by(Section.position, Section.id)).all()
    slugs = {s.id: s.slug for s in sections}
    _write(directory / SECTIONS_FILE, sections_text([SectionFields(s.slug, s.title, s.description) for s in sections]))
    rows = session.execute(
        select(Article, ArticleRevision)
        .join(
            ArticleRevision,
            (ArticleRevision.article_id == Article.id) & (ArticleRevision.number == Article.published_revision),
        )
        .where(Article.status == "published")
    ).all()
    for article, revision in rows:
        _write(
            directory / f"{article.slug}.md",
            article_text(revision_fields(article.slug, slugs[article.section_id], revision)),
        )
    return len(rows)


def _write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))  # bytes: no newline translation, the same file on every platform
