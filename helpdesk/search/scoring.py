"""Ranking: BM25F impacts per field, the best way of saying each concept, then coordination of concepts."""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable
from typing import TypeAlias

from helpdesk.search.query import QueryPlan

#: Searched fields and their weights: the article's title and tags count most, then the question, then the
#: answer. `overview` holds the title, summary and introduction of an article that also has question
#: documents, so it is weighted low and a matching question wins over its article.
FIELD_BOOSTS: dict[str, float] = {"topic": 2.5, "question": 2.5, "answer": 1.0, "overview": 0.7, "phrasings": 2.5}
#: Beside the semantic side, which embeds each question with its article's title and its answer and so already
#: says what a document is about, the lexical ranking weighs the title, the question and the answer evenly:
#: boosting the first two again counts them twice and buries the answer's words, where paraphrases and symptoms
#: are. With FLOOR_FIELD_BOOSTS, on the devset (bench/relevance.py --folds, 2-fold over both choices and the
#: blend weight): MRR@10 0.911 -> 0.920 on the whole set, 0.893 -> 0.920 held out; our dev queries unchanged.
HYBRID_FIELD_BOOSTS: dict[str, float] = {**FIELD_BOOSTS, "topic": 1.0, "question": 1.0}
#: Beside the semantic side, the relevance floor judges lexical evidence with the title weighed like the text:
#: every question of an article shares it, so matching it says nothing about whether this question answers (the
#: reason it does not count for coordination either). A matched question keeps its weight: an answer that only
#: mentions the query's words ("type *can't log in* in the box") is not a match. Even weights throughout
#: scored 0.925 but let such answers pass.
FLOOR_FIELD_BOOSTS: dict[str, float] = {**FIELD_BOOSTS, "topic": 1.0}
#: Fields whose match counts for coordination: the topic is shared by every question of an article, so it
#: says nothing about which question answers.
COORD_FIELDS = frozenset({"question", "answer", "overview", "phrasings"})
ALT_TIEBREAK = 0.2  # a second synonym in the same field adds a little evidence, not a full match
COORD_FLOOR = 0.3
RERANK_DEPTH = 30  # coordination re-orders this many of the best documents

# Strings: array is not subscriptable at run time before Python 3.12.
Postings = tuple["array[int]", "array[float]"]  # (document numbers ascending, impact of the term in each)
#: Term frequencies: one byte each ("B") when they are small whole numbers, else floats ("f").
Frequencies: TypeAlias = "array[int] | array[float]"
PostingSource = Callable[[str, tuple[str, ...]], Postings]


def coordination(matched: int, total: int) -> float:
    """Return the score factor of a document that matches `matched` of `total` concepts."""
    # Summed BM25 lets one strong word outweigh several weaker ones; a help-desk question that asks for three
    # things is better answered by the text that has all three.
    return 1.0 if total <= 1 else COORD_FLOOR + (1.0 - COORD_FLOOR) * matched / total


def _scaled(ids: array[int], impacts: array[float], weight: float) -> dict[int, float]:
    return dict(zip(ids, map(weight.__mul__, impacts), strict=True))


def _add(totals: dict[int, float], scores: dict[int, float]) -> None:
    """Add `scores` into `totals`: C-speed dict operations, a Python step only for documents in both."""
    # Per-posting Python arithmetic is the cost of a query; most postings of one list are not in the other.
    for d in scores.keys() & totals.keys():
        scores[d] += totals[d]
    totals.update(scores)


def _field_scores(
    postings: PostingSource, field: str, boost: float, alts: list[tuple[tuple[str, ...], float]]
) -> list[tuple[Postings, float]]:
    """Return the non-empty posting lists of a concept's alternatives in one field, with their weights."""
    found = []
    for terms, weight in alts:
        lists = postings(field, terms)
        if lists[0]:
            found.append((lists, boost * weight))
    return found


def _best(found: list[tuple[Postings, float]]) -> dict[int, float]:
    """Return document -> score of the best alternative, plus a little of the others."""
    best = _scaled(*found[0][0], found[0][1])
    for (ids, impacts), weight in found[1:]:
        other = _scaled(ids, impacts, weight)
        for d in other.keys() & best.keys():
            high, low = (other[d], best[d]) if other[d] > best[d] else (best[d], other[d])
            other[d] = high + ALT_TIEBREAK * low
        best.update(other)
    return best


def rank(
    plan: QueryPlan, postings: PostingSource, limit: int, floor_share: float = 0.0, *, hybrid: bool = False
) -> tuple[int, list[tuple[int, float, float]]]:
    """Return (number of documents judged at least `floor_share` of the best, [(document, score, share)] best
    first), where share is the document's part of the best as the relevance floor judges it. `hybrid`: the ranking
    will be fused with the semantic one (HYBRID_FIELD_BOOSTS rank, FLOOR_FIELD_BOOSTS judge)."""
    boosts = HYBRID_FIELD_BOOSTS if hybrid else FIELD_BOOSTS
    judge = FLOOR_FIELD_BOOSTS if hybrid else FIELD_BOOSTS
    totals: dict[int, float] = {}
    extra: dict[int, float] = {}  # what the floor's weights add to `totals` (or take from it)
    coord_sets: list[set[int]] = []
    for concept in plan.concepts:
        alts = [(alt.terms, alt.weight) for alt in concept.alternatives if alt.terms]
        if not alts:
            continue
        matched: set[int] = set()
        for field, boost in boosts.items():
            found = _field_scores(postings, field, boost, alts)
            if found:
                scores = _best(found)  # linear in the boost: another weighting is a rescaling
                if field in COORD_FIELDS:
                    matched.update(scores.keys())
                if judge[field] != boost:
                    _add(extra, _rescaled(scores, judge[field] / boost - 1.0))
                _add(totals, scores)
        coord_sets.append(matched)
    if not totals:
        return 0, []
    depth = max(limit, RERANK_DEPTH) if len(coord_sets) > 1 else limit
    # The depth-th best score first (floats only: no key function per document), then the few above it.
    floor = heapq.nlargest(depth, totals.values())[-1]
    top = sorted(((d, s) for d, s in totals.items() if s >= floor), key=lambda item: (-item[1], item[0]))[:depth]
    factor = dict.fromkeys((d for d, _ in top), 1.0)
    if len(coord_sets) > 1:
        n = len(coord_sets)
        factor = {d: coordination(sum(1 for m in coord_sets if d in m), n) for d, _ in top}
        top = [(d, s * factor[d]) for d, s in top]
        top.sort(key=lambda item: (-item[1], item[0]))
    judged = totals
    if extra:
        judged = dict(totals)
        for d, e in extra.items():
            judged[d] += e
    top = top[:limit]
    shares = [judged[d] * factor[d] for d, _ in top]
    best = max(shares) or 1.0
    ranked = [(d, s, j / best) for (d, s), j in zip(top, shares, strict=True)]
    if floor_share <= 0:
        return len(totals), ranked
    threshold = floor_share * max(judged.values())
    # One C-speed pass: sharing a common word with the query does not make a document a match.
    return sum(map(threshold.__le__, judged.values())), ranked


def _rescaled(scores: dict[int, float], factor: float) -> dict[int, float]:
    return {d: s * factor for d, s in scores.items()}


def intersect(parts: list[Postings]) -> Postings:
    """Return the documents holding every part (a multi-word alternative), with the parts' impacts summed."""
    if not parts:
        return array("i"), array("f")
    acc = dict(zip(parts[0][0], parts[0][1], strict=True))
    for ids, impacts in parts[1:]:
        acc = {d: acc[d] + x for d, x in zip(ids, impacts, strict=True) if d in acc}
    docs = sorted(acc)
    return array("i", docs), array("f", (acc[d] for d in docs))
