"""Password policy (NIST 800-63B / CJIS: length, blocklist, context words; no composition rules) and hashing."""

from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

DATA = Path(__file__).resolve().parent / "data"
MAX_LENGTH = 128  # accept at least 64 (NIST); cap the hashing cost
#: Words tied to this service and its users; a password built on them is easy to guess.
SERVICE_WORDS = ("icots", "helpdesk", "probation", "parole", "compact", "password", "interstate", "offender")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
#: Verified when the e-mail is unknown, so that a wrong e-mail costs the same time as a wrong password.
DUMMY_HASH = _hasher.hash("not-a-real-password: timing equaliser")


def use_fast_hashing(enabled: bool = True) -> None:
    """Switch to cheap argon2 parameters (test suites only, which hash thousands of times) or back."""
    global _hasher, DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if enabled else PasswordHasher()
    DUMMY_HASH = _hasher.hash("not-a-real-password: timing equaliser")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Return the shipped list of ~20,000 common and breached passwords (lowercase)."""
    with gzip.open(DATA / "common-passwords.txt.gz", "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def normalize(password: str) -> str:
    """Return the password in NFKC form (the form that is checked and hashed)."""
    return unicodedata.normalize("NFKC", password)


def _is_repetitive(password: str) -> bool:
    lowered = password.lower()
    if len(set(lowered)) <= 2:
        return True
    if re.fullmatch(r"(.{1,4})\1+.{0,3}", lowered):  # "abcabcabc", "probationprobation" is caught by context
        return True
    steps = set()
    for a, b in zip(lowered, lowered[1:], strict=False):
        step = ord(b) - ord(a)
        if a.isdigit() and b.isdigit():  # the keyboard's row of digits runs on: "...7890123..."
            step = {-9: 1, 9: -1}.get(step, step)
        steps.add(step)
    return steps <= {1} or steps <= {-1}  # "abcdefgh...", "123456789..."


#: Why a password is refused: each refusal names its own reason, in words a user can act on.
REASONS = {
    "list": "This password is on a list of common or breached passwords. Choose another.",
    "repeated": "Avoid repeated or sequential characters such as 'aaaa' or '1234'.",
    "personal": "Don't build the password from your name, your e-mail address or your agency's name.",
    "pattern": (
        "This is a common password with a few characters added, a pattern that attackers try first. "
        "Choose another, such as a few unrelated words."
    ),
    "service": "Don't build the password from words about this service, such as 'ICOTS', 'probation' or 'helpdesk'.",
    "mixed": (
        "Don't build the password from your name, your e-mail address, your agency's name or words about this service."
    ),
}


def _built_from(squashed: str, words: set[str]) -> bool:
    """Return whether `squashed` is made of `words` (at least one of them) and figures, with under 4 letters more."""
    stripped = squashed
    for word in sorted(words, key=len, reverse=True):
        stripped = stripped.replace(word, "")
    return stripped != squashed and len(re.sub(r"\d+", "", stripped)) < 4


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """The rules a new password must meet."""

    min_length: int = 15

    def problems(self, password: str, *, context: tuple[str, ...] = ()) -> list[str]:
        """Return why `password` is refused, in words a user can act on ([] = accepted)."""
        candidate = normalize(password)
        if len(candidate) < self.min_length:
            return [f"Use at least {self.min_length} characters; a few unrelated words make a good password."]
        if len(candidate) > MAX_LENGTH:
            return [f"Use at most {MAX_LENGTH} characters."]
        lowered = candidate.lower()
        squashed = re.sub(r"[\W_]+", "", lowered)
        if lowered in common_passwords():
            return [REASONS["list"]]
        if _is_repetitive(candidate):
            return [REASONS["repeated"]]
        personal = {w for w in _context_words(context) if len(w) >= 4}
        service = {w for w in SERVICE_WORDS if len(w) >= 4}
        if _built_from(squashed, personal):
            return [REASONS["personal"]]
        core = re.sub(r"\d+", "", squashed)  # "password1234567" -> "password"; "Summer2024!!!" -> "summer"
        if squashed in common_passwords() or (core != squashed and core in common_passwords()):
            return [REASONS["pattern"]]
        if _built_from(squashed, service):
            return [REASONS["service"]]
        if _built_from(squashed, personal | service):
            return [REASONS["mixed"]]
        return []


def _context_words(context: tuple[str, ...]) -> list[str]:
    words: list[str] = []
    for value in context:
        words.extend(w for w in re.split(r"[\W_]+", value.lower()) if w)
    return words


def hash_password(password: str) -> str:
    """Return the argon2id hash of the (normalised) password."""
    return _hasher.hash(normalize(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; an account without a password still costs one verification (no timing oracle)."""
    try:
        return _hasher.verify(stored_hash or DUMMY_HASH, normalize(password)) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Return whether the hash uses outdated parameters and should be replaced at the next sign-in."""
    return _hasher.check_needs_rehash(stored_hash)
