"""What is indexed: the schema and the search documents of an article (one per question, one for the article)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

import whoosh
from whoosh.fields import ID, TEXT, Schema
from whoosh.system import pack_uint

from helpdesk.kb.articles import Article
from helpdesk.search.analysis import analysis_version, content_words, stem_analyzer, stems
from helpdesk.search.tables import readable_text

#: Bump when the schema or the documents change shape: a different value makes every index rebuild itself.
_SCHEMA_REVISION = "5"
#: `phrasings`: what people searched before a question answered them (helpdesk.search.learning).
TEXT_FIELDS = ("topic", "question", "answer", "overview", "phrasings")


class FastText(TEXT):  # type: ignore[misc]  # whoosh is read untyped (Any): see [tool.mypy]
    """A TEXT field (frequencies, no positions) indexed by `analysis.stems`: the same terms as its analyzer."""

    def index(self, value: str, **kwargs: object) -> Iterator[tuple[bytes, int, float, bytes]]:
        """Yield (term, frequency, weight, encoded frequency) per distinct term."""
        # Whoosh's token-by-token generator chain costs more than the rest of indexing; one regex pass and a
        # cached stemmer give the identical terms several times faster.
        boost = self.format.field_boost
        for term, freq in Counter(stems(value)).items():
            yield term.encode("utf-8"), freq, freq * boost, pack_uint(freq)


def schema_version() -> str:
    """Return the version an index must carry to be usable: schema, analysis and Whoosh release."""
    return f"{_SCHEMA_REVISION}-{analysis_version()}-whoosh-{whoosh.__version_string__}"


def make_schema() -> Schema:
    """Return the index schema; only the document key is stored, the text comes from the library."""
    analyzer = stem_analyzer()
    return Schema(
        key=ID(stored=True, unique=True),
        article=ID(),
        **{name: FastText(analyzer=analyzer, phrase=False) for name in TEXT_FIELDS},
    )


def document_key(slug: str, question_id: str | None) -> str:
    """Return the unique key of a search document: `slug#question-id`, or the slug for the article."""
    return f"{slug}#{question_id}" if question_id else slug


def split_key(key: str) -> tuple[str, str | None]:
    """Return (slug, question id or None) of a document key."""
    slug, _, question_id = key.partition("#")
    return slug, question_id or None


def _plain(text: str) -> str:
    return text.replace("\u2019", "'")


def _text(html: str, text: str, read_tables: bool) -> str:
    return readable_text(html) if read_tables and "<table" in html else text


def article_documents(article: Article, *, read_tables: bool = False) -> Iterator[dict[str, str]]:
    """Yield the search documents of an article, ready for `writer.add_document`; `read_tables`: with its tables
    read row by row (helpdesk.search.tables), as the semantic side embeds them."""
    topic = _plain(" ".join((article.title, *article.tags)))
    intro_text = _text(article.intro_html, article.intro_text, read_tables)
    intro = _plain(" ".join(part for part in (article.summary, intro_text) if part))
    if not article.questions:  # searched as a whole, at full weight: it is the only document of its article
        yield {
            "key": article.slug,
            "article": article.slug,
            "topic": topic,
            "answer": intro,
            "phrasings": " ".join(article.phrasings),
        }
        return
    yield {
        "key": article.slug,
        "article": article.slug,
        "overview": f"{topic} {intro}",
        "phrasings": " ".join(article.phrasings),
    }
    for question in article.questions:
        yield {
            "key": document_key(article.slug, question.id),
            "article": article.slug,
            "topic": topic,
            "question": _plain(question.text),
            "answer": _plain(_text(question.answer_html, question.answer_text, read_tables)),
            "phrasings": " ".join(question.phrasings),
        }


def article_words(article: Article) -> set[str]:
    """Return the distinct words of an article, for the spelling vocabulary."""
    parts = [article.title, *article.tags, article.summary, article.intro_text]
    parts.extend(f"{q.text} {q.answer_text}" for q in article.questions)
    return content_words(_plain(" ".join(parts)))


def count_words(articles: Iterable[Article], counts: Counter[str] | None = None) -> Counter[str]:
    """Add to `counts` the number of articles each word occurs in."""
    counts = Counter() if counts is None else counts
    for article in articles:
        counts.update(article_words(article))
    return counts


def document_count(articles: dict[str, Article]) -> int:
    """Return how many search documents the articles make."""
    return sum(len(a.questions) + 1 for a in articles.values())
