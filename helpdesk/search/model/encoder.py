"""Run a sentence-embedding model (ONNX + a Hugging Face tokenizer.json) on the CPU: mean-pooled, unit vectors."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from helpdesk.search.model.location import MODEL_FILE, TOKENIZER_FILE

if TYPE_CHECKING:
    from tokenizers import Encoding

log = logging.getLogger(__name__)

#: Windows per model call, sorted by length so that padding stays small. On bench/search.py's 1,000 generated
#: articles (13,002 windows, 78% of them full) a cold build's CPU was x1.00 / x1.11 / x1.06 / x1.16 at batches of
#: 4 / 8 / 2 / 1 (bench/embed_cost.py --engines, 2 busy cores): a smaller batch keeps more of its activations in
#: the core's caches, and below 4 the work per call shows.
BATCH = 4
MEMO = 8192  # recent texts remembered per process: a re-index, a second engine or a repeated query costs nothing
PARALLEL_FROM = 64  # texts above which batches run on one thread per core (ONNX Runtime releases the GIL)
MAX_TOKENS = 128  # what MiniLM-L6 was trained with (its tokenizer.json says so too): a query is cut there
#: A document is read in windows of WINDOW_TOKENS, up to DOCUMENT_TOKENS in all (the rest is not read), and its
#: vector pools the windows' mean-pooled vectors: "tokens" weighs each window by its tokens, "windows" equally.
#: Two windows of 96 read 192 tokens for the attention cost of one window of 128 (bench/relevance.py --reading
#: --folds: devset MRR@10 0.928, held-out 0.919, syn 0.858, dev queries 0.960, where one window of 128 scored
#: 0.920 / 0.911 / 0.845 / 0.943), and cost 1.22x its CPU on bench/search.py's 1,000 articles (bench/embed_cost.py:
#: 317 s CPU, 159 s on 2 idle cores; the whole cold build 334 s CPU, 167 s); cutting at 256 or two windows of 128
#: scored less and cost 1.5-1.7x.
DOCUMENT_TOKENS = 192
WINDOW_TOKENS = 96
POOLING = "tokens"
#: How every document was read before the reading was part of model_id: vectors made so keep their id (and cache).
FIRST_READING = (128, 128, "tokens")
#: ONNX Runtime graph rewrites left out. Its SkipLayerNormalization kernel (a residual Add and the LayerNormalization
#: after it, fused) took 14% of a 4 x 96-token run on one thread where the two ops it stands for take 2%: without
#: the fusion a cold build embeds in 9-10% less CPU (bench/embed_cost.py --engines), vectors equal within 1e-6.
UNFUSED = ("SkipLayerNormFusion",)


class ModelUnavailable(Exception):
    """The model folder is missing, incomplete or unreadable; the reason is the message."""


def session_options(ort: object, threads: int | None = None) -> object:
    """Return ONNX Runtime options for a web worker: one thread, no spinning, the graph fully optimised."""
    options = ort.SessionOptions()  # type: ignore[attr-defined]
    # One thread per call: a query is small, two workers share the cores, and a build runs one call per core
    # side by side instead. Idle threads must not spin either: they would take CPU from the other worker.
    options.intra_op_num_threads = threads or 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL  # type: ignore[attr-defined]
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL  # type: ignore[attr-defined]
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


def new_session(ort: Any, model: Path, options: object) -> Any:
    """Return an ONNX Runtime session of `model` on the CPU, its graph rewritten but for the UNFUSED rewrites."""
    return ort.InferenceSession(
        str(model), options, providers=["CPUExecutionProvider"], disabled_optimizers=list(UNFUSED)
    )


class Encoder:
    """One loaded model; `embed` is safe to call from several threads (ONNX Runtime sessions are)."""

    def __init__(self, folder: Path, *, threads: int | None = None) -> None:
        import onnxruntime as ort  # imported here: a site without the model never pays for it
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        model, tokenizer = self.folder / MODEL_FILE, self.folder / TOKENIZER_FILE
        try:
            digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
            tok_digest = hashlib.sha256(tokenizer.read_bytes()).hexdigest()[:8]
            self._tokenizer = Tokenizer.from_file(str(tokenizer))
            self._session = new_session(ort, model, session_options(ort, threads))
        except Exception as exc:  # missing file, damaged model, unknown tokenizer format: all mean "no model"
            raise ModelUnavailable(f"embedding model in {self.folder} is unusable: {exc}") from None
        self.reading = (DOCUMENT_TOKENS, WINDOW_TOKENS, POOLING)
        if DOCUMENT_TOKENS % WINDOW_TOKENS or POOLING not in ("tokens", "windows"):
            raise ValueError(f"unknown way of reading documents: {self.reading}")
        #: Names the model and how it reads a document, in caches and in the index: vectors of another model, or
        #: of the same model reading documents otherwise, are never mixed in.
        named = "" if self.reading == FIRST_READING else ":" + "-".join(map(str, self.reading))
        self.model_id = f"{self.folder.name}:{digest}:{tok_digest}{named}"
        self._tokenizer.no_padding()  # tokenizer.json pads to 128; padding is done per batch instead
        self._queries = Tokenizer.from_str(self._tokenizer.to_str())
        self._tokenizer.enable_truncation(WINDOW_TOKENS)  # the windows after the first are its `overflowing`
        self._queries.enable_truncation(MAX_TOKENS)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dim = int(self._session.get_outputs()[0].shape[-1])
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memo_lock = threading.Lock()

    def embed(
        self, texts: list[str], progress: object = None, *, remember: bool = True, query: bool = False
    ) -> np.ndarray:
        """Return one unit-length float32 row per text (mean pooling over the tokens, as MiniLM expects);
        `remember` keeps them for the next build (queries are cached with their results instead); a `query` is
        read as one window of MAX_TOKENS, a document as DOCUMENT_TOKENS says."""
        if query:
            return self._embed(texts, progress, query=True)
        if not remember:
            return self._embed(texts, progress)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._memo_lock:
            known = {i: self._memo[t] for i, t in enumerate(texts) if t in self._memo}
        for i, vector in known.items():
            out[i] = vector
        todo = [i for i in range(len(texts)) if i not in known]
        if todo:
            fresh = self._embed([texts[i] for i in todo], progress)
            out[todo] = fresh
            with self._memo_lock:
                for i, vector in zip(todo, fresh, strict=True):
                    self._memo[texts[i]] = vector
                while len(self._memo) > MEMO:
                    self._memo.popitem(last=False)
        return out

    def _embed(self, texts: list[str], progress: object, *, query: bool = False) -> np.ndarray:
        if query:
            encodings = self._queries.encode_batch(texts)
            owner = list(range(len(texts)))
        else:
            windows = self.reading[0] // self.reading[1]
            encodings, owner = [], []
            for i, enc in enumerate(self._tokenizer.encode_batch(texts)):
                parts = [enc, *enc.overflowing[: windows - 1]]
                encodings += parts
                owner += [i] * len(parts)
        pooled = self._pooled(encodings, progress)
        weights = np.array([len(e.ids) for e in encodings], dtype=np.float32)
        if self.reading[2] == "windows":
            weights = 1 / np.maximum(np.linalg.norm(pooled, axis=1), 1e-12)
        summed = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(summed, owner, pooled * weights[:, None])
        norms: np.ndarray = np.linalg.norm(summed, axis=1, keepdims=True)
        unit: np.ndarray = (summed / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def _pooled(self, encodings: list[Encoding], progress: object) -> np.ndarray:
        """Return the mean-pooled (not yet unit) vector of each encoding, run in batches of similar length."""
        out = np.zeros((len(encodings), self.dim), dtype=np.float32)
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        batches = [order[start : start + BATCH] for start in range(0, len(order), BATCH)]
        workers = min(os.cpu_count() or 1, 4) if len(encodings) >= PARALLEL_FROM else 1
        done = 0
        run = lambda b: self._run([encodings[i] for i in b])  # noqa: E731
        # A query or a one-article re-index runs on the calling thread: starting a pool costs more than it saves.
        with ThreadPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
            for rows, vectors in zip(batches, pool.map(run, batches) if pool else map(run, batches), strict=True):
                out[rows] = vectors
                done += len(rows)
                if callable(progress):
                    progress(done, len(encodings))
        return out

    def _run(self, encodings: list[Encoding]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden: np.ndarray = self._session.run(None, feed)[0]  # onnxruntime is untyped
        summed: np.ndarray = (hidden * mask[:, :, None]).sum(axis=1)
        pooled: np.ndarray = (summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)).astype(np.float32)
        return pooled


_loaded: dict[tuple[int, str], Encoder | None] = {}
_load_lock = threading.Lock()
_blas_limits: object = None


def limit_blas_threads() -> None:
    """Make numpy's BLAS run on the calling thread, for the whole process (once the model is in use)."""
    global _blas_limits
    # The query's one matrix-vector product is 10x cheaper in CPU on one thread than on OpenBLAS's pool, whose
    # threads spin between calls and take the cores from the other web worker (bench/search.py under load).
    from threadpoolctl import threadpool_limits

    _blas_limits = threadpool_limits(limits=1, user_api="blas")  # kept: the limit lasts while it lives


def load_encoder(folder: Path | None) -> Encoder | None:
    """Return the model of `folder` (loaded once per process), or None, logged once, when it is unusable."""
    if folder is None:
        return None
    # Per process: a session created before gunicorn forks its workers is not used across the fork.
    key = (os.getpid(), str(Path(folder).resolve()))
    with _load_lock:
        if key not in _loaded:
            try:
                encoder = _loaded[key] = Encoder(Path(folder))
                limit_blas_threads()
                log.info("search: semantic ranking with the embedding model %s", encoder.model_id)
            except ModelUnavailable as exc:
                log.warning("search: %s; search stays lexical (run scripts/_setup.sh to install the model)", exc)
                _loaded[key] = None
        return _loaded[key]
