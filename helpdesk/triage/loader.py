"""Strict reading of the triage policy files: every error names the file and the key."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any, NoReturn

import yaml

_CLOCK_RE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class PolicyError(ValueError):
    """A triage policy that cannot be used, with the file, the key and the reason in words."""


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (PyYAML would silently keep the last one).

    Dates stay text, so that a bad one is reported by Field.date() with its key.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise PolicyError(f"{self.name}: line {line}: key {key!r} appears twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> Field:
    """Parse one policy file into a Field at its top level."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{name}: file is missing from {path.parent}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{name}: cannot be read: {exc}") from None
    return parse_yaml(name, text)


def parse_yaml(name: str, text: str) -> Field:
    """Parse the text of one policy file (named `name` in errors) into a Field at its top level."""
    loader = _StrictLoader(text)
    loader.name = name
    try:
        value = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise PolicyError(f"{name}: is not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return Field(name, "", value)


class Field:
    """One value of a policy file, with its file name and dotted key for error messages."""

    __slots__ = ("file", "key", "value")

    def __init__(self, file: str, key: str, value: object) -> None:
        self.file = file
        self.key = key
        self.value = value

    def fail(self, message: str) -> NoReturn:
        """Raise a PolicyError naming this file and key."""
        where = f"{self.file}: {self.key}" if self.key else self.file
        raise PolicyError(f"{where}: {message}")

    def child(self, name: str | int, value: object) -> Field:
        """Return a nested field (a mapping key or a list index)."""
        key = f"{self.key}[{name}]" if isinstance(name, int) else (f"{self.key}.{name}" if self.key else name)
        return Field(self.file, key, value)

    def mapping(self, required: Collection[str] = (), optional: Collection[str] = ()) -> dict[str, Field]:
        """Return the keys of a mapping, refusing missing and unknown keys."""
        if not isinstance(self.value, dict):
            self.fail(f"must be a mapping of keys to values, got {_kind(self.value)}")
        for name in required:
            if name not in self.value:
                self.fail(f"missing key {name!r}")
        known = set(required) | set(optional)
        for name in self.value:
            if not isinstance(name, str):
                self.fail(f"keys must be text, got {name!r}")
            if known and name not in known:
                self.fail(f"unknown key {name!r} (expected one of: {', '.join(sorted(known))})")
        return {name: self.child(name, value) for name, value in self.value.items()}

    def items(self) -> list[Field]:
        """Return the elements of a list (an absent value is an empty list)."""
        if self.value is None:
            return []
        if not isinstance(self.value, list):
            self.fail(f"must be a list, got {_kind(self.value)}")
        return [self.child(index, value) for index, value in enumerate(self.value)]

    def text(self) -> str:
        """Return a non-empty string."""
        if not isinstance(self.value, str) or not self.value.strip():
            self.fail(f"must be non-empty text, got {_kind(self.value)}")
        return " ".join(self.value.split())

    def texts(self) -> tuple[str, ...]:
        """Return a list of non-empty strings."""
        return tuple(item.text() for item in self.items())

    def integer(self, minimum: int = 0) -> int:
        """Return a whole number of at least `minimum`."""
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            self.fail(f"must be a whole number, got {_kind(self.value)}")
        if self.value < minimum:
            self.fail(f"must be at least {minimum}, got {self.value}")
        return self.value

    def number(self) -> float:
        """Return a positive number."""
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            self.fail(f"must be a number, got {_kind(self.value)}")
        if not self.value > 0 or self.value == float("inf"):
            self.fail(f"must be a positive number, got {self.value}")
        return float(self.value)

    def choice(self, choices: Collection[str]) -> str:
        """Return one of a fixed set of words."""
        value = self.text()
        if value not in choices:
            self.fail(f"unknown value {value!r} (expected one of: {', '.join(choices)})")
        return value

    def clock(self) -> int:
        """Return a wall-clock time 'HH:MM' (00:00 to 24:00) as minutes after midnight."""
        if isinstance(self.value, int) and not isinstance(self.value, bool):
            # YAML 1.1 reads an unquoted 17:00 as the base-60 number 1020.
            self.fail("write the time in quotes, e.g. '17:00'")
        match = _CLOCK_RE.match(self.value) if isinstance(self.value, str) else None
        minutes = int(match[1]) * 60 + int(match[2]) if match else -1
        if not 0 <= minutes <= 24 * 60:
            self.fail(f"must be a time 'HH:MM' between '00:00' and '24:00', got {self.value!r}")
        return minutes

    def date(self) -> dt.date:
        """Return a calendar date (YAML date or 'YYYY-MM-DD')."""
        if isinstance(self.value, dt.date) and not isinstance(self.value, dt.datetime):
            return self.value
        try:
            return dt.date.fromisoformat(str(self.value))
        except ValueError:
            self.fail(f"must be a date such as 2026-12-25, got {self.value!r}")


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value)
    return f"{type(value).__name__} {value!r}" if isinstance(value, int | float) else type(value).__name__
