"""Plain-text tables for the terminal (what ``--format table`` prints)."""

from __future__ import annotations

from ..compare.delta import DiffResult, TrendResult
from ..units import cut, fmt_bytes, fmt_count, fmt_size
from .findings import terminal_lines

NAME_WIDTH = 96


def row_cells(row, by: str, width: int, intervals: bool = False) -> list[str]:
    """The cells of one delta (or trend) row: size and count growth, [per-interval growth],
    [type,] name cut to ``width``."""
    cells = [fmt_size(row.size_delta, signed=True), fmt_count(row.count_delta, signed=True)]
    if intervals:
        cells += [fmt_size(d, signed=True) for d in row.size_deltas]
    if by == "family":
        cells.append(row.type or "")
    cells.append(cut(row.name or '""', width))
    return cells


def _snap_line(label: str, info) -> str:
    return f"{label} {info.path}"


def render_diff(r: DiffResult) -> str:
    out = [_snap_line("before:", r.before), _snap_line("after: ", r.after)]
    if r.series is not None:
        others = ""
        if r.series.other_pids:
            others = "; other PIDs: " + ", ".join(f"{p} ({c})" for p, c in sorted(r.series.other_pids.items()))
        tid = f" thread {r.series.tid}" if r.series.tid else ""
        out.append(f"pid: {r.series.pid}{tid} ({r.series.snapshots} snapshots found){others}")
    elif r.before.pid is not None or r.after.pid is not None:
        out.append(f"pid: {r.before.pid} -> {r.after.pid}" if r.before.pid != r.after.pid else f"pid: {r.before.pid}")
    nb, na = r.before.node_count, r.after.node_count
    out.append(f"nodes: {nb:,} -> {na:,} ({na - nb:+,})")
    out.append(
        f"self size: {fmt_size(r.before.self_size_total)} -> {fmt_size(r.after.self_size_total)} "
        f"({fmt_size(r.size_delta_total, signed=True)})"
    )
    out.append(f"filter: top={r.top} min={r.min_kb:g} KiB by={r.by}")
    out.extend(f"warning: {w}" for w in r.warnings)
    out.append("")
    if not r.rows:
        out.append(f"no {_noun(r.by)} grew by {r.min_kb:g} KiB or more")
        return "\n".join(out) + "\n"
    head = ["size delta", "count delta"] + (["type"] if r.by == "family" else []) + [_noun(r.by)]
    rows = []
    for row in r.rows:
        rows.append(row_cells(row, r.by, NAME_WIDTH))
    out.extend(_table(head, rows, right=2))
    if r.matching > len(r.rows):
        out.append(f"… {r.matching - len(r.rows)} more above the threshold (raise --top)")
    return "\n".join(out) + "\n"


def render_trend(r: TrendResult) -> str:
    out = []
    if r.series is not None:
        tid = f" thread {r.series.tid}" if r.series.tid else ""
        out.append(f"lane dir: {r.series.lane_dir}")
        out.append(f"pid: {r.series.pid}{tid} ({r.series.snapshots} snapshots)")
    for i, s in enumerate(r.snapshots):
        out.append(f"  #{i}: {s.path}  nodes={s.node_count:,} self={fmt_size(s.self_size_total)}")
    out.append(f"filter: grew in every one of {len(r.snapshots) - 1} intervals, total >= {r.min_kb:g} KiB, "
               f"top={r.top} by={r.by}")
    out.extend(f"warning: {w}" for w in r.warnings)
    out.append("")
    if not r.rows:
        out.append(f"no {_noun(r.by)} grew in every interval by {r.min_kb:g} KiB or more in total")
        return "\n".join(out) + "\n"
    n = len(r.snapshots) - 1
    head = ["total", "count"] + [f"#{i}→#{i + 1}" for i in range(n)] + (["type"] if r.by == "family" else []) + [_noun(r.by)]
    rows = []
    for row in r.rows:
        rows.append(row_cells(row, r.by, NAME_WIDTH, intervals=True))
    out.extend(_table(head, rows, right=2 + n))
    if r.matching > len(r.rows):
        out.append(f"… {r.matching - len(r.rows)} more grew in every interval (raise --top)")
    return "\n".join(out) + "\n"


def _noun(by: str) -> str:
    return "class" if by == "class" else "name"


def _table(head: list[str], rows: list[list[str]], right: int) -> list[str]:
    """Columns before ``right`` are right-aligned (numbers), the last is left as is."""
    widths = [max(len(head[c]), *(len(r[c]) for r in rows)) for c in range(len(head))]
    lines = []
    for cells in [head] + rows:
        parts = []
        for c, text in enumerate(cells):
            if c == len(cells) - 1:
                parts.append(text)
            elif c < right:
                parts.append(text.rjust(widths[c]))
            else:
                parts.append(text.ljust(widths[c]))
        lines.append("  ".join(parts).rstrip())
    return lines


# -- id-based diff (heaplens diff --ids) ------------------------------------------------------------
def render_id_diff(r) -> str:
    """``r`` is a :class:`heaplens.compare.ids.IdDiffResult`."""
    out = [f"before: {r.before}", f"after:  {r.after}"]
    if r.pid is not None:
        out.append(f"pid: {r.pid}")
    out.append(f"nodes: {r.node_count_before:,} -> {r.node_count_after:,}; ids: {r.new_total:,} new, "
               f"{r.freed_total:,} freed, {r.carried:,} in both")
    out.append(f"new objects: {fmt_size(r.new_size_total)}, freed: {fmt_size(r.freed_size_total)} "
               f"(DevTools shallow sizes)")
    out.append(f"filter: top={r.top} min={r.min_kb:g} KiB (net or retained by new)")
    out.extend(f"warning: {w}" for w in r.warnings)
    out.append("")
    if not r.rows:
        out.append(f"no class grew by {r.min_kb:g} KiB or more")
        return "\n".join(out) + "\n"
    head = ["net size", "# new", "new size", "# freed", "freed size", "retained by new", "class"]
    rows = [[fmt_size(x.net_size, signed=True), fmt_count(x.new_count), fmt_size(x.new_size),
             fmt_count(x.freed_count), fmt_size(x.freed_size), fmt_size(x.new_retained), cut(x.name, NAME_WIDTH)]
            for x in r.rows]
    table = _table(head, rows, right=6)
    out.append(table[0])
    for row, line in zip(r.rows, table[1:]):
        out.append(line)
        agg = row.retainers
        if agg is not None:
            for c in agg.chains:
                out.append(f"    {agg.sentence(c, 'new')}")
                out.append(f"      {cut(c.pattern, 400)}")
    if r.matching > len(r.rows):
        out.append(f"… {r.matching - len(r.rows)} more above the threshold (raise --top)")
    return "\n".join(out) + "\n"


# -- heaplens top ---------------------------------------------------------------------------------
def _distance(d: int) -> str:
    return "-" if d < 0 else ("system" if d >= 100_000_000 else str(d))


def _where(c) -> str:
    if c.location is None:
        return ""
    return f"  ({c.url or 'script ' + str(c.location[0])}:{c.location[1] + 1})"


def top_rows(r) -> tuple[list[str], list[list[str]], list[str], list[list[str]]]:
    """(class head, class rows, object head, object rows) of a :class:`heaplens.workflow.inspect.TopResult`,
    as text cells (the Markdown renderer escapes them)."""
    chead = ["retained", "%", "shallow", "count", "distance", "class"]
    crows = [[fmt_bytes(c.retained), f"{100 * c.retained / r.total:.1f}" if r.total else "0", fmt_bytes(c.shallow),
              fmt_count(c.count), _distance(c.distance), cut(c.name, 80) + _where(c)] for c in r.classes]
    ohead = ["retained", "shallow", "distance", "object"]
    orows = [[fmt_bytes(o.retained), fmt_bytes(o.shallow), str(o.distance), cut(o.label, 100)] for o in r.objects]
    return chead, crows, ohead, orows


def top_notes(r) -> list[str]:
    notes = [f"nodes: {r.node_count:,}  edges: {r.edge_count:,}  total: {fmt_bytes(r.total)}  ({r.seconds:.1f}s)"]
    if r.unreachable or r.weak_only:
        notes.append(f"{r.weak_only:,} nodes only weakly held and {r.unreachable:,} unreachable nodes are counted "
                     "under the root (as DevTools)")
    return notes


def render_top(r) -> str:
    chead, crows, ohead, orows = top_rows(r)
    out = [f"snapshot: {r.snapshot}", *top_notes(r), ""]
    out += _table(chead, crows, right=len(chead) - 1)
    if orows:
        out += ["", "largest objects:"]
        out += _table(ohead, orows, right=len(ohead) - 1)
    return "\n".join(out) + "\n"


# -- heaplens retainers ---------------------------------------------------------------------------
def render_retainers(r) -> str:
    """``r``: :class:`~heaplens.workflow.inspect.ObjectRetainers` or ``ClassRetainers``."""
    if hasattr(r, "paths"):
        out = [f"object: {r.label}",
               f"shallow {fmt_bytes(r.shallow)}, retained {fmt_bytes(r.retained)}, distance {r.distance}, "
               f"immediate dominator {r.dominator}", ""]
        out += [f"path {i}: {p.text()}" for i, p in enumerate(r.paths, 1)] or ["no retainers"]
        return "\n".join(out) + "\n"
    out = [f"class: {r.name}", f"{fmt_count(r.count)} instances, retained {fmt_bytes(r.retained)}", ""]
    for c in r.aggregation.chains:
        out.append(r.aggregation.sentence(c))
        out.append(f"    chain:   {c.pattern}")
        out.append(f"    example: {c.example.text()}")
    return "\n".join(out) + "\n"


# -- heaplens diagnose BEFORE AFTER ---------------------------------------------------------------
def render_pair_diagnosis(rd) -> str:
    """``rd``: :class:`heaplens.diagnose.RunDiagnosis` of one pair (``diagnose BEFORE AFTER``)."""
    out = []
    for w in rd.to_json()["workers"]:
        out += terminal_lines(w)
    return "\n".join(out) + "\n"
