"""Markdown rendering: tables, lists and ids work; nothing an author writes can run script."""

from __future__ import annotations

import pytest

from helpdesk.kb.articles import parse_article
from helpdesk.kb.rendering import markdown_to_text, render_markdown

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "<svg onload=alert(1)>",
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "<iframe src=//evil.example></iframe>",
    "<style>body{display:none}</style>",
    "<form action=//evil.example><input name=q></form>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<a href='vbscript:msgbox(1)'>x</a>",
    "<object data=x></object><embed src=x>",
    '<p title="x" onclick="alert(1)">x</p>',
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
]


@pytest.mark.parametrize("payload", XSS)
def test_no_markdown_can_run_script(payload: str) -> None:
    html = render_markdown(f"Hello\n\n{payload}\n\n## Q\n\n{payload}").lower()
    for needle in (
        "<script",
        "javascript:",
        "vbscript:",
        "data:",
        "onerror",
        "onload",
        "onclick",
        "<iframe",
        "<style",
        "<form",
        "<object",
        "<embed",
        "style=",
    ):
        assert needle not in html, (payload, html)


def test_xss_in_an_article_heading_is_inert() -> None:
    article = parse_article("x", "---\ntitle: T\nsection: access\n---\n## <img src=x onerror=alert(1)> Q?\n\nA\n")
    assert "onerror" not in article.questions[0].html
    assert article.questions[0].id == "q"


def test_tables_lists_and_links_render() -> None:
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- two\n\n[site](https://example.org)")
    assert "<table>" in html and "<td>1</td>" in html
    assert "<li>one</li>" in html
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer"' in html


def test_subheadings_keep_ids() -> None:
    assert '<h3 id="details">Details</h3>' in render_markdown("### Details")


def test_plain_text_has_no_markdown_syntax() -> None:
    assert markdown_to_text("**Bold** and *it* and [link](/x) and `code`") == "Bold and it and link and code"
