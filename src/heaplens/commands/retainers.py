"""``heaplens retainers``: why is this object / class alive — retaining paths from the GC roots."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .. import printable
from . import BaseCommand
from .diff import positive_int
from .top import SCHEMA_VERSION, open_graph


class Command(BaseCommand):
    name = "retainers"
    help = "retaining paths of an object or of all instances of a class"
    description = (
        "Shortest retaining paths from the GC roots (DevTools' Retainers view: weak edges ignored) "
        "for one object (--id) or, aggregated by chain, for every instance of a class (--class): "
        "\"4,812 of 5,000 SessionRecord are retained through Map `sessionCache` (src/cache.js)\". "
        "Closures and contexts on a path name the script that holds the reference."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("snapshot", metavar="SNAPSHOT", help=".heapsnapshot (or .gz)")
        who = p.add_mutually_exclusive_group(required=True)
        who.add_argument("--class", dest="class_name", metavar="NAME", help="DevTools class name, e.g. Map")
        who.add_argument("--id", dest="node_id", type=int, metavar="N", help="object id (the @N in DevTools)")
        p.add_argument("--paths", type=positive_int, default=3,
                       help="paths to show (for --class: chains; default 3)")
        p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
        p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")

    def run(self, args: argparse.Namespace) -> int:
        from ..errors import UsageError
        from ..graph import paths as P
        from ..report.units import fmt_count
        from .top import fmt_bytes as fmt_size

        g = open_graph(args.snapshot, not args.no_progress)
        try:
            md = args.format == "markdown"
            bullet = "- " if md else ""
            if args.node_id is not None:
                k = g.ordinal_of_id(args.node_id)
                if k < 0:
                    raise UsageError(f"no object with id {args.node_id} in {args.snapshot}")
                found = P.k_paths(g, k, args.paths)
                info = {"label": g.node_label(k), "id": int(g.ids[k]), "class": g.class_name(k),
                        "shallow_size": int(g.sizes[k]), "retained_size": int(g.retained[k]),
                        "distance": int(g.distance[k]), "dominator": g.node_label(int(g.dom[k]))}
                if args.format == "json":
                    doc = {"schema_version": SCHEMA_VERSION, "kind": "heaplens.retainers", "snapshot": args.snapshot,
                           "object": info, "paths": [p.to_json() for p in found]}
                    sys.stdout.write(printable.text(json.dumps(doc, indent=2) + "\n"))
                    return 0
                out = [f"## Retainers of `{info['label']}`" if md else f"object: {info['label']}", ""] if md else \
                      [f"object: {info['label']}"]
                out.append(f"{bullet}shallow {fmt_size(info['shallow_size'])}, retained {fmt_size(info['retained_size'])}, "
                           f"distance {info['distance']}, immediate dominator {info['dominator']}")
                out.append("")
                for i, p in enumerate(found, 1):
                    out.append(f"{i}. {p.text()}" if md else f"path {i}: {p.text()}")
                if not found:
                    out.append("no retainers")
                sys.stdout.write(printable.text("\n".join(out) + "\n"))
                return 0

            name = args.class_name
            keys = g.class_keys_named(name)
            if not len(keys):
                raise UsageError(f"no class named {name!r} in {args.snapshot}")
            nodes = np.flatnonzero(np.isin(g.class_keys[0], keys))
            agg = P.aggregate(g, nodes, name, top=args.paths)
            rows = [g.class_row(int(k)) for k in keys]
            retained = sum(r.retained for r in rows)
            if args.format == "json":
                doc = {"schema_version": SCHEMA_VERSION, "kind": "heaplens.retainers", "snapshot": args.snapshot,
                       "class": name, "count": int(len(nodes)), "retained_size": retained,
                       "aggregation": agg.to_json()}
                sys.stdout.write(printable.text(json.dumps(doc, indent=2) + "\n"))
                return 0
            out = [f"## Retainers of `{name}`", ""] if md else [f"class: {name}"]
            out.append(f"{bullet}{fmt_count(len(nodes))} instances, retained {fmt_size(retained)}")
            out.append("")
            for c in agg.chains:
                out.append(f"{bullet}{agg.sentence(c)}")
                out.append(f"    chain:   {c.pattern}")
                out.append(f"    example: {c.example.text()}")
            sys.stdout.write(printable.text("\n".join(out) + "\n"))
            return 0
        finally:
            g.snap.close()
