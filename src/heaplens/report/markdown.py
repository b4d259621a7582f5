"""The run report as Markdown (``heaplens report RUN_DIR --format markdown``), for PR comments and
``$GITHUB_STEP_SUMMARY``. Renders the report model (``heaplens.report.model``), nothing else."""

from __future__ import annotations

from .. import printable
from ..units import cut, fmt_count, fmt_size
from .findings import jest_config_lines, run_status, worker_items
from .findings import markdown as findings_markdown

FINDINGS_IN_FULL = 6
EMPTY = '""'


def _esc(text) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text) -> str:
    t = str(text).replace("`", "'")
    return f"`{t}`"


def _worker(w: dict, n: int) -> list[str]:
    items = worker_items(w)
    out = [f"### {n}. `{_esc(w['lane'])}` pid {w['pid']}: {_esc(w['verdict'])}", ""]
    out.append(f"1. **Reproduce:** {_code(items['reproduce'])}")
    if items["compared"]:
        snapshots, before, after = items["compared"]
        out.append(f"2. **Compared:** lane `{_esc(w['lane'])}`, pid {w['pid']}, {snapshots} snapshot(s): "
                   f"{_code(before)} → {_code(after)}")
    else:
        out.append(f"2. **Compared:** lane `{_esc(w['lane'])}`, pid {w['pid']}: no snapshot pair (RSS trace only)")
    if items["families"]:
        out.append("3. **Dominant families** (self size growth):")
        out.append("")
        out.append("   | size Δ | count Δ | type | name |")
        out.append("   |---:|---:|---|---|")
        for r in items["families"]:
            out.append(f"   | {fmt_size(r['size_delta'], signed=True)} | {fmt_count(r['count_delta'], signed=True)} | "
                       f"{_esc(r['type'])} | {_esc(cut(r['name'] or EMPTY, 90))} |")
        out.append("")
    else:
        out.append("3. **Dominant families:** none (no snapshot pair)")
    out.append("4. **Findings** (one per cause, biggest first) with 5. **their fixes**:")
    out.append("")
    out.append(findings_markdown(w, level=4))
    for f in items["findings"]:
        fix = f.get("fix") or {}
        if fix.get("kind") != "isolate":
            continue
        if fix.get("missing_timings"):
            out.append("   - missing from the timings manifest (a scheduling blind spot): "
                       + ", ".join(_code(p) for p in fix["missing_timings"]))
        if fix.get("manifest_diff"):
            out.append("")
            out.append("   ```diff")
            out.extend("   " + line for line in printable.lines(fix["manifest_diff"]))
            out.append("   ```")
            out.append("")
    out.append("6. **Verified:** " + _esc(items["verified"]))
    if items["not_verified"]:
        out.append("   **Not verified:** " + _esc(items["not_verified"]))
    out.append("")
    return out


def render(doc: dict, *, color: bool | None = None) -> str:
    run = doc["run"]
    out = [f"## heaplens report — run `{run.get('run_id')}`", ""]
    v = run.get("versions") or {}
    status, runner = run_status(run)
    word, _, rest = status.partition(" ")
    out.append(f"- status: **{_esc(word)}** {_esc(rest)}; {runner}, "
               f"Node {v.get('node')}, {v.get('package_manager')}")
    out.append(f"- reproduce: {_code(doc['reproduce'])}")
    verdicts = ", ".join(f"{k}: {n}" for k, n in sorted(doc.get("verdicts", {}).items())) or "no workers investigated"
    out.append(f"- findings: {verdicts}")
    fixes = doc.get("fixes") or {}
    if fixes.get("isolate"):
        out.append("- isolate: " + ", ".join(_code(p) for p in fixes["isolate"]))
    if fixes.get("missing_timings"):
        out.append("- missing timings: " + ", ".join(_code(p) for p in fixes["missing_timings"]))
    for c in fixes.get("cleanups") or []:
        out.append(f"- cleanup: {_esc(c)}")
    jc = fixes.get("jest_config")
    if jc:
        head = jest_config_lines(jc)
        out.append(f"- {_esc(head[0])}")
        out.append(f"  - {_esc(head[1])}")
        out.append("")
        out.append("  ```diff")
        out.extend("  " + line for line in printable.lines(jc.get("diff") or jc.get("patch")))
        out.append("  ```")
        out.append("")
    ver = doc.get("verification")
    if ver:
        out.append(f"- verification: **{_esc(ver.get('verdict'))}**")
        for line in ver.get("lines") or []:
            out.append(f"  - {_esc(line)}")
    out.append("")
    out.append("### Lanes")
    out.append("")
    out.append("| lane | status | files | peak RSS | total Δ | top file | faults | snapshots |")
    out.append("|---|---|---:|---:|---:|---|---|---:|")
    for lane in doc["lanes"]:
        s = lane.get("summary") or {}
        top = (s.get("top") or [{}])[0]
        topt = f"{_esc(top['file'])} {fmt_size(top['delta'], signed=True)}" if top.get("file") else ""
        faults = ", ".join(f"{fl.get('kind')} pid {fl.get('pid')}" for fl in lane.get("faults") or [])
        out.append(f"| {_esc(lane['name'])} | {lane.get('status')} ({lane.get('exit_code')}) | {s.get('files', 0)} | "
                   f"{fmt_size(s['peak']) if s.get('peak') else ''} | "
                   f"{fmt_size(s['total_delta'], signed=True) if s.get('total_delta') is not None else ''} | {topt} | "
                   f"{_esc(faults)} | {lane['snapshots']['files']} |")
    out.append("")
    for lane in doc["lanes"]:
        for d in lane.get("deviations") or []:
            out.append(f"- deviation `{_esc(lane['name'])}`: {_esc(d)}")
        for key, files in ((lane.get("snapshots") or {}).get("after_last") or {}).items():
            out.append(f"- `{_esc(lane['name'])}` worker {_esc(key)}: {len(files)} file(s) ran after its last snapshot: "
                       + ", ".join(_esc(f) for f in files))
    if any(lane.get("deviations") or (lane.get("snapshots") or {}).get("after_last") for lane in doc["lanes"]):
        out.append("")
    significant = [w for w in doc["workers"] if w["significant"]]
    quiet = [w for w in doc["workers"] if not w["significant"]]
    if significant:
        out.append("### Findings")
        out.append("")
        for i, w in enumerate(significant[:FINDINGS_IN_FULL], 1):
            out.extend(_worker(w, i))
        for w in significant[FINDINGS_IN_FULL:]:
            out.append(f"- `{_esc(w['lane'])}` pid {w['pid']}: {_esc(w['verdict'])}")
    if quiet:
        out.append("")
        out.append(f"{len(quiet)} worker(s) without significant growth: "
                   + ", ".join(f"`{_esc(w['lane'])}` pid {w['pid']}" for w in quiet[:20]) + ("…" if len(quiet) > 20 else ""))
    for s in doc.get("skipped") or []:
        out.append(f"- skipped {_esc(s)}")
    return "\n".join(out).rstrip() + "\n"
