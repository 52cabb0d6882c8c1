"""Writing articles: save a draft, publish, archive, rename, restore; every save a revision, all audited (no Flask)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import can_edit_section
from helpdesk.audit.services import Origin, record_event
from helpdesk.domain_errors import DomainError
from helpdesk.kb.articles import SLUG_RE, render_questions
from helpdesk.kb.content_models import BODY_MAX, TITLE_MAX, Article, ArticleRevision, Section, SlugRedirect
from helpdesk.kb.importing import bump_content_version
from helpdesk.kb.models import ArticleStats, Comment, Vote
from helpdesk.kb.rendering import slugify
from helpdesk.search.models import LearnedPhrasing, SearchClick


class EditInvalid(DomainError):
    """Refused input: a message per field; nothing was saved."""

    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()), field=next(iter(errors), None))
        self.errors = errors
        self.code = f"invalid_{self.field}"

    @property
    def message(self) -> str:
        """Return the first field's message (the API's `message`; `errors` holds them all)."""
        return next(iter(self.errors.values()), str(self))

    def details(self) -> dict[str, object]:
        """Return every field's message."""
        return {"errors": self.errors}


class EditConflict(DomainError):
    """The article changed since the editor opened it: `current` is the newer revision."""

    status = 409
    code = "conflict"

    def __init__(self, current: int) -> None:
        super().__init__(f"revision {current} was saved since revision you started from")
        self.current = current

    @property
    def message(self) -> str:
        """Return what an API client does next."""
        return (
            f"Revision {self.current} was saved since the revision this edit started from: "
            f"read revision {self.current}, merge, and send it as base_revision."
        )

    def details(self) -> dict[str, object]:
        """Return the newer revision's number."""
        return {"revision": self.current}


@dataclass(slots=True)
class Draft:
    """What an editor sends: the fields of the next revision."""

    title: str
    section: str
    body: str
    summary: str = ""
    tags: list[str] = field(default_factory=list)
    note: str = ""
    slug: str = ""  # empty: made from the title (new article) or kept (existing one)


def find_article(session: Session, slug: str) -> Article | None:
    """Return the article with this slug (any status)."""
    return session.scalars(select(Article).where(Article.slug == slug)).first()


def get_revision(session: Session, article: Article, number: int | None) -> ArticleRevision | None:
    """Return one revision of the article (None: there is no such number)."""
    if number is None:
        return None
    return session.scalars(
        select(ArticleRevision).where(ArticleRevision.article_id == article.id, ArticleRevision.number == number)
    ).first()


def list_revisions(session: Session, article: Article) -> list[ArticleRevision]:
    """Return the article's revisions, newest first."""
    return list(
        session.scalars(
            select(ArticleRevision)
            .where(ArticleRevision.article_id == article.id)
            .order_by(ArticleRevision.number.desc())
        )
    )


def clean_tags(tags: list[str] | str) -> list[str]:
    """Return the tags trimmed, without empties or repeats, in the order written."""
    parts = tags.split(",") if isinstance(tags, str) else tags
    seen: list[str] = []
    for tag in (" ".join(str(t).split()) for t in parts):
        if tag and tag not in seen:
            seen.append(tag[:50])
    return seen


def _validate(session: Session, draft: Draft, article: Article | None) -> tuple[Section | None, str, dict[str, str]]:
    errors: dict[str, str] = {}
    draft.title, draft.summary = " ".join(draft.title.split()), " ".join(draft.summary.split())
    draft.body, draft.note = draft.body.replace("\r\n", "\n").strip("\n").rstrip(), " ".join(draft.note.split())
    if not draft.title:
        errors["title"] = "Give the article a title."
    elif len(draft.title) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters."
    section = session.scalars(select(Section).where(Section.slug == draft.section)).first()
    if section is None:
        errors["section"] = "Choose one of the sections."
    if len(draft.body) > BODY_MAX:
        errors["body"] = f"The text is too long: keep it under {BODY_MAX:,} characters."
    elif not draft.body:
        errors["body"] = "Write the article first."
    else:
        intro_html, questions = render_questions(draft.body)
        if not intro_html.strip() and not questions:
            errors["body"] = "This text shows nothing once rendered (only markup that is removed): write the answer."
    slug = draft.slug.strip().lower() or (article.slug if article is not None else slugify(draft.title)[:200])
    if not SLUG_RE.match(slug):
        errors["slug"] = "Use lowercase words joined by '-' in the address."
    elif article is None or slug != article.slug:
        other = find_article(session, slug)
        moved = session.scalars(select(SlugRedirect).where(SlugRedirect.old_slug == slug)).first()
        if (other is not None and other is not article) or (
            moved is not None and (article is None or moved.article_id != article.id)
        ):
            errors["slug"] = f"The address {slug!r} is taken by another article."
    if draft.title and "title" not in errors:
        same = (
            select(func.count())
            .select_from(Article)
            .join(
                ArticleRevision,
                (ArticleRevision.article_id == Article.id) & (ArticleRevision.number == Article.current_revision),
            )
            .where(func.lower(ArticleRevision.title) == draft.title.lower(), Article.status != "archived")
        )
        if article is not None:
            same = same.where(Article.id != article.id)
        if session.scalar(same):
            errors["title"] = "Another article has this title: choose another one."
    if len(draft.note) > 500:
        errors["note"] = "Keep the change note under 500 characters."
    return section, slug, errors


def _check_section(actor: User, section: str, state_sections: bool) -> None:
    if not can_edit_section(actor, section, state_sections=state_sections):
        raise PermissionError("you may not write articles of this section")


def _add_revision(
    session: Session, article: Article, draft: Draft, *, actor: User, now: dt.datetime, note: str | None = None
) -> ArticleRevision:
    article.current_revision += 1
    article.updated_at = now
    revision = ArticleRevision(
        article_id=article.id,
        number=article.current_revision,
        title=draft.title,
        summary=draft.summary,
        tags=",".join(clean_tags(draft.tags)),
        body=draft.body,
        updated_on=now.date(),
        author_id=actor.id,
        created_at=now,
        note=draft.note if note is None else note,
    )
    session.add(revision)
    session.flush()
    return revision


def _audit(session: Session, action: str, article: Article, *, actor: User, origin: Origin, detail: str) -> None:
    record_event(
        session,
        action,
        origin=origin,
        actor_id=actor.id,
        actor_email=actor.email,
        target_type="article",
        target_id=article.id,
        state_code=actor.state_code,
        detail=f"{article.slug}: {detail}",
    )


def save_article(
    session: Session,
    article: Article | None,
    draft: Draft,
    *,
    actor: User,
    origin: Origin,
    now: dt.datetime,
    base_revision: int | None = None,
    publish: bool = False,
    state_sections: bool = False,
) -> tuple[Article, ArticleRevision]:
    """Save the next revision of `article` (None: a new one) as a draft, or publish it; rename on a new slug."""
    if article is not None:
        _check_section(actor, _section_slug(session, article), state_sections)
        if base_revision is not None and base_revision != article.current_revision:
            raise EditConflict(article.current_revision)
    section, slug, errors = _validate(session, draft, article)
    if errors:
        raise EditInvalid(errors)
    assert section is not None
    _check_section(actor, section.slug, state_sections)
    if article is None:
        article = Article(
            slug=slug, section_id=section.id, status="draft", current_revision=0, created_at=now, updated_at=now
        )
        session.add(article)
        session.flush()
    elif slug != article.slug:
        rename_article(session, article, slug, actor=actor, origin=origin)
    moved = article.section_id != section.id  # the section is the article's: readers see a move at once
    article.section_id = section.id
    revision = _add_revision(session, article, draft, actor=actor, now=now)
    _audit(session, "article_saved", article, actor=actor, origin=origin, detail=f"revision {revision.number}")
    if publish:
        publish_article(session, article, actor=actor, origin=origin, now=now, state_sections=state_sections)
    elif article.status == "published" and moved:
        bump_content_version(session)
    return article, revision


def _section_slug(session: Session, article: Article) -> str:
    return session.scalars(select(Section.slug).where(Section.id == article.section_id)).one()


def publish_article(
    session: Session, article: Article, *, actor: User, origin: Origin, now: dt.datetime, state_sections: bool = False
) -> None:
    """Show the article's latest revision to readers (every host within the index check interval)."""
    _check_section(actor, _section_slug(session, article), state_sections)
    article.status, article.published_revision, article.updated_at = "published", article.current_revision, now
    bump_content_version(session)
    _audit(
        session, "article_published", article, actor=actor, origin=origin, detail=f"revision {article.current_revision}"
    )


def archive_article(
    session: Session, article: Article, *, actor: User, origin: Origin, now: dt.datetime, state_sections: bool = False
) -> None:
    """Take the article down: readers get 404; it keeps its history and can be published again."""
    _check_section(actor, _section_slug(session, article), state_sections)
    article.status, article.updated_at = "archived", now
    bump_content_version(session)
    _audit(session, "article_archived", article, actor=actor, origin=origin, detail="archived")


def restore_revision(
    session: Session,
    article: Article,
    number: int,
    *,
    actor: User,
    origin: Origin,
    now: dt.datetime,
    state_sections: bool = False,
) -> ArticleRevision:
    """Add a new revision with the text of revision `number` (history is never rewritten); a published
    article is published at once with it."""
    _check_section(actor, _section_slug(session, article), state_sections)
    old = get_revision(session, article, number)
    if old is None:
        raise EditInvalid({"revision": f"There is no revision {number}."})
    draft = Draft(old.title, "", old.body, old.summary, clean_tags(old.tags), f"Restored revision {number}")
    revision = _add_revision(session, article, draft, actor=actor, now=now)
    revision.updated_on = now.date()
    _audit(
        session,
        "article_restored",
        article,
        actor=actor,
        origin=origin,
        detail=f"revision {number} as revision {revision.number}",
    )
    if article.status == "published":
        article.published_revision = revision.number
        bump_content_version(session)
    return revision


def rename_article(session: Session, article: Article, slug: str, *, actor: User, origin: Origin) -> None:
    """Give the article a new slug: the old one redirects, and its votes, comments and search log follow it."""
    old = article.slug
    # Renaming back to an earlier name: that redirect is no longer needed (it would point at itself).
    for redirect in session.scalars(select(SlugRedirect).where(SlugRedirect.old_slug == slug)):
        session.delete(redirect)
    session.flush()
    session.add(SlugRedirect(old_slug=old, article_id=article.id))
    article.slug = slug
    session.execute(update(Vote).where(Vote.article_slug == old).values(article_slug=slug))
    # The counters follow too (a row left under the new name by nothing that exists any more is stale).
    session.execute(delete(ArticleStats).where(ArticleStats.article_slug == slug))
    session.execute(update(ArticleStats).where(ArticleStats.article_slug == old).values(article_slug=slug))
    session.execute(update(Comment).where(Comment.article_slug == old).values(article_slug=slug))
    session.execute(update(SearchClick).where(SearchClick.article_slug == old).values(article_slug=slug))
    for phrasing in session.scalars(
        select(LearnedPhrasing).where(
            (LearnedPhrasing.question_key == old) | LearnedPhrasing.question_key.startswith(f"{old}#")
        )
    ):
        phrasing.question_key = slug + phrasing.question_key[len(old) :]
    bump_content_version(session)
    _audit(session, "article_renamed", article, actor=actor, origin=origin, detail=f"renamed from {old}")


def redirect_target(session: Session, slug: str) -> str | None:
    """Return the current slug of an article once called `slug`, if any."""
    found = session.scalars(
        select(Article.slug)
        .join(SlugRedirect, SlugRedirect.article_id == Article.id)
        .where(SlugRedirect.old_slug == slug)
    ).first()
    return found
