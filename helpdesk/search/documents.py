"""What is indexed: the schema and the search documents of an article (one per question, one for the article)."""

from __future__ import annotations

from collections.abc import Iterator

import whoosh
from whoosh.fields import ID, TEXT, Schema

from helpdesk.kb.articles import Article
from helpdesk.search.analysis import analysis_version, stem_analyzer, word_analyzer

#: Bump when the schema or the documents change shape: a different value makes every index rebuild itself.
_SCHEMA_REVISION = "3"


def schema_version() -> str:
    """Return the version an index must carry to be usable: schema, analysis and Whoosh release."""
    return f"{_SCHEMA_REVISION}-{analysis_version()}-whoosh-{whoosh.__version_string__}"


def make_schema() -> Schema:
    """Return the index schema; only the document key is stored, text comes from the library."""
    stemmed = stem_analyzer()
    return Schema(
        key=ID(stored=True, unique=True),
        article=ID(),
        title=TEXT(analyzer=stemmed),
        question=TEXT(analyzer=stemmed),
        answer=TEXT(analyzer=stemmed),
        tags=TEXT(analyzer=stemmed),
        overview=TEXT(analyzer=stemmed),
        # Unstemmed words, no positions: the vocabulary for spelling correction and typeahead.
        spell=TEXT(analyzer=word_analyzer(), phrase=False),
    )


def document_key(slug: str, question_id: str | None) -> str:
    """Return the unique key of a search document: `slug#question-id`, or the slug for the article."""
    return f"{slug}#{question_id}" if question_id else slug


def split_key(key: str) -> tuple[str, str | None]:
    """Return (slug, question id or None) of a document key."""
    slug, _, question_id = key.partition("#")
    return slug, question_id or None


def article_documents(article: Article) -> Iterator[dict[str, str]]:
    """Yield the search documents of an article, ready for `writer.add_document`."""
    tags = " ".join(article.tags)
    intro = " ".join(part for part in (article.summary, article.intro_text) if part)
    if not article.questions:  # searched as a whole, at full weight: it is the only document of its article
        text = " ".join((article.title, intro, tags))
        yield {"key": article.slug, "article": article.slug, "title": article.title, "answer": intro,
               "tags": tags, "spell": text}
        return
    yield {"key": article.slug, "article": article.slug, "overview": " ".join((article.title, intro, tags)),
           "spell": intro}
    for question in article.questions:
        yield {
            "key": document_key(article.slug, question.id),
            "article": article.slug,
            "title": article.title,
            "question": question.text,
            "answer": question.answer_text,
            "tags": tags,
            "spell": " ".join((article.title, question.text, question.answer_text, tags)),
        }


def document_count(articles: dict[str, Article]) -> int:
    """Return how many search documents the articles make."""
    return sum(len(a.questions) + 1 for a in articles.values())
