"""``heaplens timings update``: refresh the timings manifest from a run or a Vitest JSON report."""

from __future__ import annotations

import argparse
import sys

from . import BaseCommand
from .hotspots import add_update_arguments, finish_update


class Command(BaseCommand):
    name = "timings"
    help = "update the timings manifest from run records or Vitest JSON reports"
    description = (
        "update: read each test file's duration from heaplens run records (--from RUN) or Vitest's JSON "
        "reporter output (--report FILE: endTime - startTime per testResults entry, testCount = its "
        "assertionResults), merge with the existing manifest (new measurements replace old ones) and write "
        "it atomically. Files that grew (the runs' top lists, the hotspot manifest) but still have no "
        "timing are called out."
    )

    examples = ("heaplens timings update --from 20261128-022338-cf14ba",
                "heaplens timings update --report vitest-report.json --dry-run")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        add_update_arguments(p, "test/fixtures/test-timings.unit.json")
        p.add_argument("--report", dest="reports", nargs="+", action="extend", default=[], metavar="VITEST_JSON",
                       help="output of vitest run --reporter=json")
        p.add_argument("--hotspots", metavar="PATH", help="the hotspot manifest checked for blind spots")

    def run(self, args: argparse.Namespace) -> int:
        from ..fix.timings import update  # deferred: see commands/__init__
        from ..runner.session import resolve_root

        root = resolve_root(args.root, [])
        r = update(root, runs=args.runs, reports=args.reports, out=args.out, hotspots_path=args.hotspots,
                   config=args.config, dry_run=args.dry_run)
        for w in r.warnings:
            print(f"heaplens: warning: {w}", file=sys.stderr)
        for f in r.measured:
            v = r.files[f]
            count = f" tests={v['testCount']}" if "testCount" in v else ""
            print(f"timing {f} {v['durationMs']:.2f}ms{count}" + (" (new)" if f in r.added else ""))
        return finish_update(r, "timings", args.dry_run)
