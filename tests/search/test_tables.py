"""Tables as the semantic side reads them: a sentence per row of "column: value" pairs, the lexical side unchanged."""

from __future__ import annotations

from pathlib import Path

from helpdesk.kb.articles import parse_article
from helpdesk.kb.rendering import html_to_text, render_markdown
from helpdesk.search.documents import article_documents
from helpdesk.search.model.encoder import load_encoder
from helpdesk.search.tables import readable_text, table_sentences
from helpdesk.search.vectors import embedded_texts

TABLE = """| Browser | Windows | iOS / iPadOS |
|---|---|---|
| Safari | - | Yes |
| Google Chrome | Yes | Yes |
"""

ARTICLE = f"""---
title: Browser requirements
section: troubleshooting
---
## Which browsers can I use?

Any supported browser:

{TABLE}
Turn JavaScript on.

## How do I clear the cache?

Press Ctrl+Shift+Delete.
"""


def test_each_body_row_reads_as_its_first_cell_and_column_value_pairs() -> None:
    assert table_sentences(render_markdown(TABLE)) == (
        "Safari - Windows: -; iOS / iPadOS: Yes. Google Chrome - Windows: Yes; iOS / iPadOS: Yes."
    )


def test_a_table_without_a_header_row_reads_as_its_cells_row_by_row() -> None:
    html = "<table><tr><td>Priority 1</td><td>4 hours</td></tr><tr><td>Priority 2</td><td></td></tr></table>"
    assert table_sentences(html) == "Priority 1, 4 hours. Priority 2."


def test_the_text_around_a_table_stays_and_html_without_one_reads_as_before() -> None:
    html = render_markdown(f"Before & after:\n\n{TABLE}\nThe end.")
    text = readable_text(html)
    assert text.startswith("Before & after: Safari - Windows: -;") and text.endswith("Yes. The end.")
    plain = render_markdown("No *table* here, <b> as text & more.")
    assert readable_text(plain) == html_to_text(plain)


def test_cells_holding_markup_characters_stay_text() -> None:
    html = render_markdown("| Key | Means |\n|---|---|\n| `<Tab>` | next & back |\n")
    assert readable_text(html) == "<Tab> - Means: next & back."


def test_the_embedded_text_reads_the_table_by_rows_and_the_indexed_answer_keeps_its_words() -> None:
    article = parse_article("browser-requirements", ARTICLE)
    texts = {key: text for key, kind, text in embedded_texts(article) if kind == "document"}
    embedded = texts["browser-requirements#which-browsers-can-i-use"]
    assert embedded == (
        "Browser requirements: Which browsers can I use?\nAny supported browser: Safari - Windows: -; "
        "iOS / iPadOS: Yes. Google Chrome - Windows: Yes; iOS / iPadOS: Yes. Turn JavaScript on."
    )
    assert texts["browser-requirements#how-do-i-clear-the-cache"].endswith("Press Ctrl+Shift+Delete.")
    indexed = {doc["key"]: doc for doc in article_documents(article)}
    assert (
        "Browser Windows iOS / iPadOS Safari - Yes"
        in indexed["browser-requirements#which-browsers-can-i-use"]["answer"]
    )


def test_a_question_about_one_cell_is_closer_to_the_rows_than_to_the_run_of_cells(model_dir: Path) -> None:
    encoder = load_encoder(model_dir)
    assert encoder is not None
    article = parse_article("browser-requirements", ARTICLE)
    rows = next(t for k, _, t in embedded_texts(article) if k.endswith("#which-browsers-can-i-use"))
    cells = f"{article.title}: {article.questions[0].text}\n{article.questions[0].answer_text}"
    query = encoder.embed(["does safari work on an ipad"], query=True)[0]
    by_rows, by_cells = encoder.embed([rows, cells], remember=False) @ query
    assert by_rows > by_cells + 0.01


def test_an_article_without_questions_embeds_its_table_by_rows_too() -> None:
    article = parse_article("browsers", f"---\ntitle: Browsers\nsection: troubleshooting\n---\nSupported:\n\n{TABLE}")
    ((key, _, text),) = [row for row in embedded_texts(article) if row[1] == "document"]
    assert key == "browsers"
    assert text == (
        "Browsers Supported: Safari - Windows: -; iOS / iPadOS: Yes. Google Chrome - Windows: Yes; iOS / iPadOS: Yes."
    )
