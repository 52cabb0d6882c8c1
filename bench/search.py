"""Search benchmark: the engine on the real articles and on a generated corpus, against an SQLite FTS5 baseline.

Run: .venv/bin/python bench/search.py [--articles 10000] [--queries 300] [--seed 20261122] [--model FOLDER|none]
         [--random-vectors]
With the embedding model (the default), every figure includes the semantic signal: query embedding, the dot
product over the generation's memory-mapped matrix and the fusion. --random-vectors embeds the generated corpus's
documents as random unit vectors (same shapes, so the same query cost) to measure latency at 10,000 articles
without an hour of CPU; queries and the one-article re-index still use the model.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pickle
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from corpus import Corpus, load_parallel  # noqa: E402  (bench/ is on sys.path when run as a script)

import helpdesk.search.maintenance as maintenance  # noqa: E402
from helpdesk.kb.library import ArticleLibrary, load_library  # noqa: E402
from helpdesk.search.documents import article_documents  # noqa: E402
from helpdesk.search.engine import SearchEngine  # noqa: E402
from helpdesk.search.index import WARM_FILE  # noqa: E402
from helpdesk.search.model.encoder import Encoder  # noqa: E402
from helpdesk.search.model.location import default_model_dir  # noqa: E402
from helpdesk.search.scoring import FIELD_BOOSTS  # noqa: E402


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """Return p50, p95, p99 of samples in milliseconds."""
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return pick(0.50), pick(0.95), pick(0.99)


def cpu_pass(run: Callable[[str], object], queries: list[str]) -> tuple[float, float, float]:
    """Return p50/p95/p99 of the CPU time (this process) per query: what a query costs when the box is not
    shared, as this 2-core machine often is (the model runs on the calling thread, so it is counted)."""
    samples = []
    for q in queries:
        start = time.process_time()
        run(q)
        samples.append(time.process_time() - start)
    return percentiles(samples)


def timed_pass(run: Callable[[str], object], queries: list[str], passes: int = 3) -> tuple[float, float, float]:
    """Return the median over `passes` of each pass's p50/p95/p99."""
    results = []
    for _ in range(passes):
        samples = []
        for q in queries:
            start = time.perf_counter()
            run(q)
            samples.append(time.perf_counter() - start)
        results.append(percentiles(samples))
    return tuple(statistics.median(r[i] for r in results) for i in range(3))  # type: ignore[return-value]


MODES = {
    "off": "no warm-up (before)",
    "race": "racing warm-up, no file",
    "race+file": "racing warm-up, file",
    "warmed": "after warm-up",
}


def fresh_worker(index_dir: str, library_file: str, queries: list[str], mode: str, model: str | None) -> list[float]:
    """In a new process (a restarted web worker) open the index, time one uncached pass of the queries (see
    MODES; only "race+file" finds the warm file left by the run before) and return p50, p95, p99, warm-up
    seconds and postings, RSS growth (MB) after the warm-up and after the pass, and the worker's RSS (MB) then."""
    library = pickle.loads(Path(library_file).read_bytes())
    name = (Path(index_dir) / "CURRENT").read_text(encoding="utf-8").strip()
    if mode != "race+file":
        (Path(index_dir) / name / WARM_FILE).unlink(missing_ok=True)
    if mode == "off":
        maintenance.Warmer.start = lambda self: self  # type: ignore[method-assign]
    engine = SearchEngine(
        Path(index_dir), lambda: library, cache_size=0, embedding_model=Path(model) if model else None
    )
    rss = lambda: int(re.findall(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text())[0]) / 1024  # noqa: E731
    start, _ = rss(), mode == "warmed" and engine.warm_up(timeout=None)  # else the first query opens the index
    warmed, figures = rss() - start, timed_pass(engine.search, queries, passes=1)
    state = engine.warm_up(timeout=None if mode != "off" else 0)
    return [*figures, state["seconds"], state["postings"], warmed, rss() - start, rss()]  # type: ignore[list-item]


def fresh_workers(
    index_dir: Path, library: ArticleLibrary, queries: list[str], runs: int, model: Path | None
) -> dict[str, list]:
    """Return the median figures of `fresh_worker` over `runs` processes per mode, each process new."""
    (index_dir.parent / "library.pickle").write_bytes(pickle.dumps(library))
    args = (str(index_dir), str(index_dir.parent / "library.pickle"), queries)
    extra = str(model) if model else None
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1) as pool:
        futures = [(mode, pool.submit(fresh_worker, *args, mode, extra)) for _ in range(runs) for mode in MODES]
        return {
            mode: [statistics.median(f.result()[i] for m, f in futures if m == mode) for i in range(8)]
            for mode in MODES
        }


class ProgressBar:
    """A progress bar on stderr, redrawn at most every percent."""

    def __init__(self, label: str, unit: str = "articles") -> None:
        self.label = label
        self.unit = unit
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        pct = done * 100 // max(total, 1)
        if pct != self.shown or done == total:
            self.shown = pct
            end = "\n" if done == total else ""
            sys.stderr.write(f"\r{self.label} [{'#' * (pct // 4):<25}] {done}/{total} {self.unit}{end}")
            sys.stderr.flush()


class Fts5Baseline:
    """The same question-level documents in SQLite FTS5 (porter stemmer), ranked by BM25 with the same weights."""

    def __init__(self, library: ArticleLibrary, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE VIRTUAL TABLE fts USING fts5(key UNINDEXED, topic, question, answer, tokenize='porter unicode61')"
        )
        weights = ", ".join(str(FIELD_BOOSTS[f]) for f in ("topic", "question", "answer"))
        self.db.execute(f"INSERT INTO fts(fts, rank) VALUES('rank', 'bm25(0.0, {weights})')")
        rows = []
        for article in library.articles.values():
            for doc in article_documents(article):
                answer = doc.get("answer") or doc.get("overview", "")
                rows.append((doc["key"], doc.get("topic", ""), doc.get("question", ""), answer))
        with self.db:
            self.db.executemany("INSERT INTO fts VALUES (?, ?, ?, ?)", rows)
            self.db.execute("INSERT INTO fts(fts) VALUES('optimize')")

    def search(self, query: str) -> list[str]:
        """Return the keys of the ten best documents for any of the query's words."""
        words = re.findall(r"\w+", query.lower())
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        return [r[0] for r in self.db.execute("SELECT key FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 10", (match,))]


def _fmt(p: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.3f}" if x < 1 else f"{x:.1f}" for x in p)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "-"


def bench(
    label: str,
    library: ArticleLibrary,
    queries: list[str],
    workdir: Path,
    articles_dir: Path | None = None,
    fresh_runs: int = 3,
    model: Path | None = None,
) -> dict[str, float]:
    """Measure build, uncached and cached latency, the FTS5 baseline and (with `articles_dir`) a re-index."""
    holder = [library]
    index_dir = workdir / f"index-{label}"
    engine = SearchEngine(index_dir, lambda: holder[0], cache_size=0, embedding_model=model)
    start, cpu_start = time.perf_counter(), time.process_time()
    docs = engine.rebuild(ProgressBar(f"building {label}"), ProgressBar(f"embedding {label}", "windows"))
    build, build_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    size = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file()) / 1e6
    engine.warm_up(timeout=None)
    for q in queries:  # every word of the queries in memory: the steady state of a long-running worker
        engine.search(q)
    uncached = timed_pass(engine.search, queries)
    uncached_cpu = cpu_pass(engine.search, queries)
    fresh = fresh_workers(index_dir, library, queries, fresh_runs, model) if articles_dir is not None else {}
    found = sum(1 for q in queries if engine.search(q).results) / len(queries)
    cached_engine = SearchEngine(index_dir, lambda: holder[0], cache_size=4096, embedding_model=model)
    cached_engine.warm_up(timeout=None)  # a warm-up thread would take the GIL from microsecond-long lookups
    for q in queries:
        cached_engine.search(q)
    cached = timed_pass(cached_engine.search, queries)

    start = time.perf_counter()
    fts = Fts5Baseline(library, workdir / f"fts-{label}.sqlite")
    fts_build = time.perf_counter() - start
    for q in queries[:20]:
        fts.search(q)
    fts_latency = timed_pass(fts.search, queries)
    fts_found = sum(1 for q in queries if fts.search(q)) / len(queries)

    print(
        f"\n== {label}: {len(library.articles)} articles, {docs} documents, index {size:.1f} MB, "
        f"{len(queries)} queries; ranking {engine.status()['ranking']} ({engine.semantic.model_id or 'no model'}) =="
    )
    print(f"{'':34}{'whoosh engine':>24}{'FTS5 baseline':>24}{'whoosh/FTS5':>26}")
    print(f"{'full build (s)':34}{build:>24.2f}{fts_build:>24.2f}{_ratio(build, fts_build):>26}")
    print(
        f"{'  CPU time of the build (s)':34}{build_cpu:>24.2f}    load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores"
    )
    print(
        f"{'uncached p50/p95/p99 (ms)':34}{_fmt(uncached):>24}{_fmt(fts_latency):>24}"
        f"{' / '.join(_ratio(a, b) for a, b in zip(uncached, fts_latency, strict=True)):>26}"
    )
    print(f"{'  CPU time per query p50/p95/p99':34}{_fmt(uncached_cpu):>24}")
    for mode, f in fresh.items():
        note = f"warm-up {f[3]:.1f} s, {f[4] / 1e6:.2f}M postings" if mode != "off" else ""
        print(f"{'  fresh process, ' + MODES[mode]:34}{_fmt(f[:3]):>24}    {note}")
    print(
        f"{'cached p50/p95/p99 (ms)':34}{_fmt(cached):>24}{_fmt(fts_latency):>24}"
        f"{' / '.join(_ratio(a, b) for a, b in zip(cached, fts_latency, strict=True)):>26}"
    )
    print(f"{'queries with a hit':34}{found:>24.0%}{fts_found:>24.0%}")
    figures = {
        "build": build,
        "build_cpu": build_cpu,
        "uncached_cpu_p95": uncached_cpu[1],
        "uncached_p95": uncached[1],
        "cached_p95": cached[1],
        "fts_p95": fts_latency[1],
        **{f"{mode}_p95": f[1] for mode, f in fresh.items()},
    }
    if fresh:
        print(
            f"{'  fresh process RSS growth (MB)':34}{'':24}    off {fresh['off'][6]:.0f} after the pass; warmed "
            f"{fresh['warmed'][5]:.0f} after warm-up, {fresh['warmed'][6]:.0f} after the pass"
        )
        print(
            f"{'  memory per worker (RSS, MB)':34}{fresh['warmed'][7]:>24.0f}    (model, index and mapped "
            f"embeddings included; the mapped pages are shared by all workers)"
        )
    if articles_dir is not None:
        victim = sorted(articles_dir.glob("*.md"))[len(library.articles) // 2]
        text = victim.read_text(encoding="utf-8") + "\nA new sentence about zyxwvutsr.\n"
        victim.write_text(text, encoding="utf-8")
        start = time.perf_counter()
        holder[0] = load_library(articles_dir, library)
        reload = time.perf_counter() - start
        start = time.perf_counter()
        engine.ensure_index()
        reindex = time.perf_counter() - start
        after = timed_pass(engine.search, queries, passes=1)  # racing the new generation's warm-up
        state = engine.warm_up(timeout=None)
        ok = any(h.article == victim.stem for h in engine.search("zyxwvutsr").results)
        print(f"{'one changed article: reload (s)':34}{reload:>24.3f}")
        found_text = "(new text found)" if ok else "(NEW TEXT NOT FOUND)"
        print(f"{'one changed article: ensure_index (s)':34}{reindex:>24.3f}{found_text:>24}")
        print(
            f"{'  then first pass, uncached (ms)':34}{_fmt(after):>24}    warm-up {state['seconds']:.1f} s, "
            f"{state['reused'] / 1e6:.2f}M of {state['postings'] / 1e6:.2f}M postings reused"
        )
        figures.update(reindex=reindex, after_edit_p95=after[1])
    return figures


def _random_document_vectors() -> None:
    """Make large embedding jobs (a full build) return random unit vectors; small ones still run the model."""
    real = Encoder.embed
    rng = np.random.default_rng(20261122)

    def embed(
        self: Encoder, texts: list[str], progress: object = None, *, remember: bool = True, query: bool = False
    ) -> np.ndarray:
        if query or len(texts) <= 64:
            return real(self, texts, progress, remember=remember, query=query)
        vectors = rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    Encoder.embed = embed  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000, help="size of the generated corpus")
    parser.add_argument("--queries", type=int, default=300, help="number of generated queries")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--fresh-runs", type=int, default=3, help="fresh processes per warm-up mode")
    parser.add_argument("--model", default=str(default_model_dir()), help="embedding model folder, or none")
    parser.add_argument(
        "--random-vectors",
        action="store_true",
        help="embed the generated corpus as random unit vectors (latency only; see above)",
    )
    args = parser.parse_args(argv)
    model = None if args.model.lower() == "none" else Path(args.model)
    corpus = Corpus(args.seed)
    queries = corpus.queries(args.queries)
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as tmp:
        workdir = Path(tmp)
        real = load_library(ROOT / "articles")
        real_queries = [
            line.split("\t")[0]
            for line in (ROOT / "tests" / "search" / "dev_queries.tsv").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        ]
        bench("real articles", real, real_queries * max(1, args.queries // len(real_queries)), workdir, model=model)

        articles_dir = workdir / "articles"
        start = time.perf_counter()
        corpus.write(articles_dir, args.articles)
        written = time.perf_counter() - start
        start = time.perf_counter()
        library = load_parallel(articles_dir)
        parsed = time.perf_counter() - start
        print(
            f"\ngenerated {args.articles} articles in {written:.1f} s, parsed them in {parsed:.1f} s "
            f"({len(library.errors)} refused)"
        )
        if args.random_vectors:
            _random_document_vectors()
        f = bench(
            f"generated corpus ({args.articles})", library, queries, workdir, articles_dir, args.fresh_runs, model
        )
        hybrid = model is not None
        p95 = 25 if args.articles <= 1000 or not hybrid else 60  # issue 9: 25 ms at 1,000, 60 ms at 10,000 articles
        build_limit = 180 if hybrid else 30  # a cold embedding cache: every text goes through the model
        print(f"\ntargets ({'hybrid' if hybrid else 'lexical'}; this run has {args.articles} articles):")
        checks = [
            (f"uncached p95 < {p95} ms", f["uncached_p95"] < p95),
            *((f"fresh process, {MODES[m]}: uncached p95 < {p95} ms", f[f"{m}_p95"] < p95) for m in list(MODES)[1:]),
            (f"first pass after a one-article re-index: uncached p95 < {p95} ms", f["after_edit_p95"] < p95),
            ("cached p95 <= FTS5 p95", f["cached_p95"] <= f["fts_p95"]),
            (
                f"full build < {build_limit} s"
                + (" (random vectors: not a real build)" if args.random_vectors else ""),
                f["build"] < build_limit,
            ),
            ("one-article re-index < 1 s", f["reindex"] < 1.0),
        ]
        for name, ok in checks:
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
