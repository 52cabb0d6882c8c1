"""What a freshly migrated PostgreSQL test database holds, to empty a used one back to it in milliseconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

_SCHEMA = """SELECT (SELECT version_num FROM alembic_version LIMIT 1),
                    (SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY 1)
                       FROM information_schema.columns WHERE table_schema = 'public'),
                    (SELECT string_agg(indexname, ',' ORDER BY 1) FROM pg_indexes WHERE schemaname = 'public')"""


@dataclass(frozen=True)
class Seed:
    """The schema's fingerprint, the rows the migrations insert, and where each sequence stood."""

    schema: tuple[Any, ...]
    tables: tuple[str, ...]
    rows: dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]
    sequences: dict[str, int | None]

    @staticmethod
    def fingerprint(connection: psycopg.Connection) -> tuple[Any, ...]:
        """Return the alembic version, columns and indexes of the public schema."""
        row = connection.execute(_SCHEMA).fetchone()
        return tuple(row) if row else ()

    @classmethod
    def read(cls, url: str) -> Seed:
        """Read the seed of the freshly copied database at `url`."""
        with psycopg.connect(url) as connection:
            tables = tuple(
                name
                for (name,) in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
                    "ORDER BY tablename"
                )
            )
            rows: dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]] = {}
            for table in tables:
                cursor = connection.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
                found = cursor.fetchall()
                if found:
                    rows[table] = (tuple(column.name for column in cursor.description or ()), found)
            sequences = {
                name: value
                for name, value in connection.execute(
                    "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
                )
            }
            return cls(cls.fingerprint(connection), tables, rows, sequences)

    def restore(self, connection: psycopg.Connection) -> None:
        """Delete every row, put the seed rows back and reset the sequences, in one transaction."""
        # replica: no foreign-key triggers, so tables empty in any order (the test user is a superuser in CI too).
        connection.execute("SET LOCAL session_replication_role = replica")
        for table in self.tables:
            connection.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
        for table, (columns, found) in self.rows.items():
            statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            )
            with connection.cursor() as cursor:
                cursor.executemany(statement, found)
        for name, value in self.sequences.items():
            if value is None:
                connection.execute(sql.SQL("ALTER SEQUENCE {} RESTART").format(sql.Identifier(name)))
            else:
                connection.execute("SELECT setval(%s, %s)", (sql.Identifier(name).as_string(connection), value))
        connection.commit()
