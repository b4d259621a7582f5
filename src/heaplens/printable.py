"""Text from snapshots and run records, made safe to print.

A heap snapshot holds names chosen by the code under test (class names, property names, string
contents, script URLs); a run record holds paths and command lines. Printed raw, an ``ESC``
sequence in one of them can clear the screen, recolour the rest of the output, set the window title
or write to the clipboard (OSC 52); a bidirectional override (U+202E) can make a line read backwards;
a lone surrogate cannot even be encoded. Every command passes what it prints through here:

- :func:`text` for a whole document (a table, a Markdown report, a JSON document): every character
  a terminal would act on is replaced by its ``\\uXXXX`` escape, except the newlines and tabs that
  lay the document out. In a JSON document the replaced characters can only sit inside strings, where
  ``\\uXXXX`` is the same character again, so the document stays exact.
- :func:`line` for one value printed on one line (an error message, a name in a sentence): newlines and tabs
  too.
- :func:`lines` for a text printed line by line (a diff, a fix in several lines): each line by :func:`line`.
- :func:`deep` for a nested model (dicts, lists) whose strings are rendered later by a templating
  layer: every string (and key) goes through :func:`text`.

Replaced: C0 and C1 control characters (U+0000–U+001F, U+007F–U+009F), the Unicode line and paragraph
separators (U+2028, U+2029), the bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
U+2066–U+2069) and surrogates (U+D800–U+DFFF, never valid on their own). Everything else, including
non-ASCII letters and emoji, is printed as is.
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_SEPARATORS = "\u2028\u2029"
_SURROGATES = "\ud800-\udfff"
# \t (09) and \n (0a) are kept by text(); everything else below U+0020, DEL and C1 is not
_UNSAFE_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_SEPARATORS}{_BIDI}{_SURROGATES}]")
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_SEPARATORS}{_BIDI}{_SURROGATES}]")


def _escape(m: re.Match) -> str:
    return f"\\u{ord(m.group()):04x}"


def text(s: str) -> str:
    """``s`` with every character a terminal acts on escaped, newlines and tabs kept."""
    if _UNSAFE_TEXT.search(s) is None:
        return s
    return _UNSAFE_TEXT.sub(_escape, s)


def line(s) -> str:
    """``s`` (any value: None is "", others their ``str()``) as one printable line: :func:`text`, and
    newlines and tabs escaped too."""
    s = "" if s is None else str(s)
    if _UNSAFE_LINE.search(s) is None:
        return s
    return _UNSAFE_LINE.sub(_escape, s)


def lines(s) -> list[str]:
    """A multi-line text (``None``: none) as its lines, each made printable by :func:`line`: the line
    breaks stay line breaks (a trailing ``\\r`` of a CRLF line goes with its break)."""
    s = "" if s is None else str(s)
    return [line(x.removesuffix("\r")) for x in s.rstrip("\n").split("\n")] if s else []


def deep(obj):
    """A copy of a JSON-like model (dicts, lists, tuples, scalars) with every string made printable
    by :func:`text`; other values are returned as they are."""
    if isinstance(obj, str):
        return text(obj)
    if isinstance(obj, dict):
        return {(text(k) if isinstance(k, str) else k): deep(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(deep(v) for v in obj)
    return obj


def is_printable(s: str) -> bool:
    """True when :func:`text` would leave ``s`` unchanged."""
    return _UNSAFE_TEXT.search(s) is None
