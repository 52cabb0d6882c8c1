"""A periodic pass runs once per interval across hosts: hosts racing for the same interval's claim, one wins."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select

from helpdesk.locks import JobRun, claim_run, once_per_interval
from helpdesk.loops import run_every
from helpdesk.orm import make_engine

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI
START = dt.datetime(2026, 3, 11, 17, 0, tzinfo=dt.UTC)
INTERVAL = dt.timedelta(seconds=60)
HOSTS = 4


@pytest.fixture
def engines(database_url: str) -> Iterator[list[Engine]]:
    """One engine per host, as separate app instances would have (own pools, own connections)."""
    made = [make_engine(database_url) for _ in range(HOSTS)]
    yield made
    for engine in made:
        engine.dispose()


def _race(engines: list[Engine], attempt: Callable[[int, Engine], object]) -> list[object]:
    """Run `attempt(host number, engine)` on every host at the same moment (threads); return the results."""
    barrier, results = threading.Barrier(len(engines)), [None] * len(engines)
    errors: list[BaseException] = []

    def host(number: int, engine: Engine) -> None:
        try:
            barrier.wait(30)
            results[number] = attempt(number, engine)
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=host, args=(n, e)) for n, e in enumerate(engines)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return list(results)


def test_racing_hosts_claim_each_interval_exactly_once(engines: list[Engine]) -> None:
    def claim_at(now: dt.datetime) -> Callable[[int, Engine], bool]:
        def claim(host: int, engine: Engine) -> bool:
            with engine.connect() as connection:
                return claim_run(connection, "sweep", interval=INTERVAL, now=now, host=f"host{host}")

        return claim

    for number in range(6):
        now = START + number * INTERVAL
        assert sum(_race(engines, claim_at(now))) == 1, number  # the first round inserts the row, the others update
        # Later in the same interval nobody may run the pass again, the winner included.
        assert not any(_race(engines, claim_at(now + INTERVAL - dt.timedelta(seconds=1))))
    with engines[0].connect() as connection:
        row = connection.execute(select(JobRun.__table__)).one()
    assert (row.name, row.started_at, row.finished_at) == ("sweep", START + 5 * INTERVAL, None)
    assert row.host in {f"host{n}" for n in range(HOSTS)}


def test_once_per_interval_runs_the_pass_on_one_host_and_records_its_end(engines: list[Engine]) -> None:
    ran: list[int] = []
    for number in range(4):
        now = START + number * INTERVAL

        def attempt(host: int, engine: Engine, now: dt.datetime = now) -> str | None:
            return once_per_interval(
                engine,
                "sweep",
                INTERVAL.total_seconds(),
                lambda: ran.append(host) or "done",
                host=f"host{host}",
                clock=lambda: now,
            )

        results = _race(engines, attempt)
        assert results.count("done") == 1 and results.count(None) == HOSTS - 1
    assert len(ran) == 4
    with engines[0].connect() as connection:
        row = connection.execute(select(JobRun.__table__)).one()
    assert (row.host, row.started_at, row.finished_at) == (f"host{ran[-1]}", START + 3 * INTERVAL, START + 3 * INTERVAL)


def test_a_failed_pass_gives_its_claim_back_so_the_retry_need_not_wait_an_interval(engines: list[Engine]) -> None:
    def fail() -> str | None:
        raise OSError("database restarting")

    with pytest.raises(OSError):
        once_per_interval(engines[0], "sweep", 60, fail, host="a", clock=lambda: START)
    # Another host (or the same one's retry) a second later runs it; the next try within the interval does not.
    soon = START + dt.timedelta(seconds=1)
    assert once_per_interval(engines[1], "sweep", 60, lambda: "done", host="b", clock=lambda: soon) == "done"
    assert once_per_interval(engines[0], "sweep", 60, lambda: "again", host="a", clock=lambda: soon) is None
    # Other jobs have claims of their own.
    assert once_per_interval(engines[0], "other", 60, lambda: "other", host="a", clock=lambda: soon) == "other"


def test_two_looping_hosts_run_the_pass_at_most_once_per_interval(engines: list[Engine]) -> None:
    """Real clocks and loops: each host tries every 20 ms, the job's interval is 0.3 s."""
    interval, passes, stop = 0.3, [], threading.Event()

    def host(engine: Engine, name: str) -> None:
        def one_pass() -> str | None:
            return once_per_interval(engine, "sweep", interval, lambda: passes.append(name) or None, host=name)

        run_every(0.02, one_pass, on_error=lambda: None, stop=stop)

    started = time.monotonic()
    threads = [
        threading.Thread(target=host, args=(engine, f"host{n}"), daemon=True) for n, engine in enumerate(engines[:2])
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.5)  # the window measured: both hosts loop through it
    stop.set()
    for thread in threads:
        thread.join(30)
    elapsed = time.monotonic() - started
    assert 1 <= len(passes) <= int(elapsed / interval) + 1, (len(passes), elapsed)
