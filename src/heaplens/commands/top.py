"""``heaplens top``: classes and objects by retained size, like DevTools' Summary view."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from .. import printable
from . import BaseCommand
from .diff import positive_int

SCHEMA_VERSION = 1


def open_graph(path: str, show_progress: bool):
    """Read a snapshot with edges and locations and build its graph (one line errors, exit 2)."""
    from ..graph import HeapGraph, read_for_graph
    from ..progress import byte_progress, enabled

    if os.path.isdir(path):
        from ..errors import UsageError

        raise UsageError(f"{path}: is a directory, not a snapshot file")
    with byte_progress(enabled(show_progress)) as task:
        try:
            size = os.path.getsize(path)
        except OSError:
            size = 0
        snap = read_for_graph(path, progress=task(f"reading {os.path.basename(path)}", size))
    try:
        return HeapGraph(snap, consume=True)
    except BaseException:
        snap.close()
        raise


def class_json(g, row) -> dict:
    d = {"class": row.name, "count": row.count, "shallow_size": row.self_size, "retained_size": row.retained,
         "distance": row.distance}
    if row.location is not None:
        d["location"] = {"script_id": row.location[0], "line": row.location[1], "column": row.location[2],
                         "url": g.scripts.by_script_id.get(row.location[0])}
    return d


def fmt_bytes(n: float) -> str:
    """Like report.units.fmt_size, but small sizes in bytes ("40 B", not "0.0KiB")."""
    from ..report.units import fmt_size

    return f"{int(n)} B" if abs(n) < 1024 else fmt_size(n)


def top_objects(g, n: int) -> np.ndarray:
    """The ``n`` objects with the largest retained size (no synthetic nodes, no root)."""
    from ..graph import kernels as GK

    if n <= 0:
        return np.empty(0, np.int64)
    return GK.top_k(g.retained, n, g.ntype, g.nt.get("synthetic", -1), g.root)


class Command(BaseCommand):
    name = "top"
    help = "classes and objects by retained size (DevTools' Summary)"
    description = (
        "Read one heap snapshot, build the dominator tree with DevTools' rules and list the classes "
        "(count, shallow size, retained size without double counting, distance) and the single "
        "objects with the largest retained sizes."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("snapshot", metavar="SNAPSHOT", help=".heapsnapshot (or .gz)")
        p.add_argument("--top", type=positive_int, default=25, help="classes to list (default 25)")
        p.add_argument("--objects", type=int, default=10, help="objects to list (default 10; 0 = none)")
        p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
        p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")

    def run(self, args: argparse.Namespace) -> int:
        from ..errors import UsageError
        from ..report.units import cut, fmt_count
        from .top import fmt_bytes as fmt_size

        if args.objects < 0:
            raise UsageError("--objects must be 0 or more")
        t0 = time.perf_counter()
        g = open_graph(args.snapshot, not args.no_progress)
        try:
            rows = g.class_summary(args.top)
            objs = top_objects(g, args.objects) if args.objects else np.empty(0, np.int64)
            total = float(g.retained[g.root])
            seconds = time.perf_counter() - t0
            if args.format == "json":
                doc = {
                    "schema_version": SCHEMA_VERSION,
                    "kind": "heaplens.top",
                    "snapshot": {"path": args.snapshot, "node_count": g.n, "edge_count": int(len(g.to)),
                                 "total_size": int(total), "unreachable": int(g.n_unreachable),
                                 "weak_only": int(g.n_weak_only)},
                    "classes": [class_json(g, r) for r in rows],
                    "objects": [{"label": g.node_label(k), "id": int(g.ids[k]), "class": g.class_name(k),
                                 "shallow_size": int(g.sizes[k]), "retained_size": int(g.retained[k]),
                                 "distance": int(g.distance[k])} for k in objs],
                }
                sys.stdout.write(printable.text(json.dumps(doc, indent=2) + "\n"))
                return 0
            md = args.format == "markdown"
            out = []
            if md:
                out += [f"## Retained sizes: `{args.snapshot}`", ""]
            else:
                out.append(f"snapshot: {args.snapshot}")
            out.append(f"{'- ' if md else ''}nodes: {g.n:,}  edges: {len(g.to):,}  total: {fmt_size(total)}  "
                       f"({seconds:.1f}s)")
            if g.n_unreachable or g.n_weak_only:
                out.append(f"{'- ' if md else ''}{g.n_weak_only:,} nodes only weakly held and "
                           f"{g.n_unreachable:,} unreachable nodes are counted under the root (as DevTools)")
            out.append("")
            head = ["retained", "%", "shallow", "count", "distance", "class"]
            cells = []
            for r in rows:
                where = ""
                if r.location is not None:
                    url = g.scripts.by_script_id.get(r.location[0])
                    where = f"  ({url or 'script ' + str(r.location[0])}:{r.location[1] + 1})"
                dist = "-" if r.distance < 0 else ("system" if r.distance >= 100_000_000 else str(r.distance))
                cells.append([fmt_size(r.retained), f"{100 * r.retained / total:.1f}" if total else "0",
                              fmt_size(r.self_size), fmt_count(r.count), dist, cut(r.name, 80) + where])
            out += _render(head, cells, md)
            if len(objs):
                out.append("")
                out.append("largest objects:" if not md else "### Largest objects")
                if md:
                    out.append("")
                head = ["retained", "shallow", "distance", "object"]
                cells = [[fmt_size(g.retained[k]), fmt_size(g.sizes[k]), str(int(g.distance[k])),
                          cut(g.node_label(k), 100)] for k in objs]
                out += _render(head, cells, md)
            sys.stdout.write(printable.text("\n".join(out) + "\n"))
            return 0
        finally:
            g.snap.close()


def _render(head: list[str], rows: list[list[str]], md: bool) -> list[str]:
    if md:
        esc = lambda t: t.replace("|", "\\|").replace("<", "&lt;")  # noqa: E731
        lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * (len(head) - 1) + "---|"]
        lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
        return lines
    widths = [max(len(head[c]), *(len(r[c]) for r in rows)) if rows else len(head[c]) for c in range(len(head))]
    lines = []
    for cells in [head] + rows:
        parts = [t.rjust(widths[c]) if c < len(cells) - 1 else t for c, t in enumerate(cells)]
        lines.append("  ".join(parts).rstrip())
    return lines
