"""``heaplens isolate``: move test files out of the shared lanes by listing them in the behavior manifest.

The manifest is hand-maintained and reviewed, so the edit is minimal: new entries are spliced into the
existing text (see :mod:`heaplens.fix.jsontext`) in the style the list already uses, and the rest of the
file stays byte for byte. Both OpenClaw schemas are handled (``heaplens.runner.manifests``); the old
schema's ``singletonIsolated`` is refused in a new-schema manifest, whose planner no longer reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..runner import manifests as M
from . import jsontext as J
from .atomic import unified_diff, write_text_atomic
from .common import label, manifest_path, parse_manifest, read_exact

KINDS = ("isolated", "singletonIsolated")
OLD_ONLY = ("singletonIsolated", "threadSingleton", "vmForkSingleton")
NEW_ONLY = ("threadPinned", "isolatedPrefixes")


@dataclass
class IsolateResult:
    path: Path  # the behavior manifest
    surface: str
    kind: str
    added: list[str] = field(default_factory=list)  # suite-relative paths, in the order given
    already: list[tuple[str, str]] = field(default_factory=list)  # (file, where it is: "unit.isolated" …)
    diff: str = ""  # unified diff of the manifest ("" when nothing was added)
    text: str | None = None  # the manifest's new text (None when nothing was added)
    before: str = ""  # the manifest's text as read ("" when it did not exist)
    created: bool = False  # the manifest did not exist
    written: bool = False  # False with dry_run or when nothing was added

    @property
    def where(self) -> str:
        return f"{self.surface}.{self.kind}"


def suite_path(root: Path, given: str | Path) -> str:
    """A test file given on the command line (relative to the working directory or to the suite root) as
    the manifest stores it: relative to the suite root, forward slashes. The file must exist."""
    p = Path(given)
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, root / p]
    found = [c for c in candidates if c.is_file()]
    for c in found:
        try:
            return c.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue  # e.g. a same-named file under the working directory, outside the suite: try the root's
    if found:
        raise UsageError(f"{given} is outside the suite root {root} (nothing written)")
    raise UsageError(f"no such test file: {given} (nothing written)")


def _schema(data: dict) -> str:
    """``old``, ``new`` or ``either`` (only ``unit.isolated``-style content)."""
    keys = {k for s in data.values() if isinstance(s, dict) for k in s}
    if set(data) - {"unit"} or keys & set(NEW_ONLY):
        return "new"
    if keys & set(OLD_ONLY):
        return "old"
    return "either"


def _render(file: str, reason: str | None, as_object: bool, sample: str | None, unit: str) -> str:
    """One entry, rendered like the manifest's existing objects (one line or spread over lines; spread, as
    ``JSON.stringify(…, null, 2)`` writes them, when there is none to copy)."""
    if not as_object:
        return json.dumps(file, ensure_ascii=False)
    obj = {"file": file, **({"reason": reason} if reason else {})}
    if sample is None or "\n" in sample:
        return json.dumps(obj, indent=unit, ensure_ascii=False)
    compact = '": ' not in sample
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":") if compact else (", ", ": "))
    if sample.startswith("{ ") and sample.endswith(" }"):  # prettier's padded braces
        text = "{ " + text[1:-1] + " }"
    return text


def _present(behavior: M.Behavior, file: str) -> str | None:
    for e in behavior.entries:
        if e.file == file:
            return f"{e.surface}.{e.key}"
    for p in behavior.prefixes:
        if file.startswith(p.file):
            return f"{p.surface}.isolatedPrefixes ({p.file})"
    return None


def isolate(root: str | Path, files: list[str | Path], reason: str | None = None, kind: str = "isolated",
            behavior_path: str | Path | None = None, surface: str = "unit", dry_run: bool = False) -> IsolateResult:
    """Add ``files`` to ``<surface>.<kind>`` of the behavior manifest (created, old schema, if missing).

    Files already listed anywhere in the manifest (or covered by an ``isolatedPrefixes`` prefix) are
    reported in ``.already``, not added. A file that does not exist raises :class:`UsageError` before
    anything is written. ``dry_run`` computes ``.diff`` without writing.
    """
    if kind not in KINDS:
        raise UsageError(f"--as {kind}: expected one of {', '.join(KINDS)}")
    if kind in OLD_ONLY and surface != "unit":
        raise UsageError(f"{kind} exists only in the unit section (old schema), not in {surface}")
    root = Path(root)
    path = manifest_path(root, behavior_path, M.DEFAULT_BEHAVIOR)
    rels = []
    for f in files:
        rel = suite_path(root, f)
        if rel not in rels:
            rels.append(rel)
    result = IsolateResult(path=path, surface=surface, kind=kind, created=not path.exists())

    if result.created:
        before, data = "", {}
        behavior = M.Behavior()
    else:
        if not path.is_file():
            raise UsageError(f"behavior manifest {path} is not a file")
        before = result.before = read_exact(path, "behavior")
        data = parse_manifest(before, path, "behavior")  # no duplicate keys, no deep nesting
        behavior = M.load_behavior(root, str(path))  # also checks the entries
        if not isinstance(data, dict):
            raise UsageError(f"the behavior manifest {path} is not a JSON object")
        if kind in OLD_ONLY and _schema(data) == "new":
            raise UsageError(f"{path} uses the new schema (surfaces with isolated/threadPinned), whose planner "
                             f"ignores {kind}: use --as isolated")
        section = data.get(surface)
        if surface in data and not isinstance(section, dict):  # null too: there is nothing to add to
            raise UsageError(f"{path}: {surface} is not an object")
        if isinstance(section, dict) and kind in section and not isinstance(section[kind], list):
            raise UsageError(f"{path}: {surface}.{kind} is not a list")

    for rel in rels:
        where = _present(behavior, rel)
        if where:
            result.already.append((rel, where))
        else:
            result.added.append(rel)
    if not result.added:
        return result

    crlf = "\r\n" in before and "\n" not in before.replace("\r\n", "")  # a Windows-edited manifest stays CRLF
    if crlf:
        after = _with_entries(before.replace("\r\n", "\n"), data, surface, kind, result.added, reason)
        after = after.replace("\n", "\r\n")
    else:
        after = _with_entries(before, data, surface, kind, result.added, reason)
    result.diff = unified_diff(before, after, label(root, path))
    result.text = after
    if not dry_run:
        write_text_atomic(path, after)
        result.written = True
    return result


def _with_entries(before: str, data: dict, surface: str, kind: str, files: list[str], reason: str | None) -> str:
    """The manifest text with ``files`` appended to ``surface.kind`` (the list, or the section, added
    at the end when missing)."""
    if not before.strip():
        entries = [{"file": f, "reason": reason} if reason else f for f in files]
        return json.dumps({surface: {kind: entries}}, indent=2, ensure_ascii=False) + "\n"
    unit = J.indent_unit(before)
    current = (data.get(surface) or {}).get(kind) or []
    has_objects = any(isinstance(e, dict) for e in current)
    sample = _object_sample(before, surface, kind) if has_objects else _any_object_sample(before)
    items = [_render(f, reason, bool(reason) or has_objects, sample, unit) for f in files]

    top = J.root_start(before)
    sec = next((m for m in J.members(before, top)[0] if m.key == surface), None)
    new_list = "[\n" + ",\n".join(unit + i.replace("\n", "\n" + unit) for i in items) + "\n]"
    if sec is None:
        k = json.dumps(kind, ensure_ascii=False)
        new_section = "{\n" + unit + k + ": " + new_list.replace("\n", "\n" + unit) + "\n}"
        return J.add_member(before, top, surface, new_section, unit)
    lst = next((m for m in J.members(before, sec.value_start)[0] if m.key == kind), None)
    if lst is None:
        return J.add_member(before, sec.value_start, kind, new_list, unit)
    return J.append_items(before, lst.value_start, items, unit)


def _object_sample(text: str, surface: str, kind: str) -> str | None:
    """The text of the last object entry of ``surface.kind``."""
    ms, _ = J.members(text, J.root_start(text))
    sec = next((m for m in ms if m.key == surface), None)
    lists, _ = J.members(text, sec.value_start)
    lst = next(m for m in lists if m.key == kind)
    items, _ = J.members(text, lst.value_start)
    objs = [text[m.start:m.end] for m in items if text[m.start] == "{"]
    return objs[-1] if objs else None


def _any_object_sample(text: str) -> str | None:
    """An object entry anywhere in the manifest, for the style of a list that has none yet."""
    ms, _ = J.members(text, J.root_start(text))
    for sec in ms:
        if text[sec.value_start] != "{":
            continue
        for lst in J.members(text, sec.value_start)[0]:
            if text[lst.value_start] != "[":
                continue
            for m in J.members(text, lst.value_start)[0]:
                if text[m.start] == "{":
                    return text[m.start:m.end]
    return None
