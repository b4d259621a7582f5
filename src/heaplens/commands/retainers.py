"""``heaplens retainers``: why is this object / class alive — retaining paths from the GC roots."""

from __future__ import annotations

import argparse
import sys

from .. import printable
from . import BaseCommand, add_format, positive_int


class Command(BaseCommand):
    name = "retainers"
    help = "retaining paths of an object or of all instances of a class"
    description = (
        "Shortest retaining paths from the GC roots (DevTools' Retainers view: weak edges ignored) "
        "for one object (--id) or, aggregated by chain, for every instance of a class (--class): "
        "\"4,812 of 5,000 SessionRecord are retained through Map `sessionCache` (src/cache.js)\". "
        "Closures and contexts on a path name the script that holds the reference."
    )
    examples = ("heaplens retainers SNAPSHOT --class SessionRecord", "heaplens retainers SNAPSHOT --id 123457 --paths 5",
                "heaplens retainers SNAPSHOT --class Map --format json")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("snapshot", metavar="SNAPSHOT", help=".heapsnapshot (or .gz)")
        who = p.add_mutually_exclusive_group(required=True)
        who.add_argument("--class", dest="class_name", metavar="NAME", help="DevTools class name, e.g. Map")
        who.add_argument("--id", dest="node_id", type=int, metavar="N", help="object id (the @N in DevTools)")
        p.add_argument("--paths", type=positive_int, default=3, metavar="N",
                       help="paths to show (for --class: chains; default 3)")
        add_format(p, ("text", "markdown", "json"))
        p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")

    def run(self, args: argparse.Namespace) -> int:
        from ..report import tables_json, tables_markdown, tables_text  # deferred: see commands/__init__
        from ..workflow.inspect import retainers

        r = retainers(args.snapshot, node_id=args.node_id, class_name=args.class_name, paths=args.paths,
                      progress=False if args.no_progress else None)
        if args.format == "json":
            sys.stdout.write(printable.text(tables_json.dumps(tables_json.retainers_document(r))))
        elif args.format == "markdown":
            sys.stdout.write(printable.text(tables_markdown.render_retainers(r)))
        else:
            sys.stdout.write(printable.text(tables_text.render_retainers(r)))
        return 0
