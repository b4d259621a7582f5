"""Edit a JSON document as text, so that everything not edited stays byte for byte.

Re-serialising a hand-maintained manifest would reflow it (one-line arrays, key spacing, escapes,
a missing trailing newline) and bury the real change in a noisy diff. Instead we find where the
value to extend sits in the text and splice new members in, copying the separators and
indentation of their neighbours. The text must already be valid JSON (checked by the caller with
``json.loads``), so the scanner below trusts its structure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from json.decoder import scanstring

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


@dataclass
class Member:
    """One member of an object (``key`` set) or an array, with where it sits in the text."""

    key: str | None
    start: int  # the key's opening quote (objects) or the value's first character (arrays)
    colon: str  # the text between the key's closing quote and its value, e.g. ": " (objects only)
    value_start: int
    end: int  # one past the value


def skip_ws(text: str, i: int) -> int:
    return _WS.match(text, i).end()


def members(text: str, open_at: int) -> tuple[list[Member], int]:
    """The members of the object or array whose opening bracket is at ``open_at``, and the index of
    its closing bracket."""
    is_object = text[open_at] == "{"
    close = "}" if is_object else "]"
    out: list[Member] = []
    i = skip_ws(text, open_at + 1)
    if text[i] == close:
        return out, i
    while True:
        key, colon, v = None, "", i
        if is_object:
            key, k_end = scanstring(text, i + 1)
            v = skip_ws(text, skip_ws(text, k_end) + 1)
            colon = text[k_end:v]
        end = _DECODER.raw_decode(text, v)[1]
        out.append(Member(key, i, colon, v, end))
        i = skip_ws(text, end)
        if text[i] == close:
            return out, i
        i = skip_ws(text, i + 1)  # past the comma


def root_start(text: str) -> int:
    return skip_ws(text, 0)


def line_indent(text: str, pos: int) -> str:
    """The leading whitespace of the line holding ``pos``."""
    line_start = text.rfind("\n", 0, pos) + 1
    return _WS.match(text, line_start).group(0).replace("\n", "").replace("\r", "")


def indent_unit(text: str) -> str:
    """The file's indentation step: how far the root object's first member is indented (2 spaces
    when the file is on one line or empty)."""
    start = root_start(text)
    ms, _ = members(text, start)
    if ms and "\n" in text[start:ms[0].start]:
        ind = line_indent(text, ms[0].start)
        if ind:
            return ind
    return "  "


def _separator(text: str, open_at: int, ms: list[Member]) -> str:
    """What goes between the last member and a new one: a copy of the previous separator."""
    if len(ms) > 1:
        return text[ms[-2].end:ms[-1].start]
    lead = text[open_at + 1:ms[0].start]
    return "," + (lead or " ")


def _reindent(value_text: str, indent: str) -> str:
    """A multi-line rendered value placed at ``indent``: every line after the first shifts right."""
    return value_text.replace("\n", "\n" + indent)


def append_items(text: str, open_at: int, items: list[str], unit: str) -> str:
    """Append rendered ``items`` to the array at ``open_at``."""
    ms, close = members(text, open_at)
    if ms:
        sep = _separator(text, open_at, ms)
        item_indent = sep[sep.rfind("\n") + 1:] if "\n" in sep else ""
        added = "".join(sep + _reindent(it, item_indent) if item_indent else sep + it for it in items)
        return text[:ms[-1].end] + added + text[ms[-1].end:]
    indent = line_indent(text, open_at)
    inner = indent + unit
    body = ",\n".join(inner + _reindent(it, inner) for it in items)
    return text[:open_at] + "[\n" + body + "\n" + indent + "]" + text[close + 1:]


def add_member(text: str, open_at: int, key: str, value_text: str, unit: str) -> str:
    """Add ``"key": value`` as the last member of the object at ``open_at``; ``value_text`` is rendered
    with ``unit`` indentation from column 0 and is shifted to where the new member sits."""
    ms, close = members(text, open_at)
    k = json.dumps(key, ensure_ascii=False)
    if ms:
        sep = _separator(text, open_at, ms)
        colon = ms[-1].colon or ": "
        if "\n" not in sep:
            value_text = json.dumps(json.loads(value_text), ensure_ascii=False)  # a one-line object stays one line
            return text[:ms[-1].end] + sep + k + colon + value_text + text[ms[-1].end:]
        indent = sep[sep.rfind("\n") + 1:]
        return text[:ms[-1].end] + sep + k + colon + _reindent(value_text, indent) + text[ms[-1].end:]
    indent = line_indent(text, open_at)
    inner = indent + unit
    return (text[:open_at] + "{\n" + inner + k + ": " + _reindent(value_text, inner) + "\n" + indent + "}"
            + text[close + 1:])
