"""Parse one article file: YAML front matter, an introduction, then one `## ` heading per question."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import TypedDict

import yaml

from helpdesk.domain_errors import DomainError
from helpdesk.kb.rendering import html_to_text, render_inline, render_markdown, slugify

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
_QUESTION_RE = re.compile(r"^##[ \t]+(.+?)[ \t#]*$")
#: `## New wording {#old-anchor}`: a question reworded keeps the anchor links in the wild point to.
_KEPT_ANCHOR_RE = re.compile(r"^(.*?)[ \t]*\{#([a-z0-9]+(?:[-_][a-z0-9]+)*)\}$")


class ArticleError(DomainError):
    """An article file that cannot be published, with the reason in words."""

    status = 422
    code = "invalid_article"


@dataclass(frozen=True, slots=True)
class Question:
    """One FAQ question: its anchor id, heading and rendered answer."""

    id: str
    text: str
    html: str
    answer_html: str
    answer_text: str
    #: What people searched before this answered them (learned from use; set by search, never by the file).
    phrasings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Article:
    """A parsed, rendered article."""

    slug: str
    title: str
    section: str
    tags: tuple[str, ...]
    updated: dt.date | None
    summary: str
    intro_html: str
    intro_text: str
    questions: tuple[Question, ...]
    digest: str
    #: Learned phrasings of the article's own search document (opened as a whole); see Question.phrasings.
    phrasings: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """Return the article's path."""
        return f"/articles/{self.slug}"

    def question(self, question_id: str) -> Question | None:
        """Return the question with this anchor id, if any."""
        return next((q for q in self.questions if q.id == question_id), None)


def _split_front_matter(text: str) -> tuple[dict[str, object], str]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ArticleError("missing YAML front matter (the file must start with a '---' line)")
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() in ("---", "..."))
    except StopIteration:
        raise ArticleError("front matter is not closed by a '---' line") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise ArticleError(f"front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise ArticleError("front matter must be a mapping of keys to values")
    return meta, "\n".join(lines[end + 1 :])


def _split_questions(body: str) -> tuple[str, list[tuple[str, str]]]:
    """Split the body into the introduction and (heading, answer) pairs, ignoring fenced code."""
    intro: list[str] = []
    questions: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in body.splitlines():
        if _FENCE_RE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _QUESTION_RE.match(line)
        if match:
            questions.append((match.group(1).strip(), []))
        elif questions:
            questions[-1][1].append(line)
        else:
            intro.append(line)
    return "\n".join(intro).strip(), [(h, "\n".join(a).strip()) for h, a in questions]


def _text_field(meta: dict[str, object], key: str, *, required: bool) -> str:
    value = meta.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ArticleError(f"front matter '{key}' must be a non-empty string")
    return value.strip()


def _tags(meta: dict[str, object]) -> tuple[str, ...]:
    value = meta.get("tags") or []
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise ArticleError("front matter 'tags' must be a list of strings")
    return tuple(t.strip() for t in value if t.strip())


def _updated(meta: dict[str, object]) -> dt.date | None:
    value = meta.get("updated")
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ArticleError("front matter 'updated' must be a date such as 2026-11-22") from None


def parse_article(slug: str, text: str) -> Article:
    """Parse and render the text of `articles/<slug>.md`."""
    if not SLUG_RE.match(slug):
        raise ArticleError(f"file name {slug!r} is not a slug (lowercase words joined by '-')")
    meta, body = _split_front_matter(text)
    return build_article(
        slug,
        title=_text_field(meta, "title", required=True),
        section=_text_field(meta, "section", required=True),
        tags=_tags(meta),
        updated=_updated(meta),
        summary=_text_field(meta, "summary", required=False),
        body=body,
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


class ArticleFileFields(TypedDict):
    """The fields of an article file, as `parse_fields` reads them."""

    title: str
    section: str
    tags: tuple[str, ...]
    updated: dt.date | None
    summary: str
    body: str


def parse_fields(text: str) -> ArticleFileFields:
    """Return the fields of an article file: title, section, tags, updated, summary and body (Markdown)."""
    meta, body = _split_front_matter(text)
    return {
        "title": _text_field(meta, "title", required=True),
        "section": _text_field(meta, "section", required=True),
        "tags": _tags(meta),
        "updated": _updated(meta),
        "summary": _text_field(meta, "summary", required=False),
        "body": body.strip("\n").rstrip(),
    }


def render_questions(body: str) -> tuple[str, tuple[Question, ...]]:
    """Render a Markdown body into its introduction's HTML and its questions (anchor ids de-duplicated)."""
    intro_md, pairs = _split_questions(body)
    questions: list[Question] = []
    seen: set[str] = set()
    for heading, answer_md in pairs:
        kept = _KEPT_ANCHOR_RE.match(heading)
        heading = kept.group(1) if kept and kept.group(1) else heading
        heading_html = render_inline(heading)
        heading_text = html_to_text(heading_html)
        base = (kept.group(2) if kept else "") or slugify(heading_text) or "question"
        qid, n = base, 1
        while qid in seen:  # the same de-duplication rule as Python-Markdown's toc
            qid, n = f"{base}_{n}", n + 1
        seen.add(qid)
        answer_html = render_markdown(answer_md)
        questions.append(Question(qid, heading_text, heading_html, answer_html, html_to_text(answer_html)))
    return render_markdown(intro_md), tuple(questions)


def build_article(
    slug: str,
    *,
    title: str,
    section: str,
    tags: tuple[str, ...],
    updated: dt.date | None,
    summary: str,
    body: str,
    digest: str,
) -> Article:
    """Render an article from its fields (a file's, or a revision's in the database)."""
    intro_html, questions = render_questions(body)
    return Article(
        slug=slug,
        title=title,
        section=section,
        tags=tags,
        updated=updated,
        summary=summary,
        intro_html=intro_html,
        intro_text=html_to_text(intro_html),
        questions=questions,
        digest=digest,
    )
