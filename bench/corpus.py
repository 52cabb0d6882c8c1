"""A deterministic corpus of FAQ-shaped Markdown articles and queries for the search benchmark."""

from __future__ import annotations

import random
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from helpdesk.kb.articles import parse_article
from helpdesk.kb.library import ArticleLibrary, load_library, scan_stamps

_WORDS = """
    login password reset account error slow page compact office transfer case supervisor privacy policy
    deactivate reassign email address browser screen timeout outage report request access user role state
    agency officer offender investigation approval signature agreement training designee county probation
    parole notification upload document attachment session cache network printer vpn token locked expired
    username permission profile dashboard search download form submit ticket escalation support helpdesk
    update maintenance downtime warning message application crash link website
"""
HELPDESK_WORDS = tuple(_WORDS.split())
INFLECT = ("", "s", "ed", "ing", "ion", "er")
SECTIONS = (
    "access",
    "privacy",
    "troubleshooting",
    "accounts",
    "transfers",
    "reports",
    "email",
    "training",
    "security",
    "cases",
    "mobile",
    "admin",
)
_FUNCTION = "the a to of and in is for on you your can if with be this that or are by when will as it not from"
FUNCTION = tuple(_FUNCTION.split()) + ("have", "do", "at", "we", "was", "all", "they", "has")
OPENERS = ("How do I", "Why is my", "What happens when the", "Can I", "Where do I find the", "Who can")


def _syllable_words(rng: random.Random, n: int) -> list[str]:
    """Return `n` distinct pronounceable filler words."""
    cons, vows = "bcdfghklmnprstvz", "aeiou"
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(cons) + rng.choice(vows) for _ in range(rng.randint(2, 4))))
    return sorted(out)


class Corpus:
    """Deterministic FAQ-shaped Markdown articles with help-desk vocabulary and Zipf-distributed filler."""

    def __init__(self, seed: int, filler: int = 30_000) -> None:
        self.seed = seed
        rng = random.Random(seed)
        self.filler = _syllable_words(rng, filler)
        rng.shuffle(self.filler)  # Zipf rank must not follow alphabetical order
        weights = [1.0 / (rank**1.07) for rank in range(1, filler + 1)]
        total = 0.0
        self.cumulative = []
        for w in weights:
            total += w
            self.cumulative.append(total)

    def _word(self, rng: random.Random, topic: Sequence[str]) -> str:
        r = rng.random()
        if r < 0.08:
            return rng.choice(topic) + rng.choice(INFLECT)
        if r < 0.12:
            return rng.choice(HELPDESK_WORDS) + rng.choice(INFLECT)
        if r < 0.40:
            return rng.choice(FUNCTION)
        return rng.choices(self.filler, cum_weights=self.cumulative)[0]

    def _sentence(self, rng: random.Random, topic: Sequence[str], n: int, *, bold: bool = True) -> str:
        words = [self._word(rng, topic) for _ in range(n)]
        if bold and rng.random() < 0.2:
            words[rng.randrange(n)] = f"**{words[rng.randrange(n)]}**"
        return " ".join(words).capitalize() + "."

    def article(self, i: int) -> str:
        """Return the Markdown text of article `i` (the same for the same seed and index)."""
        rng = random.Random(self.seed * 1_000_003 + i)
        topic = rng.sample(HELPDESK_WORDS, rng.randint(2, 4))
        title = f"{rng.choice(OPENERS)} {' '.join(topic)} {rng.choice(self.filler[:500])}"
        budget = rng.randint(300, 800)
        n_questions = rng.randint(3, 8)
        parts = [
            "---",
            f"title: {title.capitalize()}",
            f"section: {rng.choice(SECTIONS)}",
            f"tags: [{', '.join(topic)}]",
            f"summary: {self._sentence(rng, topic, 12, bold=False)}",
            "---",
            self._sentence(rng, topic, 25),
            "",
        ]
        per_question = max(30, (budget - 50) // n_questions)
        for _ in range(n_questions):
            parts.append(f"## {rng.choice(OPENERS)} {' '.join(self._word(rng, topic) for _ in range(5))}?")
            parts.append("")
            left = per_question
            while left > 0:
                n = min(left, rng.randint(8, 20))
                if rng.random() < 0.15:
                    parts.append(f"- {self._sentence(rng, topic, n)}")
                else:
                    parts.append(self._sentence(rng, topic, n))
                left -= n
            parts.append("")
        return "\n".join(parts) + "\n"

    def write(self, directory: Path, count: int) -> None:
        """Write articles 0..count-1 as `bench-<i>.md` files."""
        directory.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            (directory / f"bench-{i:06d}.md").write_text(self.article(i), encoding="utf-8")

    def queries(self, n: int) -> list[str]:
        """Return `n` queries of 1-4 help-desk words (some inflected, some filler), a fifth with a typo."""
        rng = random.Random(self.seed + 7)
        out = []
        for _ in range(n):
            k = rng.choices((1, 2, 3, 4), weights=(25, 35, 25, 15))[0]
            words = [
                rng.choice(HELPDESK_WORDS) + rng.choice(("", "", "s", "ing"))
                if rng.random() < 0.8
                else rng.choice(self.filler[20:5000])
                for _ in range(k)
            ]
            if rng.random() < 0.2:
                j = rng.randrange(k)
                w = words[j]
                if len(w) > 4:
                    p = rng.randrange(1, len(w) - 1)
                    words[j] = w[:p] + w[p + 1 :] if rng.random() < 0.5 else w[:p] + rng.choice("aeiourst") + w[p:]
            out.append(" ".join(words))
        return out


def _parse_chunk(paths: list[str]) -> dict[str, object]:
    return {Path(p).stem: parse_article(Path(p).stem, Path(p).read_text(encoding="utf-8")) for p in paths}


def load_parallel(directory: Path, procs: int = 2) -> ArticleLibrary:
    """Parse every article with `parse_article` in worker processes, then let `load_library` assemble them."""
    paths = sorted(str(p) for p in directory.glob("*.md"))
    chunks = [paths[i::procs] for i in range(procs)]
    articles: dict[str, object] = {}
    with ProcessPoolExecutor(procs) as pool:
        for part in pool.map(_parse_chunk, chunks):
            articles.update(part)
    previous = ArticleLibrary(articles, [], {}, scan_stamps(directory))  # type: ignore[arg-type]
    return load_library(directory, previous)  # reuses the parsed articles, computes the real fingerprint
