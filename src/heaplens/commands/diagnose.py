"""``heaplens diagnose``: classify the growth between snapshots of one worker, with evidence."""

from __future__ import annotations

import argparse
import json
import sys

from .. import printable
from ..errors import UsageError
from . import BaseCommand
from .diff import non_negative_float


class Command(BaseCommand):
    name = "diagnose"
    help = "classify heap growth: module-graph retention, runtime leak, external memory"
    description = (
        "Compare two snapshots of one worker (BEFORE AFTER, the earliest and latest of a PID in "
        "--lane-dir, or of every worker of every lane of a run: RUN_DIR, with the run's per-file RSS) and classify what grew with the rules in heaplens/diagnose/rules.json (extend them "
        "with --rules FILE): module-graph retention, runtime leak, external memory, no significant "
        "growth, or ambiguous. --retainers checks the verdict against the retaining chains of the new "
        "objects (by object id: same process only)."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("snapshots", nargs="*", metavar="RUN_DIR|SNAPSHOT")
        p.add_argument("--lane-dir", metavar="DIR")
        p.add_argument("--lane", action="append", default=[], metavar="NAME", help="with RUN_DIR: only these lanes")
        p.add_argument("--pid", type=int)
        p.add_argument("--tid", type=int)
        p.add_argument("--rules", action="append", default=[], metavar="FILE",
                       help="extra rules (JSON, same shape as the built-in file); checked before the built-in ones")
        p.add_argument("--retainers", action="store_true",
                       help="confirm with the retaining chains of the new objects (reads the whole graph)")
        p.add_argument("--min-kb", type=non_negative_float, default=0.0, help=argparse.SUPPRESS)
        p.add_argument("--format", choices=("table", "json"), default="table")

    def run(self, args: argparse.Namespace) -> int:
        from ..compare import delta as D
        from ..diagnose import classify_growth, confirm_with_retainers, load_rules
        from ..report.units import cut, fmt_count, fmt_size

        rules = load_rules(args.rules)
        if len(args.snapshots) == 1 and not args.lane_dir:
            return self.run_dir(args, rules)
        common = dict(by="family", top=20000, min_kb=1 / 1024)
        if args.lane_dir:
            if args.snapshots:
                raise UsageError("give either --lane-dir or snapshot files, not both")
            result = D.diff_lane_dir(args.lane_dir, pid=args.pid, tid=args.tid, **common)
        elif len(args.snapshots) == 2:
            result = D.diff_files(args.snapshots[0], args.snapshots[1], **common)
        else:
            raise UsageError("diagnose needs RUN_DIR, BEFORE and AFTER, or --lane-dir DIR")
        d = classify_growth(result.rows, result.before.self_size_total, rules)
        if args.retainers and d.verdict not in ("no significant growth",):
            if result.warnings:
                d.evidence.append("retainers not checked: the snapshots come from different processes")
            else:
                confirm_with_retainers(d, result.before.path, result.after.path)
        for w in result.warnings:
            print(f"heaplens: warning: {printable.line(w)}", file=sys.stderr)
        if args.format == "json":
            doc = {"schema_version": 1, "kind": "heaplens.diagnosis", "before": result.before.path,
                   "after": result.after.path, "pid": result.after.pid, "rules": rules.sources, **d.to_json()}
            sys.stdout.write(printable.text(json.dumps(doc, indent=2) + "\n"))
            return 0
        out = [f"before: {result.before.path}", f"after:  {result.after.path}"]
        if result.series is not None:
            out.append(f"pid: {result.series.pid} ({result.series.snapshots} snapshots found)")
        conf = {True: "confirmed by retainers", False: "retainers disagree", None: "retainers not checked"}[d.confirmed]
        out.append(f"verdict: {d.verdict} (confidence {d.confidence:.0%}; {conf})")
        out.append(f"  {d.summary}")
        out.append("evidence:")
        out.extend(f"  - {e}" for e in d.evidence)
        out.append("top families:")
        for row in result.rows[:8]:
            rule = rules.classify(row.type, row.name)
            out.append(f"  {fmt_size(row.size_delta, signed=True):>10} {fmt_count(row.count_delta, signed=True):>10}  "
                       f"{row.type:<20} {cut(row.name, 60) or chr(34) * 2:<60}  [{rule.bucket if rule else 'unclassified'}]")
        sys.stdout.write(printable.text("\n".join(out) + "\n"))
        return 0

    def run_dir(self, args: argparse.Namespace, rules) -> int:
        from ..diagnose.run import diagnose_run
        from ..progress import enabled, status

        lanes = [n for v in args.lane for n in v.split(",") if n]
        with status(enabled()) as say:
            rd = diagnose_run(args.snapshots[0], rules=rules, retainers=args.retainers, lanes=lanes or None,
                              progress=say)
        if args.pid is not None:
            rd.investigations = [i for i in rd.investigations if i.pid == args.pid]
        if args.format == "json":
            doc = {"schema_version": 1, "kind": "heaplens.run-diagnosis", "run": rd.run_dir,
                   "run_id": rd.record.get("run_id"), "rules": rules.sources,
                   "results": [i.to_json() for i in rd.investigations], "skipped": rd.skipped}
            sys.stdout.write(printable.text(json.dumps(doc, indent=2) + "\n"))
            return 0
        from ..report.units import cut, fmt_size

        out = [f"run: {rd.run_dir}"]
        conf = {True: "confirmed by retainers", False: "retainers disagree", None: "retainers not checked"}
        for inv in rd.investigations:
            d = inv.diagnosis
            snaps = f"{len(inv.snapshots)} snapshot(s)" if inv.snapshots else "no snapshots"
            out.append("")
            out.append(f"{inv.lane} pid={inv.pid} ({snaps}): {d.verdict} (confidence {d.confidence:.0%}; "
                       f"{conf[d.confirmed]})")
            out.append(f"  {d.summary}")
            out.extend(f"  - {e}" for e in d.evidence)
            for h in inv.holders[:3]:
                where = f" in {h.source}" if h.source else ""
                out.append(f"  holder: {h.variable or '?'}{where} ({h.kind}) — {h.sentence}")
            for r in inv.rows[:5]:
                out.append(f"  {fmt_size(r.size_delta, signed=True):>10}  {r.type:<20} {cut(r.name, 70)}")
        out.extend(f"skipped {s}" for s in rd.skipped)
        sys.stdout.write(printable.text("\n".join(out) + "\n"))
        return 0
