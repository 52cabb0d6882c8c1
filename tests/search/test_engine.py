"""Searching the real articles: synonyms, typos, typeahead, snippets, odd input, the response shape, the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpdesk.kb.library import LibraryStore
from helpdesk.search.engine import MAX_QUERY_CHARS, SearchEngine, SearchHit, SearchResponse, normalize_query
from tests.search.conftest import SCRIPT_ARTICLE

RESET = "how-can-i-get-assistance-to-reset-my-password"
SLOW = "what-do-i-do-when-the-page-is-loading-slowly"


def top_ids(response: SearchResponse, n: int = 3) -> list[str | None]:
    return [hit.question_id for hit in response.results[:n]]


def test_multi_word_synonym_finds_the_login_question(real_engine: SearchEngine) -> None:
    response = real_engine.search("unable to sign in")
    assert "what-do-i-do-when-i-get-an-error-or-if-i-cant-log-into-icots" in top_ids(response)


@pytest.mark.parametrize(
    ("query", "question_id", "suggestion"),
    [
        ("passwrd recovery", RESET, "password recovery"),
        ("sluggishh website", SLOW, "sluggish website"),
    ],
)
def test_misspelled_words_still_find_their_answer(
    real_engine: SearchEngine, query: str, question_id: str, suggestion: str
) -> None:
    response = real_engine.search(query)
    assert question_id in top_ids(response)
    assert response.suggestion == suggestion


def test_no_suggestion_for_correctly_spelled_queries(real_engine: SearchEngine) -> None:
    assert real_engine.search("must each person sign the privacy agreement").suggestion is None


def test_typeahead_completes_the_last_word(real_engine: SearchEngine) -> None:
    typed = real_engine.search("passw", typeahead=True)
    assert RESET in top_ids(typed)
    assert "<mark>password</mark>" in typed.results[0].snippet
    assert not real_engine.search("passw").results  # a finished query does not guess


def test_question_hits_link_to_their_answer(real_engine: SearchEngine) -> None:
    hit = real_engine.search("reopen a closed case").results[0]
    assert hit.article == "errors-and-technical-support"
    assert hit.url == f"/articles/{hit.article}#{hit.question_id}"
    assert hit.question and hit.question.startswith("How do you reopen a case")
    assert "<mark>" in hit.snippet


def test_article_without_questions_is_searched_as_a_whole(real_engine: SearchEngine) -> None:
    hits = real_engine.search("privacy policy training").results
    whole = [h for h in hits if h.article == "icots-privacy-policy"]
    assert whole and whole[0].question_id is None and whole[0].url == "/articles/icots-privacy-policy"


def test_response_has_the_api_shape(real_engine: SearchEngine) -> None:
    data = real_engine.search("Password  RESET", limit=2).to_dict()
    assert list(data) == ["query", "total", "suggestion", "results"]
    assert data["query"] == "password reset"
    assert len(data["results"]) == 2 and data["total"] >= 2
    assert list(data["results"][0]) == ["article", "question_id", "title", "question", "url", "snippet", "score"]
    json.dumps(data)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "title:(",
        '"unterminated',
        "*",
        "?",
        "' OR 1=1 --",
        "a AND OR NOT",
        "x" * 5000,
        "password " * 800,
        "\U0001f600\U0001f525",
        "\x00\x1b[31m",
        "\ud800",
        "AND",
        "NOT password",
        "pass*",
        "title:password^10~2",
    ],
)
def test_odd_queries_never_raise(real_engine: SearchEngine, query: str) -> None:
    for typeahead in (False, True):
        response = real_engine.search(query, typeahead=typeahead)
        assert isinstance(response, SearchResponse)
        assert len(response.query) <= MAX_QUERY_CHARS
        json.dumps(response.to_dict())


def test_query_syntax_is_plain_text(real_engine: SearchEngine) -> None:
    assert top_ids(real_engine.search("title:(password")) == top_ids(real_engine.search("title password"))


def test_normalize_query() -> None:
    assert normalize_query("  Sign\tIN\n now ") == "sign in now"
    assert len(normalize_query("y " * 1000)) <= MAX_QUERY_CHARS


def test_snippets_are_escaped(tmp_path: Path, kb_dir: Path, kb_store: LibraryStore) -> None:
    (kb_dir / "pasting-code.md").write_text(SCRIPT_ARTICLE, encoding="utf-8")
    engine = SearchEngine(tmp_path / "index", kb_store.current)
    try:
        engine.ensure_index()
        hit = engine.search("alert friends").results[0]
        assert hit.article == "pasting-code"
        expected = "&lt;script&gt;<mark>alert</mark>(&quot;owned&quot;)&lt;/script&gt; &amp; <mark>friends</mark>"
        assert expected in hit.snippet
        assert "<script" not in hit.snippet
        without_marks = hit.snippet.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in without_marks and ">" not in without_marks
    finally:
        engine.close()


def test_repeated_queries_are_cached(real_engine: SearchEngine) -> None:
    first = real_engine.search("caps lock")
    assert real_engine.search("  CAPS   lock ") is first
    assert real_engine.search("caps lock", limit=3) is not first


def test_hit_to_dict_round_trip() -> None:
    hit = SearchHit("a", None, "T", None, "/articles/a", "x", 1.5)
    assert SearchHit(**hit.to_dict()) == hit  # type: ignore[arg-type]
