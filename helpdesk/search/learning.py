"""Search that learns from use: a phrase that enough distinct people searched before an answer helped them becomes a
learned phrasing of that answer's question, indexed with it. One person, however often, teaches nothing."""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import is_national
from helpdesk.audit.services import SYSTEM, Origin, record_event
from helpdesk.kb.models import Vote
from helpdesk.orm import utcnow
from helpdesk.search.analysis import is_content_word, words
from helpdesk.search.documents import document_key
from helpdesk.search.models import LearnedPhrasing, SearchClick, SearchQuery
from helpdesk.tickets.models import Deflection

#: An opened answer is evidence when the person did not search (or open another hit) again within this time.
RETURN_WINDOW = dt.timedelta(minutes=10)
#: A Yes vote on the article this soon after opening it from a search confirms the search, even if they searched on.
VOTE_WINDOW = dt.timedelta(hours=1)
#: Evidence older than this is forgotten: what people call things changes, and the pass stays cheap.
LOOKBACK = dt.timedelta(days=90)
MAX_WORDS = 12  # longer text is prose (a pasted error message, a request description), not a way of asking
MAX_CHARS = 120
_CHUNK = 500

Evidence = tuple[str, str, str]  # (phrase, search document key, person)


def person_of(voter_key: str) -> str:
    """Return the search log's name for a person ("u:<user id>", or "a:<address>" signed out): its SHA-256."""
    return hashlib.sha256(voter_key.encode()).hexdigest()


def learnable_phrase(text: str | None) -> str | None:
    """Return the phrase as it would be learned (lowercase words, single spaces), or None when it is not one."""
    tokens = words(text or "")
    phrase = " ".join(tokens)
    if not tokens or len(tokens) > MAX_WORDS or len(phrase) > MAX_CHARS or not any(map(is_content_word, tokens)):
        return None
    return phrase


@dataclass(frozen=True, slots=True)
class _Open:
    phrase: str
    key: str
    person: str
    slug: str
    at: dt.datetime


@dataclass(slots=True)
class LearnReport:
    """What one learning pass did."""

    learned: list[str] = field(default_factory=list)  # "phrase -> key"
    updated: int = 0
    already_found: int = 0  # phrases whose search already ranks the question first: nothing to learn

    def summary(self) -> str:
        """Return the pass in one line."""
        return (
            f"learned {len(self.learned)} phrasings; {self.updated} updated; {self.already_found} already found first"
        )


def collect_evidence(session: Session, *, now: dt.datetime, min_people: int) -> dict[tuple[str, str], set[str]]:
    """Return {(phrase, document key): distinct people} for the groups with at least `min_people` people."""
    since = now - LOOKBACK
    opens = _opens(session, since)
    direct = _deflections(session, since)
    people: dict[tuple[str, str], set[str]] = defaultdict(set)
    for phrase, key, person in direct:
        people[(phrase, key)].add(person)
    for item in opens:
        people[(item.phrase, item.key)].add(item.person)
    wanted = {group for group, found in people.items() if len(found) >= min_people}
    candidates = [item for item in opens if (item.phrase, item.key) in wanted]
    persons = sorted({item.person for item in candidates})
    actions = _actions(session, persons, since)
    yes_votes = _yes_votes(session, persons, since)
    confirmed: dict[tuple[str, str], set[str]] = defaultdict(set)
    for phrase, key, person in direct:
        confirmed[(phrase, key)].add(person)
    for item in candidates:
        if _voted_yes(yes_votes.get((item.person, item.slug), []), item.at) or _stayed(
            actions.get(item.person, []), item.at, now
        ):
            confirmed[(item.phrase, item.key)].add(item.person)
    return {group: found for group, found in confirmed.items() if len(found) >= min_people}


def _opens(session: Session, since: dt.datetime) -> list[_Open]:
    rows = session.execute(
        select(
            SearchQuery.query,
            SearchQuery.person,
            SearchClick.article_slug,
            SearchClick.question_id,
            SearchClick.created_at,
        )
        .join(SearchClick, SearchClick.search_id == SearchQuery.id)
        .where(SearchQuery.person.is_not(None), SearchClick.created_at >= since)
    )
    found = []
    for query, person, slug, question_id, at in rows:
        phrase = learnable_phrase(query)
        if phrase is not None and person:
            found.append(_Open(phrase, document_key(slug, question_id), person, slug, at))
    return found


def _deflections(session: Session, since: dt.datetime) -> set[Evidence]:
    """ "This answered my question" after search offered the answer for what the person typed."""
    rows = session.execute(
        select(Deflection.query, Deflection.user_id, Deflection.article_slug, Deflection.question_id).where(
            Deflection.query.is_not(None), Deflection.article_slug.is_not(None), Deflection.created_at >= since
        )
    )
    found = set()
    for query, user_id, slug, question_id in rows:
        phrase = learnable_phrase(query)
        if phrase is not None:
            # cast: the query's WHERE leaves out rows without a slug, which the column's type cannot say
            found.add((phrase, document_key(cast(str, slug), question_id), person_of(f"u:{user_id}")))
    return found


def _chunks(items: list[str]) -> Iterable[list[str]]:
    return (items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK))


def _actions(session: Session, persons: list[str], since: dt.datetime) -> dict[str, list[dt.datetime]]:
    """Return each person's searches and opened hits, in time order."""
    times: dict[str, list[dt.datetime]] = defaultdict(list)
    for chunk in _chunks(persons):
        for person, at in session.execute(
            select(SearchQuery.person, SearchQuery.created_at).where(
                SearchQuery.person.in_(chunk), SearchQuery.created_at >= since
            )
        ):
            times[cast(str, person)].append(at)  # cast: `person IN (...)` leaves out NULL, the type cannot say
        for person, at in session.execute(
            select(SearchQuery.person, SearchClick.created_at)
            .join(SearchQuery, SearchQuery.id == SearchClick.search_id)
            .where(SearchQuery.person.in_(chunk), SearchClick.created_at >= since)
        ):
            times[cast(str, person)].append(at)
    for found in times.values():
        found.sort()
    return times


def _yes_votes(session: Session, persons: list[str], since: dt.datetime) -> dict[tuple[str, str], list[dt.datetime]]:
    wanted = set(persons)  # votes carry the voter key itself: hash it to compare
    found: dict[tuple[str, str], list[dt.datetime]] = defaultdict(list)
    for voter, slug, at in session.execute(
        select(Vote.voter_key, Vote.article_slug, Vote.updated_at).where(
            Vote.helpful.is_(True), Vote.updated_at >= since
        )
    ):
        person = person_of(voter)
        if person in wanted:
            found[(person, slug)].append(at)
    return found


def _voted_yes(votes: list[dt.datetime], opened: dt.datetime) -> bool:
    return any(opened <= at <= opened + VOTE_WINDOW for at in votes)


def _stayed(times: list[dt.datetime], opened: dt.datetime, now: dt.datetime) -> bool:
    """Tell whether the open was the person's last search action for RETURN_WINDOW (and that much time passed)."""
    if now - opened < RETURN_WINDOW:
        return False  # they may still come back
    after = bisect.bisect_right(times, opened)
    return after == len(times) or times[after] > opened + RETURN_WINDOW


def learn_phrasings(
    session: Session,
    *,
    min_people: int,
    now: dt.datetime | None = None,
    found_first: Callable[[str, str], bool] | None = None,
) -> LearnReport:
    """Turn evidence of at least `min_people` distinct people into learned phrasings; a removed one stays removed.

    `found_first(phrase, key)` tells whether searching the phrase already ranks that document first.
    """
    if min_people < 2:
        raise ValueError("one person cannot teach search anything: min_people must be at least 2")
    now = now or utcnow()
    report = LearnReport()
    existing = {(p.phrase, p.question_key): p for p in session.scalars(select(LearnedPhrasing))}
    for (phrase, key), people in sorted(collect_evidence(session, now=now, min_people=min_people).items()):
        row = existing.get((phrase, key))
        if row is not None:
            if row.removed_at is None and row.people != len(people):
                row.people, row.updated_at = len(people), now
                report.updated += 1
            continue
        if found_first is not None and found_first(phrase, key):
            report.already_found += 1
            continue
        row = LearnedPhrasing(phrase=phrase, question_key=key, people=len(people), created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        record_event(
            session,
            "phrasing_learned",
            origin=SYSTEM,
            target_type="learned_phrasing",
            target_id=row.id,
            detail=f"{phrase!r} -> {key} ({len(people)} people)",
        )
        report.learned.append(f"{phrase} -> {key}")
    return report


def remove_phrasing(
    session: Session, phrasing_id: int, *, actor: User, origin: Origin, now: dt.datetime | None = None
) -> LearnedPhrasing | None:
    """Remove a learned phrasing from search (national administrators); None when there is no such phrasing."""
    if not is_national(actor):
        raise PermissionError("only national administrators remove learned phrasings")
    row = session.get(LearnedPhrasing, phrasing_id)
    if row is None:
        return None
    if row.removed_at is None:
        row.removed_at, row.removed_by_id = now or utcnow(), actor.id
        record_event(
            session,
            "phrasing_removed",
            origin=origin,
            actor_id=actor.id,
            actor_email=actor.email,
            target_type="learned_phrasing",
            target_id=row.id,
            state_code=actor.state_code,
            detail=f"{row.phrase!r} -> {row.question_key}",
        )
        session.flush()
    return row


def list_phrasings(session: Session) -> list[LearnedPhrasing]:
    """Return every learned phrasing: those in use first, by question, then the removed ones."""
    rows = session.scalars(select(LearnedPhrasing))
    return sorted(rows, key=lambda p: (p.removed_at is not None, p.question_key, p.phrase))


def active_phrasings(session: Session) -> dict[str, tuple[str, ...]]:
    """Return {document key: phrasings} of the phrasings in use."""
    found: dict[str, list[str]] = defaultdict(list)
    for key, phrase in session.execute(
        select(LearnedPhrasing.question_key, LearnedPhrasing.phrase)
        .where(LearnedPhrasing.removed_at.is_(None))
        .order_by(LearnedPhrasing.id)
    ):
        found[key].append(phrase)
    return {key: tuple(phrases) for key, phrases in found.items()}


def phrasing_loader(engine: Engine) -> Callable[[], dict[str, tuple[str, ...]]]:
    """Return a function reading the phrasings in use in a short session of its own (never a request's session)."""
    if engine.dialect.name == "sqlite":
        # The app's SQLite transactions all BEGIN IMMEDIATE (they may write); this read must not wait for a
        # request's transaction, and a plain autocommit read in WAL mode never does.
        engine = create_engine(
            engine.url,
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
            connect_args={"timeout": 30, "check_same_thread": False},
        )

    def load() -> dict[str, tuple[str, ...]]:
        with Session(engine) as session:
            return active_phrasings(session)

    return load
