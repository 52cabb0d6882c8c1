"""Import every model so that `Base.metadata` is complete (Alembic and tests rely on it)."""

from helpdesk.accounts.models import Agency, ApiToken, PrivacyAcceptance, RecoveryCode, State, User, UserToken
from helpdesk.audit.models import AuditEvent
from helpdesk.insights.models import HandledItem
from helpdesk.kb.content_models import Article, ArticleRevision, ContentState, Section, SlugRedirect
from helpdesk.kb.models import ArticleStats, Comment, Vote
from helpdesk.locks import JobRun
from helpdesk.mail.models import OutboxMessage
from helpdesk.orm import Base
from helpdesk.search.models import LearnedPhrasing, SearchClick, SearchQuery
from helpdesk.tickets.models import Attachment, Deflection, Incident, Ticket, TicketEvent

__all__ = [
    "Agency",
    "ApiToken",
    "Article",
    "ArticleRevision",
    "ArticleStats",
    "Attachment",
    "AuditEvent",
    "Base",
    "Comment",
    "ContentState",
    "Deflection",
    "HandledItem",
    "Incident",
    "JobRun",
    "LearnedPhrasing",
    "OutboxMessage",
    "PrivacyAcceptance",
    "RecoveryCode",
    "SearchClick",
    "SearchQuery",
    "Section",
    "SlugRedirect",
    "State",
    "Ticket",
    "TicketEvent",
    "User",
    "UserToken",
    "Vote",
]
