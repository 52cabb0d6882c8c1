"""The exchange format of articles: Markdown files with YAML front matter, and `sections.yml` (no Flask)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from helpdesk.domain_errors import DomainError
from helpdesk.kb.articles import SLUG_RE, ArticleError, parse_fields

SECTIONS_FILE = "sections.yml"
_KEY_LINE = re.compile(r"^([a-z_]+)\s*:")


class ExchangeError(DomainError):
    """A file that cannot be imported, named with its line: nothing was imported."""

    status = 422
    code = "invalid_file"


@dataclass(frozen=True, slots=True)
class SectionFields:
    """A section as written in `sections.yml`."""

    slug: str
    title: str
    description: str


@dataclass(frozen=True, slots=True)
class ArticleFields:
    """The fields of one article revision, as kept in the database and written to a file."""

    slug: str
    title: str
    section: str
    tags: tuple[str, ...]
    updated: dt.date | None
    summary: str
    body: str


def _scalar(value: str) -> str:
    """Return `value` as one YAML scalar on one line (quoted only when it must be)."""
    return (
        yaml.safe_dump(value, allow_unicode=True, width=1_000_000, default_style=None)
        .removesuffix("\n...\n")
        .rstrip("\n")
    )


def article_text(fields: ArticleFields) -> str:
    """Return the article file: front matter in a fixed order, then the body (the same fields, the same bytes)."""
    lines = ["---", f"title: {_scalar(fields.title)}", f"section: {_scalar(fields.section)}"]
    if fields.tags:
        lines.append("tags: [" + ", ".join(_scalar(t) for t in fields.tags) + "]")
    if fields.updated is not None:
        lines.append(f"updated: {fields.updated.isoformat()}")
    if fields.summary:
        lines.append(f"summary: {_scalar(fields.summary)}")
    lines.append("---")
    return "\n".join(lines) + "\n" + fields.body + "\n"


def sections_text(sections: list[SectionFields]) -> str:
    """Return `sections.yml` for these sections, in order."""
    data = [{"slug": s.slug, "title": s.title, "description": s.description} for s in sections]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1_000_000)


def _line_of(text: str, message: str) -> int:
    """Return the line an article error is about: the key it names, the YAML mark, or the first line."""
    found = re.search(r"line (\d+)", message)
    if found:  # a YAML error counts lines within the front matter, which starts on line 2
        return int(found.group(1)) + 1
    key = re.search(r"'([a-z_]+)'", message)
    if key:
        for number, line in enumerate(text.splitlines()[1:], start=2):
            match = _KEY_LINE.match(line)
            if line.strip() == "---":
                return number
            if match and match.group(1) == key.group(1):
                return number
    return 1


def parse_file(name: str, text: str, sections: set[str]) -> ArticleFields:
    """Parse one article file; errors name the file and its line."""
    slug = name.removesuffix(".md")
    if not SLUG_RE.match(slug):
        raise ExchangeError(f"{name}:1: the file name is not a slug (lowercase words joined by '-')")
    try:
        fields = parse_fields(text)
    except ArticleError as exc:
        raise ExchangeError(f"{name}:{_line_of(text, str(exc))}: {exc}") from None
    if sections and fields["section"] not in sections:
        line = _line_of(text, "'section'")
        raise ExchangeError(f"{name}:{line}: section {fields['section']!r} is not listed in {SECTIONS_FILE}")
    return ArticleFields(
        slug,
        str(fields["title"]),
        str(fields["section"]),
        tuple(fields["tags"]),
        fields["updated"],
        str(fields["summary"]),
        str(fields["body"]),
    )


def read_sections(directory: Path) -> list[SectionFields]:
    """Read `sections.yml` ([] when there is none)."""
    path = directory / SECTIONS_FILE
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ExchangeError(f"{SECTIONS_FILE}:{mark.line + 1 if mark else 1}: not valid YAML") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) and d.get("slug") and d.get("title") for d in data):
        raise ExchangeError(f"{SECTIONS_FILE}:1: must be a list of sections, each with a slug and a title")
    return [SectionFields(str(d["slug"]), str(d["title"]), str(d.get("description", "") or "")) for d in data]


def read_directory(directory: Path) -> tuple[list[SectionFields], list[ArticleFields]]:
    """Read every section and article of `directory`, or raise on the first bad file (nothing half-read)."""
    if not directory.is_dir():
        raise ExchangeError(f"{directory}: not a directory")
    sections = read_sections(directory)
    known = {s.slug for s in sections}
    articles = []
    for path in sorted(directory.glob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ExchangeError(f"{path.name}:1: cannot be read as UTF-8 text ({exc})") from None
        articles.append(parse_file(path.name, text, known))
    return sections, articles
