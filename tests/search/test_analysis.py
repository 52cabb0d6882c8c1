"""Analyzer, synonyms, spelling and snippets: the pieces the engine is built from."""

from __future__ import annotations

from helpdesk.search.analysis import stem_analyzer, stems, words
from helpdesk.search.query import plan_query
from helpdesk.search.snippets import make_snippet
from helpdesk.search.spelling import Vocabulary, distance
from helpdesk.search.synonyms import SynonymTable


def analyzed(text: str) -> list[str]:
    return [t.text for t in stem_analyzer()(text)]


def test_analyzer_keeps_no_markdown_asterisks_and_stems() -> None:
    tokens = analyzed("**Bold** text, *emphasis* and passwords were RESETTING")
    assert all("*" not in t for t in tokens)
    assert tokens == ["bold", "text", "emphasi", "password", "reset"]


def test_fast_indexing_path_matches_the_analyzer() -> None:
    text = "I can\u2019t log into ICOTS: the user's e-mail (icots.org) was deactivated!"
    assert stems(text) == analyzed(text)
    assert "can't" in stems(text)


def test_stemming_joins_inflections() -> None:
    assert stems("logging logged") == stems("log log")
    assert stems("deactivated deactivating") == stems("deactivate deactivate")


def test_multi_word_synonyms_are_found_on_stems() -> None:
    table = SynonymTable()
    group, length = table.match(words("logging in today"), 0) or (None, 0)
    assert length == 2
    alternatives = {alt.words for alt in table.alternatives(group, ("logging", "in"))}
    assert {("login",), ("sign", "in"), ("logon",)} <= alternatives
    # "into" is a stop word now (it was highlighted in results): "log into" is the same alternative as "log in".
    assert ("log", "into") not in alternatives


def test_typed_phrase_outweighs_its_synonyms() -> None:
    plan = plan_query("e-mail", SynonymTable())
    weights = {alt.words: alt.weight for alt in plan.concepts[0].alternatives}
    assert weights[("e", "mail")] > weights[("mailbox",)]


def test_spelling_corrects_unknown_words_only() -> None:
    vocabulary = Vocabulary({"password": 9, "recovery": 2, "passport": 1}, ["sluggish"])
    assert vocabulary.correct("passwrd") == "password"
    assert vocabulary.correct("sluggishh") == "sluggish"
    assert vocabulary.correct("password") is None
    assert vocabulary.correct("must") is None  # a real English word, even if no article uses it
    assert vocabulary.correct("zzzzzzzz") is None


def test_distance_counts_transpositions_as_one_edit() -> None:
    assert distance("password", "psasword") == 1
    assert distance("password", "pasword") == 1
    assert distance("password", "recovery") == 3


def test_completion_prefers_frequent_words() -> None:
    vocabulary = Vocabulary({"password": 9, "passport": 1, "page": 5})
    assert vocabulary.complete("pass") == ["password", "passport"]
    assert vocabulary.complete("zz") == []


def test_suggestion_only_when_a_word_was_corrected() -> None:
    vocabulary = Vocabulary({"password": 9, "recovery": 2})
    assert plan_query("passwrd recovery", SynonymTable(), vocabulary).suggestion == "password recovery"
    assert plan_query("password recovery", SynonymTable(), vocabulary).suggestion is None


def test_snippet_escapes_everything_but_marks() -> None:
    html = make_snippet('Paste <script>alert("x")</script> & the password', {"password", "alert"})
    assert "<script" not in html
    assert "&lt;script&gt;<mark>alert</mark>(&quot;x&quot;)&lt;/script&gt; &amp; the <mark>password</mark>" in html


def test_snippet_shows_the_window_with_the_matches() -> None:
    text = " ".join(["filler"] * 80 + ["the", "password", "reset", "link"] + ["filler"] * 80)
    html = make_snippet(text, {"password", "reset"})
    assert "<mark>password</mark> <mark>reset</mark>" in html
    assert html.startswith("\u2026") and html.endswith("\u2026")
