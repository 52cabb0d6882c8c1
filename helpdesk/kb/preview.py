"""The editor's preview: the body rendered as readers will see it, its question anchors, and warnings (no Flask)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from helpdesk.kb.articles import Article, Question, render_questions
from helpdesk.kb.rendering import ALLOWED_TAGS

_FENCED = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_TAG = re.compile(r"<\s*([a-zA-Z][a-zA-Z0-9-]*)")
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_SCRIPT_URL = re.compile(r"(?:javascript|vbscript|data)\s*:", re.IGNORECASE)


@dataclass(slots=True)
class Preview:
    """What the editor shows beside the text."""

    intro_html: str
    questions: tuple[Question, ...]
    warnings: list[str] = field(default_factory=list)


def stripped_markup(body: str) -> list[str]:
    """Return, in words, the markup of `body` the sanitiser will remove (code blocks and spans excepted)."""
    text = _INLINE_CODE.sub("", _FENCED.sub("", body))
    found = sorted({t.lower() for t in _TAG.findall(text)} - ALLOWED_TAGS - {"p", "h2"})
    warnings = [f"<{tag}> will be removed: articles cannot contain it." for tag in found]
    if _HANDLER.search(text):
        warnings.append("Event handlers (on...= attributes) will be removed.")
    if _SCRIPT_URL.search(text):
        warnings.append("javascript:, vbscript: and data: links will be removed.")
    return warnings


def preview_body(body: str, published: Article | None = None) -> Preview:
    """Render `body` with the article page's renderer and sanitiser; warn about anchors and removed markup."""
    intro_html, questions = render_questions(body)
    result = Preview(intro_html, questions, stripped_markup(body))
    for question in questions:
        base, _, suffix = question.id.rpartition("_")
        if suffix.isdigit() and any(q.id == base for q in questions):
            result.warnings.append(
                f"Two questions read \u201c{question.text}\u201d: the second gets the anchor "
                f"#{question.id}. Make each question different."
            )
    if published is not None:
        kept = {q.id for q in questions}
        for old in published.questions:
            if old.id not in kept:
                near = difflib.get_close_matches(old.id, sorted(kept), n=1, cutoff=0.6)
                hint = f" (now #{near[0]})" if near else ""
                result.warnings.append(
                    f"The anchor #{old.id}{hint} changes: links to \u201c{old.text}\u201d elsewhere will open the top "
                    f"of the article. To keep the old anchor, end the question's line with {{#{old.id}}}."
                )
    if not intro_html.strip() and not questions:
        result.warnings.append("Nothing to show yet: write an introduction or a '## ' question.")
    return result


def diff_lines(old: str, new: str, old_label: str, new_label: str) -> list[tuple[str, str]]:
    """Return an inline diff as (kind, line) pairs: kind is ' ', '+', '-' or '@' (a hunk header)."""
    lines = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, n=3, lineterm=""):
        if line.startswith(("---", "+++")):
            continue
        lines.append((line[:1] if line[:1] in "+-@" else " ", line[1:] if line[:1] in "+- " else line))
    return lines
