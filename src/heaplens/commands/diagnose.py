"""``heaplens diagnose``: why a worker's heap grew — one finding per cause, with its holder and fix."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import UsageError
from . import BaseCommand


class Command(BaseCommand):
    name = "diagnose"
    help = "why the heap grew: module-graph retention, a runtime leak held by a named variable, external memory"
    description = (
        "Attribute every object that is new in the later of two snapshots of one worker to its nearest "
        "pre-existing holder, and report one finding per cause (module-graph retention, a runtime leak held by "
        "a named variable, external memory), biggest first, each with its severity, confidence, holder and fix "
        "(docs/diagnose.md). RUN_DIR: every worker of a run (with the run's per-file trace: growth per file, "
        "projection over the lane, growth after the last snapshot) — the same answer as `heaplens report`. "
        "BEFORE AFTER, or --lane-dir DIR (the earliest and latest snapshot of one PID): a pair without a run."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("snapshots", nargs="*", metavar="RUN_DIR|SNAPSHOT")
        p.add_argument("--lane-dir", metavar="DIR")
        p.add_argument("--lane", action="append", default=[], metavar="NAME", help="with RUN_DIR: only these lanes")
        p.add_argument("--pid", type=int)
        p.add_argument("--tid", type=int)
        p.add_argument("--rules", action="append", default=[], metavar="FILE",
                       help="extra rules (JSON, the keys of heaplens/diagnose/rules.json), tried with the built-in ones")
        p.add_argument("--retainers", action="store_true", default=True, help=argparse.SUPPRESS)  # the default now
        p.add_argument("--no-retainers", dest="retainers", action="store_false",
                       help="skip the holder analysis (only the family delta; no verdict)")
        p.add_argument("--rebuild", action="store_true", help="RUN_DIR: do not reuse the run's cached diagnosis")
        p.add_argument("--format", choices=("table", "json"), default="table")

    def run(self, args: argparse.Namespace) -> int:
        from ..diagnose import load_rules
        from ..diagnose.run import cached_diagnosis, diagnose_files
        from ..progress import enabled, status

        rules = load_rules(args.rules)
        lanes = [n for v in args.lane for n in v.split(",") if n]
        with status(enabled()) as say:
            if len(args.snapshots) == 1 and not args.lane_dir:
                doc = cached_diagnosis(args.snapshots[0], rules=rules, retainers=args.retainers, lanes=lanes or None,
                                       rebuild=args.rebuild, progress=say)
                if args.pid is not None:
                    doc["workers"] = [w for w in doc["workers"] if w["pid"] == args.pid]
            else:
                if args.lane_dir:
                    if args.snapshots:
                        raise UsageError("give either --lane-dir or snapshot files, not both")
                    from ..snapshot.files import find_series

                    s = find_series(args.lane_dir, args.pid, args.tid)
                    files = [str(f.path) for f in s.files]
                    before, after = files[0], files[-1]
                elif len(args.snapshots) == 2:
                    before, after = args.snapshots
                    files = None
                else:
                    raise UsageError("diagnose needs RUN_DIR, BEFORE and AFTER, or --lane-dir DIR")
                doc = diagnose_files(before, after, rules=rules, retainers=args.retainers, snapshots=files,
                                     progress=say).to_json()
        if args.format == "json":
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
            return 0
        from ..report.findings import printable, terminal_lines

        out = [f"run: {printable(doc['run'])}"] if doc.get("run") else []
        for w in doc["workers"]:
            out.append("")
            out += terminal_lines(w)
        out += [f"skipped {printable(s)}" for s in doc.get("skipped") or []]
        if not doc["workers"]:
            out.append("no worker to diagnose")
        sys.stdout.write("\n".join(out) + "\n")
        return 0
