"""Benchmark: the workers' CPU time per search request (API and page), which a shared machine's noise barely moves.

Run: .venv/bin/python bench/search_cpu.py [--requests 400] [--rounds 3] [--source DIR ...] [--path api|page|both]
     [--hot]
Starts `helpdesk serve --workers 2 --demo` on SQLite (as bench/load.py does) from each --source tree in turn
(default: this one), interleaved over --rounds (A, B, A, B, ...), each time a fresh server. It sends --requests
searches over 4 keep-alive connections: one in five is a hot query (bench/mixed.py's), the others distinct phrasings
of realistic queries (the shared devset's and our dev queries, with everyday variations), so the engine's answer
cache only helps where users really repeat themselves. It reads the workers' user + system CPU time from
/proc/<pid>/stat before and after and prints milliseconds per request, with the median over the rounds.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sys
import tempfile
import threading
import urllib.parse
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mixed  # noqa: E402
from mixed import QUERIES, free_port, server_env, start_server  # noqa: E402

SHARED = Path("/work/shared/eval")
VARIATIONS = ("{}", "how do i {}", "{} not working", "{} help", "why {}")
PATHS = {"api": "/api/v1/search?q=", "page": "/search?q="}


def base_queries() -> list[str]:
    """Return the realistic queries: the devset's, our dev queries, and the mixed load's."""
    out: list[str] = []
    for name, column in (("devset/queries.tsv", 1), ("dev_queries.tsv", 0)):
        path = SHARED / name
        if path.exists():
            for line in path.read_text().splitlines():
                if line and not line.startswith("#"):
                    out.append(line.split("\t")[column])
    return out + QUERIES


def workload(count: int, seed: int = 7, *, hot: bool = False) -> list[str]:
    """Return `count` queries: 20 % hot ones (repeated), the rest distinct; or only bench/load.py's one query."""
    if hot:
        return ["password reset"] * count
    rng = random.Random(seed)
    distinct = [v.format(q) for v in VARIATIONS for q in base_queries()]
    rng.shuffle(distinct)
    out = [rng.choice(QUERIES) if i % 5 == 0 else distinct[i % len(distinct)] for i in range(count)]
    return out


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time of `pid` in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers(master: int) -> list[int]:
    """Return the gunicorn workers of `master`: its children that run the same command (not its helpers)."""
    command = Path(f"/proc/{master}/cmdline").read_bytes()
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == master and (entry / "cmdline").read_bytes() == command:
                out.append(int(entry.name))
        except (OSError, ValueError):
            continue  # a process that ended meanwhile
    return out


def send(port: int, paths: list[str], connections: int = 4) -> int:
    """Send every path over `connections` keep-alive connections; return the number of non-200 answers."""
    bad = [0]
    lock = threading.Lock()

    def loop(share: list[str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = 0
        for path in share:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            mine += response.status != 200
        connection.close()
        with lock:
            bad[0] += mine

    threads = [threading.Thread(target=loop, args=(paths[i::connections],)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return bad[0]


def run_once(source: Path, kinds: list[str], count: int, hot: bool = False) -> dict[str, float]:
    """Start a fresh server from `source`; return CPU ms per request of each kind of search."""
    mixed.ROOT = source  # start_server runs `python -m helpdesk` in ROOT: that tree's code answers
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp, port = Path(name), free_port()
        process = start_server(tmp, server_env(tmp, port, f"sqlite:///{tmp / 'helpdesk.sqlite3'}"))
        try:
            pids = workers(process.pid)
            warm = [PATHS[k] + urllib.parse.quote_plus(q) for k in kinds for q in QUERIES + ["warm up"]]
            send(port, warm * 2)  # each worker loads its index, model and templates
            for kind in kinds:
                queries = workload(count, seed=len(kind), hot=hot)
                paths = [PATHS[kind] + urllib.parse.quote_plus(q) for q in queries]
                before = sum(cpu_seconds(pid) for pid in pids)
                bad = send(port, paths)
                used = sum(cpu_seconds(pid) for pid in pids) - before
                out[kind] = used * 1000 / count
                if bad:
                    print(f"  {bad} non-200 answers on {kind}", file=sys.stderr)
        finally:
            process.terminate()
            process.wait(60)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", action="append", type=Path, help="a source tree to run (repeat to compare)")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--path", choices=("api", "page", "both"), default="both")
    parser.add_argument("--hot", action="store_true", help="only bench/load.py's query (answered from the cache)")
    args = parser.parse_args()
    sources = [s.resolve() for s in (args.source or [mixed.ROOT])]
    kinds = ["api", "page"] if args.path == "both" else [args.path]
    results: dict[tuple[Path, str], list[float]] = {}
    for round_ in range(args.rounds):
        for source in sources:
            figures = run_once(source, kinds, args.requests, args.hot)
            for kind, ms in figures.items():
                results.setdefault((source, kind), []).append(ms)
            shown = "  ".join(f"{k} {v:6.2f} ms" for k, v in figures.items())
            print(f"round {round_ + 1} {source}: {shown}  CPU per request", flush=True)
    print()
    for (source, kind), values in results.items():
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"{str(source):40} {kind:5} median {median(values):6.2f} ms/request  ({shown})")


if __name__ == "__main__":
    main()
