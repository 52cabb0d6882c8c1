"""Turn query text into concepts (words or synonym phrases, corrected and completed) and Whoosh queries."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from whoosh import query as wq

from helpdesk.search.analysis import is_content_word, words
from helpdesk.search.spelling import Vocabulary
from helpdesk.search.synonyms import Alternative, SynonymTable

#: Searched fields and their weights: the article title counts most, then the question, then the answer.
#: `overview` holds the title, summary and introduction of an article that also has question documents,
#: so it is weighted low and a matching question wins over its article.
FIELD_BOOSTS: dict[str, float] = {"title": 3.0, "question": 2.0, "answer": 1.0, "tags": 1.5, "overview": 0.8}
MAX_TOKENS = 32
MAX_CONCEPTS = 8  # beyond this a query is prose pasted into the box; more terms only cost time
MIN_PREFIX = 2
COMPLETIONS = 6
COMPLETION_WEIGHT = 0.8  # a completion is a guess at what the user will type; the full word they typed is not
PHRASE_SLOP = 1
COORD_FLOOR = 0.5
RERANK_DEPTH = 30  # coordination re-orders this many of the best BM25 hits
ALT_TIEBREAK = 0.2  # a second synonym in the same field adds a little evidence, not a full match


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


def plan_query(text: str, synonyms: SynonymTable, vocabulary: Vocabulary | None = None,
               known_stem: Callable[[str], bool] | None = None, *, typeahead: bool = False) -> QueryPlan:
    """Analyse normalised query text; never interprets query syntax, every character is just text."""
    tokens = words(text)[:MAX_TOKENS]
    prefix = tokens.pop() if typeahead and tokens else None
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


def _is_unknown(token: str, synonyms: SynonymTable, vocabulary: Vocabulary,
                known_stem: Callable[[str], bool] | None) -> bool:
    if not is_content_word(token) or token in vocabulary or token in synonyms.vocabulary:
        return False
    # An inflection the index never saw ("deactivating") is still a real word if its stem is indexed.
    return not (known_stem is not None and known_stem(token))


def _prefix_concept(prefix: str, synonyms: SynonymTable, vocabulary: Vocabulary | None,
                    known_stem: Callable[[str], bool] | None) -> tuple[Concept | None, str | None]:
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


def _field_query(field: str, alt: Alternative, boost: float) -> wq.Query | None:
    terms = alt.terms
    if not terms:
        return None
    if len(terms) == 1:
        return wq.Term(field, terms[0], boost=boost * alt.weight)
    return wq.Phrase(field, list(terms), slop=PHRASE_SLOP, boost=boost * alt.weight)


def concept_queries(plan: QueryPlan, fields: dict[str, float] = FIELD_BOOSTS) -> list[wq.Query]:
    """Return one Whoosh query per concept: each field scores its best way of saying the concept."""
    # Max over alternatives per field, summed over fields: a synonym in the (shared) title must not hide
    # the evidence of the question and answer fields, and three synonyms in one answer are not three matches.
    concepts: list[wq.Query] = []
    for concept in plan.concepts:
        per_field: list[wq.Query] = []
        for field, boost in fields.items():
            alts = [q for q in (_field_query(field, a, boost) for a in concept.alternatives) if q is not None]
            if alts:
                per_field.append(alts[0] if len(alts) == 1 else wq.DisjunctionMax(alts, tiebreak=ALT_TIEBREAK))
        if per_field:
            concepts.append(wq.Or(per_field))
    return concepts


def to_whoosh(plan: QueryPlan, fields: dict[str, float] = FIELD_BOOSTS) -> wq.Query:
    """Build the Whoosh query: a document matching any concept matches."""
    concepts = concept_queries(plan, fields)
    if not concepts:
        return wq.NullQuery
    return concepts[0] if len(concepts) == 1 else wq.Or(concepts)


def coordination(matched: int, total: int) -> float:
    """Return the score factor of a document that matches `matched` of `total` concepts."""
    # Summed BM25 lets one strong word outweigh several weaker ones; a help-desk question that asks for three
    # things is better answered by the text that has all three.
    return 1.0 if total <= 1 else COORD_FLOOR + (1.0 - COORD_FLOOR) * matched / total
