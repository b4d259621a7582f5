"""docs/scenarios.md: every scenario of the corpus with its labels, and heaplens's results from the last
``HEAPLENS_CORPUS=report|strict HEAPLENS_CORPUS_DOCS=1`` run of tests/scenarios (written only when that run
covered every scenario)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time

from corpus_findings import short
from corpus_labels import DOCS_TABLE, LABELS, REPO

RESULTS: dict[tuple[str, str], dict] = {}  # (scenario, "low" | "hog") → result of test_findings


def _shape(label: dict) -> str:
    c = label["config"]
    iso = "isolate" if c["isolate"] else "shared"
    return f"Vitest {label['vitest']}, {c['pool']}, {iso}, {c['workers']} worker{'s' if c['workers'] != 1 else ''}"


def _labelled(label: dict) -> str:
    if not label["findings"]:
        return "none (clean)"
    parts = []
    for f in label["findings"]:
        h = f["holder"]
        text = short(f).replace("`", "")
        if f["kind"] != "module-graph":
            text = (f"{f['kind']} `{h['variable'] or h['kind']}`"
                    + (f" {h['file']}:{h['line']}" if h.get("file") and h.get("line") else f" {h['file']}" if h.get("file") else "")
                    + f" ({h['kind']}, {h['type']}" + (f" .{h['property']}" if h.get("property") else "") + ")"
                    + f" → `{f['fix']}`" + (f", {f['severity']}" if f.get("severity") else "")
                    + (f"; {', '.join(f['classes'])}" if f["classes"] else ""))
        else:
            text = "module-graph → `isolate`" + (f", {f['severity']}" if f.get("severity") else "")
        parts.append(text + (" (optional)" if f.get("optional") else ""))
    return "<br>".join(parts)


def _plant(label: dict) -> str:
    p, out = label["plant"], []
    for c in p["counts"]:
        name = c["class"] if c.get("type", "object") == "object" else f"{c['class']} of {c['size']:,} B"
        if c.get("props"):
            name += " {" + ", ".join(c["props"]) + "}"
        if "per_file" in c:
            out.append(f"{name}: {c['per_file']:,} per file")
            continue
        steps = [f"{c[k]:,}" for k in ("first", "start") if k in c] + [f"{c[k]:,}" for k in ("last", "end") if k in c]
        text = f"{name}: " + " → ".join(steps) + (f", fix → {c['fixed']:,}" if "fixed" in c else "")
        if c.get("file"):
            text += f" ({c['file']})"
        if c.get("at_least"):
            text += " (at least)"
        out.append(text)
    return "<br>".join(out)


def _result(r: dict | None) -> str:
    if r is None:
        return "—"
    if r["ok"]:
        return f"✅ as labelled ({r['seconds']:.0f} s)" + (" — kind, holder and classes (legacy)" if r["legacy"] else "")
    got = "; ".join(r["got"]) or "no finding"
    first = r["problems"][0] if r["problems"] else ""
    more = f" (+{len(r['problems']) - 1} more)" if len(r["problems"]) > 1 else ""
    return f"❌ got: {got} — {first}{more}".replace("|", "\\|")


def render() -> str:
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    low = [RESULTS.get((s, "low")) for s in LABELS]
    ok = sum(1 for r in low if r and r["ok"])
    hog = [(s, RESULTS[(s, "hog")]) for s in LABELS if (s, "hog") in RESULTS]
    legacy = any(r and r["legacy"] for r in low)
    loads = sorted({r["load"] for r in low if r})
    lines = [
        "# The labelled scenario corpus",
        "",
        "Ground truth for heaplens's verdicts: real Vitest 3/4/5 suites under `examples/scenarios/`, each planting",
        "known causes of memory growth, labelled in `examples/scenarios/labels.json` with their exact finding set",
        "(format: [examples/scenarios/README.md](../examples/scenarios/README.md)). `tests/scenarios/` checks that",
        "every plant is really there (a probe snapshots the workers; a reference reader counts the planted objects;",
        "the labelled fix, applied in the worker, releases them) and, with `HEAPLENS_CORPUS=report|strict`, runs",
        "`heaplens investigate` on each scenario and compares its findings with the labels.",
        "",
        "## Scenarios",
        "",
        "| scenario | shape | planted cause | labelled findings | the plant, counted in the worker's snapshots |",
        "|---|---|---|---|---|",
    ]
    for s, label in LABELS.items():
        lines.append(f"| `{s}` ({len(label['files'])} files) | {_shape(label)} | {label['title']} | {_labelled(label)} "
                     f"| {_plant(label)} |")
    lines += [
        "",
        "Counts: objects of the class in the worker's GC-settled snapshot at the end of its first file → the end",
        "of its last (or, under isolate=true, the file's start → end), and after the labelled fix was applied in",
        "the worker; exact unless marked.",
        "",
        "## heaplens's results",
        "",
        f"heaplens at `{commit}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: **{ok} of {len(LABELS)}** "
        f"scenarios get exactly their labelled findings at the machine's load"
        + (f"; with a CPU hog: {sum(1 for _, r in hog if r['ok'])} of {len(hog)}" if hog else "") + ".",
        f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python {sys.version.split()[0]};"
        f" load averages at the runs' starts {loads[0] if loads else '?'} … {loads[-1] if loads else '?'}"
        + (f"; {hog[0][1]['hogs']} busy Node process(es) beside the hog runs" if hog else "") + ".",
        "Command: `HEAPLENS_CORPUS=report HEAPLENS_CORPUS_DOCS=1 .venv/bin/python -m pytest tests/scenarios`.",
    ]
    if legacy:
        lines += ["", "This engine predates the findings contract (`diagnose` printed one verdict per worker, "
                  "`results[]`): its verdict is read as one finding with the first holder it named, and compared "
                  "on what it gives — the kind, the holder's kind, variable and file, the classes. It gives no "
                  "line, type, FIX_KIND, severity or fix files, so ✅ here is not a pass in strict mode."]
    lines += ["", "| scenario | labelled | heaplens | with a CPU hog |", "|---|---|---|---|"]
    for s, label in LABELS.items():
        lines.append(f"| `{s}` | {_labelled(label)} | {_result(RESULTS.get((s, 'low')))} "
                     f"| {_result(RESULTS.get((s, 'hog')))} |")
    return "\n".join(lines) + "\n"


def write() -> None:
    missing = [s for s in LABELS if (s, "low") not in RESULTS]
    if missing:
        print(f"\n[corpus] docs/scenarios.md not written: no result for {', '.join(missing)}", file=sys.stderr)
        return
    DOCS_TABLE.write_text(render())
