"""One normaliser for every text a person types (forms, JSON API, services): NFC, no controls, nothing hidden.

A single-line value (a subject, a name, an address, a token name) keeps only what a reader sees: no line break,
tab, control, bidi override or zero-width character. A multi-line value (a description, a comment) keeps its
newlines and tabs but loses the controls and the bidi overrides. A value with nothing visible left is empty,
so that a required field refuses it.
"""

from __future__ import annotations

import re
import unicodedata

#: Every kind of line break, written as "\n" in multi-line text (CR LF first: one break, not two).
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
#: C0 and C1 controls other than tab and newline, DEL, lone surrogates (from JSON) and the two noncharacters.
_CONTROLS = "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff"
#: Bidi embeddings, overrides and isolates: they reorder what is shown ("gpj.exe" displayed as "exe.jpg").
_BIDI = "\u202a-\u202e\u2066-\u2069"
#: Zero-width and invisible characters: a value that looks empty, or two names that look alike.
_INVISIBLE = "\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2060-\u2064\u3164\ufeff\uffa0"
_MULTI_LINE_DROP = re.compile(f"[{_CONTROLS}{_BIDI}]")
_SINGLE_LINE_DROP = re.compile(f"[{_CONTROLS}{_BIDI}{_INVISIBLE}]")
#: Blank though not whitespace: the invisible characters above (kept in multi-line text) and the Braille blank.
_BLANK = re.compile(f"[{_INVISIBLE}\u2800]")


def has_visible(text: str) -> bool:
    """Return whether `text` shows anything: a character that is neither space, control, format nor blank."""
    return any(not char.isspace() and unicodedata.category(char) not in ("Cc", "Cf") for char in _BLANK.sub("", text))


def clean_line(value: str) -> str:
    """Return a single-line value as kept: NFC, breaks and tabs as spaces, hidden characters dropped, trimmed."""
    text = unicodedata.normalize("NFC", _LINE_BREAKS.sub(" ", value).replace("\t", " ").replace("\n", " "))
    text = _SINGLE_LINE_DROP.sub("", text).strip()
    return text if has_visible(text) else ""


def clean_text(value: str) -> str:
    """Return a multi-line value as kept: NFC, "\\n" line breaks, tabs kept, controls and bidi overrides dropped."""
    text = _MULTI_LINE_DROP.sub("", unicodedata.normalize("NFC", _LINE_BREAKS.sub("\n", value)))
    return text if has_visible(text) else ""
