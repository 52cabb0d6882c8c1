"""Markdown rendering and sanitising for articles and, later, comments."""

from __future__ import annotations

import functools
import html
import re
from html.parser import HTMLParser

import markdown
import nh3
from markdown.extensions.toc import slugify as _toc_slugify

#: Tags an article may produce; everything else is stripped by nh3 (script, style, iframe, form...).
ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
    "td": {"align"},
    "th": {"align", "scope"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
_EXTENSIONS = ["tables", "sane_lists", "fenced_code", "toc"]


def slugify(text: str) -> str:
    """Return the anchor id of a heading: lowercase words joined by '-' (Python-Markdown's rule)."""
    return _toc_slugify(text, "-")


def _markdown() -> markdown.Markdown:
    # A fresh instance per call: Markdown objects keep state (toc ids) between conversions.
    return markdown.Markdown(extensions=_EXTENSIONS, output_format="html")


def sanitize_html(raw_html: str) -> str:
    """Clean HTML down to the allow-list so that no input can run script."""
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


@functools.lru_cache(maxsize=4096)
def render_markdown(text: str) -> str:
    """Render Markdown to sanitised HTML (remembered per text: the library is rebuilt from the same texts)."""
    return sanitize_html(_markdown().convert(text))


def render_inline(text: str) -> str:
    """Render one line of Markdown (a heading) without the wrapping paragraph."""
    rendered = render_markdown(text).strip()
    match = re.fullmatch(r"<p>(.*)</p>", rendered, flags=re.DOTALL)
    return match.group(1) if match else rendered


class _TextExtractor(HTMLParser):
    """Collect the text content of an HTML fragment, one space between blocks."""

    _BLOCKS = {"p", "li", "br", "div", "blockquote", "h3", "h4", "h5", "h6", "tr", "td", "th", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Return the plain text of sanitised HTML, whitespace collapsed."""
    extractor = _TextExtractor()
    extractor.feed(fragment)
    extractor.close()
    return re.sub(r"\s+", " ", "".join(extractor.parts)).strip()


def markdown_to_text(text: str) -> str:
    """Return Markdown as plain text (no `*`, `#` or link syntax), for indexing and snippets."""
    return html_to_text(render_markdown(text))


def escape(text: str) -> str:
    """HTML-escape text (quotes included)."""
    return html.escape(text, quote=True)
