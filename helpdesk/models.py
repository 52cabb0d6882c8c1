"""Import every model so that `Base.metadata` is complete (Alembic and tests rely on it)."""

from helpdesk.accounts.models import Agency, PrivacyAcceptance, RecoveryCode, State, User, UserToken
from helpdesk.audit.models import AuditEvent
from helpdesk.database import Base
from helpdesk.kb.models import Comment, Vote
from helpdesk.mail.models import OutboxMessage
from helpdesk.search.models import SearchClick, SearchQuery

__all__ = [
    "Agency", "AuditEvent", "Base", "Comment", "OutboxMessage", "PrivacyAcceptance", "RecoveryCode", "SearchClick",
    "SearchQuery", "State", "User", "UserToken", "Vote",
]
