"""``heaplens plan``: the lanes a run would use, or why one file lands where it does."""

from __future__ import annotations

import argparse
import json
import sys

from ..runner.options import (
    argtype,
    parse_gc_overhead,
    parse_lanes,
    parse_nonneg_float,
    parse_pool,
    parse_pos_int,
    parse_runner,
    parse_shard,
)
from . import BaseCommand, add_format


def add_plan_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="test files or directories (the runner's filters); default: all")
    p.add_argument("--root", metavar="DIR", help="the suite root (default: nearest package.json upwards)")
    p.add_argument("--runner", type=argtype(parse_runner), metavar="vitest|jest",
                   help="the suite's test runner (default: detected from its config files and package.json)")
    p.add_argument("--config", metavar="FILE", help="the suite's Vitest or Jest config (default: the runner's own lookup)")
    p.add_argument("--workers", type=argtype(parse_pos_int), metavar="N",
                   help="--maxWorkers for every lane (default: the suite's config)")
    p.add_argument("--pool", type=argtype(parse_pool), metavar="POOL",
                   help="Vitest: forks, threads, vmForks or vmThreads for the shared lanes (default: the suite's config)")
    p.add_argument("--isolate", action=argparse.BooleanOptionalAction, default=None,
                   help="Vitest: isolate each test file in the shared lanes, or not (default: the suite's config)")
    p.add_argument("--lane", type=argtype(parse_lanes), metavar="NAME[,NAME]", help="only these lanes (globs allowed)")
    p.add_argument("--shard", type=argtype(parse_shard), metavar="i/n", help="shard i of n, the files the runner's own --shard i/n runs (CI's shard i)")
    p.add_argument("--behavior", metavar="FILE", help="behavior manifest (default test/fixtures/test-parallel.behavior.json)")
    p.add_argument("--timings", metavar="FILE", help="timings manifest (default test/fixtures/test-timings.unit.json)")
    p.add_argument("--hotspots", metavar="FILE", help="memory-hotspot manifest (default test/fixtures/test-memory-hotspots.unit.json)")
    p.add_argument("--heavy-min-ms", type=argtype(parse_nonneg_float), metavar="MS", help="timed-heavy threshold (default 1200)")
    p.add_argument("--heavy-lanes", type=argtype(parse_pos_int), metavar="N", help="unit-heavy lanes (default 4)")
    p.add_argument("--batch-ms", type=argtype(parse_nonneg_float), metavar="MS", help="unit-fast batch budget, 0 = one lane (default 45000)")
    p.add_argument("--gc-overhead", type=argtype(parse_gc_overhead), metavar="PCT|off",
                   help="a worker that runs several files forces a full GC at a file end (the GC-settled per-file "
                        "line) while its GCs take at most this share of the suite's own time in it; the other file "
                        "ends are measured "
                        "together with the next settled one, as a span (default 10; off = every file end)")
    p.add_argument("--memory-min-kb", type=argtype(parse_pos_int), metavar="KB", help="hotspot threshold (default: the manifest's defaultMinDeltaKb)")


def cli_values(args: argparse.Namespace) -> dict:
    keys = ("root", "runner", "config", "workers", "pool", "isolate", "snapshots", "snapshot_overhead", "gc_overhead", "lane", "shard", "behavior", "timings", "hotspots", "heavy_min_ms",
            "heavy_lanes", "batch_ms", "memory_min_kb", "max_old_space_mb", "trace", "poll_ms", "top",
            "snapshot_interval", "snapshot_dir", "snapshot_signal", "snapshot_budget_gb", "parallel", "grace",
            "runs_dir")
    return {k: getattr(args, k, None) for k in keys}


class Command(BaseCommand):
    name = "plan"
    help = "print the lanes a run would use"
    description = (
        "List the suite's test files and each project's resolved config with its runner's own resolution (Vitest "
        "or Jest, detected or --runner), read "
        "OpenClaw's behavior, timings and memory-hotspot manifests, and print one line per lane: name, files, "
        "workers, pool, isolate (the suite's own unless a manifest or an option changes them: each such "
        "deviation is printed under its lane). --explain FILE says which lane a file lands in and why."
    )
    examples = ("heaplens plan", "heaplens plan --files src/", "heaplens plan --explain src/cache.test.ts",
                "heaplens plan --format json")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        add_plan_arguments(p)
        p.add_argument("--explain", metavar="FILE", help="which lane FILE lands in, and why")
        p.add_argument("--files", action="store_true", help="list each lane's files under it")
        add_format(p, ("text", "json"))

    def run(self, args: argparse.Namespace) -> int:
        # deferred: the runner imports psutil and starts nothing until here (see commands/__init__)
        from pathlib import Path

        from ..errors import UsageError
        from ..runner import session
        from ..runner.manifests import norm
        from ..runner.plan import explain

        suite, plan, values, sources, timings, hotspots = session.prepare(cli_values(args), args.paths)
        if args.explain:
            f = Path(args.explain)
            if f.exists():
                try:
                    rel = f.resolve().relative_to(suite.root).as_posix()
                except ValueError:
                    raise UsageError(f"{args.explain} is outside the suite root {suite.root}") from None
            else:
                rel = norm(args.explain)
            for line in explain(plan, rel, timings, hotspots, command=suite.runner.command_text):
                print(line)
            return 0
        if args.format == "json":
            doc = {"root": str(suite.root), suite.runner.name: suite.version, "runner": suite.runner.name,
                   "node": suite.node_version, "package_manager": suite.package_manager, **plan.to_json()}
            json.dump(doc, sys.stdout, indent=1)
            sys.stdout.write("\n")
            return 0
        print(session.plan_header(suite, plan))
        print(session.gc_line(values, sources))
        for m, path in plan.manifests.items():
            print(f"manifest {m}={path or 'none'}")
        for note in plan.notes:
            print(f"note {note}")
        for lane in plan.lanes:
            print(lane.line())
            for d in lane.deviations:
                print(f"  deviation {d['text']}")
            if args.files:
                for f in lane.files:
                    print(f"  {f}")
        if plan.no_timing:
            print(f"no timing: {len(plan.no_timing)} file(s) (default {timings.default_ms:.0f} ms)")
            for f in plan.no_timing:
                print(f"  no timing {f}")
        for e in plan.ignored_entries:
            print(f"ignored behavior entry (not listed by {suite.runner.title}) {e}")
        return 0
