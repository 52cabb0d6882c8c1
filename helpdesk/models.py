"""Import every model so that `Base.metadata` is complete (Alembic and tests rely on it)."""

from helpdesk.database import Base
from helpdesk.kb.models import Vote
from helpdesk.search.models import SearchClick, SearchQuery

__all__ = ["Base", "SearchClick", "SearchQuery", "Vote"]
