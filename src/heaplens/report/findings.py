"""The finding sections of every format: one worker's verdict, its findings (biggest first) with
severity, confidence, holder, fix and evidence, and its notes — as terminal lines, Markdown or HTML.

Input is the JSON of :meth:`heaplens.diagnose.run.WorkerDiagnosis.to_json` (what the report model
keeps). Every string that came from a snapshot or a trace (variable names, paths, class names) is
escaped for the format: control characters never reach a terminal, markup never reaches HTML.
"""

from __future__ import annotations

import html as _html
import re

from .. import printable
from ..units import fmt_size

# the words of each finding kind (titles, counts, badges, annotations): every format uses these (diagnose/findings.py
# has the same for the titles it writes; it cannot read the report layer)
LABEL = {"module-graph": "module-graph retention", "runtime-leak": "runtime leak", "external-memory": "external memory"}


def jest_config_lines(jc: dict) -> list[str]:
    """The report's Jest config fix (``fixes.jest_config``) as printable lines, its diff apart: the settings,
    why that value, where it goes (written or not)."""
    settings = ", ".join(f"{k}: {v}" for k, v in (jc.get("settings") or {}).items())
    state = ("written into" if jc.get("applied") else
             f"not written ({jc['refused_reason']}):" if jc.get("refused_reason") else "proposed for")
    return [printable.line(f"Jest config: {settings} — {jc.get('why')} (measured on worker {jc.get('worker')})"),
            printable.line(f"{state} {jc.get('path')}; a quick check of each file's heap: `jest --logHeapUsage`")]


def _pct(x) -> str:
    return f"{100 * (x or 0):.0f} %"


def holder_text(h: dict) -> str:
    if h.get("kind") == "module-registry":
        return f"the module registry ({h.get('type') or '?'})"
    name = h.get("access") or h.get("variable")
    where = f"{h['file']}:{h['line']}" if h.get("file") and h.get("line") else h.get("file")
    parts = [h.get("kind") or "?"]
    if name:
        parts.append(f"`{name}`")
    if h.get("type"):
        parts.append(f"({h['type']})")
    if where:
        parts.append(f"— {where}")
    return " ".join(parts)


def worker_heading(w: dict) -> str:
    snaps = w.get("snapshots") or []
    n = len(snaps)
    pair = ""
    if n >= 2:
        pair = f"{n} snapshots, {snaps[0].rsplit('/', 1)[-1]} → {snaps[-1].rsplit('/', 1)[-1]}"
    elif n == 1:
        pair = "1 snapshot"
    else:
        pair = "no snapshots"
    between = (w.get("coverage") or {}).get("files_between")
    if between is not None and n >= 2:
        pair += f", {between} file(s) between"
    tid = f"/{w['tid']}" if w.get("tid") else ""
    return f"{w.get('lane') or 'worker'} pid {w.get('pid')}{tid} ({pair})"


def run_status(run: dict) -> tuple[str, str]:
    """The report's first line, in words: the run's status (``passed (exit 0)``, or why a run has no exit code:
    the model's ``status_text``) and its runner with its version (``Jest 29.7.0``, ``Vitest 3.2.4``)."""
    v = run.get("versions") or {}
    status = run.get("status_text") or f"{run.get('status')} (exit {run.get('exit_code')})"
    return status, f"Jest {v['jest']}" if v.get("jest") else f"Vitest {v.get('vitest')}"


FAMILIES_SHOWN = 8  # rows of item 3 in the terminal and Markdown reports


def worker_items(w: dict) -> dict:
    """What the report says of one worker, item by item (the seed's six), for the terminal and Markdown
    reports to lay out each its own way: 1 ``reproduce``; 2 ``compared``, ``(snapshots, before, after)`` or
    None (no snapshot pair); 3 ``families`` (the rows shown); 4 ``findings`` with 5 their fixes; 6 ``verified``
    (``"nothing"`` when nothing was) and ``not_verified`` (None when all was). Unescaped: each format escapes."""
    return {
        "reproduce": w["reproduce"],
        "compared": (len(w["snapshots"]), w["before"], w["after"]) if w.get("before") else None,
        "families": (w.get("families") or [])[:FAMILIES_SHOWN],
        "findings": w.get("findings") or [],
        "verified": "; ".join(w.get("verified") or []) or "nothing",
        "not_verified": "; ".join(w["not_verified"]) if w.get("not_verified") else None,
    }


def terminal_lines(w: dict, *, evidence: bool = True, indent: str = "  ") -> list[str]:
    """A worker's findings as plain text lines (escaped; the caller adds colour if it wants)."""
    p = printable.line
    out = [p(worker_heading(w)), f"{indent}verdict: {p(w.get('verdict'))}"]
    for i, f in enumerate(w.get("findings") or [], 1):
        out.append(f"{indent}{i}. {p(f['title'])}")
        sub = indent + "   "
        out.append(f"{sub}{fmt_size(f['retained_growth'], signed=True)} ({_pct(f.get('share'))} of the worker's new "
                   f"objects); {p(f.get('severity_text') or f.get('severity'))}")
        out.append(f"{sub}confidence {_pct(f.get('confidence'))} (the share the holder alone keeps)")
        out.append(f"{sub}holder: {p(holder_text(f.get('holder') or {}))}")
        fx = f.get("fix") or {}
        text = printable.lines(fx.get("text")) or [""]
        out.append(f"{sub}fix [{p(fx.get('kind'))}]: {text[0]}")
        out += [f"{sub}  {line}" for line in text[1:]]
        if fx.get("files"):
            more = f" … (+{len(fx['files']) - 6})" if len(fx["files"]) > 6 else ""
            out.append(f"{sub}  files: {p(', '.join(fx['files'][:6]))}{more}")
        if evidence:
            for e in f.get("evidence") or []:
                out.append(f"{sub}- {p(e)}")
    if w.get("notes"):
        out.append(f"{indent}notes:")
        out += [f"{indent} - {p(n)}" for n in w["notes"]]
    return out


def _md(text) -> str:
    """Markdown-safe inline text (escaped, no raw HTML, no table breaks)."""
    s = printable.line(text)
    s = _html.escape(s, quote=False)
    return re.sub(r"([\\`*_\[\]|#<>])", r"\\\1", s)


def _code(text) -> str:
    s = printable.line(text).replace("`", "ˋ")
    return f"`{s}`" if s else ""


def markdown(w: dict, *, evidence: bool = True, level: int = 3) -> str:
    h = "#" * level
    lines = [f"{h} {_md(worker_heading(w))}", "", f"**Verdict:** {_md(w.get('verdict'))}", ""]
    fs = w.get("findings") or []
    if fs:
        lines += ["| # | finding | growth | severity | confidence | fix |", "|---|---|---|---|---|---|"]
        for i, f in enumerate(fs, 1):
            lines.append(f"| {i} | {_md(f['title'])} | {fmt_size(f['retained_growth'], signed=True)} "
                         f"({_pct(f.get('share'))}) | {_md(f.get('severity'))} | {_pct(f.get('confidence'))} | "
                         f"{_code((f.get('fix') or {}).get('kind'))} |")
        lines.append("")
        for i, f in enumerate(fs, 1):
            fx = f.get("fix") or {}
            lines += [f"**{i}. {_md(f['title'])}**", "",
                      f"- severity: {_md(f.get('severity_text') or f.get('severity'))}",
                      f"- confidence: {_pct(f.get('confidence'))} (the share of this growth the holder alone keeps)",
                      f"- holder: {_md(holder_text(f.get('holder') or {}))}",
                      f"- fix ({_code(fx.get('kind'))}): {_md(fx.get('text'))}"]
            if fx.get("files"):
                lines.append(f"- test files: {', '.join(_code(x) for x in fx['files'][:10])}")
            if evidence and f.get("evidence"):
                lines.append("- evidence:")
                lines += [f"  - {_md(e)}" for e in f["evidence"]]
            lines.append("")
    if w.get("notes"):
        lines.append("Notes:")
        lines += [f"- {_md(n)}" for n in w["notes"]]
        lines.append("")
    return "\n".join(lines)


def _h(text) -> str:
    return _html.escape(printable.line(text))


def html(w: dict, *, evidence: bool = True) -> str:
    """A worker's findings as an HTML fragment (classes ``finding``, ``sev-mild|moderate|severe``)."""
    parts = [f'<section class="worker-findings"><h3>{_h(worker_heading(w))}</h3>',
             f'<p class="verdict"><b>Verdict:</b> {_h(w.get("verdict"))}</p>']
    for i, f in enumerate(w.get("findings") or [], 1):
        fx = f.get("fix") or {}
        sev = f.get("severity") or "mild"
        parts.append(f'<div class="finding kind-{_h(f.get("kind"))} sev-{_h(sev)}">')
        parts.append(f'<h4>{i}. {_h(f["title"])}</h4><ul>')
        parts.append(f'<li><b>growth</b> {_h(fmt_size(f["retained_growth"], signed=True))} '
                     f'({_h(_pct(f.get("share")))} of the new objects) — <span class="severity">'
                     f'{_h(f.get("severity_text") or sev)}</span></li>')
        parts.append(f'<li><b>confidence</b> {_h(_pct(f.get("confidence")))} '
                     '(the share of this growth the holder alone keeps)</li>')
        parts.append(f'<li><b>holder</b> {_h(holder_text(f.get("holder") or {}))}</li>')
        parts.append(f'<li><b>fix</b> <code>{_h(fx.get("kind"))}</code> {_h(fx.get("text"))}</li>')
        if fx.get("files"):
            parts.append("<li><b>test files</b> " + ", ".join(f"<code>{_h(x)}</code>" for x in fx["files"][:10])
                         + "</li>")
        parts.append("</ul>")
        if evidence and f.get("evidence"):
            parts.append("<details><summary>evidence</summary><ul>"
                         + "".join(f"<li>{_h(e)}</li>" for e in f["evidence"]) + "</ul></details>")
        parts.append("</div>")
    if w.get("notes"):
        parts.append('<ul class="notes">' + "".join(f"<li>{_h(n)}</li>" for n in w["notes"]) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)
