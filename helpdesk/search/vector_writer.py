"""Writing a generation's embeddings: a whole base matrix, or a delta of the documents changed since the base."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from helpdesk.kb.articles import Article
from helpdesk.kb.library import ArticleLibrary
from helpdesk.search.cache import LRUCache
from helpdesk.search.model.encoder import Encoder
from helpdesk.search.vectors import DELTA, DELTA_META, VECTORS, VECTORS_META, Part, VectorSet, embedded_texts, text_hash

Progress = Callable[[int, int], None]
Row = tuple[str, str, str]  # (document key, kind, text hash)
ROWS_MEMO = 50_000  # articles whose rows a process remembers (about 1 kB each)
#: A delta above this share of the base's rows is folded into a new base: readers compare every query against
#: both, and each generation's delta repeats the changes of the ones before.
DELTA_SHARE = 0.1


def _article_rows(article: Article, model_id: str) -> tuple[Row, ...]:
    """Return (document key, kind, text hash) per embedded text of an article, remembered per process."""
    key = (model_id, article.slug, article.digest, article.phrasings, tuple(q.phrasings for q in article.questions))
    found = _rows.get(key)
    if found is None:
        found = tuple((doc, kind, text_hash(model_id, text)) for doc, kind, text in embedded_texts(article))
        _rows.put(key, found)
    return found


#: An unchanged article's rows are not recomputed (splitting and hashing every text of 1,000 articles costs more
#: than the one re-embedded answer of a re-index); the key holds everything the texts are made of.
_rows: LRUCache[tuple[object, ...], tuple[Row, ...]] = LRUCache(ROWS_MEMO)


def _vectors(rows: list[Row], articles: list[Article], per_article: list[tuple[Row, ...]], encoder: Encoder,
             previous: VectorSet | None, progress: Progress | None) -> tuple[np.ndarray, int]:
    """Return the matrix of `rows`, reusing the previous generation's vectors by text hash, and how many texts
    were embedded afresh."""
    hashes = [h for _, _, h in rows]
    stored = previous.lookup() if previous is not None and previous.model == encoder.model_id else {}
    matrix = np.empty((len(rows), encoder.dim), dtype=np.float32)
    groups: dict[int, tuple[Part, list[int], list[int]]] = {}
    for i, h in enumerate(hashes):
        found = stored.get(h)
        if found is not None:
            group = groups.setdefault(id(found[0]), (found[0], [], []))
            group[1].append(i)
            group[2].append(found[1])
    for part, into, taken in groups.values():  # one gather per mapped matrix, no loop per row
        matrix[into] = part.matrix[taken]
    missing = {h for h in hashes if h not in stored}
    if missing:
        # Only the articles with a new text are split into texts again.
        text_of = {text_hash(encoder.model_id, text): text
                   for article, found in zip(articles, per_article, strict=True)
                   if any(h in missing for _, _, h in found)
                   for _, _, text in embedded_texts(article)}
        order = sorted(missing)
        fresh = encoder.embed([text_of[h] for h in order], progress=progress)
        number = {h: i for i, h in enumerate(order)}
        todo = [i for i, h in enumerate(hashes) if h in number]
        matrix[todo] = fresh[[number[hashes[i]] for i in todo]]
    return matrix, len(missing)


def _save(directory: Path, matrix_name: str, meta_name: str, matrix: np.ndarray, meta: dict[str, object]) -> None:
    """Write a matrix and then its metadata, each atomically: a reader opens the pair only once the metadata is
    there."""
    tag = f"{os.getpid()}.{uuid.uuid4().hex[:6]}"
    tmp, meta_tmp = directory / f".{matrix_name}.{tag}.npy", directory / f".{meta_name}.{tag}"
    np.save(tmp, matrix)
    meta_tmp.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(tmp, directory / matrix_name)
    os.replace(meta_tmp, directory / meta_name)


def _delta_rows(rows: list[Row], base: VectorSet) -> tuple[list[Row], list[str]] | None:
    """Return the rows of documents that differ from the base and the base documents gone, or None when a new
    base is better."""
    signatures = base.base.signatures()
    mine: dict[str, list[str]] = {}
    for key, kind, h in rows:
        mine.setdefault(key, []).extend((kind, h))
    changed = {key for key, sig in mine.items() if signatures.get(key) != tuple(sig)}
    dropped = [key for key in signatures if key not in mine]
    if len(changed) + len(dropped) > DELTA_SHARE * max(len(signatures), 1):
        return None
    # Rows of one document stay together (the reader takes each document's best row by runs).
    return [row for row in rows if row[0] in changed], dropped


def _link(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}")
    os.link(src, tmp)
    os.replace(tmp, dst)


def write_vectors(directory: Path, library: ArticleLibrary, encoder: Encoder, previous: VectorSet | None,
                  progress: Progress | None = None, *, source: Path | None = None) -> int:
    """Embed every search text of `library` into `directory`, reusing `previous` vectors of unchanged texts;
    return how many texts were embedded afresh. With `source` (the directory `previous` was read from), a small
    change is written as a delta beside `previous`'s base, which is hard-linked rather than copied."""
    articles = list(library.articles.values())
    per_article = [_article_rows(article, encoder.model_id) for article in articles]
    rows = [row for found in per_article for row in found]
    same_model = previous is not None and previous.model == encoder.model_id
    delta = _delta_rows(rows, previous) if source is not None and same_model and previous is not None else None
    if delta is not None and source is not None:
        try:
            _link(source / VECTORS, directory / VECTORS)
        except OSError:
            delta = None  # no hard links here (another file system): a whole base instead
    if delta is None:
        for name in (DELTA_META, DELTA):  # a stale delta must never be read over a new base
            (directory / name).unlink(missing_ok=True)
        matrix, fresh = _vectors(rows, articles, per_article, encoder, previous, progress)
        _save(directory, VECTORS, VECTORS_META, matrix, {
            "model": encoder.model_id, "keys": [k for k, _, _ in rows], "kinds": [k for _, k, _ in rows],
            "hashes": [h for _, _, h in rows]})
        return fresh
    changed, dropped = delta
    matrix, fresh = _vectors(changed, articles, per_article, encoder, previous, progress)
    _save(directory, DELTA, DELTA_META, matrix, {
        "model": encoder.model_id, "dropped": dropped, "keys": [k for k, _, _ in changed],
        "kinds": [k for _, k, _ in changed], "hashes": [h for _, _, h in changed]})
    _link(source / VECTORS_META, directory / VECTORS_META)  # last: the generation's embeddings are complete
    return fresh
