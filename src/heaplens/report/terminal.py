"""The run report in the terminal (``heaplens report RUN_DIR``, ``heaplens investigate``): rich
panels and tables on a terminal, plain text when piped. Renders the report model only."""

from __future__ import annotations

import io
import shutil

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..units import cut, fmt_count, fmt_size
from .model import CONFIRMATION

NO_WRAP = 100_000  # columns of "plain text": rich lays tables out in it, and nothing is wrapped
VERDICT_STYLE = {"runtime leak": "bold red", "module-graph retention": "bold yellow", "external memory": "bold magenta",
                 "ambiguous": "bold cyan", "no significant growth": "green"}


def _rule(console: Console, title: str, align: str = "left") -> None:
    """A section heading: rich's rule on a terminal; in plain text the title and a short line (a rule as wide
    as the unwrapped page would be 100,000 characters)."""
    if console.is_terminal:
        console.rule(title, align=align)
    else:
        console.print(title + " " + "─" * 24)


def _finding(console, f: dict, n: int) -> None:
    style = VERDICT_STYLE.get(f["verdict"], "bold")
    conf = CONFIRMATION.get(f.get("confirmed_by_retainers"), CONFIRMATION[None])
    _rule(console, f"[{style}]{n}. {escape(f['lane'])} pid {f['pid']}: {f['verdict']}[/] "
                 f"({f['confidence']:.0%}, {conf})", align="left")
    console.print(escape(f["summary"]))
    console.print(f"[bold]1 reproduce[/]  {escape(f['reproduce'])}")
    if f.get("before"):
        console.print(f"[bold]2 compared[/]   {len(f['snapshots'])} snapshot(s) of pid {f['pid']}: "
                      f"{escape(f['before'])} → {escape(f['after'])}")
    else:
        console.print(f"[bold]2 compared[/]   no snapshot pair for pid {f['pid']} (RSS trace only)")
    fams = f.get("families") or []
    if fams:
        console.print("[bold]3 dominant families[/]")
        t = Table(show_edge=False, pad_edge=False, box=None)
        for col, just in (("size Δ", "right"), ("count Δ", "right"), ("type", "left"), ("name", "left")):
            t.add_column(col, justify=just)
        for r in fams[:8]:
            t.add_row(fmt_size(r["size_delta"], signed=True), fmt_count(r["count_delta"], signed=True),
                      escape(r["type"] or ""), escape(cut(r["name"] or '""', 80)))
        console.print(t)
    console.print("[bold]4 evidence[/]")
    for e in f.get("evidence") or []:
        console.print(f"  - {escape(e)}")
    for h in (f.get("holders") or [])[:3]:
        src = f" in {h['source']}" if h.get("source") else ""
        console.print(f"  - holder [bold]{escape(h.get('variable') or '?')}[/]{escape(src)} ({h['kind']}): "
                      f"{escape(h['sentence'])}")
        console.print(f"    [dim]{escape(cut(h['chain'], 300))}[/]")
    fix = f.get("fix") or {}
    console.print(f"[bold]5 fix[/] ({fix.get('kind')}): {escape(fix.get('text', ''))}")
    if fix.get("missing_timings"):
        console.print("  missing from timings (scheduling blind spot): " + escape(", ".join(fix["missing_timings"])))
    if fix.get("manifest_diff"):
        console.print(escape(fix["manifest_diff"].rstrip("\n")), highlight=False)
    console.print("[bold]6 verified[/]   " + escape("; ".join(f.get("verified") or []) or "nothing"))
    if f.get("not_verified"):
        console.print("  [bold]not verified[/] " + escape("; ".join(f["not_verified"])))
    console.print()


def render(doc: dict, *, color: bool | None = None, width: int | None = None) -> str:
    """``color``: a terminal (rich colours, wrapped at its width); otherwise plain text that is never
    wrapped, so a path or a command in a file or a pipe stays on one line."""
    buf = io.StringIO()
    if color:
        console = Console(file=buf, width=width or shutil.get_terminal_size((120, 24)).columns, force_terminal=True,
                          highlight=False, soft_wrap=False)
    else:
        console = Console(file=buf, width=width or NO_WRAP, force_terminal=False, no_color=True, highlight=False,
                          soft_wrap=True)
    run = doc["run"]
    v = run.get("versions") or {}
    console.print(f"[bold]heaplens report[/] run {run.get('run_id')}: {run.get('status')} (exit {run.get('exit_code')}), "
                  f"Vitest {v.get('vitest')}, Node {v.get('node')}")
    console.print(f"reproduce: {escape(doc['reproduce'])}")
    t = Table(title=None, box=None, pad_edge=False)
    for col, just in (("lane", "left"), ("status", "left"), ("files", "right"), ("peak RSS", "right"),
                      ("total Δ", "right"), ("top file", "left"), ("faults", "left"), ("snaps", "right")):
        t.add_column(col, justify=just)
    for lane in doc["lanes"]:
        s = lane.get("summary") or {}
        top = (s.get("top") or [{}])[0]
        t.add_row(escape(lane["name"]), f"{lane.get('status')} ({lane.get('exit_code')})", str(s.get("files", 0)),
                  fmt_size(s["peak"]) if s.get("peak") else "",
                  fmt_size(s["total_delta"], signed=True) if s.get("total_delta") is not None else "",
                  escape(f"{top['file']} {fmt_size(top['delta'], signed=True)}") if top.get("file") else "",
                  escape(", ".join(f"{fl.get('kind')} pid {fl.get('pid')}" for fl in lane.get("faults") or [])),
                  str(lane["snapshots"]["files"]))
    console.print(t)
    for lane in doc["lanes"]:
        for d in lane.get("deviations") or []:
            console.print(escape(f"deviation {lane['name']}: {d}"))
        for key, files in ((lane.get("snapshots") or {}).get("after_last") or {}).items():
            console.print(escape(f"{lane['name']} worker {key}: {len(files)} file(s) ran after its last snapshot: "
                                 + ", ".join(files)))
    console.print()
    significant = [f for f in doc["findings"] if f["significant"]]
    for i, f in enumerate(significant, 1):
        _finding(console, f, i)
    quiet = [f for f in doc["findings"] if not f["significant"]]
    if quiet:
        console.print(f"{len(quiet)} worker(s) without significant growth: "
                      + escape(", ".join(f"{f['lane']} pid {f['pid']}" for f in quiet[:12])) + ("…" if len(quiet) > 12 else ""))
    fixes = doc.get("fixes") or {}
    if fixes.get("isolate") or fixes.get("cleanups"):
        _rule(console, "[bold]fix[/]", align="left")
        if fixes.get("isolate"):
            console.print("isolate: " + escape(", ".join(fixes["isolate"])))
        if fixes.get("missing_timings"):
            console.print("missing timings: " + escape(", ".join(fixes["missing_timings"])))
        for c in fixes.get("cleanups") or []:
            console.print(f"cleanup: {escape(c)}")
    ver = doc.get("verification")
    if ver:
        _rule(console, f"[bold]verification: {escape(str(ver.get('verdict')))}[/]", align="left")
        for line in ver.get("lines") or []:
            console.print(escape(line))
    if not doc["findings"]:
        console.print("no worker ran a file, nothing to diagnose")
    return buf.getvalue()


def render_diagnosis(doc: dict, *, color: bool | None = None) -> str:
    """``heaplens diagnose RUN``: the findings of the report model, one block per worker, plain text."""
    out = [f"run: {doc['run'].get('dir')}"]
    for f in doc["findings"]:
        snaps = f"{len(f.get('snapshots') or [])} snapshot(s)" if f.get("snapshots") else "no snapshots"
        out.append("")
        out.append(f"{f['lane']} pid={f['pid']} ({snaps}): {f['verdict']} (confidence {f['confidence']:.0%}; "
                   f"{CONFIRMATION[f.get('confirmed_by_retainers')]})")
        out.append(f"  {f['summary']}")
        out.extend(f"  - {e}" for e in f.get("evidence") or [])
        for h in (f.get("holders") or [])[:3]:
            where = f" in {h['source']}" if h.get("source") else ""
            out.append(f"  holder: {h.get('variable') or '?'}{where} ({h['kind']}) — {h['sentence']}")
        for r in (f.get("families") or [])[:5]:
            out.append(f"  {fmt_size(r['size_delta'], signed=True):>10}  {r['type']:<20} {cut(r['name'] or '', 70)}")
        out.append(f"  fix ({(f.get('fix') or {}).get('kind')}): {(f.get('fix') or {}).get('text', '')}")
    out.extend(f"skipped {s}" for s in doc.get("skipped") or [])
    return "\n".join(out) + "\n"
