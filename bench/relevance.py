"""Relevance benchmark: the lexical ranking, the hybrid (lexical + semantic) one and the FTS5 baseline, in one run,
over the shared devset (a help center we did not write) and over our own dev queries.

Run: .venv/bin/python bench/relevance.py [--devset ../shared/eval/devset] [--dev-queries ../shared/eval/dev_queries.tsv]
     [--model FOLDER] [--folds] [--floors] [--variants] [--reading [NAME]]
Scored with the devset's own tools/metrics.py (imported from --devset), hits reduced to articles as the issue
scores them (`GET /api/v1/search?limit=10`).
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import itertools
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import helpdesk.search.engine as engine_module  # noqa: E402
import helpdesk.search.fusion as fusion  # noqa: E402
import helpdesk.search.model.encoder as encoder_module  # noqa: E402
import helpdesk.search.scoring as scoring  # noqa: E402
import helpdesk.search.vector_writer as vector_writer  # noqa: E402
import helpdesk.search.vectors as vectors_module  # noqa: E402
from helpdesk.kb.library import ArticleLibrary, load_library  # noqa: E402
from helpdesk.search.engine import SearchEngine  # noqa: E402
from helpdesk.search.model.location import TOKENIZER_FILE, default_model_dir  # noqa: E402
from helpdesk.search.vectors import embedded_texts  # noqa: E402

SHARED = ROOT.parent.parent / "shared" / "eval"
if not SHARED.exists():
    SHARED = Path("/work/shared/eval")
BLEND_GRID = [round(0.1 * i, 1) for i in range(1, 10)]


def load_tool(devset: Path, name: str) -> ModuleType:
    """Import one of the devset's tools by path (they are scripts, not a package)."""
    sys.path.insert(0, str(devset / "tools"))
    spec = importlib.util.spec_from_file_location(name, devset / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def engine_for(library: ArticleLibrary, workdir: Path, model: Path | None) -> SearchEngine:
    """Build an index of `library` in `workdir` (as HELPDESK_ARTICLES_DIR would) and return its engine."""
    engine = SearchEngine(workdir, lambda: library, cache_size=0, embedding_model=model)
    engine.ensure_index()
    return engine


def article_run(search: Callable[[str], list[str]], qrels: list[dict]) -> dict[str, list[str]]:
    """Return qid -> ranked article slugs."""
    return {q["qid"]: search(q["query"]) for q in qrels}


def engine_search(engine: SearchEngine) -> Callable[[str], list[str]]:
    return lambda text: [hit.article for hit in engine.search(text, limit=10).results]


def dev_query_scores(engine: SearchEngine, path: Path) -> tuple[float, float, int]:
    """Return (question-level MRR@10, article-level MRR@10, n) over our own dev queries."""
    rows = [
        line.split("\t")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    q_rr, a_rr = [], []
    for query, slug, heading in rows:
        hits = engine.search(query, limit=10).results
        q_rank = next(
            (i for i, h in enumerate(hits, 1) if h.article == slug and (h.question or "").startswith(heading)), None
        )
        articles = list(dict.fromkeys(h.article for h in hits))
        a_rank = articles.index(slug) + 1 if slug in articles else None
        q_rr.append(1 / q_rank if q_rank else 0.0)
        a_rr.append(1 / a_rank if a_rank else 0.0)
    return sum(q_rr) / len(rows), sum(a_rr) / len(rows), len(rows)


def style_table(metrics: ModuleType, name: str, report: dict) -> str:
    """Return one line per style: n, MRR@10, R@1, R@5, nDCG@10."""
    lines = [metrics.summary_line(name, report)]
    for style, m in report["by_style"].items():
        lines.append(
            f"    {style:<5} n={m['n']:<3} MRR@10={m['mrr@10']:.3f} R@1={m['recall@1']:.3f} "
            f"R@5={m['recall@5']:.3f} nDCG@10={m['ndcg@10']:.3f}"
        )
    return "\n".join(lines)


def two_fold(metrics: ModuleType, engine: SearchEngine, qrels: list[dict], seed: int = 7) -> None:
    """Choose the hybrid's field weights (ranking and relevance floor, each FIELD_BOOSTS or as shipped) and the
    blend weight on one half of the queries, score them on the other (both ways)."""
    saved = fusion.BLEND_WEIGHT, dict(scoring.HYBRID_FIELD_BOOSTS), dict(scoring.FLOOR_FIELD_BOOSTS)
    order = qrels[:]
    random.Random(seed).shuffle(order)
    halves = [order[::2], order[1::2]]
    fusion.FUSION = "rrf"
    rrf = [metrics.evaluate(h, article_run(engine_search(engine), h))["overall"]["mrr@10"] for h in halves]
    fusion.FUSION = "blend"
    weights = {"lexical": dict(scoring.FIELD_BOOSTS), "shipped": None}
    grid: dict[tuple[str, str, float], list[float]] = {}  # MRR@10 per half
    ndcg: dict[tuple[str, str, float], list[float]] = {}
    for ranking, floor in itertools.product(weights, weights):
        scoring.HYBRID_FIELD_BOOSTS.update(weights[ranking] or saved[1])
        scoring.FLOOR_FIELD_BOOSTS.update(weights[floor] or saved[2])
        for weight in BLEND_GRID:
            fusion.BLEND_WEIGHT = weight
            run = article_run(engine_search(engine), qrels)
            reports = [metrics.evaluate(h, run)["overall"] for h in halves]
            grid[ranking, floor, weight] = [r["mrr@10"] for r in reports]
            ndcg[ranking, floor, weight] = [r["ndcg@10"] for r in reports]
    fusion.BLEND_WEIGHT, _, _ = saved
    scoring.HYBRID_FIELD_BOOSTS.update(saved[1])
    scoring.FLOOR_FIELD_BOOSTS.update(saved[2])
    held = []
    for train, test in ((0, 1), (1, 0)):
        best = max(grid, key=lambda p: (grid[p][train], ndcg[p][train]))  # a tie in MRR: the better nDCG@10
        held.append(grid[best][test])
        print(
            f"  2-fold: (ranking weights, floor weights, blend weight) chosen on half {train} = {best} "
            f"(MRR {grid[best][train]:.3f}); on half {test}: {grid[best][test]:.3f}, where RRF k=60 scores "
            f"{rrf[test]:.3f}"
        )
    print(f"  held-out MRR@10, mean of the two halves: {sum(held) / 2:.3f}")
    for ranking, floor in itertools.product(weights, weights):
        print(
            f"  grid, ranking {ranking} / floor {floor} weights (blend weight: MRR half0 / half1): "
            + ", ".join(f"{w}: {grid[ranking, floor, w][0]:.3f}/{grid[ranking, floor, w][1]:.3f}" for w in BLEND_GRID)
        )


def floors(engine: SearchEngine, qrels: list[dict]) -> None:
    """Print the share of relevant and of other candidate documents that pass the relevance floor."""
    kept = {True: [0, 0], False: [0, 0]}
    for q in qrels:
        relevant = set(q["relevant"])
        for row in engine.explain(q["query"], limit=100):
            counts = kept[row["key"].partition("#")[0] in relevant]
            counts[0] += bool(row["relevant"])
            counts[1] += 1
    print(
        f"  relevance floor (sem {fusion.SEM_FLOOR}, lexical share {fusion.LEX_SHARE}): keeps "
        f"{kept[True][0] / max(kept[True][1], 1):.1%} of relevant candidates, "
        f"{kept[False][0] / max(kept[False][1], 1):.1%} of the others"
    )


def _question_alone(article: object) -> object:
    """Embedded texts plus one row per question of the title and question alone (its document scores the best)."""
    for key, kind, text in embedded_texts(article):  # type: ignore[arg-type]
        yield key, kind, text
        if "#" in key and kind == "document":
            question = article.question(key.partition("#")[2])  # type: ignore[attr-defined]
            yield key, kind, f"{article.title}: {question.text}"  # type: ignore[attr-defined]


def _with_context(where: str) -> Callable[[object], object]:
    """Return embedded_texts() where each question's text also carries its article's context: its section before
    the title ("section"), or the first sentence of its summary and introduction after the question ("intro")."""

    def texts(article: Any) -> Any:
        intro = " ".join(p for p in (article.summary, article.intro_text) if p)
        first = re.split(r"(?<=[.!?])\s", intro, maxsplit=1)[0]
        for key, kind, text in embedded_texts(article):
            if kind == "document" and "#" in key:
                head, _, rest = text.partition("\n")
                if where == "section":
                    text = f"{article.section}: {text}"
                elif first:
                    text = f"{head}\n{first}\n{rest}"
            yield key, kind, text

    return texts


def _tail_row(article: object) -> object:
    """Embedded texts plus, for a text longer than one window, one more row of its document: the heading (title,
    question) and the text after the first window (the document scores its best row)."""
    tokenizer = _window_tokenizer()
    for key, kind, text in embedded_texts(article):  # type: ignore[arg-type]
        yield key, kind, text
        overflow = tokenizer.encode(text).overflowing if kind == "document" else []
        if overflow:
            head = text.partition("\n")[0] + "\n" if "#" in key else f"{article.title}: "  # type: ignore[attr-defined]
            yield key, kind, head + text[overflow[0].offsets[1][0] :]


@functools.cache
def _window_tokenizer() -> Any:
    """Return the model's tokenizer, cutting at one window (its overflow is the rest of the text)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(default_model_dir() / TOKENIZER_FILE))
    tokenizer.no_padding()
    tokenizer.enable_truncation(encoder_module.MAX_TOKENS)
    return tokenizer


def _aggregated(share: float) -> Callable[..., list]:
    """Return fuse() that adds to every document of an article `share` of the article's second-best document."""
    plain = fusion.fuse

    def fuse(*args: object, **kwargs: object) -> list:
        found = plain(*args, **kwargs)  # type: ignore[arg-type]
        by_article: dict[str, list[float]] = {}
        for cand in found:
            by_article.setdefault(cand.key.partition("#")[0], []).append(cand.fused)
        for cand in found:
            scores = sorted(by_article[cand.key.partition("#")[0]], reverse=True)
            cand.fused += share * scores[1] if len(scores) > 1 else 0.0
        return sorted(found, key=lambda c: (-c.fused, c.key))

    return fuse


def _subword(weight: float) -> Callable[..., Any]:
    """Return plan_query() where a finished word the index neither knows nor corrects also matches, at `weight`,
    the indexed words it starts ("ipad" -> "ipados"; spelling's 4-letter minimum)."""
    from helpdesk.search.query import Concept, plan_query
    from helpdesk.search.spelling import MIN_CORRECTED
    from helpdesk.search.synonyms import Alternative

    def plan(text: str, synonyms: Any, vocabulary: Any = None, known_stem: Any = None, **kwargs: Any) -> Any:
        found = plan_query(text, synonyms, vocabulary, known_stem, **kwargs)
        if vocabulary is None:
            return found
        concepts = []
        for concept in found.concepts:
            (word,) = concept.alternatives[0].words if len(concept.alternatives) == 1 else ("",)
            unknown = len(word) >= MIN_CORRECTED and word not in vocabulary and word not in synonyms.vocabulary
            if unknown and not (known_stem is not None and known_stem(word)) and concept.prefix is None:
                longer = [Alternative((w,), weight) for w in vocabulary.complete(word, 6) if w != word]
                concept = Concept((*concept.alternatives, *longer))
            concepts.append(concept)
        return type(found)(tuple(concepts), found.suggestion, found.highlight)

    return plan


def _reading(document: int, window: int, pooling: str = "tokens") -> list[tuple[ModuleType, str, object]]:
    """Return the settings that make the encoder read a document as `document` tokens in windows of `window`."""
    return [
        (encoder_module, "DOCUMENT_TOKENS", document),
        (encoder_module, "WINDOW_TOKENS", window),
        (encoder_module, "POOLING", pooling),
    ]


#: (name, [(module, attribute, value)]) of each variant measured by --variants.
VARIANTS: list[tuple[str, list[tuple[ModuleType, str, object]]]] = [
    ("question alone as an extra row", [(vector_writer, "embedded_texts", _question_alone)]),
    ("article aggregation +0.1 x 2nd", [(engine_module, "fuse", _aggregated(0.1))]),
    ("article aggregation +0.2 x 2nd", [(engine_module, "fuse", _aggregated(0.2))]),
    ("section before the title", [(vector_writer, "embedded_texts", _with_context("section"))]),
    ("intro's 1st sentence after question", [(vector_writer, "embedded_texts", _with_context("intro"))]),
    ("tables as run of cells (before)", [(vectors_module, "READ_TABLES", False)]),
    ("sub-word match weight 0.5", [(engine_module, "plan_query", _subword(0.5))]),
    ("sub-word match weight 0.8", [(engine_module, "plan_query", _subword(0.8))]),
]
#: How a document is read (--reading); queries stay at 128 tokens.
READINGS: list[tuple[str, list[tuple[ModuleType, str, object]]]] = [
    ("documents cut at 128 tokens (before)", _reading(128, 128)),
    ("documents cut at 64 tokens", _reading(64, 64)),
    ("documents cut at 160 tokens", _reading(160, 160)),
    ("documents cut at 192 tokens", _reading(192, 192)),
    ("documents cut at 256 tokens", _reading(256, 256)),
    ("2 windows of 96, token-weighted (shipped)", _reading(192, 96)),
    ("2 windows of 128, token-weighted", _reading(256, 128)),
    ("2 windows of 128, window mean", _reading(256, 128, "windows")),
    ("the text after 128 tokens as a 2nd row", [(vector_writer, "embedded_texts", _tail_row)]),
]


def variants(
    metrics: ModuleType,
    qrels: list[dict],
    devset: ArticleLibrary,
    ours: ArticleLibrary,
    work: Path,
    args: argparse.Namespace,
    tried: list[tuple[str, list[tuple[ModuleType, str, object]]]],
) -> None:
    """Build the hybrid index again under each variant and print MRR@10, R@1, R@5 and syn MRR for both fusions
    (and, with --folds, the weights chosen on one half of the queries scored on the other)."""
    print("\n== variants (each a fresh index; blend and RRF) ==")
    for name, settings in tried:
        saved = [(module, attribute, getattr(module, attribute)) for module, attribute, _ in settings]
        for module, attribute, value in settings:
            setattr(module, attribute, value)
        encoder_module._loaded.clear()  # a new encoder: how it reads is set when it loads, and its memo is cleared
        vector_writer._rows.clear()
        try:
            hybrid = engine_for(devset, work / f"variant-{name}", args.model)
            cells = []
            for method in ("blend", "rrf"):
                fusion.FUSION = method
                report = metrics.evaluate(qrels, article_run(engine_search(hybrid), qrels))
                o, syn = report["overall"], report["by_style"]["syn"]
                cells.append(
                    f"{method} MRR@10={o['mrr@10']:.3f} R@1={o['recall@1']:.3f} R@5={o['recall@5']:.3f} "
                    f"syn={syn['mrr@10']:.3f}"
                )
            fusion.FUSION = "blend"
            if args.folds:
                print(f"  -- {name}:")
                two_fold(metrics, hybrid, qrels)
            mine = engine_for(ours, work / f"variant-ours-{name}", args.model)
            q_mrr, _, _ = dev_query_scores(mine, args.dev_queries)
            hybrid.close()
            mine.close()
        finally:
            for module, attribute, value in saved:
                setattr(module, attribute, value)
            fusion.FUSION = "blend"
            encoder_module._loaded.clear()
            vector_writer._rows.clear()
        print(f"  {name:34} {' | '.join(cells)} | dev queries MRR@10={q_mrr:.3f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=SHARED / "devset")
    parser.add_argument("--dev-queries", type=Path, default=SHARED / "dev_queries.tsv")
    parser.add_argument("--model", type=Path, default=default_model_dir())
    parser.add_argument("--folds", action="store_true", help="also choose the field and blend weights by 2-fold split")
    parser.add_argument("--floors", action="store_true", help="also measure what the relevance floor keeps")
    parser.add_argument("--variants", action="store_true", help="also measure the ranking variants tried")
    parser.add_argument(
        "--reading",
        nargs="?",
        const="",
        metavar="NAME",
        help="also measure ways of reading long documents; NAME: a regular expression, only the readings it finds",
    )
    args = parser.parse_args(argv)
    metrics, baseline = load_tool(args.devset, "metrics"), load_tool(args.devset, "baseline_fts5")
    qrels = metrics.load_qrels(args.devset / "queries.tsv")
    devset, ours = load_library(args.devset / "corpus"), load_library(ROOT / "articles")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        hybrid = engine_for(devset, work / "devset", args.model)
        print(
            f"embedding model: {hybrid.semantic.model_id or 'NONE (lexical only)'} from {args.model} "
            f"(devset index built in {time.perf_counter() - started:.1f} s)"
        )
        lexical = engine_for(devset, work / "devset-lexical", None)
        fts = baseline.FTS5Search(args.devset / "corpus")
        print(f"\n== devset ({len(devset.articles)} articles, {len(qrels)} queries; hits of limit=10 as articles) ==")
        print(
            style_table(
                metrics,
                "fts5_baseline",
                metrics.evaluate(qrels, article_run(lambda t: [s for s, _ in fts.search(t, 10)], qrels)),
            )
        )
        print(style_table(metrics, "lexical", metrics.evaluate(qrels, article_run(engine_search(lexical), qrels))))
        default_fusion = fusion.FUSION
        for method in ("rrf", "blend"):
            fusion.FUSION = method
            report = metrics.evaluate(qrels, article_run(engine_search(hybrid), qrels))
            label = f"hybrid_{method}" + ("_k60" if method == "rrf" else f"_w{fusion.BLEND_WEIGHT}")
            print(style_table(metrics, label, report))
        fusion.FUSION = default_fusion
        if args.folds and not (args.variants or args.reading is not None):  # else each variant has its own
            two_fold(metrics, hybrid, qrels)
        if args.floors:
            floors(hybrid, qrels)
        if args.variants or args.reading is not None:
            variants(
                metrics,
                qrels,
                devset,
                ours,
                work,
                args,
                ([("as landed", [(fusion, "FUSION", "blend")]), *VARIANTS] if args.variants else [])
                + [r for r in READINGS if args.reading is not None and re.search(args.reading, r[0])],
            )
        print(f"\n== our dev queries ({args.dev_queries}) over articles/ ==")
        for name, model in (("lexical", None), (f"hybrid_{fusion.FUSION}", args.model)):
            engine = engine_for(ours, work / f"ours-{name}", model)
            q_mrr, a_mrr, n = dev_query_scores(engine, args.dev_queries)
            print(f"{name}: n={n} question MRR@10={q_mrr:.3f} article MRR@10={a_mrr:.3f}")
            engine.close()
        hybrid.close()
        lexical.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
