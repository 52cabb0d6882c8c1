"""Test databases on PostgreSQL: migrate once into a template, copy it for each test.

Replaying every migration per test was most of CI's time and made parallel runs unsafe (one database for all).
Names derive from the base database of HELPDESK_TEST_DATABASE_URL (e.g. `test`):

* the template `test_tpl_<hash>`, where the hash covers the migrations, so a changed migration builds a new one and
  two checkouts with different migrations on one server never share (nor drop) each other's template;
* a new copy per test, `test_gw0_c1`, `test_gw0_c2`... (xdist worker gw0; else `test_main_c1`...). Used copies are
  dropped 16 at a time, not one per test: PostgreSQL forces a checkpoint on every DROP DATABASE (seconds on a busy
  server), and the later ones of a batch find little to write.

Advisory locks (held on a session-long connection) make both safe when runs share a server: a template is built by
one process while the others wait, a stale template is dropped only if no run holds it, and a worker database is
claimed by one run at a time (a second run of the same checkout takes `test_gw0_1_c1`...).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from helpdesk.config import normalize_database_url
from helpdesk.orm import upgrade_database
from tests.database_seed import Seed

MIGRATIONS = Path(__file__).resolve().parent.parent / "helpdesk" / "migrations"
_LOCK = "SELECT pg_advisory_lock(hashtextextended(%s, 0))"
_LOCK_SHARED = "SELECT pg_advisory_lock_shared(hashtextextended(%s, 0))"
_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%s, 0))"
#: How many used copies are kept before they are dropped together (9 MB each).
DROP_BATCH = 16


def migrations_hash() -> str:
    """Return a short hash of the migration scripts (and their environment), which the template's name carries."""
    digest = hashlib.sha256()
    for path in sorted([MIGRATIONS / "env.py", *(MIGRATIONS / "versions").glob("*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _exists(connection: psycopg.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _drop(connection: psycopg.Connection, name: str) -> None:
    # FORCE: a test's leftover connection (a thread, a killed server) must not keep the next test's copy waiting.
    connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class PostgresDatabases:
    """The template and this process's working database on the server named by `base_url`."""

    def __init__(self, base_url: str, worker: str) -> None:
        self.base = make_url(normalize_database_url(base_url))
        base_name = self.base.database or "test"
        self.template = f"{base_name}_tpl_{migrations_hash()}"
        self._stale_prefix = f"{base_name}_tpl_"
        plain = self.base.set(drivername="postgresql").render_as_string(hide_password=False)
        # The session-long admin connection: it holds the locks and runs CREATE/DROP DATABASE (autocommit).
        self._admin = psycopg.connect(plain, autocommit=True)
        self.name = self._claim(f"{base_name}_{worker}")
        self._serial = 0
        self._work: str | None = None
        self._seed: Seed | None = None
        # Copies a killed run left under this (now claimed) name, then this run's used ones.
        self._used = [
            name
            for (name,) in self._admin.execute(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (f"{self.name}_c",)
            )
        ]
        self._ensure_template()

    def url(self, name: str) -> str:
        """Return the SQLAlchemy URL of a database on the server."""
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _claim(self, stem: str) -> str:
        """Lock and return the first free working name: `stem`, then `stem_1`, ... (another run holds the others)."""
        for number in range(100):
            name = stem if number == 0 else f"{stem}_{number}"
            if self._admin.execute(_TRY_LOCK, (f"helpdesk-test-db:{name}",)).fetchone()[0]:  # type: ignore[index]
                return name
        raise RuntimeError(f"no free test database name after {stem}_99")

    def _ensure_template(self) -> None:
        """Build the template unless it exists (one builder at a time); drop stale templates no run holds."""
        self._admin.execute(_LOCK, ("helpdesk-test-template-build",))
        try:
            if not _exists(self._admin, self.template):
                building = f"{self.template}_build"
                _drop(self._admin, building)  # a build interrupted earlier
                self._admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
                upgrade_database(self.url(building))
                self._admin.execute(
                    sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                        sql.Identifier(building), sql.Identifier(self.template)
                    )
                )
            # Held for the whole run: a run of other migrations drops this template only once nobody uses it.
            self._admin.execute(_LOCK_SHARED, (f"helpdesk-test-template:{self.template}",))
            self._drop_stale_templates()
        finally:
            self._admin.execute(_UNLOCK, ("helpdesk-test-template-build",))

    def _drop_stale_templates(self) -> None:
        rows = self._admin.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (self._stale_prefix,)
        ).fetchall()
        for (name,) in rows:
            if name == self.template or name.endswith("_build"):
                continue
            key = f"helpdesk-test-template:{name}"
            if self._admin.execute(_TRY_LOCK, (key,)).fetchone()[0]:  # type: ignore[index]
                _drop(self._admin, name)
                self._admin.execute(_UNLOCK, (key,))

    def copy_template(self, name: str) -> str:
        """Make `name` a new copy of the template (replacing any database of that name); return the name."""
        _drop(self._admin, name)
        self._admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(self.template))
        )
        return name

    def fresh(self) -> str:
        """Return the URL of this process's working database, emptied back to the template's rows.

        Emptying (DELETE of every table, the template's few seed rows put back, sequences reset: about 40 ms) is
        far cheaper than a copy (1-2 s: CREATE DATABASE writes the whole template and DROP forces a checkpoint).
        A test that changed the schema (a downgrade, a dropped table) gets a new copy instead.
        """
        if self._work is not None:
            try:
                if self._reset(self._work):
                    return self.url(self._work)
            except psycopg.Error:
                pass  # a test broke the database in a way emptying cannot mend: copy the template again
        if len(self._used) >= DROP_BATCH:
            self._drop_used()
        self._serial += 1
        self._work = self.copy_template(f"{self.name}_c{self._serial}")
        self._used.append(self._work)
        self._admin.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(self._work))
        )  # test data need not survive a crash: commits stop waiting for the disk
        if self._seed is None:
            self._seed = Seed.read(_plain(self.url(self._work)))
        return self.url(self._work)

    def _reset(self, name: str) -> bool:
        """Empty `name` back to the template's rows; return False when its schema is not the template's."""
        assert self._seed is not None
        # A connection the last test left behind (a thread, a server it started) must not write into the next one.
        self._admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        with psycopg.connect(_plain(self.url(name))) as connection:
            if Seed.fingerprint(connection) != self._seed.schema:
                return False
            self._seed.restore(connection)
        return True

    def _drop_used(self) -> None:
        for name in self._used:
            _drop(self._admin, name)
        self._used.clear()

    def close(self) -> None:
        """Drop the copies and release the locks (closing the connection releases them)."""
        self._drop_used()
        self._admin.close()


def _plain(url: str) -> str:
    """Return `url` as libpq understands it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def worker_name() -> str:
    """Return this pytest process's name: xdist's worker id (gw0, gw1...) or `main`."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")
