"""Who may do what: every check scoped to the actor's state (national staff see every state)."""

from __future__ import annotations

from helpdesk.accounts.models import ROLES, User
from helpdesk.vocabulary import Role

_STATE_ROLES = tuple(role for role in Role if role is not Role.NATIONAL_ADMIN)
EDITOR_ROLES = (Role.KB_EDITOR, Role.NATIONAL_ADMIN)


def is_national(user: User) -> bool:
    """Return whether the user works for the national office."""
    return user.role == Role.NATIONAL_ADMIN


def can_manage(actor: User, state_code: str | None) -> bool:
    """Return whether `actor` may administer users of `state_code` (None = the national office)."""
    if not actor.is_active:
        return False
    if is_national(actor):
        return True
    return actor.role == Role.STATE_ADMIN and state_code is not None and actor.state_code == state_code


def assignable_roles(actor: User) -> tuple[str, ...]:
    """Return the roles `actor` may give."""
    if is_national(actor):
        return tuple(ROLES)
    return _STATE_ROLES if actor.role == Role.STATE_ADMIN else ()


def can_name_user(actor: User, person: User) -> bool:
    """Return whether `actor` may learn who `person` is: someone of their state, or national staff on either side."""
    return (
        is_national(actor)
        or is_national(person)
        or (actor.state_code is not None and actor.state_code == person.state_code)
    )


def can_moderate_comments(user: User) -> bool:
    """Return whether the user may hide comments (compact office and national staff)."""
    return user.is_active and user.role in (Role.COMPACT_OFFICE, Role.NATIONAL_ADMIN)


def can_moderate_comment_by(moderator: User, author: User) -> bool:
    """Return whether `moderator` may hide or show a comment written by `author`: their state only (national: all)."""
    return can_moderate_comments(moderator) and (
        is_national(moderator) or (moderator.state_code is not None and moderator.state_code == author.state_code)
    )


def can_read_audit(actor: User, state_code: str | None) -> bool:
    """Return whether `actor` may read audit events of `state_code`."""
    return can_manage(actor, state_code)


def can_edit_articles(user: User) -> bool:
    """Return whether the user may open the editor: knowledge base editors and national administrators."""
    return user.is_active and user.role in EDITOR_ROLES


def can_edit_section(user: User, section_slug: str, *, state_sections: bool) -> bool:
    """Return whether the user may write and publish articles of a section: national editors any; a state's
    editors only their state's section (slug = the state code), and only where the site enables per-state sections."""
    if not can_edit_articles(user):
        return False
    if is_national(user) or user.state_code is None:
        return True
    return state_sections and section_slug == user.state_code.lower()
