"""Learning from use, on the devset: simulated clicks teach half of the queries, both halves are measured.

The queries of ../shared/eval/devset/queries.tsv are split by the parity of their number. For each query of half A,
three people search it on the results page (20 hits) and open the best-ranked document of an acceptable article,
then do not search again; queries whose answers are not on that page teach nothing (nobody can open them). The real
learning pass (helpdesk.search.learning, with its "already found first" check) runs on that log, the index takes the
learned phrasings in, and MRR@10, R@1, R@5 and nDCG@10 (the devset's tools/metrics.py, hits reduced to articles as
GET /api/v1/search?limit=10 returns them) are printed for half A (the taught queries: it should rise) and half B
(other queries, mostly on other articles: what generalises), before and after.

Run: .venv/bin/python bench/learning.py [--devset ../shared/eval/devset] [--people 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.orm import upgrade_database, utcnow  # noqa: E402
from helpdesk.search.documents import document_key  # noqa: E402
from helpdesk.search.engine import SearchEngine, normalize_query  # noqa: E402
from helpdesk.search.learning import learn_phrasings, person_of  # noqa: E402
from helpdesk.search.models import SearchClick, SearchQuery  # noqa: E402
from helpdesk.search.views import PAGE_LIMIT  # noqa: E402

DEFAULT_DEVSET = ROOT.parent.parent / "shared" / "eval" / "devset"


def load_metrics(devset: Path) -> Any:
    """Import the devset's own scoring module (tools/metrics.py)."""
    spec = importlib.util.spec_from_file_location("devset_metrics", devset / "tools" / "metrics.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(engine: SearchEngine, queries: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Return {qid: article slugs best first} as the search API's top 10 gives them."""
    return {q["qid"]: [hit.article for hit in engine.search(q["query"], limit=10).results] for q in queries}


def simulate_clicks(engine: SearchEngine, queries: list[dict[str, Any]], people: int) -> tuple[int, int]:
    """Log `people` searches of each query, each opening an acceptable answer from the results page, an hour ago.

    Return (queries whose answer was on the page, queries whose answer was not)."""
    opened = missed = 0
    at = utcnow() - dt.timedelta(hours=1)
    for q in queries:
        response = engine.search(q["query"], limit=PAGE_LIMIT)
        rank, hit = next(
            ((r, h) for r, h in enumerate(response.results, 1) if h.article in q["relevant"]), (None, None)
        )
        if hit is None:
            missed += 1
            continue
        opened += 1
        for person in range(people):
            entry = SearchQuery(
                query=normalize_query(q["query"]),
                hits=response.total,
                source="page",
                person=person_of(f"c:bench-{q['qid']}-{person}"),
                created_at=at,
            )
            db.session.add(entry)
            db.session.flush()
            db.session.add(
                SearchClick(
                    search_id=entry.id, article_slug=hit.article, question_id=hit.question_id, rank=rank, created_at=at
                )
            )
    db.session.commit()
    return opened, missed


def main() -> None:
    """Measure both halves before and after learning from half A's simulated clicks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=DEFAULT_DEVSET)
    parser.add_argument("--people", type=int, default=3, help="simulated people per query (and the threshold)")
    args = parser.parse_args()
    metrics = load_metrics(args.devset)
    qrels = metrics.load_qrels(args.devset / "queries.tsv")
    halves = {
        "A (taught)": [q for q in qrels if int(q["qid"][1:]) % 2 == 1],
        "B (not taught)": [q for q in qrels if int(q["qid"][1:]) % 2 == 0],
    }
    work = Path(tempfile.mkdtemp(prefix="bench-learning-"))
    try:
        shutil.copytree(args.devset / "corpus", work / "articles")
        url = f"sqlite:///{work / 'helpdesk.sqlite3'}"
        upgrade_database(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "ARTICLES_DIR": work / "articles",
                "INDEX_DIR": work / "index",
                "INSTANCE_DIR": work / "instance",
                "SECRET_KEY": "bench-learning-secret-key-0123456789",
                "INDEX_CHECK_SECONDS": 0,
                "LEARN_MIN_PEOPLE": args.people,
            }
        )
        with app.app_context():
            engine: SearchEngine = app.extensions["helpdesk.search"]
            engine.ensure_index()
            before = {name: metrics.evaluate(half, run(engine, half)) for name, half in halves.items()}
            opened, missed = simulate_clicks(engine, halves["A (taught)"], args.people)

            def found_first(phrase: str, key: str) -> bool:
                results = engine.search(phrase, limit=1).results
                return bool(results) and document_key(results[0].article, results[0].question_id) == key

            report = learn_phrasings(db.session, min_people=args.people, found_first=found_first)
            db.session.commit()
            engine._library.refresh()  # type: ignore[attr-defined]  # what a worker does every few seconds
            engine.ensure_index()
            after = {name: metrics.evaluate(half, run(engine, half)) for name, half in halves.items()}
            engine.close()
        print(f"devset: {args.devset} ({len(qrels)} queries; halves by qid parity)")
        print(
            f"half A: {len(halves['A (taught)'])} queries, {args.people} simulated people each; answer on the "
            f"results page for {opened}, not for {missed}; {report.summary()}"
        )
        for name in halves:
            for label, result in (("before", before[name]), ("after", after[name])):
                syn = result["by_style"]["syn"]["mrr@10"]
                print(metrics.summary_line(f"half {name} {label}", result) + f" | syn MRR@10={syn:.3f}")
        for name in halves:
            ranks = {p["qid"]: p["rank"] for p in before[name]["per_query"]}
            moved = [
                f"{p['qid']} {ranks[p['qid']]}->{p['rank']}"
                for p in after[name]["per_query"]
                if p["rank"] != ranks[p["qid"]]
            ]
            print(f"half {name}: first acceptable rank changed for {len(moved)}: {', '.join(moved) or '-'}")
        print("learned phrasings:", "; ".join(report.learned) or "-")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
