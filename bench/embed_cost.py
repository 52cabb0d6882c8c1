"""Embedding cost of a cold build, per way of reading a document: CPU seconds to embed the generated corpus's texts.

Run: .venv/bin/python bench/embed_cost.py [--articles 1000] [--seed 20261122] [--sample 0.25] [--rounds 2]
    [--engines] [--models FOLDER ...]
The texts are those bench/search.py's build embeds (the same generated articles). Each round embeds a fixed random
sample of them once per reading, the readings interleaved so that a change of load hits all of them; the CPU time
(both of the build's threads) is scaled up to every text, and the wall estimate on an idle box is CPU / cores.
--engines compares ways of running the model (graph rewrites left out, batch size) on the shipped reading instead,
and prints the least cosine of each one's vectors to the first one's. --models compares model folders (the first
is the baseline of the ratios) on the shipped reading and way of running.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus import Corpus, load_parallel  # noqa: E402  (bench/ is on sys.path when run as a script)

import helpdesk.search.model.encoder as encoder_module  # noqa: E402
from helpdesk.search.model.location import default_model_dir  # noqa: E402
from helpdesk.search.vectors import embedded_texts  # noqa: E402

#: (name, DOCUMENT_TOKENS, WINDOW_TOKENS, POOLING): the readings bench/relevance.py --reading scores.
READINGS = [
    ("cut at 128 (before)", 128, 128, "tokens"),
    ("cut at 160", 160, 160, "tokens"),
    ("cut at 192", 192, 192, "tokens"),
    ("cut at 256", 256, 256, "tokens"),
    ("2 windows of 96 (shipped)", 192, 96, "tokens"),
    ("2 windows of 128", 256, 128, "tokens"),
]
SHIPPED = (encoder_module.DOCUMENT_TOKENS, encoder_module.WINDOW_TOKENS, encoder_module.POOLING)
#: (name, ONNX Runtime rewrites left out, texts per model call): the ways of running the model --engines compares.
ENGINES = [
    ("all rewrites, batch 8 (before)", (), 8),
    ("no SkipLayerNorm, batch 8", ("SkipLayerNormFusion",), 8),
    ("no SkipLayerNorm, batch 4 (shipped)", ("SkipLayerNormFusion",), 4),
]
Way = tuple[str, int, int, str, tuple[str, ...] | None, int, Path | None]  # name, reading, rewrites, batch, model


def encoder_for(
    model: Path, document: int, window: int, pooling: str, unfused: tuple[str, ...] | None = None, batch: int = 0
) -> encoder_module.Encoder:
    """Return a fresh encoder (empty memo) reading documents this way (and running the model so, if told)."""
    encoder_module.DOCUMENT_TOKENS, encoder_module.WINDOW_TOKENS, encoder_module.POOLING = document, window, pooling
    if unfused is not None:
        encoder_module.UNFUSED, encoder_module.BATCH = unfused, batch  # BATCH is read per call: set before each
    return encoder_module.Encoder(model)


def token_counts(encoder: encoder_module.Encoder, texts: list[str], windows: int) -> tuple[int, int, int]:
    """Return (model calls' rows, tokens, sum of squared lengths: what attention costs) over `texts`."""
    rows = tokens = squares = 0
    for enc in encoder._tokenizer.encode_batch(texts):
        for part in [enc, *enc.overflowing[: windows - 1]]:
            rows, tokens, squares = rows + 1, tokens + len(part.ids), squares + len(part.ids) ** 2
    return rows, tokens, squares


def main(argv: list[str] | None = None) -> int:
    """Measure and print the cost of each reading."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--sample", type=float, default=0.25, help="share of the texts embedded per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", type=Path, default=default_model_dir())
    parser.add_argument("--engines", action="store_true", help="compare ways of running the model instead")
    parser.add_argument("--models", type=Path, nargs="+", help="compare these model folders instead")
    args = parser.parse_args(argv)
    ways: list[Way] = (
        [(name, *SHIPPED, unfused, batch, None) for name, unfused, batch in ENGINES]
        if args.engines
        else [(folder.name, *SHIPPED, None, 0, folder) for folder in args.models]
        if args.models
        else [(*reading, None, 0, None) for reading in READINGS]
    )
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as tmp:
        Corpus(args.seed).write(Path(tmp), args.articles)
        library = load_parallel(Path(tmp))
    texts = [text for article in library.articles.values() for _, _, text in embedded_texts(article)]
    sample = random.Random(args.seed).sample(texts, max(1, round(len(texts) * args.sample)))
    scale = len(texts) / len(sample)
    print(f"{len(library.articles)} articles, {len(texts)} texts; {len(sample)} embedded per reading and round")
    cpu: dict[str, list[float]] = {name: [] for name, *_ in ways}
    wall: dict[str, list[float]] = {name: [] for name, *_ in ways}
    vectors: dict[str, np.ndarray] = {}
    loads = [os.getloadavg()[0]]
    for round_ in range(args.rounds):
        order = ways if round_ % 2 == 0 else ways[::-1]
        for name, document, window, pooling, unfused, batch, model in order:
            encoder = encoder_for(model or args.model, document, window, pooling, unfused, batch)
            start, cpu_start = time.perf_counter(), time.process_time()
            vectors[name] = encoder.embed(sample, remember=False)
            wall[name].append((time.perf_counter() - start) * scale)
            cpu[name].append((time.process_time() - cpu_start) * scale)
            loads.append(os.getloadavg()[0])
    cores = os.cpu_count() or 1
    print(f"load average (1 min) during the run: {min(loads):.1f} to {max(loads):.1f} on {cores} cores")
    print(
        f"{'reading':22} {'rows':>6} {'tokens':>9} {'sum len^2':>11} {'CPU s (all texts)':>18} "
        f"{f'CPU/{cores} s':>8} {'wall s':>7}"
    )
    base = None
    for name, document, window, pooling, _, _, model in ways:
        rows, tokens, squares = token_counts(
            encoder_for(model or args.model, document, window, pooling), texts, document // window
        )
        median = statistics.median(cpu[name])
        base = base or median
        print(
            f"{name:22} {rows:>6} {tokens:>9} {squares:>11} {median:>11.1f} (x{median / base:.2f}) "
            f"{median / cores:>8.1f} {statistics.median(wall[name]):>7.1f}"
            f"   rounds: {', '.join(f'{c:.0f}' for c in cpu[name])}"
            + (f"   least cosine to the first: {(vectors[name] * vectors[ways[0][0]]).sum(1).min():.7f}" * args.engines)
            + (f"   dims: {vectors[name].shape[1]}" * bool(args.models))
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
