"""Tables as the semantic side reads them: each row a sentence of "column: value" pairs, not a run of cells."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from helpdesk.kb.rendering import html_to_text

_TABLE = re.compile(r"<table\b.*?</table>", re.DOTALL | re.IGNORECASE)


class _Rows(HTMLParser):
    """Collect the text of each cell of one table, row by row, and which rows are header rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[bool, list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append((False, []))
        elif tag in ("td", "th") and self.rows:
            self._cell = []
            if tag == "th":
                self.rows[-1] = (True, self.rows[-1][1])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_sentences(table_html: str) -> str:
    """Return a table as one sentence per body row: "first cell - column: value; column: value."."""
    parser = _Rows()
    parser.feed(table_html)
    parser.close()
    header = next((cells for is_header, cells in parser.rows if is_header), None)
    sentences = []
    for is_header, cells in parser.rows:
        if is_header or not any(cells):
            continue
        if header is None or len(header) != len(cells):
            sentences.append(", ".join(c for c in cells if c) + ".")
            continue
        pairs = "; ".join(f"{h}: {c}" for h, c in zip(header[1:], cells[1:], strict=True) if c)
        sentences.append(f"{cells[0]} - {pairs}." if pairs else f"{cells[0]}.")
    return " ".join(sentences)


def readable_text(fragment: str) -> str:
    """Return the plain text of sanitised HTML with its tables read row by row (html_to_text otherwise)."""
    if "<table" not in fragment:
        return html_to_text(fragment)
    # Flattened cell by cell, a table is a run of headers then "Yes Yes - Yes": a reader (the model) cannot tell
    # which value belongs to which row and column, so "does Safari work on an iPad" finds nothing in it.
    return html_to_text(_TABLE.sub(lambda m: f"<p>{html.escape(table_sentences(m.group(0)))}</p>", fragment))
