"""Fusing the lexical and the semantic ranking, and the relevance floor that decides what counts as a match."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Documents taken from each ranking before fusion: far more than a page, far fewer than an index.
CANDIDATES = 50
#: Reciprocal-rank fusion constant: the standard k = 60 of Cormack et al. (2009), not tuned on our data.
RRF_K = 60
#: "blend" (min-max normalised convex combination) or "rrf"; both measured by bench/relevance.py, where the blend
#: scored higher on the whole devset and as well or better on held-out halves (2-fold).
FUSION = "blend"
#: Share of the lexical score in the blend: the best weight on the whole devset (a grid of 0.1 steps), the same
#: weight both 2-fold halves pick within 0.1 (re-checked with titles in the embedded texts: 0.1 ties 0.2 on one
#: half, 0.2 wins the other; and with scoring.HYBRID_FIELD_BOOSTS: both halves pick 0.2); never tuned per query.
BLEND_WEIGHT = 0.2
#: The relevance floor. A document counts as a match when its meaning is close to the query's (cosine) or,
#: lexically, when it scores a fair share of the best document (as scoring.FLOOR_FIELD_BOOSTS weigh it): sharing
#: one common word is not enough. Of the candidates of the devset's queries, these keep 77% of the documents of
#: relevant articles (which include their other questions) and drop 78% of the others (bench/relevance.py
#: --floors). Lower floors (0.25) or "the top 3 in meaning always count" gained one devset query and let nonsense
#: ("passw" as a finished query) match.
SEM_FLOOR = 0.35
LEX_SHARE = 0.35
#: Typeahead and "Answers that may help" show only answers this close in meaning (above ~95% of irrelevant
#: documents on the devset), or lexically strong and not far in meaning: none is better than noise.
SEM_CONFIDENT = 0.45
LEX_CONFIDENT_SHARE = 0.6


@dataclass(slots=True)
class Candidate:
    """One document with its evidence from both sides (ranks are 1-based; None: not in that ranking)."""

    key: str
    lex_rank: int | None = None
    lex_score: float = 0.0
    sem_rank: int | None = None
    sem_score: float | None = None
    fused: float = 0.0
    relevant: bool = True
    confident: bool = True


def semantic_top(keys: list[str], sims: np.ndarray, n: int = CANDIDATES) -> list[tuple[str, float]]:
    """Return the n most similar documents, best first."""
    n = min(n, len(keys))
    if n == 0:
        return []
    top = np.argpartition(-sims, n - 1)[:n]
    top = top[np.argsort(-sims[top], kind="stable")]
    return [(keys[i], float(sims[i])) for i in top]


def fuse(
    lexical: list[tuple[str, float]],
    semantic: list[tuple[str, float]] | None,
    similarity: dict[str, float] | None = None,
    *,
    method: str | None = None,
    shares: dict[str, float] | None = None,
) -> list[Candidate]:
    """Return the candidates of both rankings, best first, each marked relevant / confident or not.

    `similarity` gives the cosine of documents outside the semantic top (so that every lexical candidate is
    judged on its meaning too); without `semantic` the ranking is the lexical one. `shares`: each lexical
    candidate's share of the best as the relevance floor judges it, when the floor's field weights are not the
    ranking's (scoring.FLOOR_FIELD_BOOSTS); by default its share of the best score of `lexical`.
    """
    found: dict[str, Candidate] = {}
    for rank, (key, score) in enumerate(lexical, start=1):
        found[key] = Candidate(key, lex_rank=rank, lex_score=score)
    for rank, (key, sim) in enumerate(semantic or (), start=1):
        cand = found.setdefault(key, Candidate(key))
        cand.sem_rank, cand.sem_score = rank, sim
    if similarity:
        for cand in found.values():
            if cand.sem_score is None and cand.key in similarity:
                cand.sem_score = similarity[cand.key]
    best_lex = max((score for _, score in lexical), default=0.0) or 1.0
    method = method or FUSION
    sims = [c.sem_score for c in found.values() if c.sem_score is not None]
    low, high = (min(sims), max(sims)) if sims else (0.0, 1.0)
    spread = (high - low) or 1.0
    for cand in found.values():
        share = cand.lex_score / best_lex
        judged = (shares or {}).get(cand.key, share)  # what the relevance floor judges
        if semantic is None:
            cand.fused = cand.lex_score
            cand.relevant, cand.confident = judged >= LEX_SHARE, judged >= LEX_CONFIDENT_SHARE
            continue
        sim = cand.sem_score if cand.sem_score is not None else 0.0
        if method == "blend":
            # Both scores min-max normalised over the candidates (lexical from its natural minimum, 0), then
            # a convex combination: the "TM2C2" of Bruch et al. (2023).
            meaning = (sim - low) / spread if cand.sem_score is not None else 0.0
            cand.fused = BLEND_WEIGHT * share + (1 - BLEND_WEIGHT) * meaning
        else:
            cand.fused = sum(1.0 / (RRF_K + r) for r in (cand.lex_rank, cand.sem_rank) if r is not None)
        cand.relevant = sim >= SEM_FLOOR or judged >= LEX_SHARE
        cand.confident = sim >= SEM_CONFIDENT or judged >= LEX_CONFIDENT_SHARE
    return sorted(found.values(), key=lambda c: (-c.fused, c.key))
