"""Turn query text into concepts: words or synonym phrases, corrected and completed; query syntax means nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from helpdesk.search.analysis import is_content_word, words
from helpdesk.search.spelling import Vocabulary
from helpdesk.search.synonyms import Alternative, SynonymTable

MAX_TOKENS = 32
MAX_CONCEPTS = 8  # beyond this a query is prose pasted into the box; more terms only cost time
MIN_PREFIX = 2
COMPLETIONS = 6
COMPLETION_WEIGHT = 0.8  # a completion is a guess at what the user will type; the full word they typed is not


@dataclass(frozen=True, slots=True)
class Concept:
    """One thing the user asked for, with every way of saying it."""

    alternatives: tuple[Alternative, ...]
    prefix: str | None = None  # the unfinished last word of a typeahead query


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """The analysed query: its concepts, the corrected query (if a word was corrected) and the stems to mark."""

    concepts: tuple[Concept, ...]
    suggestion: str | None
    highlight: frozenset[str]


def plan_query(
    text: str,
    synonyms: SynonymTable,
    vocabulary: Vocabulary | None = None,
    known_stem: Callable[[str], bool] | None = None,
    *,
    typeahead: bool = False,
) -> QueryPlan:
    """Analyse normalised query text; never interprets query syntax, every character is just text."""
    tokens = words(text)[:MAX_TOKENS]
    prefix = tokens.pop() if typeahead and tokens and not _finished(tokens, synonyms) else None
    corrections: dict[str, str] = {}
    if vocabulary is not None:
        for i, token in enumerate(tokens):
            if _is_unknown(token, synonyms, vocabulary, known_stem):
                fixed = vocabulary.correct(token)
                if fixed is not None:
                    corrections[token], tokens[i] = fixed, fixed
    concepts: list[Concept] = []
    i = 0
    while i < len(tokens):
        found = synonyms.match(tokens, i)
        if found is not None:
            group, length = found
            concepts.append(Concept(tuple(synonyms.alternatives(group, tuple(tokens[i : i + length])))))
            i += length
            continue
        if is_content_word(tokens[i]):
            concepts.append(Concept((Alternative((tokens[i],), 1.0),)))
        i += 1
    if prefix is not None:
        concept, fixed = _prefix_concept(prefix, synonyms, vocabulary, known_stem)
        if fixed is not None:
            corrections[prefix] = fixed
        if concept is not None:
            concepts.append(concept)
    unique = list(dict.fromkeys(concepts))[:MAX_CONCEPTS]  # "password password" asks for one thing
    highlight = frozenset(t for c in unique for alt in c.alternatives for t in alt.terms)
    return QueryPlan(tuple(unique), _suggestion(text, corrections), highlight)


def _finished(tokens: list[str], synonyms: SynonymTable) -> bool:
    """Tell whether the last word typed is complete already: it ends a synonym phrase ("log in"), or it is a
    stop word after other words (completing "in" to "individuals" only adds noise; one more letter will do)."""
    if len(tokens) > 1 and not is_content_word(tokens[-1]):
        return True
    for start in range(max(0, len(tokens) - 3), len(tokens) - 1):
        found = synonyms.match(tokens, start)
        if found is not None and start + found[1] == len(tokens):
            return True
    return False


def _is_unknown(
    token: str, synonyms: SynonymTable, vocabulary: Vocabulary, known_stem: Callable[[str], bool] | None
) -> bool:
    if not is_content_word(token) or token in vocabulary or token in synonyms.vocabulary:
        return False
    # An inflection the index never saw ("deactivating") is still a real word if its stem is indexed.
    return not (known_stem is not None and known_stem(token))


def _prefix_concept(
    prefix: str, synonyms: SynonymTable, vocabulary: Vocabulary | None, known_stem: Callable[[str], bool] | None
) -> tuple[Concept | None, str | None]:
    """Return the concept for the word being typed, and its correction when nothing starts with it."""
    if len(prefix) < MIN_PREFIX:
        return None, None
    found = synonyms.match([prefix], 0)
    typed = synonyms.alternatives(found[0], (prefix,)) if found else [Alternative((prefix,), 1.0)]
    if vocabulary is None:
        return Concept(tuple(typed), prefix), None
    completions = [w for w in vocabulary.complete(prefix, COMPLETIONS) if w != prefix]
    if not completions and _is_unknown(prefix, synonyms, vocabulary, known_stem):
        fixed = vocabulary.correct(prefix)
        if fixed is not None:
            return Concept((Alternative((fixed,), 1.0),), prefix), fixed
    alternatives = [a for a in typed if a.terms] + [Alternative((w,), COMPLETION_WEIGHT) for w in completions]
    unique = list({a.terms: a for a in reversed(alternatives)}.values())[::-1]  # keep the first of each term
    return (Concept(tuple(unique), prefix) if unique else None), None


def _suggestion(text: str, corrections: dict[str, str]) -> str | None:
    """Return the query with corrected words replaced, or None when nothing was corrected."""
    if not corrections:
        return None
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in corrections) + r")\b")
    return pattern.sub(lambda m: corrections[m.group(1)], text.lower())
