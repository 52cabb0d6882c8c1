"""One page of a longer list, shared by every paginated query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a longer list."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """Return the number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        """Return whether a previous page exists."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Return whether a next page exists."""
        return self.page < self.pages
