"""Re-index benchmark: one changed article at a time on a generated corpus, wall and CPU time of ensure_index().

Run: .venv/bin/python bench/reindex.py [--articles 10000] [--edits 5] [--random-vectors] [--profile]
The edited article's texts go through the real model; --random-vectors makes the initial full build embed the
corpus as random unit vectors (same shapes), so that 10,000 articles do not take an hour of CPU first.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus import Corpus, load_parallel  # noqa: E402  (bench/ is on sys.path when run as a script)
from search import _random_document_vectors  # noqa: E402

from helpdesk.kb.library import load_library  # noqa: E402
from helpdesk.search.engine import SearchEngine  # noqa: E402
from helpdesk.search.model.location import default_model_dir  # noqa: E402
from helpdesk.search.vectors import VectorSet  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Build once, then edit one article at a time and time each re-index."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--model", type=Path, default=default_model_dir())
    parser.add_argument("--random-vectors", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print a profile of the last re-index")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="helpdesk-reindex-") as tmp:
        articles = Path(tmp) / "articles"
        Corpus(args.seed).write(articles, args.articles)
        holder = [load_parallel(articles)]
        if args.random_vectors:
            _random_document_vectors()
        engine = SearchEngine(Path(tmp) / "index", lambda: holder[0], cache_size=0, embedding_model=args.model)
        started, cpu = time.perf_counter(), time.process_time()
        engine.rebuild()
        print(
            f"{args.articles} articles: full build {time.perf_counter() - started:.1f} s wall, "
            f"{time.process_time() - cpu:.1f} s CPU{' (random vectors)' if args.random_vectors else ''}"
        )
        engine.warm_up(timeout=None)
        engine.search("password reset")
        walls, cpus = [], []
        profile = cProfile.Profile()
        for i in range(args.edits):
            victim = sorted(articles.glob("*.md"))[len(holder[0].articles) // 2 + i]
            word = f"zyxwv{'abcdefghij'[i]}tsr"
            victim.write_text(
                victim.read_text(encoding="utf-8") + f"\nA new sentence about {word}.\n", encoding="utf-8"
            )
            holder[0] = load_library(articles, holder[0])
            if args.profile and i == args.edits - 1:
                profile.enable()
            started, cpu = time.perf_counter(), time.process_time()
            engine.ensure_index()
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            profile.disable()
            found = any(h.article == victim.stem for h in engine.search(word).results)
            name = (Path(tmp) / "index" / "CURRENT").read_text(encoding="utf-8").strip()
            delta = VectorSet(Path(tmp) / "index" / name).delta
            rows = len(delta.row_keys) if delta is not None else "no delta (a new base)"
            print(
                f"  edit {i + 1}: ensure_index {walls[-1]:.3f} s wall, {cpus[-1]:.3f} s CPU; new text "
                f"{'found' if found else 'NOT FOUND'}; delta rows: {rows}"
            )
        print(
            f"re-index after one changed article: median {statistics.median(walls):.3f} s wall, "
            f"{statistics.median(cpus):.3f} s CPU (target < 1 s)"
        )
        engine.close()
        if args.profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
