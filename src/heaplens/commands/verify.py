"""``heaplens verify RUN``: rerun the lanes a fix touched and compare before with after."""

from __future__ import annotations

import argparse
import json
import sys

from .. import printable
from ..console import progress_to_stderr
from . import BaseCommand, add_format, add_run, non_negative_float


class Command(BaseCommand):
    name = "verify"
    help = "after a fix: rerun what it touched and compare — verified or not"
    description = (
        "After `investigate --apply` changed the suite's Vitest config: the suite's own command, before and after, "
        "three runs a side interleaved, no snapshots (peak RSS, total RSS, wall time with their spread). After "
        "`heaplens isolate` (OpenClaw manifests): RUN's files replanned, the moved files' lanes rerun and their "
        "peaks compared. After a runtime leak's fix in the code: the test files that fed each holder are rerun in "
        "one worker configured like the finding's lane, with snapshots, and the same engine's id diff says "
        "whether the holder (same variable, same file) still grows — `verified` only when its growth per file, "
        "projected over the lane, falls below the diagnosis's significance floor. Exit 0 when verified, 1 when "
        "not. Both runs' report.json record the verification."
    )
    examples = ("heaplens verify 20261128-022338-cf14ba", "heaplens verify .heaplens/runs/<id> --min-drop 20",
                "heaplens verify <run> --format json", "heaplens verify <run> --no-holders")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        add_run(p)
        p.add_argument("--min-drop", type=non_negative_float, default=10.0, metavar="PCT",
                       help="the peak must fall by this many percent (default 10)")
        p.add_argument("--snapshots", action=argparse.BooleanOptionalAction, default=None,
                       help="force snapshots on/off in the lanes' rerun (default: as the lanes managed before; a "
                            "holder's rerun always takes them)")
        p.add_argument("--holders", action=argparse.BooleanOptionalAction, default=None,
                       help="rerun the files that fed each runtime leak's holder and diff its snapshots (default: "
                            "when RUN has runtime-leak findings; --holders fails if it has none)")
        add_format(p, ("text", "json"))

    def run(self, args: argparse.Namespace) -> int:
        from ..console import say  # deferred: see commands/__init__
        from ..workflow.verify import record, verify

        # with --format json, stdout carries the document only: the rerun's lines go to stderr
        with progress_to_stderr(args.format == "json"):
            v = verify(args.run, min_drop=args.min_drop, snapshots=args.snapshots, holders=args.holders, say=say)
            record(v)
        if args.format == "json":
            sys.stdout.write(json.dumps({"schema_version": 1, "kind": "heaplens.verification", **v.to_json()},
                                        indent=2) + "\n")
        else:
            for line in v.lines:  # holder names and families come from the snapshots
                print(f"[heaplens][verify] {printable.line(line)}")
            print(f"[heaplens][verify] {v.verdict}")
        return 0 if v.verdict == "verified" else 1
