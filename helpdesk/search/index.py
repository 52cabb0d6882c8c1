"""The index on disk: immutable generations `gen-<n>/`, a pointer file switched atomically, a writers' lock."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

from filelock import FileLock, Timeout
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from helpdesk.kb.library import ArticleLibrary
from helpdesk.search.documents import article_documents, count_words, document_count, make_schema, schema_version
from helpdesk.search.model.encoder import Encoder
from helpdesk.search.vector_writer import write_vectors
from helpdesk.search.vectors import DELTA, DELTA_META, VECTORS, VECTORS_META, open_vectors

log = logging.getLogger(__name__)

POINTER = "CURRENT"
META = "helpdesk-meta.json"
WORDS = "words.json"  # the spelling vocabulary: word -> number of articles using it
WARM_FILE = "helpdesk-warm.bin"  # posting lists warmed by a reader (helpdesk.search.warmfile): never copied
LOCK = ".lock"
#: Files of a generation that `update` writes afresh rather than link from the previous one.
_NOT_SHARED = (META, WORDS, WARM_FILE, VECTORS, VECTORS_META, DELTA, DELTA_META)
_GEN_RE = re.compile(r"^gen-(\d{6,})$")
#: Above this share of changed articles a full build is faster than deleting and re-adding them one by one.
INCREMENTAL_SHARE = 0.3
MP_MIN_ARTICLES = 500  # below this, starting worker processes costs more than it saves
BUILD_PROCS = 2
BUILD_LIMIT_MB = 256

Progress = Callable[[int, int], None]


class IndexUnusable(Exception):
    """The index is missing, unreadable or not the one this code writes; the reason is the message."""


@dataclass(frozen=True, slots=True)
class IndexMeta:
    """What a generation was built from, written next to the Whoosh files."""

    schema: str
    fingerprint: str
    documents: int
    digests: dict[str, str]
    built_at: float


class IndexStore:
    """Create, update, publish and clean up index generations under one directory."""

    def __init__(self, root: Path, encoder: Encoder | None = None) -> None:
        self.root = Path(root)
        self.pointer = self.root / POINTER
        self.encoder = encoder  # None: a lexical index only

    def current(self) -> str | None:
        """Return the name of the published generation, or None if there is none."""
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return name if _GEN_RE.match(name) else None

    def pointer_stamp(self) -> tuple[int, int] | None:
        """Return (inode, mtime) of the pointer: a cheap way to notice that a new generation was published."""
        try:
            st = os.stat(self.pointer)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns

    def read_meta(self, name: str) -> IndexMeta:
        """Return the metadata of a generation, or raise IndexUnusable."""
        try:
            data = json.loads((self.root / name / META).read_text(encoding="utf-8"))
            meta = IndexMeta(
                str(data["schema"]),
                str(data["fingerprint"]),
                int(data["documents"]),
                dict(data["digests"]),
                float(data["built_at"]),
            )
        except FileNotFoundError:
            raise IndexUnusable(f"index generation {name} is missing or has no metadata") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexUnusable(f"index generation {name} has unreadable metadata: {exc}") from None
        if meta.schema != schema_version():
            raise IndexUnusable(f"index generation {name} was written by another schema or analyzer version")
        return meta

    def read_words(self, name: str) -> dict[str, int]:
        """Return the spelling vocabulary of a generation ({} if it is unreadable: spelling is optional)."""
        try:
            data = json.loads((self.root / name / WORDS).read_text(encoding="utf-8"))
            return {str(w): int(n) for w, n in data.items()}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("search index %s: no spelling vocabulary (%s)", name, exc)
            return {}

    def open(self, name: str) -> whoosh_index.Index:
        """Open a generation read-only, or raise IndexUnusable."""
        try:
            # No mmap: a file damaged or truncated under a mapping kills the process with SIGBUS, whereas a
            # plain read only raises, which the engine survives by rebuilding.
            return FileStorage(str(self.root / name), supports_mmap=False, readonly=True).open_index()
        except Exception as exc:  # whoosh raises many types on damaged files; all mean the same here
            raise IndexUnusable(f"index generation {name} is unreadable or corrupt: {exc!r}") from None

    @contextmanager
    def locked(self, timeout: float) -> Iterator[bool]:
        """Hold the writers' lock (True) or give up after `timeout` seconds (False); readers never take it."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / LOCK), timeout=timeout)
        try:
            lock.acquire()
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    def build(self, library: ArticleLibrary, progress: Progress | None = None) -> str:
        """Write a complete new generation and publish it (its embeddings come after); call with the lock held."""
        tmp = self._scratch()
        whoosh_index.create_in(str(tmp), make_schema())
        ix = whoosh_index.open_dir(str(tmp))
        articles = list(library.articles.values())
        procs = BUILD_PROCS if len(articles) >= MP_MIN_ARTICLES and (os.cpu_count() or 1) > 1 else 1
        # One segment per worker process and no final merge: merging would cost as much as indexing again.
        writer = (
            ix.writer(procs=procs, limitmb=BUILD_LIMIT_MB, multisegment=True)
            if procs > 1
            else ix.writer(limitmb=BUILD_LIMIT_MB)
        )
        try:
            for done, article in enumerate(articles, start=1):
                for doc in article_documents(article):
                    writer.add_document(**doc)
                if progress is not None:
                    progress(done, len(articles))
            writer.commit(optimize=procs == 1)
            _write_atomic(tmp / WORDS, json.dumps(count_words(articles)))
        except BaseException:
            writer.cancel()
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return self._publish(tmp, library)

    def update(self, name: str, meta: IndexMeta, library: ArticleLibrary) -> str | None:
        """Publish a copy of generation `name` with only changed articles re-indexed; None if a build is better."""
        changed = [s for s, a in library.articles.items() if meta.digests.get(s) != a.digest]
        removed = [s for s in meta.digests if s not in library.articles]
        if len(changed) + len(removed) > max(10, INCREMENTAL_SHARE * len(library.articles)):
            return None
        tmp = self._scratch()
        try:
            for entry in (self.root / name).iterdir():
                if (
                    entry.is_file()
                    and entry.name not in _NOT_SHARED
                    and not entry.name.startswith(".")
                    and "LOCK" not in entry.name.upper()
                ):
                    _link_or_copy(entry, tmp / entry.name)  # whoosh never rewrites a file, so sharing is safe
            if changed or removed:
                ix = whoosh_index.open_dir(str(tmp))
                writer = ix.writer()
                try:
                    for slug in changed + removed:
                        writer.delete_by_term("article", slug)
                    for slug in changed:
                        for doc in article_documents(library.articles[slug]):
                            writer.add_document(**doc)
                    writer.commit()
                except BaseException:
                    writer.cancel()
                    raise
            # Words of removed or edited text keep their counts until the next full build: a vocabulary word
            # without documents only makes a correction find nothing, and subtracting needs the old text.
            counts = Counter(self.read_words(name))
            _write_atomic(tmp / WORDS, json.dumps(count_words((library.articles[s] for s in changed), counts)))
            embedded = 0
            if self.encoder is not None:  # before publishing: only the changed texts are embedded, as a delta
                embedded = write_vectors(
                    tmp,
                    library,
                    self.encoder,
                    open_vectors(self.root / name, self.encoder.model_id),
                    source=self.root / name,
                )
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info(
            "search index: re-indexed %d changed and %d removed articles (%d texts embedded)",
            len(changed),
            len(removed),
            embedded,
        )
        return self._publish(tmp, library)

    def _scratch(self) -> Path:
        tmp = self.root / f"build-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        tmp.mkdir(parents=True)
        return tmp

    def _publish(self, tmp: Path, library: ArticleLibrary) -> str:
        """Write the metadata, move the scratch directory into place and switch the pointer to it."""
        meta = IndexMeta(
            schema_version(),
            library.fingerprint,
            document_count(library.articles),
            {s: a.digest for s, a in library.articles.items()},
            time.time(),
        )
        # Not dataclasses.asdict: it deep-copies the digests (10,000 of them at 10,000 articles) for nothing.
        _write_atomic(tmp / META, json.dumps({f.name: getattr(meta, f.name) for f in fields(meta)}))
        while True:  # another writer may have taken a number if the lock file itself was deleted under us
            name = f"gen-{self._highest() + 1:06d}"
            try:
                os.rename(tmp, self.root / name)
                break
            except OSError:
                if not (self.root / name).exists():
                    raise
        _write_atomic(self.pointer, name + "\n")
        self.cleanup(keep=name)
        return name

    def _highest(self) -> int:
        numbers = [int(m.group(1)) for p in self.root.iterdir() if (m := _GEN_RE.match(p.name))]
        return max(numbers, default=0)

    def cleanup(self, keep: str) -> None:
        """Remove scratch directories and generations older than the one before `keep`; call with the lock held."""
        gens = sorted((p for p in self.root.iterdir() if _GEN_RE.match(p.name)), key=lambda p: p.name)
        older = [p for p in gens if p.name < keep]
        # The previous generation stays: other processes may still be answering from it for a moment.
        for path in older[:-1] + [p for p in self.root.glob("build-*.tmp")]:
            shutil.rmtree(path, ignore_errors=True)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
