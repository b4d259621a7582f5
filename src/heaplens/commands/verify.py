"""``heaplens verify RUN``: rerun the lanes a fix touched and compare before with after."""

from __future__ import annotations

import argparse
import json
import sys

from ..console import progress_to_stderr
from . import BaseCommand, add_format, add_run, non_negative_float


class Command(BaseCommand):
    name = "verify"
    help = "rerun the lanes a fix touched and compare peak RSS, heap slope and families: verified or not"
    description = (
        "Replan RUN's files with the current manifests: files that moved to another lane (e.g. after "
        "`heaplens isolate`) are the fix; with none moved, the lanes that had a finding are rerun (a code fix). "
        "They run with RUN's options — with snapshots if those lanes finished with snapshots before — and the "
        "highest worker peak RSS, the per-lane peaks, the JS-heap slope per file and the finding's top families "
        "are compared. Prints `verified` (exit 0) when the peak falls by --min-drop percent or more (or OOMs "
        "are gone), otherwise `not verified` (exit 1). Both runs' report.json record the verification."
    )
    examples = ("heaplens verify 20261128-022338-cf14ba", "heaplens verify .heaplens/runs/<id> --min-drop 20",
                "heaplens verify <run> --format json")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        add_run(p)
        p.add_argument("--min-drop", type=non_negative_float, default=10.0, metavar="PCT",
                       help="the peak must fall by this many percent (default 10)")
        p.add_argument("--snapshots", action=argparse.BooleanOptionalAction, default=None,
                       help="force snapshots on/off in the rerun (default: as the lanes managed before)")
        add_format(p, ("text", "json"))

    def run(self, args: argparse.Namespace) -> int:
        from ..console import say  # deferred: see commands/__init__
        from ..workflow.verify import record, verify

        # with --format json, stdout carries the document only: the rerun's lines go to stderr
        with progress_to_stderr(args.format == "json"):
            v = verify(args.run, min_drop=args.min_drop, snapshots=args.snapshots, say=say)
            record(v)
        if args.format == "json":
            sys.stdout.write(json.dumps({"schema_version": 1, "kind": "heaplens.verification", **v.to_json()},
                                        indent=2) + "\n")
        else:
            for line in v.lines:
                print(f"[heaplens][verify] {line}")
            print(f"[heaplens][verify] {v.verdict}")
        return 0 if v.verdict == "verified" else 1
