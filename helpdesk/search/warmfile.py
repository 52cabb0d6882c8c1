"""The warm file of a generation: its warmed posting lists on disk, so that the next process to open the
generation loads them in milliseconds instead of reading and scoring them again for seconds.

A generation's files never change, so neither does what its warm-up computes: the first process whose warm-up
completes writes it (best effort, atomically: several web workers may race, any of them wins), the others and
every restarted worker load it. It is a cache only: when it is missing, damaged or not this generation's it is
ignored, and an incremental update never carries it over to the next generation (`index.WARM_FILE`).

Format: a magic line, the length of a JSON header, the header (generation, schema, segments, byte order, and
the name and size of every array), then the arrays back to back in native byte order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import uuid
from array import array
from dataclasses import dataclass
from typing import Any, BinaryIO

from helpdesk.search.documents import schema_version
from helpdesk.search.index import WARM_FILE
from helpdesk.search.reader import Key, OpenIndex, Segment
from helpdesk.search.scoring import Frequencies, Postings

log = logging.getLogger(__name__)

MAGIC = b"helpdesk-warm-1\n"
_TYPES = ("i", "f", "I", "B")  # document numbers, impacts, lengths, small term frequencies


@dataclass(slots=True)
class WarmData:
    """What a warm file holds: field lengths per segment, posting lists (most useful first), the ranking."""

    lengths: dict[str, dict[Segment, array[int]]]
    entries: list[tuple[Key, Postings, Frequencies | None]]
    ranking: list[tuple[str, str, int]]


def _identity(opened: OpenIndex) -> dict[str, object]:
    layout = [[segment[0], segment[1], len(deleted)] for segment, _, deleted in opened.layout()]
    return {
        "generation": opened.name,
        "schema": schema_version(),
        "documents": opened.documents,
        "layout": layout,
        "byteorder": sys.byteorder,
        "sizes": {code: array(code).itemsize for code in _TYPES},
    }


def save(opened: OpenIndex, data: WarmData) -> bool:
    """Write the warm file of `opened` unless one exists; False if it could not (a read-only or deleted
    directory: the next process only warms itself)."""
    path = opened.directory / WARM_FILE
    if opened.closed or path.exists():  # closed: replaced, its directory about to be cleaned up
        return False
    arrays: list[array[Any]] = []  # of ints and floats
    lengths = []
    for field, parts in data.lengths.items():
        for segment, values in parts.items():
            lengths.append([field, segment[0], segment[1]])
            arrays.append(values)
    lists = []
    for (field, terms), (ids, scores), tfs in data.entries:
        lists.append([field, list(terms), len(ids), tfs.typecode if tfs is not None else ""])
        arrays.extend([ids, scores] if tfs is None else [ids, scores, tfs])
    header = json.dumps({**_identity(opened), "lengths": lengths, "lists": lists, "ranking": data.ranking}).encode(
        "utf-8"
    )
    tmp = path.with_name(f".{WARM_FILE}.{os.getpid()}.{uuid.uuid4().hex[:6]}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for values in arrays:
                values.tofile(fh)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        log.info("search index %s: warm file not written (%s)", opened.name, exc)
        tmp.unlink(missing_ok=True)
        return False


def load(opened: OpenIndex) -> WarmData | None:
    """Return the warm data of `opened` from its warm file, or None if there is none or it is not usable."""
    path = opened.directory / WARM_FILE
    try:
        with open(path, "rb") as fh:
            data = _read(opened, fh)
        if data is not None:
            return data
        problem = "written for another generation, schema or machine"
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        problem = repr(exc)
    log.warning("search index %s: replacing its warm file (%s)", opened.name, problem)
    with contextlib.suppress(OSError):
        path.unlink()  # so that this warm-up writes a good one
    return None


def _read(opened: OpenIndex, fh: BinaryIO) -> WarmData | None:
    if fh.read(len(MAGIC)) != MAGIC:
        raise ValueError("not a warm file")
    header = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
    if any(header.get(k) != v for k, v in _identity(opened).items()):
        return None  # another generation's, another schema or another machine's: not this index's data

    def take(code: str, count: int) -> array[Any]:  # ints or floats, by `code`
        values = array(code)
        values.fromfile(fh, count)  # EOFError if the file is short
        return values

    lengths: dict[str, dict[Segment, array[int]]] = {}
    for field, segment_id, count in header["lengths"]:
        lengths.setdefault(str(field), {})[(str(segment_id), int(count))] = take("I", count)
    entries: list[tuple[Key, Postings, Frequencies | None]] = []
    limit = opened.documents + sum(len(d) for _, _, d in opened.layout())  # document numbers of all segments
    for field, terms, count, tf_code in header["lists"]:
        ids, scores = take("i", count), take("f", count)
        if tf_code not in ("", "B", "f"):
            raise ValueError(f"unexpected array type {tf_code!r}")
        tfs = take(tf_code, count) if tf_code else None
        if ids and (min(ids) < 0 or max(ids) >= limit):
            raise ValueError("document number out of range")
        entries.append(((str(field), tuple(str(t) for t in terms)), (ids, scores), tfs))
    if fh.read(1):
        raise ValueError("trailing bytes")
    return WarmData(lengths, entries, [(str(f), str(t), int(n)) for f, t, n in header["ranking"]])
