"""Bounded database ids: one URL converter and one parser for ids in paths, queries and forms."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import BaseConverter, ValidationError

#: The largest id a row can have: every id column is a 32-bit INTEGER (PostgreSQL refuses larger binds,
#: SQLite overflows at 2**63); anything above names no row and answers like a missing object.
MAX_ID = 2**31 - 1


def parse_id(value: Any) -> int | None:
    """Return `value` as an id (1..MAX_ID), or None when it is missing, not a plain number or out of range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= MAX_ID else None
    text = str(value or "").strip()
    # Length first: int() of a huge string is slow (and refused past 4,300 digits).
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def coerce_id(value: Any) -> int:
    """WTForms `coerce` for id choices: an id, or ValueError (the field then reports an invalid choice)."""
    number = parse_id(value)
    if number is None:
        raise ValueError("not an id")
    return number


class IdConverter(BaseConverter):
    """`<id:name>`: a positive id up to MAX_ID; anything else does not match the route (404)."""

    regex = r"[1-9][0-9]{0,9}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        """Return the id, or refuse the match when it is out of range."""
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        """Return the id as digits."""
        return str(int(value))


def init_app(app: Flask) -> None:
    """Register `<id:...>` before any blueprint adds a rule that uses it."""
    app.url_map.converters["id"] = IdConverter
