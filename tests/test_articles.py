"""Article files: the seed content is all there, the format is parsed as DESIGN.md says, bad files are refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from helpdesk.kb.articles import ArticleError, parse_article
from helpdesk.kb.library import ArticleLibrary, LibraryStore, load_library

REPO = Path(__file__).resolve().parent.parent

#: Every question of the two seed articles, in the seed's order (start of the heading).
SEED_QUESTIONS = {
    "user-administration-and-system-access": [
        "Who uses ICOTS?",
        "How do I get access to ICOTS?",
        "Where do I log into ICOTS?",
        "What is the purpose of the ICOTS Privacy Policy?",
        "How can I get assistance to reset my password?",
        "Will we have the ability to assign an incoming investigation to a generic email address?",
        "If we don't have a way to generically assign an investigation to a county",
        "How do I set up additional users for ICOTS?",
        "How do I delete a user for ICOTS?",
        "Is it possible to assign our local Designees as Compact Staff",
    ],
    "errors-and-technical-support": [
        "What is the process for getting assistance with errors or technical difficulties with ICOTS?",
        "What do I do when the page is loading slowly?",
        "What happens when the system goes down",
        "What do I do when I get an error or if I can't log into ICOTS?",
        "What do I do if I receive an application error that won't let me continue?",
        "How do you reopen a case in ICOTS",
    ],
}

#: Facts of the seed answers that must survive, word for word.
SEED_FACTS = [
    ("user-administration-and-system-access", "This password link is only valid for 20 minutes."),
    ("user-administration-and-system-access", "creating a generic user will violate CJIS security policy"),
    ("user-administration-and-system-access", "You cannot delete a user in ICOTS"),
    ("user-administration-and-system-access", 'select "Deactivate"'),
    ("user-administration-and-system-access", "Upon initial login, every user electronically agrees"),
    ("errors-and-technical-support", "We are guaranteed 99% availability to the website."),
    ("errors-and-technical-support", "make sure your caps lock is off and try again"),
    ("errors-and-technical-support", "Reopening closed cases can only be done by the state compact office."),
]


@pytest.fixture(scope="module")
def library() -> ArticleLibrary:
    """The real articles."""
    return load_library(REPO / "articles")


def test_every_article_is_published_without_errors(library: ArticleLibrary) -> None:
    assert library.errors == {}
    assert {s.slug for s in library.sections} == {"access", "privacy", "troubleshooting"}
    assert {a.section for a in library.articles.values()} == {"access", "privacy", "troubleshooting"}
    assert "getting-help-with-this-help-desk" in library.articles


@pytest.mark.parametrize("slug", sorted(SEED_QUESTIONS))
def test_seed_questions_are_kept_in_order(library: ArticleLibrary, slug: str) -> None:
    questions = [q.text for q in library.get(slug).questions]
    assert len(questions) == len(SEED_QUESTIONS[slug])
    for heading, expected in zip(questions, SEED_QUESTIONS[slug], strict=True):
        assert heading.startswith(expected)


@pytest.mark.parametrize(("slug", "fact"), SEED_FACTS)
def test_seed_answers_are_kept(library: ArticleLibrary, slug: str, fact: str) -> None:
    text = " ".join(q.answer_text for q in library.get(slug).questions)
    assert fact in text


def test_unanswered_seed_question_is_answered_without_inventing(library: ArticleLibrary) -> None:
    answer = library.get("user-administration-and-system-access").question("how-do-i-set-up-additional-users-for-icots")
    assert answer is not None
    assert "state administrator" in answer.answer_text
    assert "left this question unanswered" in answer.answer_text


def test_question_ids_are_heading_slugs(library: ArticleLibrary) -> None:
    article = library.get("errors-and-technical-support")
    assert article.questions[3].id == "what-do-i-do-when-i-get-an-error-or-if-i-cant-log-into-icots"
    assert article.updated == dt.date(2026, 11, 22)


ARTICLE = """---
title: Test article
section: access
tags: [one, two]
---
Intro **text**.

## First question?

Answer one.

```
## not a question: inside a code fence
```

## First question?

Same heading again.
"""


def test_parse_splits_questions_outside_code_fences() -> None:
    article = parse_article("test-article", ARTICLE)
    assert [q.id for q in article.questions] == ["first-question", "first-question_1"]
    assert "not a question" in article.questions[0].answer_text
    assert article.intro_text == "Intro text."
    assert article.tags == ("one", "two")


def test_article_without_questions_is_whole() -> None:
    article = parse_article("whole", "---\ntitle: Whole\nsection: privacy\n---\nJust text.\n")
    assert article.questions == ()
    assert article.intro_text == "Just text."


@pytest.mark.parametrize(
    ("slug", "text", "reason"),
    [
        ("no-front-matter", "# Title\n", "front matter"),
        ("unclosed", "---\ntitle: x\n", "not closed"),
        ("bad-yaml", "---\ntitle: [unclosed\n---\n", "not valid YAML"),
        ("no-title", "---\nsection: access\n---\n", "'title'"),
        ("no-section", "---\ntitle: T\n---\n", "'section'"),
        ("bad-date", "---\ntitle: T\nsection: access\nupdated: someday\n---\n", "'updated'"),
        ("Bad_Slug", "---\ntitle: T\nsection: access\n---\n", "not a slug"),
    ],
)
def test_bad_articles_are_refused_with_a_reason(slug: str, text: str, reason: str) -> None:
    with pytest.raises(ArticleError, match=reason):
        parse_article(slug, text)


def test_bad_file_does_not_hide_the_others(articles_dir: Path) -> None:
    (articles_dir / "broken.md").write_text("no front matter", encoding="utf-8")
    (articles_dir / "elsewhere.md").write_text("---\ntitle: T\nsection: nowhere\n---\n", encoding="utf-8")
    library = load_library(articles_dir)
    assert set(library.errors) == {"broken.md", "elsewhere.md"}
    assert "errors-and-technical-support" in library.articles


def test_store_rereads_only_changed_files(articles_dir: Path) -> None:
    store = LibraryStore(articles_dir, check_interval=0)
    first = store.current()
    path = articles_dir / "errors-and-technical-support.md"
    path.write_text(path.read_text(encoding="utf-8").replace("caps lock", "CAPS LOCK key"), encoding="utf-8")
    second = store.current()
    assert second.fingerprint != first.fingerprint
    assert "CAPS LOCK key" in second.get("errors-and-technical-support").questions[3].answer_text
    # Unchanged articles are the very same objects: they were not parsed again.
    assert second.get("user-administration-and-system-access") is first.get("user-administration-and-system-access")
