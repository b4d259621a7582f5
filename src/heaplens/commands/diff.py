"""``heaplens diff``: which object families grew between two snapshots of one worker."""

from __future__ import annotations

import argparse
import os
import sys

from .. import printable
from ..errors import UsageError
from . import BaseCommand


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return v


def non_negative_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if v < 0 or v != v:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text}")
    return v


class Command(BaseCommand):
    name = "diff"
    help = "compare heap snapshots: which object families grew"
    description = (
        "Compare two heap snapshots (BEFORE AFTER), or the earliest and latest snapshot of one worker "
        "PID in a lane directory (--lane-dir). Rows are families (V8 node type + name, like "
        "heapsnapshot-delta.mjs) or DevTools classes (--by class) whose self size grew by at least "
        "--min-kb, largest growth first. --trend lists what grew in every interval."
    )

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
        p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
        p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
        p.add_argument("--ids", action="store_true",
                       help="id-based diff for two snapshots of one PID: per class new/freed count and size, "
                            "net, and the retained size of the new objects (falls back to the family delta "
                            "when the file names say the PIDs differ)")
        p.add_argument("--retainers", action="store_true",
                       help="with the id diff (implies --ids): the top retaining chains of the new objects "
                            "under each of the top 5 rows")

    def run(self, args: argparse.Namespace) -> int:
        if args.ids or args.retainers:
            code = self._run_ids(args)
            if code is not None:
                return code
        from ..compare import delta as D
        from ..compare.summary import summarize
        from ..progress import byte_progress, enabled
        from ..report import jsonout, markdown, terminal

        snaps = args.snapshots
        if args.lane_dir:
            if snaps:
                raise UsageError("give either --lane-dir or snapshot files, not both")
        else:
            if args.pid is not None or args.tid is not None:
                raise UsageError("--pid and --tid select snapshots in a --lane-dir")
            if args.trend and len(snaps) < 2:
                raise UsageError("--trend needs --lane-dir DIR or at least two snapshot files")
            if not args.trend and len(snaps) != 2:
                raise UsageError(f"diff needs BEFORE and AFTER (got {len(snaps)} files), or --lane-dir DIR")

        with byte_progress(enabled(not args.no_progress)) as task:

            def opener(path: str):
                try:
                    size = os.path.getsize(path)
                except OSError:
                    size = 0
                return summarize(path, progress=task(f"reading {os.path.basename(path)}", size))

            common = dict(by=args.by, top=args.top, min_kb=args.min_kb, opener=opener)
            if args.trend:
                if args.lane_dir:
                    result = D.trend_lane_dir(args.lane_dir, pid=args.pid, tid=args.tid, **common)
                else:
                    result = D.trend_files(snaps, **common)
            elif args.lane_dir:
                result = D.diff_lane_dir(args.lane_dir, pid=args.pid, tid=args.tid, **common)
            else:
                result = D.diff_files(snaps[0], snaps[1], **common)

        for w in result.warnings:
            print(f"heaplens: warning: {printable.line(w)}", file=sys.stderr)
        trend = args.trend
        if args.format == "json":
            text = jsonout.dumps(jsonout.trend_document(result) if trend else jsonout.diff_document(result))
        elif args.format == "markdown":
            text = markdown.render_trend(result) if trend else markdown.render_diff(result)
        else:
            text = terminal.render_trend(result) if trend else terminal.render_diff(result)
        sys.stdout.write(printable.text(text))
        return 0


    # -- id-based diff (heaplens.compare.ids) -------------------------------------------------------
    def _run_ids(self, args: argparse.Namespace) -> int | None:
        """The id diff; None to fall back to the family delta (snapshots of different PIDs)."""
        from ..compare import ids as I
        from ..progress import byte_progress, enabled
        from ..report import jsonout, markdown, terminal

        if args.trend:
            raise UsageError("--ids/--retainers compare two snapshots; they do not combine with --trend")
        if args.lane_dir:
            if args.snapshots:
                raise UsageError("give either --lane-dir or snapshot files, not both")
            before, after, _ = I.lane_pair(args.lane_dir, args.pid, args.tid)
        else:
            if args.pid is not None or args.tid is not None:
                raise UsageError("--pid and --tid select snapshots in a --lane-dir")
            if len(args.snapshots) != 2:
                raise UsageError(f"diff needs BEFORE and AFTER (got {len(args.snapshots)} files), or --lane-dir DIR")
            before, after = args.snapshots
        same, _ = I.same_pid(before, after)
        if same is False:
            print("heaplens: warning: the snapshots come from different processes (file names); object ids "
                  "do not carry over, showing the family delta instead of --ids", file=sys.stderr)
            return None
        with byte_progress(enabled(not args.no_progress)) as task:

            def progress(path):
                try:
                    size = os.path.getsize(path)
                except OSError:
                    size = 0
                return task(f"reading {os.path.basename(str(path))}", size)

            result = I.id_diff(before, after, top=args.top, min_kb=args.min_kb, progress=progress,
                               keep_graph=args.retainers)
        try:
            if args.retainers:
                I.add_retainers(result)
            for w in result.warnings:
                print(f"heaplens: warning: {printable.line(w)}", file=sys.stderr)
            if args.format == "json":
                text = jsonout.dumps(jsonout.id_diff_document(result))
            elif args.format == "markdown":
                text = markdown.render_id_diff(result)
            else:
                text = terminal.render_id_diff(result)
        finally:
            result.close()
        sys.stdout.write(printable.text(text))
        return 0
