"""Text analysis shared by indexing, querying, spelling and snippets: one tokenizer, one stemmer."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from whoosh.analysis import Analyzer, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter, SubstitutionFilter
from whoosh.analysis.filters import STOP_WORDS as _WHOOSH_STOP_WORDS
from whoosh.lang.porter2 import stem as _porter2

#: Words joined by single dots ("icots.org") or apostrophes ("can't", "user's") stay one token: "can't log in"
#: is the help desk's commonest question, and "can" + "t" would be two stop words. Set explicitly because
#: whoosh-ng's default pattern keeps `*` inside tokens, so Markdown emphasis would leak into the index.
TOKEN_PATTERN = r"\w+(?:[.'\u2019]?\w+)*"
_TOKEN_RE = re.compile(TOKEN_PATTERN)
_CURLY = "\u2019"

#: Whoosh's English list plus the question words every FAQ heading shares: they would only add noise.
STOP_WORDS = frozenset(_WHOOSH_STOP_WORDS) | frozenset(
    {
        "do",
        "does",
        "did",
        "i",
        "me",
        "my",
        "our",
        "how",
        "what",
        "who",
        "where",
        "why",
        "which",
        "there",
        "their",
        "its",
        "am",
        "was",
        "were",
        "has",
        "into",
        "onto",
        "it's",
        "i'm",
        "i've",
        "i'd",
        "i'll",
        "you're",
        "you've",
        "you'll",
        "we're",
        "we've",
        "we'll",
        "they're",
        "that's",
        "there's",
        "let's",
        "what's",
        "here's",
    }
)
MIN_TOKEN = 2  # single letters ("e" of "e-mail", "t" of "can't") carry no meaning on their own

#: Bump when the analysis changes in a way the token pattern and stop list do not show (stemmer, filters).
_ANALYSIS_REVISION = "porter2-apostrophe-2"


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """Return the Porter2 stem of a lowercase word (cached: the vocabulary is small and repetitive)."""
    stemmed: str = _porter2(word)  # whoosh is read untyped (Any)
    return stemmed


def stem_analyzer() -> Analyzer:
    """Return the analyzer of the searchable fields: tokenize, lowercase, drop stop words, stem."""
    # Porter2 rather than whoosh-ng's Porter: the latter leaves "logging" as "logg" and "resetting" as "resett".
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | SubstitutionFilter(_CURLY, "'")
        | StopFilter(stoplist=STOP_WORDS, minsize=MIN_TOKEN)
        | StemFilter(stemfn=_porter2, cachesize=100_000)
    )


def word_analyzer() -> Analyzer:
    """Return the analyzer of the spelling field: whole lowercase words, no stemming."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | SubstitutionFilter(_CURLY, "'")
        | StopFilter(stoplist=STOP_WORDS, minsize=MIN_TOKEN)
    )


def words(text: str) -> list[str]:
    """Return the lowercase tokens of `text`, stop words included (query parsing needs them for phrases)."""
    return [m.group(0) for m in _TOKEN_RE.finditer(text.lower().replace(_CURLY, "'"))]


def is_content_word(word: str) -> bool:
    """Tell whether a lowercase token would survive the stop filter."""
    return len(word) >= MIN_TOKEN and word not in STOP_WORDS


def stems(text: str) -> list[str]:
    """Return the indexed terms of `text`, exactly as the stem analyzer produces them."""
    return [stem(w) for w in words(text) if len(w) >= MIN_TOKEN and w not in STOP_WORDS]


def content_words(text: str) -> set[str]:
    """Return the distinct unstemmed words of `text` that would be indexed: the spelling vocabulary."""
    found = set(_TOKEN_RE.findall(text.lower().replace(_CURLY, "'"))) - STOP_WORDS
    return {w for w in found if len(w) >= MIN_TOKEN}


def token_spans(text: str) -> list[tuple[int, int, str]]:
    """Return (start, end, lowercase word) for every token of `text`, for highlighting."""
    return [(m.start(), m.end(), m.group(0).lower().replace(_CURLY, "'")) for m in _TOKEN_RE.finditer(text)]


def analysis_version() -> str:
    """Return a short digest of everything that decides which terms the index holds."""
    spec = "\n".join([_ANALYSIS_REVISION, TOKEN_PATTERN, str(MIN_TOKEN), ",".join(sorted(STOP_WORDS))])
    return hashlib.sha256(spec.encode()).hexdigest()[:16]
