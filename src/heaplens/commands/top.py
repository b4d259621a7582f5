"""``heaplens top``: classes and objects by retained size, like DevTools' Summary view."""

from __future__ import annotations

import argparse
import sys

from .. import printable
from . import BaseCommand, add_format, positive_int


class Command(BaseCommand):
    name = "top"
    help = "classes and objects by retained size (DevTools' Summary)"
    description = (
        "Read one heap snapshot, build the dominator tree with DevTools' rules and list the classes "
        "(count, shallow size, retained size without double counting, distance) and the single "
        "objects with the largest retained sizes."
    )
    examples = ("heaplens top Heap.20261128.022403.15583.0.005.heapsnapshot",
                "heaplens top worker.heapsnapshot.gz --top 50 --objects 0", "heaplens top SNAPSHOT --format json")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("snapshot", metavar="SNAPSHOT", help=".heapsnapshot (or .gz)")
        p.add_argument("--top", type=positive_int, default=25, metavar="N", help="classes to list (default 25)")
        p.add_argument("--objects", type=int, default=10, metavar="N", help="objects to list (default 10; 0 = none)")
        add_format(p, ("text", "markdown", "json"))
        p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")

    def run(self, args: argparse.Namespace) -> int:
        from ..report import tables_json, tables_markdown, tables_text  # deferred: see commands/__init__
        from ..workflow.inspect import top

        r = top(args.snapshot, classes=args.top, objects=args.objects, progress=False if args.no_progress else None)
        if args.format == "json":
            sys.stdout.write(printable.text(tables_json.dumps(tables_json.top_document(r))))
        elif args.format == "markdown":
            sys.stdout.write(printable.text(tables_markdown.render_top(r)))
        else:
            sys.stdout.write(printable.text(tables_text.render_top(r)))
        return 0
