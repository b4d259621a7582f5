"""Markdown tables (``--format markdown``), e.g. for a CI job summary."""

from __future__ import annotations

from ..compare.delta import DiffResult, TrendResult
from ..units import cut, fmt_bytes, fmt_count, fmt_size
from .tables_text import row_cells, top_notes, top_rows

NAME_WIDTH = 120


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("<", "&lt;")


def render_diff(r: DiffResult) -> str:
    out = ["## Heap snapshot delta", ""]
    out.append(f"- before: `{r.before.path}` ({r.before.node_count:,} nodes)")
    out.append(f"- after: `{r.after.path}` ({r.after.node_count:,} nodes, {r.after.node_count - r.before.node_count:+,})")
    if r.series is not None:
        out.append(f"- PID {r.series.pid}: {r.series.snapshots} snapshots in `{r.series.lane_dir}`")
    out.append(f"- self size: {fmt_size(r.before.self_size_total)} → {fmt_size(r.after.self_size_total)} "
               f"({fmt_size(r.size_delta_total, signed=True)})")
    out.append(f"- filter: top {r.top}, growth ≥ {r.min_kb:g} KiB, by {r.by}")
    out.extend(f"- **warning:** {_esc(w)}" for w in r.warnings)
    out.append("")
    if not r.rows:
        out.append(f"No {'class' if r.by == 'class' else 'family'} grew by {r.min_kb:g} KiB or more.")
        return "\n".join(out) + "\n"
    if r.by == "family":
        out.append("| size Δ | count Δ | type | name |")
        out.append("|---:|---:|---|---|")
    else:
        out.append("| size Δ | count Δ | class |")
        out.append("|---:|---:|---|")
    for row in r.rows:
        cells = row_cells(row, r.by, NAME_WIDTH)
        cells[-1] = _esc(cells[-1])
        out.append("| " + " | ".join(cells) + " |")
    if r.matching > len(r.rows):
        out.append("")
        out.append(f"{r.matching - len(r.rows)} more rows above the threshold.")
    return "\n".join(out) + "\n"


def render_trend(r: TrendResult) -> str:
    n = len(r.snapshots) - 1
    out = ["## Heap growth across snapshots", ""]
    if r.series is not None:
        out.append(f"- PID {r.series.pid}: {r.series.snapshots} snapshots in `{r.series.lane_dir}`")
    out.append(f"- families that grew in every one of {n} intervals, total ≥ {r.min_kb:g} KiB (top {r.top}, by {r.by})")
    out.extend(f"- **warning:** {_esc(w)}" for w in r.warnings)
    out.append("")
    if not r.rows:
        out.append("Nothing grew in every interval.")
        return "\n".join(out) + "\n"
    head = ["total Δ", "count Δ"] + [f"#{i}→#{i + 1}" for i in range(n)] + (["type"] if r.by == "family" else []) + ["name"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---:|" * (2 + n) + ("---|" if r.by == "family" else "") + "---|")
    for row in r.rows:
        cells = row_cells(row, r.by, NAME_WIDTH, intervals=True)
        cells[-1] = _esc(cells[-1])
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


# -- id-based diff (heaplens diff --ids) ------------------------------------------------------------
def render_id_diff(r) -> str:
    """``r`` is a :class:`heaplens.compare.ids.IdDiffResult`."""
    out = ["## Heap snapshot id diff", ""]
    out.append(f"- before: `{r.before}` ({r.node_count_before:,} nodes)")
    out.append(f"- after: `{r.after}` ({r.node_count_after:,} nodes)")
    if r.pid is not None:
        out.append(f"- PID {r.pid}")
    out.append(f"- ids: {r.new_total:,} new, {r.freed_total:,} freed, {r.carried:,} in both; new "
               f"{fmt_size(r.new_size_total)}, freed {fmt_size(r.freed_size_total)}")
    out.extend(f"- **warning:** {_esc(w)}" for w in r.warnings)
    out.append("")
    if not r.rows:
        out.append(f"No class grew by {r.min_kb:g} KiB or more.")
        return "\n".join(out) + "\n"
    out.append("| net size | # new | new size | # freed | freed size | retained by new | class |")
    out.append("|---:|---:|---:|---:|---:|---:|---|")
    for x in r.rows:
        out.append(f"| {fmt_size(x.net_size, signed=True)} | {fmt_count(x.new_count)} | {fmt_size(x.new_size)} | "
                   f"{fmt_count(x.freed_count)} | {fmt_size(x.freed_size)} | {fmt_size(x.new_retained)} | "
                   f"{_esc(cut(x.name, NAME_WIDTH))} |")
    chains = [x for x in r.rows if x.retainers is not None and x.retainers.chains]
    if chains:
        out += ["", "### Retainers of the new objects", ""]
        for x in chains:
            for c in x.retainers.chains:
                out.append(f"- {_esc(x.retainers.sentence(c, 'new'))}")
                out.append(f"  - `{c.pattern}`")
    return "\n".join(out) + "\n"


# -- heaplens top / retainers -----------------------------------------------------------------------
def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * (len(head) - 1) + "---|"]
    return lines + ["| " + " | ".join(_esc(c) for c in r) + " |" for r in rows]


def render_top(r) -> str:
    chead, crows, ohead, orows = top_rows(r)
    out = [f"## Retained sizes: `{_esc(r.snapshot)}`", "", *(f"- {_esc(n)}" for n in top_notes(r)), ""]
    out += _md_table(chead, crows)
    if orows:
        out += ["", "### Largest objects", ""] + _md_table(ohead, orows)
    return "\n".join(out) + "\n"


def render_retainers(r) -> str:
    if hasattr(r, "paths"):
        out = [f"## Retainers of `{_esc(r.label)}`", "",
               f"- shallow {fmt_bytes(r.shallow)}, retained {fmt_bytes(r.retained)}, distance {r.distance}, "
               f"immediate dominator {_esc(r.dominator)}", ""]
        out += [f"{i}. {_esc(p.text())}" for i, p in enumerate(r.paths, 1)] or ["no retainers"]
        return "\n".join(out) + "\n"
    out = [f"## Retainers of `{_esc(r.name)}`", "", f"- {fmt_count(r.count)} instances, retained {fmt_bytes(r.retained)}",
           ""]
    for c in r.aggregation.chains:
        out.append(f"- {_esc(r.aggregation.sentence(c))}")
        out.append(f"    chain:   {_esc(c.pattern)}")
        out.append(f"    example: {_esc(c.example.text())}")
    return "\n".join(out) + "\n"
