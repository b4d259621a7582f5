"""``heaplens verify RUN``: rerun the lanes a fix touched and compare before with after."""

from __future__ import annotations

import argparse
import json
import sys

from . import BaseCommand


def print_verification(v, out=sys.stdout) -> None:
    for line in v.lines:
        print(f"[heaplens][verify] {line}", file=out)
    print(f"[heaplens][verify] {v.verdict}", file=out)


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

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        from ..runner.options import argtype, parse_nonneg_float

        p.add_argument("run_dir", metavar="RUN")
        p.add_argument("--min-drop", type=argtype(parse_nonneg_float), default=10.0, metavar="PCT",
                       help="the peak must fall by this many percent (default 10)")
        p.add_argument("--snapshots", action=argparse.BooleanOptionalAction, default=None,
                       help="force snapshots on/off in the rerun (default: as the lanes managed before)")
        p.add_argument("--format", choices=("text", "json"), default="text")

    def run(self, args: argparse.Namespace) -> int:
        from ..fix.verify import record, verify
        from ..runner.execute import say

        import contextlib

        # with --format json, stdout carries the document only: the rerun's lines go to stderr
        quiet = contextlib.redirect_stdout(sys.stderr) if args.format == "json" else contextlib.nullcontext()
        with quiet:
            v = verify(args.run_dir, min_drop=args.min_drop, snapshots=args.snapshots, say=say)
            record(v)
        if args.format == "json":
            sys.stdout.write(json.dumps({"schema_version": 1, "kind": "heaplens.verification", **v.to_json()},
                                        indent=2) + "\n")
        else:
            print_verification(v)
        return 0 if v.verdict == "verified" else 1
