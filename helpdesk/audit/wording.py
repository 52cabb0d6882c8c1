"""The audit trail in words: what each recorded action means, as a label and as the verb of a sentence."""

from __future__ import annotations

import re

from helpdesk.accounts.models import ROLES
from helpdesk.audit.services import CLI_ACTOR, SYSTEM_ACTOR

#: action -> (label for lists and filters, verb phrase; "{target}" marks where the target's name goes).
ACTIONS: dict[str, tuple[str, str]] = {
    "sign_in": ("Sign-in", "signed in"),
    "sign_out": ("Sign-out", "signed out"),
    "second_factor": ("Second factor", "confirmed the sign-in with a second factor"),
    "account_locked": ("Account locked", "was locked out after repeated failed sign-ins"),
    "account_unlocked": ("Account unlocked", "unlocked the account of {target}"),
    "password_reset_requested": ("Password reset asked for", "asked for a password reset link"),
    "password_link_opened": ("Password link opened", "opened a password link"),
    "password_reset": ("Password reset", "reset the password of {target}"),
    "password_set": ("Password chosen", "chose the password of {target}"),
    "privacy_accepted": ("Privacy policy accepted", "accepted the privacy policy"),
    "mfa_enrolled": ("Authenticator set up", "set up an authenticator app"),
    "user_created": ("User created", "created the account of {target}"),
    "role_changed": ("Role changed", "changed the role of {target}"),
    "user_deactivated": ("User deactivated", "deactivated {target}"),
    "user_reactivated": ("User reactivated", "reactivated {target}"),
    "work_reassigned": ("Work handed over", "handed over the open work of {target}"),
    "agency_created": ("Agency created", "created the agency {target}"),
    "state_mfa_changed": ("State setting changed", "changed the second-factor setting of {target}"),
    "api_token_created": ("API token created", "created an API token"),
    "api_token_revoked": ("API token revoked", "revoked an API token"),
    "comment_added": ("Comment added", "commented on an article"),
    "comment_edited": ("Comment edited", "edited a comment"),
    "comment_hidden": ("Comment hidden", "hid a comment"),
    "comment_unhidden": ("Comment shown again", "showed a hidden comment again"),
    "article_saved": ("Article saved", "saved a revision of an article"),
    "article_published": ("Article published", "published an article"),
    "article_archived": ("Article archived", "archived an article"),
    "article_restored": ("Revision restored", "restored an earlier revision of an article"),
    "article_renamed": ("Article renamed", "gave an article a new address"),
    "articles_imported": ("Articles imported", "imported articles from files"),
    "access_denied": ("Access refused", "was refused a page"),
    "audit_viewed": ("Audit trail read", "read the audit trail"),
    "audit_exported": ("Audit trail exported", "exported the audit trail"),
    "demo_loaded": ("Demo loaded", "loaded the demo organisation"),
    "ticket_deflected": ("Solved by self-help", "found an answer in self-help instead of filing a request"),
    "ticket_submitted": ("Request filed", "filed {target}"),
    "ticket_routed": ("Request routed", "routed {target}"),
    "ticket_incident": ("Incident noted", "linked {target} to an incident"),
    "ticket_assigned": ("Request assigned", "assigned {target}"),
    "ticket_reply": ("Reply sent", "replied on {target}"),
    "ticket_note": ("Internal note", "added an internal note to {target}"),
    "ticket_status": ("Status changed", "changed the status of {target}"),
    "ticket_resolved": ("Request resolved", "resolved {target}"),
    "ticket_closed": ("Request closed", "closed {target}"),
    "ticket_reopened": ("Request reopened", "reopened {target}"),
    "ticket_reopen_requested": ("Reopening asked for", "asked to reopen {target}"),
    "ticket_escalated": ("Request escalated", "escalated {target}"),
    "ticket_attached": ("File attached", "attached a file to {target}"),
    "ticket_viewed": ("Request read", "read {target}"),
    "ticket_attachment_read": ("Attachment downloaded", "downloaded an attachment of {target}"),
    "tickets_listed": ("Requests listed", "listed requests through the API"),
}
#: Outcomes in words.
OUTCOMES = {
    "success": "done",
    "failure": "failed",
    "pending": "pending",
    "ignored": "ignored",
    "throttled": "held back (too many)",
}
#: Actor e-mails that stand for no person.
NOT_A_PERSON = {SYSTEM_ACTOR: "The help desk (automatic)", CLI_ACTOR: "An operator at the server"}
_ROLE_CHANGE = re.compile(r"^([a-z_]+) -> ([a-z_]+)$")
_CREATED_AS = re.compile(r"^(.+) as ([a-z_]+)$")


def action_label(action: str) -> str:
    """Return the action's label; an unknown one reads as words ("bulk_thing" -> "Bulk thing")."""
    known = ACTIONS.get(action)
    return known[0] if known else action.replace("_", " ").strip().capitalize()


def action_verb(action: str) -> str:
    """Return the verb phrase of the action (with "{target}" where its target goes, when it has one)."""
    known = ACTIONS.get(action)
    return known[1] if known else f"recorded “{action_label(action).lower()}” for {{target}}"


def outcome_words(outcome: str) -> str:
    """Return the outcome in words."""
    return OUTCOMES.get(outcome, outcome.replace("_", " "))


def detail_words(action: str, detail: str | None) -> str:
    """Return the stored detail in words: role codes become role names; the rest is kept as recorded."""
    if not detail:
        return ""
    if action == "role_changed" and (found := _ROLE_CHANGE.match(detail)):
        return f"from {ROLES.get(found[1], found[1])} to {ROLES.get(found[2], found[2])}"
    if action == "user_created" and (found := _CREATED_AS.match(detail)) and found[2] in ROLES:
        return f"{found[1]} as {ROLES[found[2]]}"
    if action == "access_denied":
        method, _, path = detail.partition(" ")
        return f"the page {path} ({method})" if path else detail
    return detail
