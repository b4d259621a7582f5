"""From causes to findings (the FINDING shape of COORDINATION.md): severity, confidence, the fix.

Severity and confidence are separate (docs/diagnose.md):

- **severity** is how much the cause matters: its retained growth per file, projected over the files
  the worker will run (the lane's files, per worker), relative to the worker's heap limit: *mild*
  below 10 %, *moderate* below 50 %, *severe* from 50 % (it alone would take half the heap). A cause
  whose projection stays below 0.1 % of the heap limit is not a finding (it is listed in the notes).
- **confidence** is how much of the cause's growth the named holder provably keeps: the share of its
  bytes that is no longer reachable from the program's roots once the holder (for timers, listeners,
  servers, mocks: the resource) lets go of its new contents (:func:`heaplens.diagnose.engine._exclusive`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..units import fmt_size
from .engine import TEST_FILE, Cause, PairAnalysis
from .naming import declaration_line, relative, source_path
from .rules import Rules

MIB = 2**20
DEFAULT_HEAP_LIMIT = 4 * 2**30  # V8's default old-space limit on a 64-bit machine with enough memory
FLOOR = 0.001  # of the heap limit, projected over the lane: below it a cause is a note, not a finding
MILD, MODERATE = 0.10, 0.50
LABEL = {"module-graph": "module-graph retention", "runtime-leak": "runtime leak",
         "external-memory": "external memory"}


@dataclass
class Context:
    """What the run says about the worker whose snapshots were compared."""

    root: str | None = None
    files_between: list[dict] = field(default_factory=list)  # trace entries of the files between the snapshots
    files_after: list[dict] = field(default_factory=list)  # … that started after the later snapshot
    files_before: list[dict] = field(default_factory=list)  # … that ended before the earlier snapshot
    files_all: list[dict] = field(default_factory=list)  # all the worker's files
    files_in_lane: int | None = None
    workers_in_lane: int = 1
    heap_limit: int | None = None
    isolate: bool | None = None
    lane_files: list[str] = field(default_factory=list)  # the lane's test files (relative paths)
    trend: dict = field(default_factory=dict)  # cause key → bytes present at each snapshot
    traced: bool = False  # the worker has per-file trace entries
    trend_files: list[int] = field(default_factory=list)  # files completed in each interval of the trend
    trend_marks: list[float] = field(default_factory=list)  # when each snapshot of the trend was written (epoch s)
    # the worker gives each test file a fresh module registry in the same process (Jest): the running file's is
    # alive at a file-end snapshot
    registry_per_file: bool = False
    runner: str | None = None  # the run record's runner ("vitest", "jest"); the fix goes where it reads it


def fmt(n: float | None, signed: bool = True) -> str:
    return "?" if n is None else fmt_size(n, signed=signed)


def severity(projected: float, heap_limit: int) -> str:
    r = projected / heap_limit
    return "mild" if r < MILD else "moderate" if r < MODERATE else "severe"


def heap_growth(f: dict) -> int | None:
    """A file's JS heap growth in the trace: GC-settled when the runner recorded it (``heap_growth``, from
    the settled start to the settled end — for a span of files settled together, the span's: sum it with the
    span's other files, whose own is None), else the heap used at its start and end (a record without settled
    lines). None for a file whose end was not settled (the GC budget): its growth is in the span's."""
    if f.get("heap_growth") is not None:
        return int(f["heap_growth"])
    s, e = f.get("settled_start") or {}, f.get("settled_end") or {}
    if s.get("heap_used") is not None and e.get("heap_used") is not None:
        return int(e["heap_used"]) - int(s["heap_used"])
    if f.get("settled_base") is not None:
        return None  # measured with the next settled end of its worker
    if f.get("heap_used_start") is not None and f.get("heap_used_end") is not None:
        return int(f["heap_used_end"]) - int(f["heap_used_start"])
    return None


def settled(f: dict) -> bool:
    return f.get("heap_growth") is not None or bool(f.get("settled_end"))


def _test_files(urls: list[str], ctx: Context) -> list[str]:
    """The lane's test files among script URLs (relative, in order of first appearance)."""
    lane = set(ctx.lane_files)
    out = []
    for u in urls:
        r = relative(u, ctx.root)
        if r and (r in lane or (not lane and _looks_like_test(r))) and r not in out:
            out.append(r)
    return out


def _looks_like_test(path: str) -> bool:
    return TEST_FILE.search(path) is not None


def _heavy_loaders(c: Cause, ctx: Context) -> list[str]:
    """The test files that load the new module instances, each weighed by the retained size of the modules
    it loads (a module loaded by several files split between them; a test file's own instance its own), and
    of those the ones that load more than the average file does — the files that grow the graph."""
    by_url = {m.url: m for m in c.modules}
    weight: dict[str, float] = {}
    for m in c.modules:
        owners, seen, todo = [], {m.url}, [m.url]
        while todo and len(seen) < 200:  # up the importers to the test files
            u = todo.pop()
            t = _test_files([u], ctx)
            if t:
                owners += t
                continue
            for imp in (by_url[u].importers if u in by_url else []):
                if imp not in seen:
                    seen.add(imp)
                    todo.append(imp)
        for o in dict.fromkeys(owners):
            weight[o] = weight.get(o, 0.0) + m.retained / len(set(owners))
    if not weight:
        return []
    mean = sum(weight.values()) / len(weight)
    return sorted((f for f, wt in weight.items() if wt >= mean), key=lambda f: -weight[f])


def _like_outside(files: list[str], ctx: Context) -> list[str]:
    """The worker's other files whose JS heap grew, in the trace, by the same order (at least half the least)
    as the files the heap shows loading new module instances: the pair did not see them load (they ran
    before the earlier snapshot, or after, or while it was written), but they load modules of that weight."""
    growth = {f["file"]: heap_growth(f) for f in ctx.files_all if f.get("file")}
    known = [growth[x] for x in files if growth.get(x) is not None]
    if not known or min(known) <= 0:
        return []
    least = min(known) / 2
    return sorted(x for x, gr in growth.items() if x not in files and gr is not None and gr >= least)


def retained_by_file(files: list[dict]) -> dict[str, float]:
    """Each file's retained growth in a worker that runs several files: the GC-settled JS heap it left behind
    (``heap_growth``, settled start → settled end — a shared worker's first file from the worker's settled start,
    so its imports count). Transient garbage is not in it, so it is the same from run to run. A growth that spans
    files ended without a forced GC (the GC budget: ``settled_span``) is shared evenly between them: which of them
    left it is not known, so they weigh the same and a choice by weight (``retained_hotspots``) takes them all
    or none — the span as a unit. It is never shown as one file's growth."""
    out: dict[str, float] = {}
    pending: list[str] = []
    for f in sorted(files, key=lambda f: (f.get("index") or 0, f.get("end_ms") or 0)):
        name = f.get("file")
        if not name:
            continue
        growth = f.get("heap_growth")
        end = (f.get("settled_end") or {}).get("heap_used")
        if (len(files) > 1 and f.get("index") == 1 and f.get("settled_base") == "collected" and end is not None
                and f.get("heap_used_start") is not None):
            # a worker that runs several files measures its first file from the line after its collection (its
            # first snapshot); its start line is GC-settled too, and the imports it made are what it left behind
            growth = end - f["heap_used_start"]
        if growth is None:
            pending.append(name)  # its growth is in the next settled file's
            continue
        span = list(f.get("settled_span") or []) or [*pending, name][-max(1, int(f.get("settled_files") or 1)):]
        for x in span:
            out[x] = out.get(x, 0.0) + growth / len(span)
        pending = []
    return out


def retained_hotspots(growth: dict[str, float]) -> list[str]:
    """The files to isolate, from their retained growth: the fewest files that together left at least half of
    the worker's retained growth (isolating fewer leaves most of it in the worker), and with them every file of
    the same order (at least half the least of those): equal contributors are listed together or not at all,
    so the list does not change with measurement noise. In path order (the config edit is the same each run)."""
    ranked = sorted(((g, f) for f, g in growth.items() if g > 0), key=lambda x: (-x[0], x[1]))
    total = sum(g for g, _ in ranked)
    if not ranked:
        return []
    taken, acc = 0, 0.0
    while taken < len(ranked) and acc < total / 2:
        acc += ranked[taken][0]
        taken += 1
    least = ranked[taken - 1][0] / 2
    return sorted(f for g, f in ranked if g >= least)


def _overlapping(ctx: Context) -> list[str]:
    """The files a snapshot was taken during (partly in the pair): the only candidates left."""
    out = {id(f) for f in [*ctx.files_before, *ctx.files_between, *ctx.files_after]}
    return [f["file"] for f in ctx.files_all if id(f) not in out and f.get("file")]


def _interval_files(ctx: Context, since: float | None = None) -> list[str]:
    """The files that ran between the snapshots (that ended after ``since``), largest heap growth first (a span
    of files settled together shares its growth: none of them is put first by what the span grew)."""
    fs = [f for f in ctx.files_between if since is None or (f.get("end_ms") or 0) / 1000 > since]
    shared = retained_by_file(fs)
    fs = sorted(fs, key=lambda f: -(shared.get(f.get("file"), heap_growth(f) or 0)))
    return [f["file"] for f in fs if f.get("file")]


def findings(pa: PairAnalysis, ctx: Context, rules: Rules) -> tuple[list[dict], list[str], dict]:
    """(findings biggest first, notes, the worker's growth summary)."""
    limit = ctx.heap_limit or DEFAULT_HEAP_LIMIT
    n_between = len(ctx.files_between) if ctx.traced else None
    per_worker = None
    if ctx.files_in_lane:
        per_worker = math.ceil(ctx.files_in_lane / max(ctx.workers_in_lane, 1))
    out, notes = [], []
    small, replaced = [], []
    for c in pa.causes:
        if c.kind not in LABEL:
            continue
        f = _finding(c, pa, ctx, rules, limit, n_between, per_worker)
        if c.kind == "module-graph" and ctx.registry_per_file and c.modules and max(m.instances for m in c.modules) <= 1:
            notes.append(f"the running file's own module registry: {len(c.modules)} module instance(s), one of each, "
                         f"{fmt(c.bytes, signed=False)} — a fresh registry per test file is alive while its file runs "
                         "(not growth; earlier files' registries kept alive would show modules more than once)")
            continue
        if _replaced(c, ctx):
            replaced.append(f)
            notes.append(f"replaced, not grown: {f['title']} — its {fmt(c.bytes, signed=False)} of new objects were "
                         f"made in the last interval while its size stayed ({fmt(c.last_net)}): a bounded cache, "
                         "or values replaced")
            continue
        reach = f["projected"] if f["projected"] is not None else f["retained_growth"]
        if reach < FLOOR * limit:
            small.append(f)
            continue
        out.append(f)
    out.sort(key=lambda f: -f["retained_growth"])
    for f in small:
        reach = f["projected"] if f["projected"] is not None else f["retained_growth"]
        if f["freed_bytes"] and f["new_bytes"] >= FLOOR * limit:
            notes.append(f"replaced, not grown: {f['title']} gained {fmt(f['new_bytes'], signed=False)} of new objects "
                         f"and lost {fmt(f['freed_bytes'], signed=False)} it had (a bounded cache, or values "
                         "replaced)")
            continue
        notes.append(f"below the reporting floor ({fmt(reach)} < {FLOOR:.1%} of the heap limit): "
                     f"{f['title']} — {fmt(f['retained_growth'])}")
    tool = [c for c in pa.causes if c.kind == "tool"]
    for c in pa.causes:
        if c.kind == "capacity" and c.holder is not None:
            notes.append(f"capacity, not content: the table of `{c.holder.access or c.holder.variable}` "
                         f"({c.holder.type}) grew {fmt(c.bytes)} — a weak collection keeps no entry by itself")
    if pa.other.get("tool"):
        names = ", ".join(f"`{c.holder.access or c.holder.variable or c.holder.type}`" for c in tool[:4] if c.holder)
        notes.append(f"the test runner's and Node's own state grew {fmt(pa.other['tool'])} ({names}): not a holder of "
                     "the suite's")
    if pa.other.get("engine"):
        notes.append(f"V8 code and feedback compiled on first use: {fmt(pa.other['engine'])} (warm-up, not a cause)")
    if pa.other.get("system"):
        notes.append(f"held only by the runtime's roots (handles, the microtask queue): {fmt(pa.other['system'])}")
    if pa.other.get("garbage"):
        notes.append(f"garbage not collected yet (no program root reaches it: a test file's vm context that Node has not "
                     f"finalized, what only weak references keep): {fmt(pa.other['garbage'])} (not a cause)")
    if pa.other.get("unnamed"):
        notes.append(f"many small holders, each under {0.2:.1f} % of the growth: {fmt(pa.other['unnamed'])} together")
    growth = {"new_objects": pa.new_count, "new_bytes": pa.new_bytes,
              "explained": sum(f["retained_growth"] for f in out),
              "tool": pa.other.get("tool", 0), "engine": pa.other.get("engine", 0),
              "system": pa.other.get("system", 0), "unnamed": pa.other.get("unnamed", 0),
              "garbage": pa.other.get("garbage", 0),
              "below_floor": sum(f["retained_growth"] for f in small),
              "module_records": [pa.module_records_before, pa.module_records_after],
              "files_between": n_between, "heap_limit": limit, "floor": FLOOR * limit,
              # the causes that are not findings, with the same figures: `verify` looks a fixed holder up here
              "unreported": [_unreported(f, "below the floor") for f in small]
              + [_unreported(f, "replaced, not grown") for f in replaced]}
    return out, notes, growth


def _unreported(f: dict, why: str) -> dict:
    holder = {k: f["holder"].get(k) for k in ("kind", "variable", "access", "file", "line", "type")}
    return {"why": why, "kind": f["kind"], "title": f["title"], "holder": holder,
            **{k: f[k] for k in ("retained_growth", "new_bytes", "per_file", "projected", "files_between", "objects")}}


def _replaced(c: Cause, ctx: Context) -> bool:
    """The holder's content was renewed in the last interval (most of its new objects were made there)
    while its retained size did not grow: it replaces what it keeps — a bounded cache, not a leak."""
    trend = ctx.trend.get(c.key)
    if c.last_net is None or not trend or len(trend) < 3 or not c.bytes:
        return False
    # only a holder that keeps its new objects by itself says something by its retained size (a shared
    # structure — a timer list, the mock registry — retains little of what is attributed to it)
    if c.by_path > 0.5 * c.bytes or c.retained_after < 0.5 * c.bytes:
        return False
    renewed = trend[-1] - trend[-2]
    return renewed > 0.5 * c.bytes and c.last_net <= 0.01 * c.bytes


def _finding(c: Cause, pa: PairAnalysis, ctx: Context, rules: Rules, limit: int, n_between: int | None,
             per_worker: int | None) -> dict:
    # the retained growth: what the holder gained minus what it lost (a cache that replaces entries does
    # not grow); the trend and the confidence look at the new objects themselves
    # a holder first seen at a snapshot in between (its module was loaded after the earlier snapshot):
    # its growth is counted from there — what it held then is not growth it was seen to make
    b = c.retained
    trend = ctx.trend.get(c.key)
    if c.first and trend and len(ctx.trend_files) == len(trend) - 1:
        n_between = sum(ctx.trend_files[c.first:])
    per_file = b / max(n_between, 1) if n_between is not None else None
    stopped = False
    if trend and len(trend) >= 3 and len(ctx.trend_files) == len(trend) - 1:
        # the last intervals in which at least one file ran added nothing, earlier ones did: a one-time growth
        steps = [y - x for x, y in zip(trend, trend[1:])]
        tail, nfiles, i = 0, 0, len(steps) - 1
        while i >= 0 and nfiles == 0:
            tail += steps[i]
            nfiles += ctx.trend_files[i]
            i -= 1
        stopped = (nfiles > 0 and i >= 0 and tail <= 0.01 * c.bytes
                   and any(s > 0.01 * c.bytes for s in steps[:i + 1]))
    if per_file is None:
        projected = None
        files_note = "files between the snapshots unknown: no projection"
    elif ctx.isolate:
        projected = per_file  # a fresh worker per file: the growth does not add up across files
        files_note = "per file, each in a fresh worker (isolate: true)"
    elif stopped:
        projected = float(b)
        files_note = "in all, not projected (it stopped growing before the last snapshot)"
    else:
        n = per_worker or n_between or 1
        projected = per_file * max(n, n_between or 1)
        files_note = (f"over the {ctx.files_in_lane} files of the lane"
                      + (f" (≈{per_worker} per worker)" if ctx.workers_in_lane > 1 and per_worker else "")
                      if ctx.files_in_lane else f"over the {n} file(s) seen")
    sev = severity(projected if projected is not None else b, limit)
    holder = _holder(c, ctx, rules)
    fix = _fix(c, holder, ctx, rules, pa)
    title = _title(c, holder)
    if per_file is not None:
        sev_text = (f"{fmt(per_file)}/file → {fmt(projected)} {files_note}: {sev} "
                    f"({100 * (projected or 0) / limit:.1f} % of the {fmt(limit, signed=False)} heap limit)")
    else:
        sev_text = f"{fmt(b)} between the snapshots ({files_note}): {sev}"
    evidence = _evidence(c, pa, holder, ctx, trend, rules)
    return {
        "kind": c.kind,
        "title": title,
        "retained_growth": int(b),
        "new_bytes": int(c.bytes),
        "freed_bytes": int(c.freed),
        "share": round(c.bytes / pa.new_bytes, 4) if pa.new_bytes else 0.0,
        "per_file": int(per_file) if per_file is not None else None,
        "projected": int(projected) if projected is not None else None,
        "files_in_lane": ctx.files_in_lane,
        "files_between": n_between,
        "severity": sev,
        "severity_text": sev_text,
        "confidence": round(c.exclusive, 3) if c.exclusive is not None else 0.0,
        "holder": holder,
        "classes": c.classes,
        "made_of": c.categories,
        "objects": c.count,
        "modules": [{"url": relative(m.url, ctx.root), "instances": m.instances, "retained": m.retained,
                     "importers": [relative(i, ctx.root) for i in m.importers[:8]]} for m in c.modules[:20]],
        "module_count": len(c.modules) or c.module_records,
        "fix": fix,
        "evidence": evidence,
    }


def _holder(c: Cause, ctx: Context, rules: Rules) -> dict:
    hn = c.holder
    if c.kind == "module-graph":
        reg = hn.type if hn is not None else None
        return {"kind": "module-registry", "variable": None, "file": None, "line": None,
                "type": reg or "module registry", "access": hn.access if hn else None,
                "path": hn.path if hn else ""}
    kind = hn.kind
    file = relative(hn.file, ctx.root) if not hn.tool else None  # never the runner's own file
    line = None
    if hn.variable and hn.file and not hn.tool:
        line = declaration_line(source_path(hn.file, ctx.root), hn.variable.split(".")[-1],
                                static=hn.anchor is not None and hn.anchor.kind == "static")
    if hn.anchor is not None and hn.anchor.kind == "global" and not file and pa_graph_global(c):
        # a global the user's code assigns: where it does (`globalThis.x ??= new EventTarget()`)
        file, line = relative(c.global_site[0], ctx.root), c.global_site[1]
    elif c.callback and (kind in ("timer", "server") or hn.variable is None or hn.tool or not file):
        url, cline, _name = c.callback
        file, line = relative(url, ctx.root), cline
    typ = hn.type
    if kind == "timer":
        typ = "Timeout"
    elif kind == "mock":
        typ = "Mock"
    named = not hn.tool or kind == "mock"  # a `vi.mock` spy is named by its property, not by a variable
    return {"kind": kind, "variable": hn.variable if named else None, "file": file, "line": line, "type": typ,
            "access": hn.access if named else None, "path": hn.path}


def pa_graph_global(c: Cause) -> bool:
    return bool(c.global_site and c.global_site[0])


def _where(holder: dict) -> str | None:
    if holder.get("file"):
        return f"{holder['file']}:{holder['line']}" if holder.get("line") else holder["file"]
    return None


def _title(c: Cause, holder: dict) -> str:
    label = LABEL[c.kind]
    where = _where(holder)
    at = f" ({where})" if where else ""
    if c.kind == "module-graph":
        return f"{label} held by the module registry ({len(c.modules) or c.module_records} new module instance(s))"
    k = holder["kind"]
    name = holder.get("access") or holder.get("variable")
    if not name and k not in ("timer", "listener", "server", "db", "mock"):
        how = " (kept on the stack of running code)" if "(Stack roots)" in (holder.get("path") or "") else ""
        return f"{label} held by an unnamed {holder.get('type') or 'object'}{how}{at}"
    if k == "timer":
        cb = c.callback[2] if c.callback and c.callback[2] else None
        what = f"callback `{cb}`" if cb else "callback"
        return f"{label} held by timers that are never cleared ({what} at {where or 'an unknown place'})"
    if k == "listener":
        ev = ", ".join(f"'{e}'" for e in c.events[:3])
        owner = holder.get("variable") or holder.get("type") or "an emitter"
        return f"{label} held by {ev + ' ' if ev else ''}listeners on `{owner}`{at}"
    if k == "server":
        return f"{label} held by {'`' + name + '`: ' if name else ''}servers that are never closed{at}"
    if k == "db":
        return f"{label} held by {'`' + name + '`: ' if name else ''}database handles that are never closed{at}"
    if k == "mock":
        return f"{label} held by the call history of the mock `{holder.get('variable') or 'vi.fn()'}`{at}"
    return f"{label} held by `{name or holder.get('type')}`{at}"


def _files_adding(c: Cause, ctx: Context, pa: PairAnalysis) -> list[str]:
    if c.kind == "module-graph":
        # by the GC-settled heap each file left in the worker (issue 13: stable run to run, not the snapshot
        # pair's boundaries nor transient heapUsed); the snapshot's module owners when the trace has none
        hot = retained_hotspots(retained_by_file(ctx.files_all))
        if hot:
            return hot
        files = _heavy_loaders(c, ctx) or _interval_files(ctx)
        return files + _like_outside(files, ctx)
    # the test files whose functions are among the new objects; else the files that ran in between (the
    # trace, largest heap growth first; without a trace, the test modules evaluated in between)
    # (a holder first seen at a snapshot in between: the files that ran after the snapshot before it — of
    # them, the test files that import its module, when they do so directly)
    since = ctx.trend_marks[c.first - 1] if c.first and len(ctx.trend_marks) > c.first else None
    interval = _interval_files(ctx, since)
    users = set(_test_files(c.importers, ctx)) if c.first else set()
    if users and any(f in users for f in interval):
        interval = [f for f in interval if f in users]
    return (_test_files(c.scripts, ctx) or interval or _test_files(pa.new_modules, ctx)
            or _overlapping(ctx))


def _fix(c: Cause, holder: dict, ctx: Context, rules: Rules, pa: PairAnalysis) -> dict:
    files = _files_adding(c, ctx, pa)
    where = _where(holder)
    name = holder.get("access") or holder.get("variable") or f"the {holder.get('type') or 'object'}"
    k = holder["kind"]
    if c.kind == "module-graph":
        # the suite's modules: the runner's own (a setup file it evaluates per test file, heaplens's trace module)
        # multiply too, but isolating files will not be the suite's answer to them
        own = [relative(m.url, ctx.root) for m in c.modules if not rules.tool_script(m.url)]
        mods = own[:5]
        listed = f" ({', '.join(mods)}{' …' if len(own) > 5 else ''})" if mods else ""
        text = (f"{len(c.modules) or c.module_records} module instance(s) that did not exist at the earlier snapshot stay "
                f"in this long-lived worker{listed}. Nothing in the tests "
                "holds them: run the files that load them in a fresh worker (Vitest `isolate: true` for them — a "
                "separate project or lane), or split the lane so one worker loads fewer modules.")
        if ctx.runner == "jest" or (ctx.runner is None and ctx.registry_per_file):
            return _jest_module_graph_fix(c, ctx, mods, files)
        return {"kind": "isolate", "text": text, "where": "the Vitest config (test.isolate / projects)", "files": files}
    kind = rules.fix_by_kind.get(k) if k in rules.fix_by_kind else rules.fix_by_type.get(holder.get("type") or "", None)
    if kind is None:
        kind = "map-clear" if holder.get("type") not in ("Array",) else "array-clear"
        if holder.get("type") not in ("Array", "Map", "Set", "Object", "WeakMap", "WeakSet"):
            kind = "array-clear" if "[]" in (name or "") else "map-clear"
    at = f" ({where})" if where else ""
    unnamed = not (holder.get("access") or holder.get("variable"))
    if unnamed and kind in ("array-clear", "map-clear"):
        text = (f"no variable names the {holder.get('type') or 'object'} that keeps them (see the chain in the "
                "evidence): empty it after each test (" + ("`length = 0`" if kind == "array-clear" else "`clear()`"
                                                           if holder.get("type") in ("Map", "Set") else "delete its keys")
                + ") or stop keeping the objects")
    elif kind == "array-clear":
        base = name[:-2] if name.endswith("[]") else name
        text = (f"empty `{name}`{at} after each test (`{base}.length = 0` or `splice(0)` in afterEach), or "
                "bound it (drop old entries)")
    elif kind == "map-clear" and holder.get("type") in ("Map", "Set"):
        text = f"clear `{name}`{at} after each test (`{name}.clear()` in afterEach), or bound it (an LRU / a size cap)"
    elif kind == "map-clear" and holder.get("type") in ("WeakMap", "WeakSet"):
        text = (f"`{name}`{at} is a {holder['type']} (it has no `clear()`): replace it after each test "
                f"(`{name} = new {holder['type']}()`), or release what keeps its keys")
    elif kind == "map-clear" and holder.get("type") == "Object":
        text = (f"empty `{name}`{at} after each test (an object used as a map: `for (const k of Object.keys({name})) "
                f"delete {name}[k]` in afterEach, or a Map with `clear()`), or bound it")
    elif kind == "map-clear":
        text = (f"empty the collection `{name}` ({holder.get('type') or 'object'}){at} keeps after each test, in "
                "afterEach, or bound it (see the chain in the evidence)")
    elif kind == "remove-listener":
        ev = "/".join(c.events[:3]) or "the event"
        owner = holder.get("variable") or "the emitter"
        cb = f" (the listener at {relative(c.callback[0], ctx.root)}:{c.callback[1]})" if c.callback else ""
        text = (f"remove the '{ev}' listeners from `{owner}`{cb} in afterEach (`{owner}.off(…)` / `removeListener`), "
                "or register them with `once`")
    elif kind == "clear-timer":
        text = (f"clear the timer whose callback is at {where or 'the callback'} (`clearInterval`/`clearTimeout` in "
                "afterEach, e.g. through the object's stop()); it keeps its callback and everything that closes over")
    elif kind == "close":
        what = "server" if k == "server" else "database handle"
        text = (f"close every {what}{' kept in `' + name + '`' if name else ''}{at} in afterAll/afterEach (`close()`"
                + ("; also `closeAllConnections()` for keep-alive sockets" if k == "server" else "") + ")")
    elif kind == "restore-mocks":
        mock = holder.get("variable") or "the mock"
        text = (f"reset `{mock}`{at} between tests: `vi.clearAllMocks()` / `{mock}.mockClear()` in afterEach (or "
                "`vi.restoreAllMocks()`), or `clearMocks: true` / `restoreMocks: true` in the Vitest config — its "
                "`mock.calls` and `mock.results` keep every argument")
    elif kind == "delete-global":
        text = f"delete the global in afterAll (`delete globalThis.{holder.get('variable')}`) or reset it in afterEach"
    elif kind == "reset-static":
        text = f"reset the class static `{name}`{at} in afterEach"
    else:
        text = f"release what `{name}` keeps after each test"
    return {"kind": kind, "text": text, "where": where, "files": files}


def _jest_module_graph_fix(c: Cause, ctx: Context, mods: list[str], files: list[str]) -> dict:
    """Jest gives every test file a fresh module registry: earlier files' module instances outlive their file
    only through a reference that outlives it (the user's, when the chain names one), else the worker is recycled
    (``workerIdleMemoryLimit``; its value is the report's Jest config fix, derived from the per-file growth)."""
    hn = c.holder
    ref = (hn.access or hn.variable) if hn is not None and not hn.tool else None
    at = f" ({relative(hn.file, ctx.root)})" if ref and hn.file else ""
    n = len(c.modules) or c.module_records
    text = (f"{n} module instance(s) of earlier test files stay in this long-lived Jest worker "
            f"({', '.join(mods)}{' …' if len(c.modules) > 5 else ''}): Jest gives every file a fresh module registry, "
            "so an old file's registry stays only while something that outlives the file keeps it. ")
    if ref:
        text += (f"Remove the reference `{ref}`{at} keeps to it after the file (afterAll); until then, or when it "
                 "is not yours, recycle")
    else:
        text += "Nothing of the tests is named as keeping them: recycle"
    text += (" the worker with `workerIdleMemoryLimit` in the Jest config (the value this run's per-file growth "
             "gives is the report's Jest config fix).")
    return {"kind": "recycle", "text": text, "where": "the Jest config (workerIdleMemoryLimit)", "files": files}


def _evidence(c: Cause, pa: PairAnalysis, holder: dict, ctx: Context, trend,
              rules: Rules | None = None) -> list[str]:
    ev = []
    top = ", ".join(f"{x['count']:,} {x['name']} ({fmt(x['size'], signed=False)})" for x in c.classes[:4])
    ev.append(f"{c.count:,} new objects ({fmt(c.bytes)}, {100 * c.bytes / max(pa.new_bytes, 1):.0f} % of the "
              f"worker's new objects) — {top}")
    made = ", ".join(f"{k} {fmt(v, signed=False)}" for k, v in sorted(c.categories.items(), key=lambda kv: -kv[1]))
    ev.append(f"made of: {made}")
    if c.first:
        n = len(trend) if trend else c.first + 2
        ev.append(f"its holder did not exist at the first snapshot (its module was first loaded later): first seen "
                  f"at snapshot {c.first + 1} of {n}, holding {fmt(c.initial, signed=False)} then — the growth is "
                  f"counted from there ({fmt(c.retained)})")
    if c.freed:
        ev.append(f"the same holder lost {fmt(c.freed, signed=False)} of objects the earlier snapshot had: it grew "
                  f"{fmt(max(c.bytes - c.freed, 0))} net")
    if c.kind == "module-graph":
        b, a = pa.module_records_before, pa.module_records_after
        ev.append(f"module records in the heap: {b:,} → {a:,} ({a - b:+,}); {len(c.modules)} new module instance(s) "
                  f"of {len({m.url for m in c.modules})} module(s)")
        if c.inner is not None:
            hn, kept = c.inner
            file = relative(hn.file, ctx.root)
            line = declaration_line(source_path(hn.file, ctx.root), hn.variable.split(".")[-1]) if hn.file else None
            at = f"{file}:{line}" if file and line else file or "a new module"
            ev.append(f"{fmt(kept, signed=False)} of it ({100 * kept / c.bytes:.0f} %) is kept by "
                      f"`{hn.access or hn.variable}` ({at}, {hn.type}), new with its module: a module's code does not "
                      f"grow once it is loaded — if `{hn.access or hn.variable}` grows with every file that uses it, "
                      "this is a runtime leak held by it; a snapshot after the module was first loaded (and before "
                      "the last) tells, and this pair has none")
        multi = [m for m in c.modules if m.instances > 1]
        if multi:
            ev.append("modules evaluated more than once: " + ", ".join(
                f"{relative(m.url, ctx.root)} ×{m.instances}" for m in multi[:5]))
    if c.kind != "module-graph" and c.modules:
        # a listener or timer of the user's that keeps module instances that did not exist before: under Jest, the
        # module registries (with their Runtime and environment) of test files that have ended
        urls = [relative(m.url, ctx.root) or m.url for m in c.modules
                if rules is None or not rules.tool_script(m.url)]  # the suite's own modules
        ev.append(f"it keeps {len(c.modules)} module instance(s) of ended test files alive (their module registries, "
                  "and under Jest each file's Runtime and environment)"
                  + (f": {', '.join(urls[:5])}" + (" …" if len(urls) > 5 else "") if urls else ""))
    if holder.get("path"):
        ev.append(f"held along: {holder['path']}")
    if c.exclusive is not None:
        ev.append(f"confidence {c.exclusive:.0%}: the share of these bytes no longer reachable once the holder lets go "
                  "of them" + (" (the rest is also kept by other objects)" if c.exclusive < 0.95 else ""))
    if c.by_path:
        ev.append(f"{fmt(c.by_path, signed=False)} of it is shared with other old objects (attributed along the "
                  "retaining path, not the dominator tree)")
    if c.scripts:
        ev.append("the new functions come from: " + ", ".join(relative(u, ctx.root) or u for u in c.scripts[:4]))
    if trend and len(trend) >= 3:
        steps = [y - x for x, y in zip(trend, trend[1:])]
        grew = sum(s > 0.01 * c.bytes for s in steps)
        ev.append(f"across {len(trend)} snapshots it grew in {grew} of {len(steps)} interval(s): "
                  + ", ".join(fmt(s) for s in steps))
    return ev
