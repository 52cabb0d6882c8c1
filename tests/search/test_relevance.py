"""Relevance on the real articles: every dev query finds its article in the top 3, and MRR@10 >= 0.9."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk.search.engine import SearchEngine, SearchResponse

QUERIES = Path(__file__).resolve().parent / "dev_queries.tsv"
MIN_MRR = 0.9


def load_queries() -> list[tuple[str, str, str]]:
    """Return (query, article slug, start of the expected question heading) rows."""
    rows = []
    for line in QUERIES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, slug, heading = line.split("\t")
            rows.append((query, slug, heading))
    return rows


def question_rank(response: SearchResponse, slug: str, heading: str) -> int | None:
    """Return the 1-based rank of the first hit on the expected question, if in the results."""
    for rank, hit in enumerate(response.results, start=1):
        if hit.article == slug and hit.question is not None and hit.question.startswith(heading):
            return rank
    return None


@pytest.mark.parametrize(("query", "slug", "heading"), load_queries())
def test_expected_article_in_top_three(real_engine: SearchEngine, query: str, slug: str, heading: str) -> None:
    articles = [hit.article for hit in real_engine.search(query).results[:3]]
    assert slug in articles, f"{query!r}: top 3 articles are {articles}"


def test_mean_reciprocal_rank(real_engine: SearchEngine) -> None:
    rows = load_queries()
    reciprocal = []
    for query, slug, heading in rows:
        rank = question_rank(real_engine.search(query, limit=10), slug, heading)
        reciprocal.append(1.0 / rank if rank else 0.0)
        if rank != 1:
            print(f"  rank {rank}: {query!r}")
    mrr = sum(reciprocal) / len(reciprocal)
    print(f"MRR@10 over {len(rows)} queries: {mrr:.3f}")
    assert mrr >= MIN_MRR
