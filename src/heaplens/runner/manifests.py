"""OpenClaw's three manifests, in OpenClaw's shapes.

- behavior (``test/fixtures/test-parallel.behavior.json``): old schema ``{"unit": {"isolated": [..],
  "singletonIsolated": [..], "threadSingleton": [..], "vmForkSingleton": [..]}}``; new schema
  ``{"<surface>": {"isolated": [..], "threadPinned": [..], "isolatedPrefixes": [..]}}``. An entry is a
  path or ``{"file": path, "reason": text}``.
- timings (``test/fixtures/test-timings.unit.json``): ``{"defaultDurationMs": 250, "files": {path:
  {"durationMs": float, "testCount": int}}}``; ``durationMs <= 0`` is dropped.
- memory hotspots (``test/fixtures/test-memory-hotspots.unit.json``): ``{"defaultMinDeltaKb": 262144,
  "files": {path: {"deltaKb": int, "sources": [..]}}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..inputfile import parse_json, read_text

DEFAULT_BEHAVIOR = "test/fixtures/test-parallel.behavior.json"
DEFAULT_TIMINGS = "test/fixtures/test-timings.unit.json"
DEFAULT_HOTSPOTS = "test/fixtures/test-memory-hotspots.unit.json"

OLD_KEYS = ("isolated", "singletonIsolated", "threadSingleton", "vmForkSingleton")
NEW_KEYS = ("isolated", "threadPinned", "isolatedPrefixes")


@dataclass
class Entry:
    file: str
    reason: str | None
    surface: str
    key: str  # isolated | singletonIsolated | threadSingleton | vmForkSingleton | threadPinned | isolatedPrefixes
    source: str  # "<manifest path>: <surface>.<key>"


@dataclass
class Behavior:
    path: str | None = None
    entries: list[Entry] = field(default_factory=list)
    prefixes: list[Entry] = field(default_factory=list)  # file = the prefix


@dataclass
class Timings:
    path: str | None = None
    default_ms: float = 250.0
    files: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Hotspots:
    path: str | None = None
    min_delta_kb: int = 262144
    files: dict[str, int] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)


def norm(p: str) -> str:
    p = p.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


def _load_json(path: Path, what: str) -> dict:
    # reading only: a repeated key counts as JSON.parse counts it (the last); deep nesting is refused
    data = parse_json(read_text(path, f"the {what} manifest"), f"the {what} manifest {path}", unique_keys=False)
    if not isinstance(data, dict):
        raise UsageError(f"the {what} manifest {path} is not a JSON object")
    return data


def _resolve(root: Path, given: str | None, default: str) -> Path | None:
    """An explicit path must exist; OpenClaw's default path is used when present."""
    if given:
        p = Path(given)
        if not p.is_absolute():
            p = root / p
        if not p.is_file():
            raise UsageError(f"manifest not found: {p}")
        return p
    p = root / default
    return p if p.is_file() else None


def _entries(value, surface: str, key: str, source: str) -> list[Entry]:
    out = []
    if not isinstance(value, list):
        raise UsageError(f"{source}: expected a list")
    for item in value:
        if isinstance(item, str):
            out.append(Entry(norm(item), None, surface, key, source))
        elif isinstance(item, dict) and isinstance(item.get("file"), str):
            reason = item.get("reason")
            out.append(Entry(norm(item["file"]), str(reason) if reason else None, surface, key, source))
        else:
            raise UsageError(f"{source}: an entry is neither a path nor {{file, reason}}: {item!r}")
    return out


def load_behavior(root: Path, given: str | None = None) -> Behavior:
    path = _resolve(root, given, DEFAULT_BEHAVIOR)
    b = Behavior()
    if path is None:
        return b
    b.path = str(path)
    data = _load_json(path, "behavior")
    for surface, section in data.items():
        if not isinstance(section, dict):
            continue
        for key, value in section.items():
            if key not in OLD_KEYS and key not in NEW_KEYS:
                continue
            src = f"{path.name}: {surface}.{key}"
            es = _entries(value, surface, key, src)
            if key == "isolatedPrefixes":
                b.prefixes.extend(es)
            else:
                b.entries.extend(es)
    return b


def load_timings(root: Path, given: str | None = None) -> Timings:
    path = _resolve(root, given, DEFAULT_TIMINGS)
    t = Timings()
    if path is None:
        return t
    t.path = str(path)
    data = _load_json(path, "timings")
    if isinstance(data.get("defaultDurationMs"), (int, float)) and data["defaultDurationMs"] > 0:
        t.default_ms = float(data["defaultDurationMs"])
    for f, v in (data.get("files") or {}).items():
        if isinstance(v, dict) and isinstance(v.get("durationMs"), (int, float)) and v["durationMs"] > 0:
            t.files[norm(f)] = float(v["durationMs"])
            if isinstance(v.get("testCount"), int):
                t.counts[norm(f)] = v["testCount"]
    return t


def load_hotspots(root: Path, given: str | None = None) -> Hotspots:
    path = _resolve(root, given, DEFAULT_HOTSPOTS)
    h = Hotspots()
    if path is None:
        return h
    h.path = str(path)
    data = _load_json(path, "memory-hotspot")
    if isinstance(data.get("defaultMinDeltaKb"), (int, float)) and data["defaultMinDeltaKb"] > 0:
        h.min_delta_kb = int(data["defaultMinDeltaKb"])
    for f, v in (data.get("files") or {}).items():
        if isinstance(v, dict) and isinstance(v.get("deltaKb"), (int, float)) and v["deltaKb"] > 0:
            h.files[norm(f)] = int(v["deltaKb"])
            if isinstance(v.get("sources"), list):
                h.sources[norm(f)] = [str(s) for s in v["sources"]]
    return h
