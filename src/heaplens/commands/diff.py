"""``heaplens diff``: which object families grew between two snapshots of one worker."""

from __future__ import annotations

import argparse
import sys

from .. import printable
from ..errors import UsageError
from . import BaseCommand, add_format, non_negative_float, positive_int


class Command(BaseCommand):
    name = "diff"
    help = "compare heap snapshots: which object families grew"
    description = (
        "Compare two heap snapshots (BEFORE AFTER), or the earliest and latest snapshot of one worker "
        "PID in a lane directory (--lane-dir). Rows are families (V8 node type + name, like "
        "heapsnapshot-delta.mjs) or DevTools classes (--by class) whose self size grew by at least "
        "--min-kb, largest growth first. --trend lists what grew in every interval."
    )

    examples = ("heaplens diff before.heapsnapshot after.heapsnapshot",
                "heaplens diff --lane-dir .heaplens/runs/<id>/heapsnap/unit-fast --pid 16133",
                "heaplens diff --lane-dir DIR --trend --by class", "heaplens diff A B --ids --retainers")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("snapshots", nargs="*", metavar="SNAPSHOT", help="BEFORE and AFTER (.heapsnapshot or .gz)")
        p.add_argument("--lane-dir", metavar="DIR", help="pick snapshots of one PID from this directory")
        p.add_argument("--pid", type=int, help="with --lane-dir: the worker PID to compare")
        p.add_argument("--tid", type=int, help="with --lane-dir: the thread id (0 = main thread)")
        p.add_argument("--trend", action="store_true",
                       help="use every snapshot of the PID (or every SNAPSHOT given, oldest first) and list "
                            "the families that grew in every interval")
        p.add_argument("--top", type=positive_int, default=30, help="rows to show (default 30)")
        p.add_argument("--min-kb", type=non_negative_float, default=64.0,
                       help="smallest self-size growth shown, KiB (default 64)")
        p.add_argument("--by", choices=("family", "class"), default="family",
                       help="group by V8 type + name (family, default) or by DevTools class name")
        add_format(p, ("text", "markdown", "json"))
        p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
        p.add_argument("--ids", action="store_true",
                       help="id-based diff for two snapshots of one PID: per class new/freed count and size, "
                            "net, and the retained size of the new objects (falls back to the family delta "
                            "when the file names say the PIDs differ)")
        p.add_argument("--retainers", action="store_true",
                       help="with the id diff (implies --ids): the top retaining chains of the new objects "
                            "under each of the top 5 rows")

    def run(self, args: argparse.Namespace) -> int:
        from ..report import tables_json, tables_markdown, tables_text  # deferred: see commands/__init__
        from ..workflow import inspect

        pick = dict(lane_dir=args.lane_dir, pid=args.pid, tid=args.tid, top=args.top, min_kb=args.min_kb,
                    progress=False if args.no_progress else None)
        if (args.ids or args.retainers) and args.trend:
            raise UsageError("--ids/--retainers compare two snapshots; they do not combine with --trend")
        if args.ids or args.retainers:
            r = inspect.id_diff(args.snapshots, retainers=args.retainers, **pick)
            if r is not None:
                _warn(r.warnings)
                if args.format == "json":
                    sys.stdout.write(printable.text(tables_json.dumps(tables_json.id_diff_document(r))))
                elif args.format == "markdown":
                    sys.stdout.write(printable.text(tables_markdown.render_id_diff(r)))
                else:
                    sys.stdout.write(printable.text(tables_text.render_id_diff(r)))
                return 0
            print("heaplens: warning: the snapshots come from different processes (file names); object ids "
                  "do not carry over, showing the family delta instead of --ids", file=sys.stderr)
        r = inspect.diff(args.snapshots, trend=args.trend, by=args.by, **pick)
        _warn(r.warnings)
        if args.format == "json":
            text = tables_json.dumps(tables_json.trend_document(r) if args.trend else tables_json.diff_document(r))
        elif args.format == "markdown":
            text = tables_markdown.render_trend(r) if args.trend else tables_markdown.render_diff(r)
        else:
            text = tables_text.render_trend(r) if args.trend else tables_text.render_diff(r)
        sys.stdout.write(printable.text(text))
        return 0


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        print(f"heaplens: warning: {printable.line(w)}", file=sys.stderr)

