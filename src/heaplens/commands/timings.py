"""``heaplens timings update``: refresh the timings manifest from a run or a Vitest JSON report."""

from __future__ import annotations

import argparse
import sys

from . import BaseCommand
from .hotspots import print_blind_spots
from .isolate import shown_path


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

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("action", choices=("update",))
        p.add_argument("--from", dest="runs", nargs="+", action="extend", default=[], metavar="RUN",
                       help="run directory, run.json or run id")
        p.add_argument("--report", dest="reports", nargs="+", action="extend", default=[], metavar="VITEST_JSON",
                       help="output of vitest run --reporter=json")
        p.add_argument("--out", metavar="PATH", help="the manifest, relative to the suite root "
                       "(default test/fixtures/test-timings.unit.json)")
        p.add_argument("--hotspots", metavar="PATH", help="the hotspot manifest checked for blind spots")
        p.add_argument("--config", metavar="LABEL", help="the Vitest config named in the manifest")
        p.add_argument("--root", metavar="DIR", help="the suite root (default: nearest package.json upwards)")
        p.add_argument("--dry-run", action="store_true", help="print the change as a diff, write nothing")

    def run(self, args: argparse.Namespace) -> int:
        from ..fix.timings import update
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
        if args.dry_run:
            sys.stdout.write(r.diff)
            print(f"would write {len(r.files)} timings to {shown_path(r.path)}")
        else:
            print(f"wrote {len(r.files)} timings to {shown_path(r.path)}")
        print_blind_spots(r.blind_spots)
        return 0
