"""The run report in the terminal (``heaplens report RUN_DIR``, ``heaplens investigate``): rich
panels and tables on a terminal, plain text when piped. Renders the report model only."""

from __future__ import annotations

import io
import shutil

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import printable
from ..units import cut, fmt_count, fmt_size
from .findings import holder_text, jest_config_lines, run_status, terminal_lines, worker_items

NO_WRAP = 100_000  # columns of "plain text": rich lays tables out in it, and nothing is wrapped


def _rule(console: Console, title: str, align: str = "left") -> None:
    """A section heading: rich's rule on a terminal; in plain text the title and a short line (a rule as wide
    as the unwrapped page would be 100,000 characters)."""
    if console.is_terminal:
        console.rule(title, align=align)
    else:
        console.print(title + " " + "─" * 24)


SEVERITY_STYLE = {"severe": "bold red", "moderate": "bold yellow", "mild": "green"}


def _worker(console, w: dict, n: int) -> None:
    def p(x) -> str:
        return escape(printable.line(x))

    items = worker_items(w)
    fs = items["findings"]
    worst = next((s for s in ("severe", "moderate", "mild") if any(f["severity"] == s for f in fs)), None)
    style = SEVERITY_STYLE.get(worst or "", "bold")
    _rule(console, f"[{style}]{n}. {p(w['lane'])} pid {w['pid']}: {p(w['verdict'])}[/]", align="left")
    console.print(f"[bold]1 reproduce[/]  {p(items['reproduce'])}")
    if items["compared"]:
        snapshots, before, after = items["compared"]
        console.print(f"[bold]2 compared[/]   {snapshots} snapshot(s) of pid {w['pid']}: {p(before)} → {p(after)}")
    else:
        console.print(f"[bold]2 compared[/]   no snapshot pair for pid {w['pid']} (RSS trace only)")
    if items["families"]:
        console.print("[bold]3 dominant families[/]")
        t = Table(show_edge=False, pad_edge=False, box=None)
        for col, just in (("size Δ", "right"), ("count Δ", "right"), ("type", "left"), ("name", "left")):
            t.add_column(col, justify=just)
        for r in items["families"]:
            t.add_row(fmt_size(r["size_delta"], signed=True), fmt_count(r["count_delta"], signed=True),
                      p(r["type"] or ""), p(cut(r["name"] or '""', 80)))
        console.print(t)
    console.print(f"[bold]4 findings[/]   {len(fs) or 'none'} (one per cause, biggest first)")
    for i, f in enumerate(fs, 1):
        sev = SEVERITY_STYLE.get(f["severity"], "bold")
        console.print(f"  [bold]{n}.{i} {p(f['title'])}[/]")
        console.print(f"      {fmt_size(f['retained_growth'], signed=True)} ({100 * (f.get('share') or 0):.0f} % of the "
                      f"worker's new objects); [{sev}]{p(f.get('severity_text') or f['severity'])}[/]")
        console.print(f"      confidence {100 * (f.get('confidence') or 0):.0f} % (the share of it the holder alone keeps)")
        console.print(f"      holder: {p(holder_text(f.get('holder') or {}))}")
        for e in (f.get("evidence") or [])[:7]:
            console.print(f"      - {p(cut(e, 400))}")
        fix = f.get("fix") or {}
        text = printable.lines(fix.get("text")) or [""]
        console.print(f"      [bold]5 fix[/] \\[{p(fix.get('kind'))}] {escape(text[0])}")
        for line in text[1:]:
            console.print(f"        {escape(line)}", highlight=False)
        if fix.get("files"):
            more = f" … (+{len(fix['files']) - 8})" if len(fix["files"]) > 8 else ""
            console.print("        test files: " + p(", ".join(fix["files"][:8])) + more)
        if fix.get("missing_timings"):
            console.print("        missing from timings (scheduling blind spot): " + p(", ".join(fix["missing_timings"])))
        if fix.get("manifest_diff"):
            for line in printable.lines(fix["manifest_diff"]):  # a diff: one line each, never one escaped line
                console.print(f"        {escape(line)}", highlight=False)
    for note in w.get("notes") or []:
        console.print(f"  [dim]note: {p(note)}[/]")
    console.print("[bold]6 verified[/]   " + p(items["verified"]))
    if items["not_verified"]:
        console.print("  [bold]not verified[/] " + p(items["not_verified"]))
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
    status, runner = run_status(run)
    console.print(f"[bold]heaplens report[/] run {run.get('run_id')}: {escape(status)}, "
                  f"{escape(runner)}, Node {v.get('node')}")
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
    significant = [w for w in doc["workers"] if w["significant"]]
    for i, w in enumerate(significant, 1):
        _worker(console, w, i)
    quiet = [w for w in doc["workers"] if not w["significant"]]
    if quiet:
        console.print(f"{len(quiet)} worker(s) without significant growth: "
                      + escape(", ".join(f"{f['lane']} pid {f['pid']}" for f in quiet[:12])) + ("…" if len(quiet) > 12 else ""))
    fixes = doc.get("fixes") or {}
    if fixes.get("isolate") or fixes.get("cleanups") or fixes.get("jest_config"):
        _rule(console, "[bold]fix[/]", align="left")
        if fixes.get("isolate"):
            console.print("isolate: " + escape(", ".join(fixes["isolate"])))
        if fixes.get("missing_timings"):
            console.print("missing timings: " + escape(", ".join(fixes["missing_timings"])))
        for c in fixes.get("cleanups") or []:
            console.print(f"cleanup: {escape(c)}")
        jc = fixes.get("jest_config")
        if jc:
            for line in jest_config_lines(jc):
                console.print(escape(line), highlight=False)
            for line in printable.lines(jc.get("diff") or jc.get("patch")):  # a diff: one line each
                console.print("  " + escape(line), highlight=False)
        for o in fixes.get("other") or []:  # heap limit, recycling, splitting a lane (heaplens.fix.proposals)
            if o.get("kind") != "code":
                console.print(f"also ({escape(o['kind'])}, not applied): {escape(o['text'])} — {escape(o['why'])}")
    ver = doc.get("verification")
    if ver:
        _rule(console, f"[bold]verification: {escape(str(ver.get('verdict')))}[/]", align="left")
        for line in ver.get("lines") or []:
            console.print(escape(line))
    if not doc["workers"]:
        console.print("no worker ran a file, nothing to diagnose"
                      + (" (the run was abandoned)" if run.get("status") == "abandoned" else ""))
    return buf.getvalue()


def render_diagnosis(doc: dict, *, color: bool | None = None) -> str:
    """``heaplens diagnose RUN`` (the report model) or ``diagnose BEFORE AFTER`` (a diagnosis document):
    each worker's verdict and findings, plain text."""
    out = [f"run: {printable.line(doc['run'].get('dir') if isinstance(doc.get('run'), dict) else doc.get('run'))}"] \
        if doc.get("run") else []
    if isinstance(doc.get("run"), dict) and doc["run"].get("status") not in (None, "passed", "failed"):
        out.append(f"status: {printable.line(doc['run'].get('status_text') or doc['run']['status'])}")
    for w in doc["workers"]:
        out.append("")
        out += terminal_lines(w)
    out.extend(f"skipped {printable.line(s)}" for s in doc.get("skipped") or [])
    if not doc["workers"]:
        out.append("no worker to diagnose")
    return "\n".join(out) + "\n"
