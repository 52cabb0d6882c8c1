"""Help-desk synonyms, applied at query time: each group lists words and phrases that mean the same."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from helpdesk.search.analysis import STOP_WORDS, is_content_word, stem, words

#: General help-desk vocabulary, one group per line. Phrases are matched on stems, so "logging in" finds the
#: "log in" group. Keep groups about meaning, never about a single article or query.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("log in", "login", "log on", "logon", "sign in", "signin", "sign on", "log into", "sign into"),
    ("log out", "logout", "sign out", "sign off", "log off"),
    # Negations carry the meaning of a help-desk question ("can't log in"): kept as words, never dropped.
    ("can't", "cant", "cannot", "unable", "couldn't", "couldnt", "won't", "wont"),
    ("doesn't work", "doesnt work", "not working", "isn't working", "stopped working", "broken", "fails"),
    ("password", "passcode", "passphrase", "pwd", "pin"),
    ("slow", "slowly", "slowness", "sluggish", "loading", "timeout", "time out", "lag", "laggy", "hangs", "freezes"),
    ("delete", "remove", "deactivate", "inactive", "disable", "deactivated"),
    ("error", "bug", "crash", "failure", "glitch", "exception"),
    ("problem", "issue", "difficulty", "trouble"),
    ("account", "user", "access", "username"),
    ("offline", "down", "downtime", "outage", "unavailable"),
    ("email", "e-mail", "mail", "mailbox", "inbox"),
    ("generic", "shared", "group", "team"),
    ("url", "link", "address", "website", "web site", "site", "web page"),
    ("reset", "recover", "recovery", "forgot", "forgotten", "lost", "change password"),
    ("add", "create", "set up", "setup", "new user"),
    ("help", "assistance", "support", "helpdesk", "help desk"),
    ("ticket", "request", "case number"),
    ("vacation", "leave", "holiday", "absence", "away", "out of office"),
    ("admin", "administrator", "administers", "administer", "administration"),
    ("employee", "staff", "staffer", "worker", "officer"),
    ("reopen", "re-open", "re-opened"),
    ("fix", "resolve", "solve", "repair"),
    ("screen", "page", "window"),
    ("phone", "call", "telephone"),
)

#: How much a synonym counts against the word the user typed.
SYNONYM_WEIGHT = 0.6
#: A phrase whose stop words vanish ("sign in" -> "sign") is vaguer than it looks: count it less.
REDUCED_PHRASE_FACTOR = 0.5
MAX_PHRASE = 3


@dataclass(frozen=True, slots=True)
class Alternative:
    """One way of saying a concept: its words as typed and how much a match on it counts."""

    words: tuple[str, ...]
    weight: float

    @property
    def terms(self) -> tuple[str, ...]:
        """Return the indexed stems of the alternative (stop words and single letters dropped)."""
        return tuple(stem(w) for w in self.words if is_content_word(w))


class SynonymTable:
    """Find synonym phrases in a list of query words and list their alternatives."""

    def __init__(self, groups: tuple[tuple[str, ...], ...] = SYNONYM_GROUPS) -> None:
        self.groups = [tuple(tuple(words(p)) for p in group) for group in groups]
        self._by_key: dict[tuple[str, ...], int] = {}
        for index, group in enumerate(self.groups):
            for phrase in group:
                self._by_key.setdefault(tuple(stem(w) for w in phrase), index)

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Return every word of every group, so that spelling can correct towards them too."""
        return frozenset(w for group in self.groups for phrase in group for w in phrase if is_content_word(w))

    def match(self, tokens: list[str], start: int) -> tuple[int, int] | None:
        """Return (group, length) of the longest synonym phrase starting at tokens[start], if any."""
        for length in range(min(MAX_PHRASE, len(tokens) - start), 0, -1):
            key = tuple(stem(w) for w in tokens[start : start + length])
            group = self._by_key.get(key)
            if group is not None:
                return group, length
        return None

    def alternatives(self, group: int, typed: tuple[str, ...]) -> list[Alternative]:
        """Return the typed phrase at full weight, then the rest of its group at synonym weight."""
        result = [_weighted(typed, 1.0)]
        seen = {result[0].terms}
        for phrase in self.groups[group]:
            alt = _weighted(phrase, SYNONYM_WEIGHT)
            if alt.terms and alt.terms not in seen:
                seen.add(alt.terms)
                result.append(alt)
        return result


def _weighted(phrase: tuple[str, ...], weight: float) -> Alternative:
    """Return the phrase as an alternative, weighted down if stop words vanish from it ("sign in" -> "sign")."""
    reduced = len(phrase) > 1 and any(w in STOP_WORDS for w in phrase)
    return Alternative(phrase, weight * REDUCED_PHRASE_FACTOR if reduced else weight)
