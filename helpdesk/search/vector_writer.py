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
DELTA_ROWS = 256  # a delta this small is always kept, however small the base (an article is many rows)


def _article_rows(article: Article, model_id: str) -> tuple[Row, ...]:
    """Return (document key, kind, text hash) per embedded text of an article, remembered per process."""
    key = (model_id, article.slug)
    known = _rows.get(key)
    # The library keeps the same (frozen) Article for an unchanged file: identity says "unchanged" for free.
    if known is not None and known[0] is article:
        return known[1]
    found = tuple((doc, kind, text_hash(model_id, text)) for doc, kind, text in embedded_texts(article))
    _rows.put(key, (article, found))
    return found


#: An unchanged article's rows are not recomputed (splitting and hashing every text of 1,000 articles costs more
#: than the one re-embedded answer of a re-index).
_rows: LRUCache[tuple[str, str], tuple[Article, tuple[Row, ...]]] = LRUCache(ROWS_MEMO)


def _vectors(
    rows: list[Row],
    articles: list[Article],
    per_article: list[tuple[Row, ...]],
    encoder: Encoder,
    previous: VectorSet | None,
    progress: Progress | None,
) -> tuple[np.ndarray, int]:
    """Return the matrix of `rows`, reusing the previous generation's vectors by text hash, and how many texts
    were embedded afresh."""
    hashes = [h for _, _, h in rows]
    stored = previous.lookup(hashes) if previous is not None and previous.model == encoder.model_id else {}
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
        text_of = {
            text_hash(encoder.model_id, text): text
            for article, found in zip(articles, per_article, strict=True)
            if any(h in missing for _, _, h in found)
            for _, _, text in embedded_texts(article)
        }
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


def _delta(
    articles: list[Article], per_article: list[tuple[Row, ...]], base: Part
) -> tuple[list[int], list[str]] | None:
    """Return the articles whose rows differ from the base (by position) and the base documents they replace or
    that are gone, or None when a new base is better."""
    stored = base.articles()
    changed = []
    for i, (article, rows) in enumerate(zip(articles, per_article, strict=True)):
        known = stored.get(article.slug)
        if known is rows:
            continue
        if known != rows:
            changed.append(i)
        else:  # the same rows: keep this process's tuple, so that the next re-index compares by identity only
            stored[article.slug] = rows
    gone = stored.keys() - {article.slug for article in articles}
    slugs = [articles[i].slug for i in changed] + list(gone)
    dropped = [key for slug in slugs for key, _, _ in stored.get(slug, ())]
    if sum(len(per_article[i]) for i in changed) + len(dropped) > max(DELTA_SHARE * len(base.row_keys), DELTA_ROWS):
        return None
    return changed, list(dict.fromkeys(dropped))


def _link(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}")
    os.link(src, tmp)
    os.replace(tmp, dst)


def write_vectors(
    directory: Path,
    library: ArticleLibrary,
    encoder: Encoder,
    previous: VectorSet | None,
    progress: Progress | None = None,
    *,
    source: Path | None = None,
) -> int:
    """Embed every search text of `library` into `directory`, reusing `previous` vectors of unchanged texts;
    return how many texts were embedded afresh. With `source` (the directory `previous` was read from), a small
    change is written as a delta beside `previous`'s base, which is hard-linked rather than copied."""
    articles = list(library.articles.values())
    per_article = [_article_rows(article, encoder.model_id) for article in articles]
    same_model = previous is not None and previous.model == encoder.model_id
    delta = _delta(articles, per_article, previous.base) if source is not None and same_model and previous else None
    if delta is not None and source is not None:
        try:
            _link(source / VECTORS, directory / VECTORS)
        except OSError:
            delta = None  # no hard links here (another file system): a whole base instead
    if delta is None:
        for name in (DELTA_META, DELTA):  # a stale delta must never be read over a new base
            (directory / name).unlink(missing_ok=True)
        rows = [row for found in per_article for row in found]
        matrix, fresh = _vectors(rows, articles, per_article, encoder, previous, progress)
        _save(
            directory,
            VECTORS,
            VECTORS_META,
            matrix,
            {
                "model": encoder.model_id,
                "keys": [k for k, _, _ in rows],
                "kinds": [k for _, k, _ in rows],
                "hashes": [h for _, _, h in rows],
            },
        )
        return fresh
    assert source is not None  # for mypy: a delta is only made with a source
    # Rows of one document stay together (the reader takes each document's best row by runs).
    changed = [articles[i] for i in delta[0]]
    changed_rows = [per_article[i] for i in delta[0]]
    rows = [row for found in changed_rows for row in found]
    matrix, fresh = _vectors(rows, changed, changed_rows, encoder, previous, progress)
    _save(
        directory,
        DELTA,
        DELTA_META,
        matrix,
        {
            "model": encoder.model_id,
            "dropped": delta[1],
            "keys": [k for k, _, _ in rows],
            "kinds": [k for _, k, _ in rows],
            "hashes": [h for _, _, h in rows],
        },
    )
    _link(source / VECTORS_META, directory / VECTORS_META)  # last: the generation's embeddings are complete
    return fresh
