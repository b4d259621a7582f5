"""``heaplens check`` and ``heaplens baseline`` in each format: text (a terminal, a CI log), Markdown (a PR
comment, ``$GITHUB_STEP_SUMMARY``), JSON (:meth:`CheckResult.to_json`). Every string that came from a run
(file names, holder names) is already made printable by :mod:`heaplens.workflow.baseline`; Markdown escapes
it again for its own syntax."""

from __future__ import annotations

import html
import json
import re

from .. import printable
from ..report.github import PER_STEP, TEST_FILES_PER_FINDING, Annotations, repo_path
from ..units import fmt_size
from .baseline import Baseline, CheckResult, Regression

ICON = {True: "✅", False: "❌"}


def _md(text) -> str:
    s = html.escape(str(text), quote=False)
    return re.sub(r"([\\`*_\[\]|#<>])", r"\\\1", s)


def _head(res: CheckResult) -> str:
    if res.passed:
        return f"passed: no regression against {res.baseline} ({res.baseline_runs} run(s))"
    return f"FAILED: {len(res.regressions)} regression(s) against {res.baseline} ({res.baseline_runs} run(s))"


def _compared(res: CheckResult) -> str:
    c = res.compared
    nf = "findings not compared" if c.get("findings") is None else f"{c['findings']} finding(s)"
    return f"compared {c.get('files', 0)} file(s), {c.get('lanes', 0)} lane(s), {nf}"


def text(res: CheckResult) -> str:
    out = [f"heaplens check {res.run_id}: {_head(res)}"]
    out += [f"  flag  {f}" for f in res.flags]
    out += [f"  FAIL  {r.text}" for r in res.regressions]
    out += [f"  note  {n}" for n in res.notes]
    if res.improved:
        out.append(f"  note  {len(res.improved)} file(s) now leave less heap than the baseline says: "
                   "heaplens baseline save a run of this change to lower it")
    out.append(_compared(res))
    out.append(f"rule: {res.thresholds.rule()}")
    if res.report:
        out.append(f"report: {res.report}")
    if res.report_url:
        out.append(f"CI run: {res.report_url} (the uploaded report is among its artifacts)")
    return "\n".join(out) + "\n"


def _cell(r: Regression, value) -> str:
    if value is None:
        return ""
    if r.metric == "peak_rss":
        return fmt_size(value)
    return fmt_size(value, signed=True)


def markdown(res: CheckResult) -> str:
    out = [f"### heaplens check {ICON[res.passed]} " + ("passed" if res.passed else
                                                       f"{len(res.regressions)} regression(s)"), ""]
    out.append(f"Run `{_md(res.run_id)}` against `{_md(res.baseline)}` ({res.baseline_runs} run(s)).")
    out.append("")
    for f in res.flags:
        out += [f"> ⚠️ {_md(f)}", ""]
    figures = [r for r in res.regressions if r.what in ("file", "files", "lane")]
    others = [r for r in res.regressions if r.what not in ("file", "files", "lane")]
    if figures:
        out += ["| what | lane | figure | now | baseline (median) | baseline runs | allowed over it |",
                "|---|---|---|---|---|---|---|"]
        for r in figures:
            name = (f"`{_md(r.name)}`" if r.what == "file" else "whole lane" if r.what == "lane" else
                    f"`{_md(r.name)}`, measured together")
            runs = "" if r.low is None else (_cell(r, r.low) if r.low == r.high else
                                            f"{_cell(r, r.low)} … {_cell(r, r.high)}")
            if r.what in ("file", "files") and r.low is None:
                runs = "not in the baseline"
            out.append(f"| {name} | {_md(r.lane or '')} | {_md(r.metric or '')} | {_cell(r, r.current)} | "
                       f"{_cell(r, r.baseline)} | {runs} | {_cell(r, r.allowed)} |")
        out.append("")
    for r in others:
        out.append(f"- **{_md(r.what)}**: {_md(r.text)}")
    if others:
        out.append("")
    for n in res.notes:
        out.append(f"- {_md(n)}")
    if res.notes:
        out.append("")
    out.append(f"{_md(_compared(res))}. Rule: {_md(res.thresholds.rule())}.")
    links = []
    if res.report:
        links.append(f"report: `{_md(res.report)}`")
    if res.report_url:
        links.append(f"[CI run and its artifacts]({res.report_url})")
    if links:
        out += ["", " · ".join(links)]
    return "\n".join(out) + "\n"


def render(res: CheckResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(res.to_json(), indent=2, sort_keys=True) + "\n"
    if fmt == "markdown":
        return markdown(res)
    return text(res)


def baseline_text(b: Baseline, path) -> str:
    lines = [f"[heaplens] baseline {path}: {printable.line(b.summary())}"]
    for name, lane in sorted(b.lanes.items()):
        name = printable.line(name)
        heap = [v for v in lane["heap"] if v is not None]
        peak = [v for v in lane["peak_rss"] if v is not None]
        lines.append(f"  lane {name}: heap left {', '.join(fmt_size(v, signed=True) for v in heap)}; "
                     f"peak RSS {', '.join(fmt_size(v) for v in peak)}"
                     + (f"; faults {printable.line(', '.join(lane['faults']))}" if lane["faults"] else ""))
    for f in b.findings or []:
        lines.append(f"  finding {printable.line(f.get('title') or f['kind'])} ({printable.line(f.get('severity'))}, "
                     f"in {f.get('runs', '?')} of {b.n} run(s))")
    return "\n".join(lines) + "\n"


def annotations(res: CheckResult, limit: int = PER_STEP) -> list[str]:
    """GitHub annotations of a check: an error on every file it flags (a finding's holder line, its test
    files; each file of a group measured together, with the group's line), one for each lane-wide regression, a
    warning for each way the baseline was made differently."""
    ann = Annotations(limit)
    title = "heaplens check: memory regression"
    for r in res.regressions:
        if r.what == "files":  # measured together: the same line on each of them (it says so)
            for f in r.files[:TEST_FILES_PER_FINDING]:
                ann.add("error", f"heaplens check: {r.text}", file=repo_path(res.root, f), title=title)
            continue
        path = repo_path(res.root, r.file)
        ann.add("error", f"heaplens check: {r.text}", file=path, line=r.line if r.what == "finding" else None,
                title=title)
    for r in res.regressions:
        for test in r.test_files[:TEST_FILES_PER_FINDING]:
            ann.add("warning", f"heaplens check: {test} adds to the {r.text}", file=repo_path(res.root, test),
                    title=title)
    for f in res.flags:
        ann.add("warning", f, title="heaplens check")
    return ann.finish(res.report)
