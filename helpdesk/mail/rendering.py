"""Render e-mails from `templates/email/<kind>.subject.txt`, `<kind>.txt` and `<kind>.html` (no Flask needed)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from helpdesk.config import PROJECT_ROOT

EMAIL_TEMPLATES = PROJECT_ROOT / "templates" / "email"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(EMAIL_TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        keep_trailing_newline=True,
    )


def render_mail(kind: str, **context: Any) -> tuple[str, str, str | None]:
    """Return (subject, text body, HTML body or None) of the mail `kind`."""
    env = _environment()
    subject = env.get_template(f"{kind}.subject.txt").render(**context)
    # A subject is one header line: user text in it must never add another header.
    subject = " ".join(subject.split())[:255]
    text = env.get_template(f"{kind}.txt").render(**context)
    html = env.get_template(f"{kind}.html").render(**context) if (EMAIL_TEMPLATES / f"{kind}.html").exists() else None
    return subject, text, html
