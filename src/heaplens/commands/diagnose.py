"""``heaplens diagnose``: classify the growth of every worker of a run (or between two snapshots), with
evidence, holders and the fix."""

from __future__ import annotations

import argparse
import sys

from .. import printable
from ..errors import UsageError
from . import BaseCommand, add_format


class Command(BaseCommand):
    name = "diagnose"
    help = "why the heap grew: module-graph retention, a runtime leak held by a named variable, external memory"
    description = (
        "Every object that is new in the later of two snapshots of one worker is attributed to the nearest "
        "object that already existed (its holder); one finding per cause — module-graph retention, a runtime "
        "leak held by a named variable, external memory — biggest first, each with severity, confidence, holder "
        "and fix (docs/diagnose.md). RUN: every worker of every lane of a run, with the run's per-file trace — "
        "the same findings as `heaplens report RUN` (one model, cached in <run>/report.json). BEFORE AFTER, or "
        "--lane-dir DIR (the earliest and latest snapshot of a PID): one worker, without a run. --no-retainers "
        "skips the holder analysis (no verdict). Rules: heaplens/diagnose/rules.json, extended with --rules FILE."
    )
    examples = ("heaplens diagnose 20261128-022338-cf14ba", "heaplens diagnose .heaplens/runs/<id> --format json",
                "heaplens diagnose before.heapsnapshot after.heapsnapshot",
                "heaplens diagnose --lane-dir .heaplens/runs/<id>/heapsnap/unit-fast --pid 16133")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("inputs", nargs="*", metavar="RUN|SNAPSHOT",
                       help="a run (directory, run.json or run id), or BEFORE AFTER snapshots")
        p.add_argument("--lane-dir", metavar="DIR")
        p.add_argument("--lane", action="append", default=[], metavar="NAME", help="with RUN: only these lanes")
        p.add_argument("--pid", type=int)
        p.add_argument("--tid", type=int)
        p.add_argument("--rules", action="append", default=[], metavar="FILE",
                       help="extra rules (JSON, the keys of the built-in file), tried with the built-in ones")
        p.add_argument("--no-retainers", action="store_true",
                       help="skip the holder analysis (only the family delta; no verdict)")
        p.add_argument("--retainers", action="store_true", help=argparse.SUPPRESS)  # the default since 0.2
        add_format(p, ("text", "json"))

    def run(self, args: argparse.Namespace) -> int:
        from ..diagnose import load_rules  # deferred: see commands/__init__
        from ..report import tables_json, tables_text
        from ..report.json_report import diagnosis_document
        from ..report.terminal import render_diagnosis
        from ..workflow.inspect import diagnose_pair
        from ..workflow.report import report_document

        retainers = not args.no_retainers
        if len(args.inputs) == 1 and not args.lane_dir:
            lanes = [n for v in args.lane for n in v.split(",") if n]
            doc = report_document(args.inputs[0], rules=args.rules, lanes=lanes, retainers=retainers)
            if args.pid is not None:
                doc = dict(doc, workers=[w for w in doc["workers"] if w["pid"] == args.pid],
                           findings=[f for f in doc["findings"] if f["pid"] == args.pid])
            if args.format == "json":
                sys.stdout.write(printable.text(tables_json.dumps(diagnosis_document(doc))))
            else:
                sys.stdout.write(printable.text(render_diagnosis(doc)))
            return 0
        if not args.lane_dir and len(args.inputs) != 2:
            raise UsageError("diagnose needs RUN, BEFORE and AFTER, or --lane-dir DIR")
        p = diagnose_pair(args.inputs, rules=load_rules(args.rules), lane_dir=args.lane_dir, pid=args.pid,
                          tid=args.tid, retainers=retainers)
        if args.format == "json":
            sys.stdout.write(printable.text(tables_json.dumps(tables_json.pair_diagnosis_document(p))))
        else:
            sys.stdout.write(printable.text(tables_text.render_pair_diagnosis(p)))
        return 0
