"""Lanes from the runner's file list and OpenClaw's manifests.

Order of decisions for a file (the first that applies wins; ``heaplens plan --explain FILE`` prints it):

1. behavior ``<surface>.isolated`` or a ``<surface>.isolatedPrefixes`` prefix → ``<surface>-<base>-isolated``
   (one file, one worker, isolate);
2. behavior ``unit.singletonIsolated`` → ``unit-singleton[-N]`` (one worker, isolate, ``singleton_batch`` files
   per lane);
3. behavior ``threadSingleton`` → ``<surface>-threads`` (one worker, pool threads), ``vmForkSingleton`` →
   ``<surface>-vmforks`` (one worker, pool vmForks), ``threadPinned`` → ``<surface>-pinned`` (one worker, the
   suite's pool, as OpenClaw's planner);
4. memory hotspot with ``deltaKb >= minDeltaKb`` → ``unit-<base>-memory-isolated``;
5. timing ``durationMs >= heavy_min_ms`` → ``unit-heavy-N`` (longest-processing-time packing into
   ``heavy_lanes`` buckets, empty ones dropped);
6. everything else → ``unit-fast``, split in the runner's order into ``unit-fast-batch-N`` when the durations
   pass ``batch_ms`` (only with a timings manifest, or ``batch_ms`` given). Files with no timing count the
   default duration and are listed as "no timing".

A lane runs as the suite's config says — its pool, isolate, worker count, per project — except for what a
manifest or an option changes for it: singleton lanes run one worker with isolation, pinned lanes one
worker (threads/vmForks as their key says), ``--workers``/``--pool``/``--isolate`` (and their variables and
``heaplens.toml``, also per lane in a ``[lanes."<glob>"]`` table) change the shared lanes. Each change is an
*override* with its reason; :func:`annotate` compares the overrides with each project's resolved config and
lists the *deviations* (printed by ``plan``, kept in the run record, stated in the report).
"""

from __future__ import annotations

import fnmatch
import math
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..errors import UsageError
from .manifests import Behavior, Hotspots, Timings
from .suite import SuiteConfig

TEST_SUFFIX = re.compile(r"(\.(live|e2e|unit|browser))?\.(test|spec)\.[cm]?[jt]sx?$")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

PINNED_KEYS = ("threadSingleton", "vmForkSingleton", "threadPinned")
# (lane suffix, pool override) per pinned key: OpenClaw's v1 ran threadSingleton in threads and
# vmForkSingleton in vmForks, one worker each; its planner runs threadPinned with one worker.
PINNED = {"threadSingleton": ("threads", "threads"), "vmForkSingleton": ("vmforks", "vmForks"),
          "threadPinned": ("pinned", None)}
KIND_ORDER = ("fast", "heavy", "memory-isolated", "isolated", "singleton", "pinned")
SETTINGS = ("pool", "isolate", "workers")
SHARED_KINDS = ("fast", "heavy")


@dataclass
class PlanOptions:
    heavy_min_ms: float = 1200.0
    heavy_lanes: int = 4
    batch_ms: float = 45000.0  # 0: one unit-fast lane
    singleton_batch: int = 10
    memory_min_kb: int | None = None  # None: the hotspot manifest's defaultMinDeltaKb
    workers: int | None = None  # overrides every lane, singletons included (as OPENCLAW_TEST_WORKERS)
    # --shard i/n: the files given to build_plan are already that shard's, as the runner itself picks them
    # (the runner's inspect: Vitest's own sharding, Jest's sequencer's shard()). heaplens never
    # splits files into shards itself: its shard k is CI's shard k.
    shard: tuple[int, int] | None = None
    sharded_out: int = 0  # files of the other shards
    pool: str | None = None  # the shared lanes' pool (None: the suite's)
    isolate: bool | None = None  # the shared lanes' isolate (None: the suite's)
    # where each of workers/pool/isolate/batch_ms came from ("cli", "env NAME", "heaplens.toml", "default")
    sources: dict[str, str] = field(default_factory=dict)
    # heaplens.toml [lanes."<glob>"] tables: (glob, {"pool"|"isolate"|"workers": value, "reason": text})
    lane_overrides: list[tuple[str, dict]] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)  # PATHS as given to the runner (a lane with every file passes them)

    @classmethod
    def of(cls, values: dict, sources: dict, filters: list[str], sharded_out: int = 0) -> PlanOptions:
        """The plan's options from the run's resolved options (runner/options.py)."""
        return cls(
            heavy_min_ms=values["heavy_min_ms"],
            heavy_lanes=values["heavy_lanes"],
            batch_ms=values["batch_ms"],
            memory_min_kb=values["memory_min_kb"],
            workers=values["workers"],
            shard=values["shard"],
            sharded_out=sharded_out,
            pool=values["pool"],
            isolate=values["isolate"],
            sources=sources,
            lane_overrides=values["lane_overrides"],
            filters=list(filters),
        )


@dataclass
class Lane:
    """One run of the suite's runner (``vitest run``, ``jest``). ``workers``/``isolate``/``pool`` are *overrides*:
    None runs the suite's own value (per project); a value is passed to the runner, with its reason in ``why``."""

    name: str
    kind: str
    files: list[str]
    workers: int | None = None
    isolate: bool | None = None
    pool: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)  # setting → why it is overridden
    config: dict[str, str] = field(default_factory=dict)  # setting → the suite's value(s), from annotate()
    deviations: list[dict] = field(default_factory=list)  # from annotate()
    all_files: bool = False  # the lane runs every listed file: its command line has the run's PATHS, not the files
    filters: list[str] = field(default_factory=list)  # those PATHS (none: the whole suite)
    runner_args: list[str] = field(default_factory=list)  # with all_files: e.g. the runner's own --shard=i/n
    runs: int = 0  # test-file runs the runner will start (a file in two projects runs twice); from annotate()

    def set(self, setting: str, value, reason: str) -> None:
        setattr(self, setting, value)
        self.why[setting] = reason

    def runner_paths(self) -> list[str]:
        """What the lane's command line gives the runner besides the lane's file list: with every file, the run's
        PATHS and the runner's own arguments (``--shard=i/n``); a lane that names its files, only the runner's
        own arguments (a pairs lane's ``--project=NAME``)."""
        return [*self.filters, *self.runner_args] if self.all_files else list(self.runner_args)

    def files_text(self, flag: str = "") -> str:
        """The files part of the lane's command as ``plan --explain`` shows it: the PATHS, or ``flag`` and how
        many files the lane names."""
        if self.all_files:
            return "".join(f" {f}" for f in self.runner_paths())
        return f"{flag} <{len(self.files)} file(s) of {self.name}>" + "".join(f" {a}" for a in self.runner_args)

    def effective(self, setting: str) -> str:
        v = getattr(self, setting)
        if v is not None:
            return _fmt_value(setting, v)
        return self.config.get(setting) or ("default" if setting == "workers" else "config")

    def line(self) -> str:
        return (f"{self.name} files={len(self.files)} workers={self.effective('workers')} "
                f"pool={self.effective('pool')} isolate={self.effective('isolate')}")

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "files": self.files, "workers": self.workers,
                "isolate": self.isolate, "pool": self.pool, "reasons": self.reasons,
                "overrides": {k: {"value": getattr(self, k), "reason": r} for k, r in self.why.items()},
                "config": self.config, "deviations": self.deviations, "all_files": self.all_files, "filters": self.filters,
                "runner_args": self.runner_args, "runs": self.runs}


def _fmt_value(setting: str, v) -> str:
    if v is None:
        return "default" if setting == "workers" else "?"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def annotate(plan: "Plan", config: SuiteConfig) -> None:
    """For each lane: the suite's own values (per project) and the deviations of its overrides from them."""
    for lane in plan.lanes:
        projects = []
        for f in lane.files:
            for p in config.projects_of(f):
                if p not in projects:
                    projects.append(p)
        projects.sort(key=lambda p: next(i for i, q in enumerate(config.projects) if q is p))  # the config's order
        lane.runs = config.runs(lane.files)
        for setting in SETTINGS:
            vals = list(dict.fromkeys(_fmt_value(setting, p.value(setting)) for p in projects))
            lane.config[setting] = "|".join(vals) if vals else ("default" if setting == "workers" else "?")
        lane.deviations = []
        for setting in SETTINGS:
            value = getattr(lane, setting)
            if value is None:
                continue
            if setting == "workers" and len(lane.files) == 1 and lane.runs <= 1:
                continue  # one file runs in one worker whatever the count
            differs = [p for p in projects if p.value(setting) != value]
            if not config.known:
                differs = []
            if config.known and not differs:
                continue
            if not differs:
                cfg = "unknown (the config could not be read)"
            else:
                groups: dict[str, list[str]] = {}
                for p in differs:
                    groups.setdefault(_fmt_value(setting, p.value(setting)), []).append(p.label)
                parts = []
                for val, names in groups.items():
                    if len(differs) == len(projects) and len(groups) == 1:
                        parts.append(val)  # every project of the lane says the same
                    else:
                        parts.append(f"{val} (project{'s' if len(names) > 1 else ''} {', '.join(names)})")
                cfg = "; ".join(parts)
            reason = lane.why.get(setting, "")
            lane.deviations.append({
                "setting": setting,
                "value": value,
                "config": {p.label: p.value(setting) for p in differs},
                "projects": [p.label for p in differs],
                "reason": reason,
                "text": f"ran with {setting}={_fmt_value(setting, value)} although the config says {cfg}, because {reason}",
            })


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
    notes: list[str] = field(default_factory=list)
    suite_config: SuiteConfig | None = None
    runner: str | None = None  # the runner's name (seam.RUNNERS), set by session.prepare

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
            "notes": self.notes,
            "suite_config": self.suite_config.to_json() if self.suite_config else None,
            "deviations": [dict(d, lane=l.name) for l in self.lanes for d in l.deviations],
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

    shard = opts.shard  # `files` are that shard's already (chosen by the runner)

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
            isolated.append(Lane(name, "isolated", [f], reasons={f: why}))
        elif e is not None and e.key == "singletonIsolated":
            singles.append(f)
            single_reason[f] = why_e
        elif e is not None and e.key in PINNED_KEYS:
            suffix, pool = PINNED[e.key]
            key = safe_name(f"{e.surface}-{suffix}")
            lane = pinned.get(key)
            if lane is None:
                lane = pinned[key] = Lane(key, "pinned", [])
                src = e.source.split(":")[0]
                lane.set("workers", 1, f"behavior {e.surface}.{e.key} ({src}): one worker")
                if pool:
                    lane.set("pool", pool, f"behavior {e.surface}.{e.key} ({src})")
            lane.files.append(f)
            lane.reasons[f] = why_e + (f" (pool {pool}, one worker)" if pool else " (one worker)")
        elif f in hotspots.files and hotspots.files[f] >= min_kb:
            kb = hotspots.files[f]
            name = _unique(safe_name(f"unit-{base_of(f)}-memory-isolated"), taken)
            src = ", ".join(hotspots.sources.get(f, [])) or "no sources"
            why = f"memory hotspot deltaKb={kb} >= minDeltaKb={min_kb} ({PurePosixPath(hotspots.path or '').name}; {src})"
            memory.append((kb, Lane(name, "memory-isolated", [f], reasons={f: why})))
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
    notes: list[str] = []
    batch_ms = opts.batch_ms
    if timings.path is None and opts.sources.get("batch_ms", "default") == "default" and batch_ms > 0:
        batch_ms = 0  # no timings manifest: no durations to batch by, the shared files run as one lane
    batches = split_by_budget(fast, durations, batch_ms)
    for i, b in enumerate(batches, 1):
        name = "unit-fast" if len(batches) == 1 else f"unit-fast-batch-{i}"
        name = _unique(name, taken)
        extra = "" if len(batches) == 1 else f"; batch {i}/{len(batches)} by the {batch_ms:.0f} ms budget"
        lanes.append(Lane(name, "fast", b, reasons={f: reasons[f] + extra for f in b}))
    for i, b in enumerate(pack_lpt(heavy, durations, min(opts.heavy_lanes, len(heavy) or 1)), 1):
        name = _unique(f"unit-heavy-{i}", taken)
        lanes.append(Lane(name, "heavy", b, reasons={f: reasons[f] + f"; LPT-packed into {name}" for f in b}))
    lanes += [lane for _, lane in sorted(memory, key=lambda kl: -kl[0])]
    lanes += isolated
    if singles:
        n = math.ceil(len(singles) / max(1, opts.singleton_batch))
        size = math.ceil(len(singles) / n)
        for i in range(n):
            chunk = singles[i * size:(i + 1) * size]
            name = _unique("unit-singleton" if n == 1 else f"unit-singleton-{i + 1}", taken)
            lane = Lane(name, "singleton", chunk, reasons={f: single_reason[f] for f in chunk})
            src = next((e.source.split(":")[0] for e in behavior.entries if e.key == "singletonIsolated"), "behavior")
            lane.set("workers", 1, f"behavior unit.singletonIsolated ({src}): one file at a time")
            lane.set("isolate", True, f"behavior unit.singletonIsolated ({src}): each file isolated")
            lanes.append(lane)
    lanes += list(pinned.values())
    _apply_options(lanes, opts)
    for lane in lanes:
        # a lane with every file runs as the suite's own command with its PATHS (`vitest run [PATHS]`) — for a
        # shard, with `--shard=i/n`: the runner shards as CI does; a lane with some of them names its files
        lane.all_files = len(lane.files) == len(files)
        if lane.all_files:
            lane.filters = list(opts.filters)
            lane.runner_args = [f"--shard={shard[0]}/{shard[1]}"] if shard else []
    return Plan(
        lanes=lanes,
        files=files,
        no_timing=no_timing,
        durations=durations,
        shard=shard,
        sharded_out=opts.sharded_out,
        manifests={"behavior": behavior.path, "timings": timings.path, "hotspots": hotspots.path},
        ignored_entries=ignored,
        notes=notes,
    )


def _apply_options(lanes: list[Lane], opts: PlanOptions) -> None:
    """--workers (every lane, as OPENCLAW_TEST_WORKERS), --pool/--isolate (the shared lanes), then the
    heaplens.toml [lanes."<glob>"] tables (the lanes they name), later ones winning."""
    src = opts.sources
    for lane in lanes:
        if opts.workers:
            lane.set("workers", opts.workers, f"workers={opts.workers} ({src.get('workers', 'option')})")
        if lane.kind in SHARED_KINDS:
            if opts.pool:
                lane.set("pool", opts.pool, f"pool={opts.pool} ({src.get('pool', 'option')})")
            if opts.isolate is not None:
                lane.set("isolate", opts.isolate, f"isolate={str(opts.isolate).lower()} ({src.get('isolate', 'option')})")
        for glob, table in opts.lane_overrides:
            if not fnmatch.fnmatchcase(lane.name, glob):
                continue
            why = table.get("reason")
            for setting in SETTINGS:
                if setting in table:
                    text = f'heaplens.toml [lanes."{glob}"] {setting}={str(table[setting]).lower()}'
                    lane.set(setting, table[setting], f"{text}" + (f": {why}" if why else ""))


def explain(plan: Plan, file: str, timings: Timings, hotspots: Hotspots, command=None) -> list[str]:
    """Where ``file`` goes and why; ``command(lane)`` is the runner's command text (its ``command_text``)."""
    lane = plan.lane_of(file)
    if lane is None:
        raise UsageError(f"{file} is not among the {len(plan.files)} test files the runner lists for this plan")
    t = timings.files.get(file)
    h = hotspots.files.get(file)
    return [
        f"file={file}",
        f"lane={lane.name}",
        f"kind={lane.kind}",
        f"reason={lane.reasons.get(file, '')}",
        f"timing={'%.1fms' % t if t is not None else 'none (default %.0fms: no timing)' % timings.default_ms}",
        f"hotspot={'deltaKb=%d' % h if h is not None else 'none'}",
        f"workers={lane.effective('workers')}",
        f"pool={lane.effective('pool')}",
        f"isolate={lane.effective('isolate')}",
        f"laneFiles={len(lane.files)}",
        *(f"deviation={d['text']}" for d in lane.deviations),
        "command=" + (command(lane) if command else _command(lane)),
    ]


def _command(lane: Lane) -> str:
    return f"run --workers={lane.workers or 'default'}" + lane.files_text()
