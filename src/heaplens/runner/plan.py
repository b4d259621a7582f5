"""Lanes from Vitest's file list and OpenClaw's manifests.

Order of decisions for a file (the first that applies wins; ``heaplens plan --explain FILE`` prints it):

1. behavior ``<surface>.isolated`` or a ``<surface>.isolatedPrefixes`` prefix → ``<surface>-<base>-isolated``
   (one file, one worker, isolate);
2. behavior ``unit.singletonIsolated`` → ``unit-singleton[-N]`` (one worker, isolate, ``singleton_batch`` files
   per lane);
3. behavior ``threadSingleton`` / ``vmForkSingleton`` / ``threadPinned`` → ``<surface>-pinned`` (one worker,
   forks: heaplens always runs forks);
4. memory hotspot with ``deltaKb >= minDeltaKb`` → ``unit-<base>-memory-isolated``;
5. timing ``durationMs >= heavy_min_ms`` → ``unit-heavy-N`` (longest-processing-time packing into
   ``heavy_lanes`` buckets, empty ones dropped);
6. everything else → ``unit-fast`` (shared workers, ``isolate=false``), split in Vitest's order into
   ``unit-fast-batch-N`` when the durations pass ``batch_ms``. Files with no timing count the default
   duration and are listed as "no timing".
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath

from ..errors import UsageError
from .manifests import Behavior, Hotspots, Timings

TEST_SUFFIX = re.compile(r"(\.(live|e2e|unit|browser))?\.(test|spec)\.[cm]?[jt]sx?$")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

PINNED_KEYS = ("threadSingleton", "vmForkSingleton", "threadPinned")
KIND_ORDER = ("fast", "heavy", "memory-isolated", "isolated", "singleton", "pinned")


@dataclass
class PlanOptions:
    heavy_min_ms: float = 1200.0
    heavy_lanes: int = 4
    batch_ms: float = 45000.0  # 0: one unit-fast lane
    singleton_batch: int = 10
    memory_min_kb: int | None = None  # None: the hotspot manifest's defaultMinDeltaKb
    workers: int | None = None  # overrides every lane, singletons included (as OPENCLAW_TEST_WORKERS)
    shard: tuple[int, int] | None = None


@dataclass
class Lane:
    name: str
    kind: str
    files: list[str]
    workers: int | None  # None: Vitest's default
    isolate: bool
    pool: str = "forks"
    reasons: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        w = self.workers if self.workers else "default"
        return f"{self.name} files={len(self.files)} workers={w} pool={self.pool} isolate={'yes' if self.isolate else 'no'}"

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Plan:
    lanes: list[Lane]
    files: list[str]
    no_timing: list[str]
    durations: dict[str, float]
    shard: tuple[int, int] | None = None
    sharded_out: int = 0
    manifests: dict[str, str | None] = field(default_factory=dict)
    ignored_entries: list[str] = field(default_factory=list)

    def lane_of(self, file: str) -> Lane | None:
        for lane in self.lanes:
            if file in lane.files:
                return lane
        return None

    def to_json(self) -> dict:
        return {
            "lanes": [l.to_json() for l in self.lanes],
            "files": len(self.files),
            "no_timing": self.no_timing,
            "shard": f"{self.shard[0]}/{self.shard[1]}" if self.shard else None,
            "manifests": self.manifests,
            "ignored_entries": self.ignored_entries,
        }


def safe_name(text: str) -> str:
    """A lane name usable as a directory name: no separators, no dots-only, no leading dash."""
    s = UNSAFE.sub("-", text).strip("-.")
    return s or "lane"


def base_of(file: str) -> str:
    name = PurePosixPath(file).name
    stripped = TEST_SUFFIX.sub("", name)
    return stripped or name


def pack_lpt(files: list[str], durations: dict[str, float], buckets: int) -> list[list[str]]:
    """Longest processing time first: each file, longest first, into the currently lightest bucket."""
    buckets = max(1, buckets)
    loads = [0.0] * buckets
    out: list[list[str]] = [[] for _ in range(buckets)]
    for f in sorted(files, key=lambda f: (-durations[f], f)):
        i = min(range(buckets), key=lambda i: (loads[i], i))
        out[i].append(f)
        loads[i] += durations[f]
    return [b for b in out if b]


def split_by_budget(files: list[str], durations: dict[str, float], budget_ms: float) -> list[list[str]]:
    """In order; a new batch when the next file would take the current one past the budget."""
    if budget_ms <= 0:
        return [list(files)] if files else []
    batches: list[list[str]] = []
    cur: list[str] = []
    total = 0.0
    for f in files:
        d = durations[f]
        if cur and total + d > budget_ms:
            batches.append(cur)
            cur, total = [], 0.0
        cur.append(f)
        total += d
    if cur:
        batches.append(cur)
    return batches


def shard_files(files: list[str], durations: dict[str, float], index: int, count: int) -> list[str]:
    """Files of shard ``index`` (1-based) of ``count``: LPT over durations, so shards take about as
    long as each other; deterministic (ties by path), Vitest's order kept inside a shard."""
    if not (1 <= index <= count):
        raise UsageError(f"--shard {index}/{count}: the index must be between 1 and {count}")
    loads = [0.0] * count
    owner: dict[str, int] = {}
    for f in sorted(files, key=lambda f: (-durations[f], f)):
        i = min(range(count), key=lambda i: (loads[i], i))
        owner[f] = i
        loads[i] += durations[f]
    return [f for f in files if owner[f] == index - 1]


def _unique(name: str, taken: set[str]) -> str:
    n, i = name, 2
    while n in taken:
        n = f"{name}-{i}"
        i += 1
    taken.add(n)
    return n


def build_plan(files: list[str], behavior: Behavior, timings: Timings, hotspots: Hotspots,
               opts: PlanOptions | None = None) -> Plan:
    opts = opts or PlanOptions()
    listed = set(files)
    durations = {f: timings.files.get(f, timings.default_ms) for f in files}
    no_timing = [f for f in files if f not in timings.files]
    ignored = [f"{e.source}: {e.file}" for e in behavior.entries if e.file not in listed]

    sharded_out = 0
    shard = opts.shard
    if shard:
        kept = shard_files(files, durations, *shard)
        sharded_out = len(files) - len(kept)
        files = kept
        no_timing = [f for f in no_timing if f in set(kept)]

    by_file: dict[str, object] = {}
    for e in behavior.entries:
        by_file.setdefault(e.file, e)  # first entry for a file wins
    min_kb = opts.memory_min_kb if opts.memory_min_kb is not None else hotspots.min_delta_kb

    taken: set[str] = set()
    isolated: list[Lane] = []
    memory: list[tuple[int, Lane]] = []
    singles: list[str] = []
    single_reason: dict[str, str] = {}
    pinned: dict[str, Lane] = {}
    heavy: list[str] = []
    fast: list[str] = []
    reasons: dict[str, str] = {}

    for f in files:
        e = by_file.get(f)
        prefix = None
        if e is None:
            prefix = next((p for p in behavior.prefixes if f.startswith(p.file)), None)
        why_e = ""
        if e is not None:
            why_e = f"behavior {e.surface}.{e.key} ({e.source.split(':')[0]})" + (f' reason="{e.reason}"' if e.reason else "")
        if (e is not None and e.key == "isolated") or prefix is not None:
            if prefix is not None:
                surface = prefix.surface
                why = f"behavior {prefix.surface}.isolatedPrefixes prefix={prefix.file!r} ({prefix.source.split(':')[0]})"
            else:
                surface = e.surface
                why = why_e
            name = _unique(safe_name(f"{surface}-{base_of(f)}-isolated"), taken)
            isolated.append(Lane(name, "isolated", [f], 1, True, reasons={f: why}))
        elif e is not None and e.key == "singletonIsolated":
            singles.append(f)
            single_reason[f] = why_e
        elif e is not None and e.key in PINNED_KEYS:
            key = safe_name(f"{e.surface}-pinned")
            lane = pinned.get(key)
            if lane is None:
                lane = pinned[key] = Lane(key, "pinned", [], 1, True)
            lane.files.append(f)
            lane.reasons[f] = why_e + " (run with forks, one worker)"
        elif f in hotspots.files and hotspots.files[f] >= min_kb:
            kb = hotspots.files[f]
            name = _unique(safe_name(f"unit-{base_of(f)}-memory-isolated"), taken)
            src = ", ".join(hotspots.sources.get(f, [])) or "no sources"
            why = f"memory hotspot deltaKb={kb} >= minDeltaKb={min_kb} ({PurePosixPath(hotspots.path or '').name}; {src})"
            memory.append((kb, Lane(name, "memory-isolated", [f], 1, True, reasons={f: why})))
        elif f in timings.files and timings.files[f] >= opts.heavy_min_ms:
            heavy.append(f)
            reasons[f] = f"timing durationMs={timings.files[f]:.1f} >= heavy threshold {opts.heavy_min_ms:.0f} ms"
        else:
            fast.append(f)
            if f in timings.files:
                reasons[f] = f"timing durationMs={timings.files[f]:.1f} < heavy threshold {opts.heavy_min_ms:.0f} ms: shared lane"
            else:
                reasons[f] = f"no timing (default {timings.default_ms:.0f} ms), not a hotspot, no behavior entry: shared lane"

    lanes: list[Lane] = []
    batches = split_by_budget(fast, durations, opts.batch_ms)
    for i, b in enumerate(batches, 1):
        name = "unit-fast" if len(batches) == 1 else f"unit-fast-batch-{i}"
        name = _unique(name, taken)
        extra = "" if len(batches) == 1 else f"; batch {i}/{len(batches)} by the {opts.batch_ms:.0f} ms budget"
        lanes.append(Lane(name, "fast", b, None, False, reasons={f: reasons[f] + extra for f in b}))
    for i, b in enumerate(pack_lpt(heavy, durations, min(opts.heavy_lanes, len(heavy) or 1)), 1):
        name = _unique(f"unit-heavy-{i}", taken)
        lanes.append(Lane(name, "heavy", b, None, False,
                          reasons={f: reasons[f] + f"; LPT-packed into {name}" for f in b}))
    lanes += [lane for _, lane in sorted(memory, key=lambda kl: -kl[0])]
    lanes += isolated
    if singles:
        n = math.ceil(len(singles) / max(1, opts.singleton_batch))
        size = math.ceil(len(singles) / n)
        for i in range(n):
            chunk = singles[i * size:(i + 1) * size]
            name = _unique("unit-singleton" if n == 1 else f"unit-singleton-{i + 1}", taken)
            lanes.append(Lane(name, "singleton", chunk, 1, True, reasons={f: single_reason[f] for f in chunk}))
    lanes += list(pinned.values())
    if opts.workers:
        for lane in lanes:
            lane.workers = opts.workers
    return Plan(
        lanes=lanes,
        files=files,
        no_timing=no_timing,
        durations=durations,
        shard=shard,
        sharded_out=sharded_out,
        manifests={"behavior": behavior.path, "timings": timings.path, "hotspots": hotspots.path},
        ignored_entries=ignored,
    )


def explain(plan: Plan, file: str, timings: Timings, hotspots: Hotspots) -> list[str]:
    lane = plan.lane_of(file)
    if lane is None:
        raise UsageError(f"{file} is not among the {len(plan.files)} test files Vitest lists for this plan")
    t = timings.files.get(file)
    h = hotspots.files.get(file)
    return [
        f"file={file}",
        f"lane={lane.name}",
        f"kind={lane.kind}",
        f"reason={lane.reasons.get(file, '')}",
        f"timing={'%.1fms' % t if t is not None else 'none (default %.0fms: no timing)' % timings.default_ms}",
        f"hotspot={'deltaKb=%d' % h if h is not None else 'none'}",
        f"workers={lane.workers or 'default'}",
        f"pool={lane.pool}",
        f"isolate={'yes' if lane.isolate else 'no'}",
        f"laneFiles={len(lane.files)}",
        "command=vitest run --pool=forks" + (f" --maxWorkers={lane.workers}" if lane.workers else "")
        + (" --isolate" if lane.isolate else " --no-isolate") + f" <{len(lane.files)} file(s) of {lane.name}>",
    ]
