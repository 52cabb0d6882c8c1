"""The semantic signal: fusion with the lexical ranking, the relevance floor, confident typeahead, no model."""

from __future__ import annotations

import logging
import re
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpdesk.kb.library import LibraryStore
from helpdesk.search.analysis import STOP_WORDS
from helpdesk.search.engine import SearchEngine
from helpdesk.search.fusion import fuse
from helpdesk.search.query import plan_query
from helpdesk.search.scoring import Postings, rank
from helpdesk.search.synonyms import SynonymTable

LOGIN_Q = "what-do-i-do-when-i-get-an-error-or-if-i-cant-log-into-icots"
TABLET = """---
title: Mobile devices
section: troubleshooting
---
Which devices work.

## Can I use the portal on a tablet?

Yes: the portal works in Safari and Chrome on tablets and phones, turned sideways for the full menu.
"""
PRINTING = """---
title: Printing
section: troubleshooting
---
Paper copies.

## How do I print a report?

Choose Print from the report's menu, then pick the printer of your office.
"""


def marked(snippet: str) -> list[str]:
    return [w.lower() for w in re.findall(r"<mark>(.*?)</mark>", snippet)]


@pytest.fixture
def small_kb(tmp_path: Path) -> LibraryStore:
    kb = tmp_path / "small-kb"
    kb.mkdir()
    (kb / "mobile-devices.md").write_text(TABLET, encoding="utf-8")
    (kb / "printing.md").write_text(PRINTING, encoding="utf-8")
    return LibraryStore(kb, check_interval=0)


@pytest.fixture
def hybrid(tmp_path: Path, kb_store: LibraryStore, model_dir: Path) -> Iterator[SearchEngine]:
    engine = SearchEngine(tmp_path / "hybrid-index", kb_store.current, embedding_model=model_dir)
    engine.ensure_index()
    yield engine
    engine.close()


def test_rrf_ranks_a_document_both_signals_agree_on_first() -> None:
    lexical = [("a", 9.0), ("b", 5.0), ("c", 1.0)]
    semantic = [("b", 0.8), ("d", 0.7), ("a", 0.2)]
    ranked = fuse(lexical, semantic, method="rrf")
    assert [c.key for c in ranked] == ["b", "a", "d", "c"]  # 1/62 + 1/61 > 1/61 + 1/63 > 1/62 > 1/63
    assert ranked[0].lex_rank == 2 and ranked[0].sem_rank == 1


def test_blend_normalises_both_scores_before_combining() -> None:
    lexical = [("a", 10.0), ("b", 9.0)]
    semantic = [("b", 0.60), ("c", 0.55), ("a", 0.20)]
    ranked = fuse(lexical, semantic, method="blend")
    # b is nearly as strong lexically and the closest in meaning: it wins; c has no lexical evidence at all.
    assert [c.key for c in ranked] == ["b", "c", "a"]
    assert ranked[0].fused == pytest.approx(0.2 * 0.9 + 0.8 * 1.0)


def test_without_semantic_the_lexical_order_stays() -> None:
    ranked = fuse([("a", 3.0), ("b", 2.0), ("c", 0.1)], None)
    assert [c.key for c in ranked] == ["a", "b", "c"]
    assert [c.relevant for c in ranked] == [True, True, False]  # c shares a word, scoring 3% of the best


def test_meaning_finds_an_answer_that_shares_no_word(tmp_path: Path, small_kb: LibraryStore, model_dir: Path) -> None:
    lexical = SearchEngine(tmp_path / "lexical", small_kb.current)
    hybrid = SearchEngine(tmp_path / "hybrid", small_kb.current, embedding_model=model_dir)
    try:
        lexical.ensure_index()
        hybrid.ensure_index()
        assert not lexical.search("ipad support").results
        found = hybrid.search("ipad support").results
        assert found and found[0].article == "mobile-devices"
        assert all(hit.article != "printing" for hit in found)  # below the relevance floor
    finally:
        lexical.close()
        hybrid.close()


EXPORTS = """---
title: Reports
section: reports
---
Running reports.

## How do I export a report?

Open the report and choose Export: a spreadsheet downloads.
"""
SHARING = """---
title: Sharing
section: reports
---
Working together.

## Can my supervisor see my work?

Yes: your supervisor can open any report you save, and export it too.
"""


def test_beside_meaning_the_answer_counts_like_the_question(tmp_path: Path, model_dir: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "exports.md").write_text(EXPORTS, encoding="utf-8")
    (kb / "sharing.md").write_text(SHARING, encoding="utf-8")
    store = LibraryStore(kb, check_interval=0)
    lexical = SearchEngine(tmp_path / "lexical", store.current)
    hybrid = SearchEngine(tmp_path / "hybrid", store.current, embedding_model=model_dir)
    try:
        lexical.ensure_index()
        hybrid.ensure_index()
        question, answer = "exports#how-do-i-export-a-report", "sharing#can-my-supervisor-see-my-work"
        alone = {row["key"]: row["lexical_score"] for row in lexical.explain("export")}
        beside = {row["key"]: row["lexical_score"] for row in hybrid.explain("export")}
        # Alone, "export" in a question outweighs it in an answer 2.5 to 1; beside meaning, the question's
        # words count once, like the answer's.
        assert alone[answer] / alone[question] < 0.5 * beside[answer] / beside[question]
    finally:
        lexical.close()
        hybrid.close()


def _postings(fields: dict[str, list[int]]) -> Callable[[str, tuple[str, ...]], Postings]:
    """Postings of one word: the documents holding it in each field, each with impact 1."""
    return lambda field, terms: (array("i", fields.get(field, [])), array("f", [1.0] * len(fields.get(field, []))))


def test_the_floor_judges_as_without_meaning_while_the_ranking_weighs_fields_evenly() -> None:
    plan = plan_query("export", SynonymTable())
    postings = _postings({"question": [1], "answer": [2], "topic": [3]})
    total, ranked = rank(plan, postings, 10, 0.5)
    assert ranked == [(1, 2.5, 1.0), (3, 2.5, 1.0), (2, 1.0, 0.4)] and total == 2
    total, ranked = rank(plan, postings, 10, 0.5, hybrid=True)
    # Evenly weighted in the ranking; judged with the question's weight, the title weighed like the text.
    assert ranked == [(1, 1.0, 1.0), (2, 1.0, 0.4), (3, 1.0, 0.4)] and total == 1


def test_i_cant_log_in_counts_only_relevant_answers(hybrid: SearchEngine) -> None:
    response = hybrid.search("I can't log in")
    documents = hybrid.status()["documents"]
    assert response.results[0].question_id == LOGIN_Q
    assert response.total == len(response.results) < documents // 2
    assert "find-an-answer" not in " ".join(h.question_id or "" for h in response.results)
    for hit in response.results:
        assert not set(marked(hit.snippet)) & STOP_WORDS, hit.snippet


def test_the_floor_applies_to_lexical_search_too(engine: SearchEngine) -> None:
    response = engine.search("I can't log in")
    assert 0 < response.total < engine.status()["documents"] // 2
    assert response.results[0].question_id == LOGIN_Q


def test_negations_and_contractions_are_kept() -> None:
    synonyms = SynonymTable()
    for text in ("i cant log in", "i can't log in", "it won't load", "the page doesn't work"):
        terms = {t for c in plan_query(text, synonyms).concepts for a in c.alternatives for t in a.terms}
        assert terms & {"can't", "cant", "won't", "wont", "doesn't", "broken"}, text
    assert "into" in STOP_WORDS


def test_typeahead_shows_only_confident_answers(hybrid: SearchEngine) -> None:
    typed = hybrid.search("i can't log in", typeahead=True)
    assert typed.results and typed.results[0].question_id == LOGIN_Q
    for hit in typed.results:  # "in" is a finished word here, not the start of "individuals" or "initially"
        assert not set(marked(hit.snippet)) & {"individuals", "initially", "into", "in"}, hit.snippet
    assert not hybrid.search("banana smoothie recipe", typeahead=True).results
    assert hybrid.search("passw", typeahead=True).results[0].question_id.startswith("how-can-i-get-assistance")


def test_missing_model_means_lexical_search_that_says_so(
    tmp_path: Path, kb_store: LibraryStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        engine = SearchEngine(tmp_path / "index", kb_store.current, embedding_model=tmp_path / "no-model-here")
    try:
        engine.ensure_index()
        assert "search stays lexical" in caplog.text
        status = engine.status()
        assert status["ok"] and status["ranking"] == "lexical" and status["model"] is None
        assert engine.search("caps lock").results
        assert engine.check() == []
    finally:
        engine.close()
