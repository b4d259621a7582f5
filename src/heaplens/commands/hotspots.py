"""``heaplens hotspots update``: refresh the memory-hotspot manifest from runs and logs."""

from __future__ import annotations

import argparse
import sys

from ..runner.options import argtype, parse_pos_int
from ..units import fmt_size
from . import RUN_HELP, BaseCommand
from .isolate import shown_path


def add_update_arguments(p: argparse.ArgumentParser, manifest: str) -> None:
    """The arguments ``hotspots update`` and ``timings update`` share (``--from``, ``--out``, …)."""
    p.add_argument("action", choices=("update",))
    p.add_argument("--from", dest="runs", nargs="+", action="extend", default=[], metavar="RUN",
                   help=RUN_HELP)
    p.add_argument("--out", metavar="PATH", help=f"the manifest, relative to the suite root (default {manifest})")
    p.add_argument("--config", metavar="LABEL", help="the Vitest config named in the manifest")
    p.add_argument("--root", metavar="DIR", help="the suite root (default: nearest package.json upwards)")
    p.add_argument("--dry-run", action="store_true", help="print the change as a diff, write nothing")


def finish_update(r, what: str, dry_run: bool) -> int:
    """The diff (dry run) or the written line, then the files that grew without a timing."""
    if dry_run:
        sys.stdout.write(r.diff)
        print(f"would write {len(r.files)} {what} to {shown_path(r.path)}")
    else:
        print(f"wrote {len(r.files)} {what} to {shown_path(r.path)}")
    print_blind_spots(r.blind_spots)
    return 0


def print_blind_spots(spots: list[tuple[str, int]]) -> None:
    for f, kb in spots:
        print(f"no timing: {f} ({fmt_size(kb * 1024, signed=True)}) — a scheduling blind spot")


class Command(BaseCommand):
    name = "hotspots"
    help = "update the memory-hotspot manifest from run records and logs"
    description = (
        "update: read each file's RSS growth from heaplens run records (--from RUN: a run directory, "
        "run.json or run id) and from OpenClaw-style logs (--log FILE: `[test-parallel][mem] summary` and "
        "`[heaplens][mem] summary` lines), keep files that grew by at least --min-delta-kb, merge with the "
        "existing manifest (max delta per file, union of sources), sort by delta, cut to --limit and write "
        "it atomically. Files that grew but have no timing are called out."
    )

    examples = ("heaplens hotspots update --from 20261128-022338-cf14ba",
                "heaplens hotspots update --from runs/*/ --log ci-unit.log --min-delta-kb 131072 --dry-run")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        add_update_arguments(p, "test/fixtures/test-memory-hotspots.unit.json")
        p.add_argument("--log", dest="logs", nargs="+", action="extend", default=[], metavar="FILE",
                       help="a log with [test-parallel][mem] / [heaplens][mem] summary lines")
        p.add_argument("--min-delta-kb", type=argtype(parse_pos_int), default=262144, metavar="N",
                       help="keep files that grew by at least N KiB (default 262144 = 256 MiB)")
        p.add_argument("--limit", type=argtype(parse_pos_int), default=64, metavar="N",
                       help="keep the N largest (default 64)")
        p.add_argument("--lane", dest="lanes", action="append", metavar="GLOB", help="only these lanes (repeatable)")
        p.add_argument("--timings", metavar="PATH", help="the timings manifest checked for blind spots")

    def run(self, args: argparse.Namespace) -> int:
        from ..fix.hotspots import update  # deferred: see commands/__init__
        from ..runner.session import resolve_root

        root = resolve_root(args.root, [])
        r = update(root, runs=args.runs, logs=args.logs, out=args.out, min_delta_kb=args.min_delta_kb,
                   limit=args.limit, lanes=args.lanes, timings_path=args.timings, config=args.config,
                   dry_run=args.dry_run)
        for f in r.added + r.raised:
            v = r.files[f]
            what = "new" if f in r.added else "raised"
            print(f"hotspot {f} {fmt_size(v['deltaKb'] * 1024, signed=True)} ({what}; {', '.join(v['sources'])})")
        for f in r.dropped:
            print(f"dropped {f} (beyond --limit {args.limit})")
        return finish_update(r, "hotspots", args.dry_run)
