"""The self-contained HTML report (``heaplens report RUN_DIR --format html``): one file, no network.

Everything is drawn here, in Python: the tables and the charts (inline SVG) — the RSS timeline of each lane
with one line per worker, snapshot markers, faults and file spans; per-file RSS growth bars; the growth of the
top families across snapshots. A small inline script adds what needs a browser (hover read-outs on the
timelines, copy buttons) and marks ``<body data-rendered="1">`` when it ran; the page reads fully without it.
The report model is embedded as JSON (``<script type="application/json" id="heaplens-report">``).

Every text from the document is escaped: file names, chains and commands can hold ``<``, ``&`` and quotes.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html as _html
import json
import math
from functools import cache
from importlib import resources
from pathlib import PurePath

from ..units import fmt_count, fmt_size
from .findings import LABEL, jest_config_lines
from .findings import html as findings_html

__all__ = ["render"]

# Colors of the worker lines (tree RSS is drawn in ink, snapshots in violet, faults in red).
PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#ca8a04", "#db2777", "#4b5563",
           "#65a30d", "#7c3aed", "#0d9488", "#b45309")
VERDICT_CLASS = {
    "runtime leak": "v-leak",
    "module-graph retention": "v-graph",
    "external memory": "v-external",
    "ambiguous": "v-ambiguous",
    "no significant growth": "v-none",
}
# No load of any kind: the page's own style, and its one script by hash (nothing injected into the page
# could run), so the file works (and stays) offline. Style and script live in report/assets/.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src '{script_hash}'; img-src data:"
MAX_FILE_BARS = 40  # per lane; the rest are counted
MAX_FAMILIES = 15  # rows of the families table
W = 1000  # SVG user units of the wide charts


def e(x) -> str:
    """Escaped text (None → empty)."""
    return "" if x is None else _html.escape(str(x), quote=True)


def _size(n, signed: bool = False) -> str:
    return fmt_size(n, signed=signed) if isinstance(n, (int, float)) else "–"


def _secs(t) -> str:
    return f"{t:.1f} s" if isinstance(t, (int, float)) else "–"


def _when(ts) -> str:
    if not isinstance(ts, (int, float)):
        return "–"
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _base(path) -> str:
    return PurePath(str(path)).name if path else ""


def _verdict_badge(v) -> str:
    return f'<span class="badge {VERDICT_CLASS.get(v, "v-other")}">{e(v or "unknown")}</span>'


def _json_for_script(doc: dict) -> str:
    # Inside <script> only "</" and "<!--" matter; escaping <, >, & (and the JS line separators) covers both.
    s = json.dumps(doc, ensure_ascii=False, default=str)
    return (s.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# ---------------------------------------------------------------------------------------------- scales
def _nice_step(span: float, n: int = 5) -> float:
    if span <= 0:
        return 1.0
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _byte_ticks(lo: float, hi: float) -> tuple[list[float], str, float]:
    """Tick values (bytes) for a byte axis, with the unit they are labelled in."""
    unit, div = ("GiB", 1024**3) if max(abs(lo), abs(hi)) >= 4 * 1024**3 else \
        ("MiB", 1024**2) if max(abs(lo), abs(hi)) >= 1024**2 else ("KiB", 1024)
    step = _nice_step((hi - lo) / div, 6) * div
    start = math.floor(lo / step) * step
    ticks = [start]
    while ticks[-1] < hi - step * 1e-9:
        ticks.append(ticks[-1] + step)
    return ticks, unit, div


def _tick_label(v: float, unit: str, div: float) -> str:
    x = v / div
    return f"{x:.0f} {unit}" if abs(x - round(x)) < 1e-9 else f"{x:g} {unit}"


def _pts(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


# ------------------------------------------------------------------------------------------- timeline
def _highlighted_files(doc: dict, lane: str) -> set[str]:
    out: set[str] = set()
    for f in doc.get("findings") or []:
        if f.get("lane") != lane:
            continue
        out.update(g.get("file") for g in f.get("growth_files") or [] if g.get("file"))
        out.update((f.get("fix") or {}).get("files") or [])
    return out


def _timeline_svg(lane: dict, index: int, hl: set[str]) -> str:
    tl = lane.get("timeline") or {}
    samples = [s for s in tl.get("samples") or [] if isinstance(s.get("t"), (int, float))]
    markers = [m for m in tl.get("snapshots") or [] if isinstance(m.get("t"), (int, float))]
    spans = [s for s in tl.get("files") or [] if isinstance(s.get("start"), (int, float))
             and isinstance(s.get("end"), (int, float))]
    faults = lane.get("faults") or []
    if not samples and not spans:
        return '<p class="muted">No RSS samples were recorded for this lane.</p>'
    pids = sorted({str(k) for s in samples for k in (s.get("workers") or {})} |
                  {str(s.get("pid")) for s in spans if s.get("pid") is not None}, key=lambda p: (len(p), p))
    color = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(pids)}
    elapsed = lane.get("elapsed_s") if isinstance(lane.get("elapsed_s"), (int, float)) else 0
    tmax = max([s["t"] for s in samples] + [s["end"] for s in spans] + [m["t"] for m in markers] +
               [f["t"] for f in faults if isinstance(f.get("t"), (int, float))] + [elapsed, 0.001])
    vals = [s.get("rss") or 0 for s in samples] + [v or 0 for s in samples for v in (s.get("workers") or {}).values()]
    vmax = max(vals + [1024 * 1024])
    ticks, unit, div = _byte_ticks(0, vmax * 1.02)
    ymax = ticks[-1] if ticks[-1] > 0 else vmax
    L, R, T, H = 74, W - 16, 18, 240  # plot box (left, right, top, height)
    row_h, gap = 18, 44
    gantt_top = T + H + gap
    h = gantt_top + len(pids) * row_h + 26 if spans else T + H + 30

    def X(t):
        return L + (R - L) * (t / tmax)

    def Y(v):
        return T + H - H * (v / ymax)

    seen = {p for s in samples for p in (s.get("workers") or {})}
    n_series = (1 if samples else 0) + len([p for p in pids if p in seen])
    out = [f'<svg class="chart timeline" viewBox="0 0 {W} {h}" role="img" preserveAspectRatio="xMinYMin meet" '
           f'data-lane="{index}" data-x0="{L}" data-x1="{R}" data-tmax="{tmax:.3f}" data-top="{T}" '
           f'data-bottom="{T + H}" data-series="{n_series}" aria-label="RSS timeline of lane {e(lane.get("name"))}">']
    # grid and axes
    for v in ticks:
        y = Y(v)
        out.append(f'<line class="grid" x1="{L}" x2="{R}" y1="{y:.1f}" y2="{y:.1f}"/><text class="tick" '
                   f'x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{e(_tick_label(v, unit, div))}</text>')
    tstep = _nice_step(tmax, 8)
    t = 0.0
    while t <= tmax + 1e-9:
        x = X(t)
        out.append(f'<line class="grid-x" x1="{x:.1f}" x2="{x:.1f}" y1="{T}" y2="{T + H}"/>'
                   f'<text class="tick" x="{x:.1f}" y="{T + H + 14}" text-anchor="middle">{t:g} s</text>')
        t += tstep
    out.append(f'<line class="axis" x1="{L}" x2="{R}" y1="{T + H}" y2="{T + H}"/>'
               f'<line class="axis" x1="{L}" x2="{L}" y1="{T}" y2="{T + H}"/>')
    # file spans under the chart, one row per worker; the files of a finding stand out
    for i, p in enumerate(pids if spans else []):
        y = gantt_top + i * row_h
        out.append(f'<text class="tick" x="{L - 6}" y="{y + 11}" text-anchor="end">pid {e(p)}</text>')
    for s in spans:
        i = pids.index(str(s.get("pid"))) if str(s.get("pid")) in pids else 0
        x0, x1 = X(s["start"]), X(max(s["end"], s["start"]))
        cls = "span hl" if s.get("file") in hl else "span"
        fill = color.get(str(s.get("pid")), PALETTE[0])
        out.append(f'<rect class="{cls}" x="{x0:.1f}" y="{gantt_top + i * row_h + 2}" width="{max(x1 - x0, 1.5):.1f}" '
                   f'height="{row_h - 4}" fill="{fill}"><title>{e(s.get("file"))} (pid {e(s.get("pid"))}): '
                   f'{_secs(s["start"])} → {_secs(s["end"])}, RSS {e(_size(s.get("delta"), True))}</title></rect>')
        room = int((x1 - x0 - 6) / 6.2)  # characters that fit (11px monospace-ish)
        name = _base(s.get("file"))
        if room >= 4 and name:
            out.append(f'<text class="span-label" x="{x0 + 3:.1f}" y="{gantt_top + i * row_h + row_h - 5}">'
                       f'{e(name if len(name) <= room else name[:room - 1] + "…")}</text>')
    if spans:
        out.append(f'<text class="tick" x="{L}" y="{gantt_top - 6}">test files, by worker '
                   f'(hover for the file and its RSS growth)</text>')
    # snapshot markers
    for m in markers:
        x = X(m["t"])
        pl = ", ".join(str(p) for p in m.get("pids") or [])
        out.append(f'<g class="snap-marker"><line x1="{x:.1f}" x2="{x:.1f}" y1="{T}" y2="{T + H}"/>'
                   f'<path d="M{x - 4:.1f},{T - 8} L{x + 4:.1f},{T - 8} L{x:.1f},{T - 1} Z"/>'
                   f'<title>heap snapshot #{e(m.get("seq"))} at {_secs(m["t"])} (pid {e(pl)})</title></g>')
    # the lines: the process tree, then each worker (broken where the worker was not seen)
    if samples:
        pts = [(X(s["t"]), Y(s.get("rss") or 0)) for s in samples]
        out.append(f'<polyline class="series tree" data-name="process tree" points="{_pts(pts)}"/>')
    for p in pids:
        segs, cur = [], []
        for s in samples:
            v = (s.get("workers") or {}).get(p)
            if v is None:
                if cur:
                    segs.append(cur)
                cur = []
            else:
                cur.append((X(s["t"]), Y(v)))
        if cur:
            segs.append(cur)
        if not segs:
            continue
        d = " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in seg) for seg in segs)
        dots = "".join(f'<circle cx="{seg[0][0]:.1f}" cy="{seg[0][1]:.1f}" r="2.5"/>' for seg in segs if len(seg) == 1)
        out.append(f'<g class="worker" fill="{color[p]}"><path class="series worker" data-pid="{e(p)}" '
                   f'stroke="{color[p]}" d="{d}"/>{dots}</g>')
    # faults: OOMs and crashes, at the last sample that still saw the worker (no sample saw it: at the lane's end)
    for f in faults:
        ft = f.get("t")
        label = f"{f.get('kind') or 'fault'} pid {f.get('pid') if f.get('pid') is not None else '?'}"
        if not isinstance(ft, (int, float)):
            ft, label = tmax, label + " (time unknown)"
        x = X(ft)
        anchor = "end" if x > (L + R) / 2 else "start"
        dx = -5 if anchor == "end" else 5
        out.append(f'<g class="fault-marker"><line x1="{x:.1f}" x2="{x:.1f}" y1="{T}" y2="{T + H}"/>'
                   f'<circle cx="{x:.1f}" cy="{T + 10}" r="5"/>'
                   f'<text x="{x + dx:.1f}" y="{T + 28}" text-anchor="{anchor}">{e(label)}</text>'
                   f'<title>{e(label)}: {e(", ".join(f.get("files") or []))} '
                   f'(last RSS {e(_size(f.get("last_rss")))})</title></g>')
    out.append(f'<line class="cursor" x1="0" x2="0" y1="{T}" y2="{T + H}" visibility="hidden"/>')
    out.append("</svg>")
    legend = ['<div class="legend">']
    if samples:
        legend.append('<span><i class="sw tree"></i>process tree RSS</span>')
    for p in pids:
        legend.append(f'<span><i class="sw" style="background:{color[p]}"></i>worker pid {e(p)}</span>')
    if markers:
        legend.append(f'<span><i class="sw snap"></i>heap snapshot ({len(markers)})</span>')
    if faults:
        legend.append('<span><i class="sw fault"></i>fault (OOM / crash)</span>')
    if any(s.get("file") in hl for s in spans):
        legend.append('<span><i class="sw hlspan"></i>file named by a finding</span>')
    legend.append("</div>")
    return '<div class="chart-wrap">' + "".join(out) + '<div class="readout" hidden></div></div>' + "".join(legend)


def _file_bars(lane: dict, hl: set[str]) -> str:
    spans = [s for s in (lane.get("timeline") or {}).get("files") or [] if isinstance(s.get("delta"), (int, float))]
    if not spans:
        return '<p class="muted">No per-file RSS: no test file finished with the trace on (--trace).</p>'
    rows = sorted(spans, key=lambda s: -s["delta"])
    shown = rows[:MAX_FILE_BARS]
    lo = min(0, min(s["delta"] for s in shown))
    hi = max(0, max(s["delta"] for s in shown))
    span = (hi - lo) or 1
    bw = 300
    zero = bw * (-lo / span)
    out = ['<table class="bars"><thead><tr><th>file</th><th>pid</th><th class="num">RSS Δ</th><th>growth</th>'
           '<th class="num">JS heap Δ</th><th class="num">RSS at end</th></tr></thead><tbody>']
    for s in shown:
        d = s["delta"]
        x0 = zero if d >= 0 else zero - bw * (-d / span)
        w = bw * abs(d) / span
        is_hl = s.get("file") in hl
        cls = "bar hl" if is_hl else ("bar neg" if d < 0 else "bar")
        mark = '<span class="star" title="named by a finding">★</span> ' if is_hl else ""
        out.append(f'<tr class="{"hl" if is_hl else ""}"><td class="file">{mark}<code>{e(s.get("file"))}</code></td>'
                   f'<td>{e(s.get("pid"))}</td><td class="num">{e(_size(d, True))}</td>'
                   f'<td><svg class="barsvg" viewBox="0 0 {bw} 14" width="{bw}" height="14" role="img" '
                   f'aria-label="{e(_size(d, True))}">'
                   f'<line class="zero" x1="{zero:.1f}" x2="{zero:.1f}" y1="0" y2="14"/>'
                   f'<rect class="{cls}" x="{x0:.1f}" y="2" width="{max(w, 0.5):.1f}" height="10"/></svg></td>'
                   f'<td class="num">{e(_size(s.get("heap_delta"), True))}</td>'
                   f'<td class="num">{e(_size(s.get("rss_end")))}</td></tr>')
    out.append("</tbody></table>")
    if len(rows) > len(shown):
        out.append(f'<p class="muted">{len(rows) - len(shown)} more file(s) with smaller growth.</p>')
    return "".join(out)


# ------------------------------------------------------------------------------------------- findings
def _list(items, cls: str = "") -> str:
    items = [i for i in items or [] if i is not None]
    if not items:
        return '<p class="muted">none</p>'
    return f'<ul class="{cls}">' + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>"


def _families_table(fams: list[dict]) -> str:
    if not fams:
        return '<p class="muted">No family grew (no snapshot pair, or nothing above the threshold).</p>'
    out = ['<table class="fams"><thead><tr><th>type</th><th>name</th><th class="num">size Δ</th>'
           '<th class="num">count Δ</th><th class="num">size before → after</th>'
           '<th class="num">count before → after</th></tr></thead><tbody>']
    for f in fams[:MAX_FAMILIES]:
        name = f.get("name") or chr(34) * 2
        short = name if len(name) <= 240 else name[:239] + "…"  # a module's source can be megabytes
        out.append(f'<tr><td>{e(f.get("type"))}</td>'
                   f'<td class="name" title="{e(name[:2000])}"><code>{e(short)}</code></td>'
                   f'<td class="num">{e(_size(f.get("size_delta"), True))}</td>'
                   f'<td class="num">{e(fmt_count(f.get("count_delta") or 0, True))}</td>'
                   f'<td class="num">{_size(f.get("size_before"))} → {_size(f.get("size_after"))}</td>'
                   f'<td class="num">{e(fmt_count(f.get("count_before") or 0))} → '
                   f'{e(fmt_count(f.get("count_after") or 0))}</td></tr>')
    out.append("</tbody></table>")
    if len(fams) > MAX_FAMILIES:
        out.append(f'<p class="muted">{len(fams) - MAX_FAMILIES} more families.</p>')
    return "".join(out)


def _diff(text: str) -> str:
    out = []
    for line in str(text).splitlines():
        cls = "add" if line.startswith("+") and not line.startswith("+++") else \
            "del" if line.startswith("-") and not line.startswith("---") else \
            "hunk" if line.startswith("@@") else ""
        out.append(f'<span class="{cls}">{e(line)}</span>' if cls else e(line))
    return '<pre class="diff">' + "\n".join(out) + "</pre>"


def _fix(fix: dict) -> str:
    """An isolation fix in full: its files, the manifest it edits (the diff), the files without timings.
    (Every finding's fix text is in its findings section.)"""
    kind = fix.get("kind") or "none"
    layer = f' <span class="pill">{e(fix.get("layer"))}</span>' if fix.get("layer") else ""
    out = [f'<div class="fix fix-{e(kind)}"><p class="fix-head"><span class="pill">{e(kind)}</span>{layer} '
           f'{e(fix.get("text"))}</p>']
    out.append("<h5>files to isolate</h5>" + _list(fix.get("files"), "files"))
    if fix.get("behavior_manifest"):
        out.append(f'<p>behavior manifest: <code>{e(fix.get("behavior_manifest"))}</code></p>')
    if fix.get("manifest_diff"):
        out.append("<h5>manifest diff</h5>" + _diff(fix["manifest_diff"]))
    elif fix.get("manifest_diff_error"):
        out.append(f'<p class="warn">no manifest diff: {e(fix["manifest_diff_error"])}</p>')
    if fix.get("missing_timings"):
        out.append('<h5>files missing from timings (scheduling blind spot)</h5>'
                   + _list(fix["missing_timings"], "files"))
    out.append("</div>")
    return "".join(out)


def _trace(tr: dict) -> str:
    if not tr:
        return ""
    cells = []
    for k, v in tr.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "files":
            val = _size(v, signed="growth" in k)
        else:
            val = str(v)
        cells.append(f'<div class="stat"><span>{e(k.replace("_", " "))}</span><b>{e(val)}</b></div>')
    return '<div class="stats">' + "".join(cells) + "</div>"


def _worker(w: dict, n: int) -> str:
    snaps = w.get("snapshots") or []
    compared = (f'<code title="{e(w.get("before"))}">{e(_base(w.get("before")))}</code> → '
                f'<code title="{e(w.get("after"))}">{e(_base(w.get("after")))}</code>'
                if w.get("before") else '<span class="muted">no snapshot pair (RSS trace only)</span>')
    badges = " ".join(_verdict_badge(LABEL.get(f.get("kind"))) for f in w.get("findings") or []) or \
        _verdict_badge("no significant growth" if w.get("analysed") else w.get("verdict"))
    fixes = "".join(f'<div><h4>The fix: {e(f["title"])}</h4>{_fix(f.get("fix") or {})}</div>'
                    for f in w.get("findings") or [] if (f.get("fix") or {}).get("kind") == "isolate")
    return f"""
<section class="finding card{'' if w.get('significant', True) else ' minor'}" id="finding-{n}">
 <header class="finding-head">
  <h3>{n}. {badges} lane <code>{e(w.get('lane'))}</code> · pid <code>{e(w.get('pid'))}</code></h3>
 </header>
 <dl class="meta">
  <dt>snapshots compared</dt><dd>{compared} <span class="muted">({len(snaps)} snapshot(s) of this worker)</span>
   {('<details><summary>paths</summary>' + _list(snaps, 'files') + '</details>') if snaps else ''}</dd>
  <dt>reproduce</dt><dd>{_copyable(w.get('reproduce'))}</dd>
 </dl>
 {_trace(w.get('trace') or {})}
 <h4>Findings — one per cause, biggest first</h4>
 {findings_html(w)}
 {('<div class="cols">' + fixes + '</div>') if fixes else ''}
 <h4>Top families (earliest → latest snapshot)</h4>
 {_families_table(w.get('families') or [])}
 <div class="cols verif">
  <div><h4>Verified</h4>{_list(w.get('verified'), 'checks yes')}</div>
  <div><h4>Not verified</h4>{_list(w.get('not_verified'), 'checks no')}</div>
 </div>
</section>"""


def _copyable(cmd) -> str:
    if not cmd:
        return '<span class="muted">–</span>'
    return (f'<div class="copy"><pre class="cmd"><code>{e(cmd)}</code></pre>'
            f'<button type="button" class="copy-btn" data-copy="{e(cmd)}">copy</button></div>')


# ---------------------------------------------------------------------------------------------- lanes
def _lane(lane: dict, i: int, doc: dict) -> str:
    hl = _highlighted_files(doc, lane.get("name"))
    summ = lane.get("summary") or {}
    snaps = lane.get("snapshots") or {}
    stats = [("status", lane.get("status")), ("exit code", lane.get("exit_code")), ("kind", lane.get("kind")),
             ("elapsed", _secs(lane.get("elapsed_s"))), ("workers", lane.get("workers")),
             ("isolate", lane.get("isolate")), ("pool", lane.get("pool")),
             ("suite config", ", ".join(f"{k}={v}" for k, v in (lane.get("config") or {}).items()) or None),
             ("files planned", lane.get("files_planned")),
             ("peak RSS", _size(summ.get("peak")) if summ.get("peak") is not None else None),
             ("peak at", summ.get("peak_at")), ("total file RSS Δ", _size(summ.get("total_delta"), True)
                                                 if summ.get("total_delta") is not None else None),
             ("snapshots", snaps.get("files")), ("snapshot signals", snaps.get("signals")),
             ("busy skips", snaps.get("busy_skips")), ("dropped", len(snaps.get("dropped") or []) or None)]
    cells = "".join(f'<div class="stat"><span>{e(k)}</span><b>{e(v)}</b></div>' for k, v in stats if v is not None)
    faults = lane.get("faults") or []
    ft = ""
    if faults:
        rows = "".join(f'<tr><td><span class="badge v-leak">{e(f.get("kind"))}</span></td><td>{e(f.get("pid"))}</td>'
                       f'<td>{"".join("<code>" + e(x) + "</code> " for x in f.get("files") or []) or "–"}</td>'
                       f'<td>{_secs(f.get("t")) if f.get("t") is not None else "end (no sample saw it)"}</td>'
                       f'<td class="num">{e(_size(f.get("last_rss")))}</td>'
                       f'<td class="num">{e(_size(f.get("peak_rss")))}</td><td>{e(f.get("vitest_exit") or "")}</td>'
                       f'<td>{"".join("<code>" + e(_base(s)) + "</code> " for s in f.get("snapshots") or []) or "none"}'
                       f'{" " + e(f.get("error")) if f.get("error") else ""}</td></tr>' for f in faults)
        ft = ('<h4>Faults</h4><table class="faults"><thead><tr><th>kind</th><th>pid</th><th>files</th><th>at</th>'
              '<th class="num">last RSS</th><th class="num">peak RSS</th><th>exit</th><th>near-limit snapshot</th>'
              f'</tr></thead><tbody>{rows}</tbody></table>')
    status_cls = "ok" if lane.get("status") == "passed" else "bad"
    devs = "".join(f"<li>{e(d)}</li>" for d in lane.get("deviations") or [])
    devs = f'<h4>Deviations from the suite\'s config</h4><ul class="deviations">{devs}</ul>' if devs else ""
    after = "".join(f"<li>worker <code>{e(k)}</code>: {len(v)} file(s) ran after its last snapshot: "
                    + ", ".join(f"<code>{e(x)}</code>" for x in v) + "</li>"
                    for k, v in ((lane.get("snapshots") or {}).get("after_last") or {}).items())
    after = f'<ul class="after-last">{after}</ul>' if after else ""
    return f"""
<section class="lane card" id="lane-{i}">
 <header><h3>lane <code>{e(lane.get('name'))}</code>
  <span class="{status_cls}">{e(lane.get('status'))}</span></h3></header>
 <div class="stats">{cells}</div>
 {devs}{after}
 {ft}
 <h4>RSS timeline</h4>
 {_timeline_svg(lane, i, hl)}
 <h4>RSS growth per test file</h4>
 {_file_bars(lane, hl)}
 {('<p class="muted">vitest log: <code>' + e(lane.get('log')) + '</code></p>') if lane.get('log') else ''}
</section>"""


# --------------------------------------------------------------------------------------- verification
SIZE_KEYS = ("rss", "peak", "bytes", "size", "heap", "mem", "slope", "before", "after")


def _generic(v, path: str = "") -> str:
    """Any JSON value as nested key/value tables and lists; integers under a key that names memory (any key on the
    way: ``before.unit-fast``) also as a size."""
    if isinstance(v, dict):
        if not v:
            return '<span class="muted">{}</span>'
        return ('<table class="kv">' + "".join(
            f'<tr><th>{e(k)}</th><td>{_generic(x, f"{path}.{k}")}</td></tr>' for k, x in v.items()) + "</table>")
    if isinstance(v, list):
        if not v:
            return '<span class="muted">[]</span>'
        return "<ul>" + "".join(f"<li>{_generic(x, path)}</li>" for x in v) + "</ul>"
    if isinstance(v, bool) or v is None:
        return f'<code>{e(json.dumps(v))}</code>'
    if isinstance(v, (int, float)) and abs(v) >= 1024 and any(w in path.lower() for w in SIZE_KEYS):
        raw = fmt_count(v) if isinstance(v, int) else f"{v:,.1f}"
        return f'{e(_size(v))} <span class="muted">({e(raw)})</span>'
    return e(v)


def _verification(v) -> str:
    if v is None:
        return ""
    head = ""
    if isinstance(v, dict) and v.get("verdict") is not None:
        word = str(v.get("verdict")).lower()
        cls = "bad" if ("not" in word or "fail" in word) else "ok" if word.startswith(("verified", "fixed")) else ""
        head = f'<p class="verdict-line">verdict: <b class="{cls}">{e(v.get("verdict"))}</b></p>'
    return f'<section class="card verification" id="verification"><h2>Verification</h2>{head}{_generic(v)}</section>'


# ---------------------------------------------------------------------------------------------- page
def _header(doc: dict) -> str:
    run = doc.get("run") or {}
    st = run.get("status")
    vers = run.get("versions") or {}
    if doc.get("heaplens") and "heaplens" not in vers:
        vers = {**vers, "heaplens": doc["heaplens"]}
    chips = "".join(f'<span class="chip"><span>{e(k)}</span> {e(v)}</span>' for k, v in vers.items())
    counts = doc.get("verdicts") or {}
    vc = "".join(f'<span class="count">{_verdict_badge(k)} <b>{e(v)}</b></span>' for k, v in counts.items()) or \
        '<span class="muted">no findings</span>'
    started, finished = run.get("started_at"), run.get("finished_at")
    timed = isinstance(started, (int, float)) and isinstance(finished, (int, float))
    dur = f" ({finished - started:.1f} s)" if timed else ""
    fixes = doc.get("fixes") or {}
    fx = []
    if fixes.get("isolate"):
        fx.append("<h4>isolate</h4>" + _list(fixes["isolate"], "files"))
    if fixes.get("missing_timings"):
        fx.append("<h4>missing from timings</h4>" + _list(fixes["missing_timings"], "files"))
    if fixes.get("cleanups"):
        fx.append("<h4>cleanups</h4>" + _list(fixes["cleanups"]))
    jc = fixes.get("jest_config")
    if jc:
        fx.append("<h4>Jest config</h4>" + "".join(f"<p>{e(line)}</p>" for line in jest_config_lines(jc))
                  + _diff(jc.get("diff") or jc.get("patch") or ""))
    skipped = doc.get("skipped") or []
    return f"""
<header class="top card">
 <h1>heaplens report <span class="muted">·</span> <code>{e(run.get('run_id'))}</code>
  <span class="status {'ok' if st == 'passed' else 'bad'}">{e(st)}</span>{
    f' <span class="muted">exit {e(run.get("exit_code"))}</span>' if run.get('exit_code') is not None else ''}</h1>
 <p class="muted">{e(_when(started))} → {e(_when(finished))}{e(dur)} · run dir <code>{e(run.get('dir'))}</code>
  · root <code>{e(run.get('root') or run.get('cwd'))}</code>
  · rules: {e(', '.join(map(str, doc.get('rules') or [])) or '–')}</p>
 <div class="chips">{chips}</div>
 <h4>Reproduce</h4>{_copyable(doc.get('reproduce'))}
 <h4>Verdicts</h4><div class="counts">{vc}</div>
 {('<h4>Proposed fixes</h4><div class="fixes">' + ''.join(fx) + '</div>') if fx else ''}
 {('<h4>Skipped</h4>' + _list(skipped)) if skipped else ''}
</header>"""


def _toc(doc: dict) -> str:
    items = [f'<li><a href="#finding-{n}">{e(w.get("lane"))} · pid {e(w.get("pid"))}: {e(w.get("verdict"))}</a></li>'
             for n, w in enumerate(doc.get("workers") or [], 1)]
    lanes = [f'<li><a href="#lane-{i}">lane {e(l.get("name"))}</a></li>' for i, l in enumerate(doc.get("lanes") or [])]
    extra = ['<li><a href="#verification">verification</a></li>'] if doc.get("verification") is not None else []
    if not items and not lanes:
        return ""
    return '<nav class="toc"><ul>' + "".join(items + lanes + extra) + "</ul></nav>"


@cache
def assets() -> tuple[str, str, str]:
    """(CSS, JS, the CSP source of the JS: ``sha256-…``) from the package's report/assets/."""
    folder = resources.files(__package__).joinpath("assets")
    css = folder.joinpath("report.css").read_text(encoding="utf-8")
    js = folder.joinpath("report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    return css, js, f"sha256-{digest}"


def render(doc: dict, *, color: bool | None = None) -> str:
    """The report model (``heaplens.report.model.build``) as one self-contained HTML page."""
    run = doc.get("run") or {}
    workers = doc.get("workers") or []
    lanes = doc.get("lanes") or []
    body = [_header(doc), _toc(doc), _verification(doc.get("verification"))]
    body.append("<h2>Findings</h2>")
    if workers:
        body.extend(_worker(w, n) for n, w in enumerate(workers, 1))
    else:
        body.append('<p class="muted card">No investigated worker: nothing grew, or the run recorded no snapshots '
                    'and no trace.</p>')
    body.append("<h2>Lanes</h2>")
    if lanes:
        body.extend(_lane(l, i, doc) for i, l in enumerate(lanes))
    else:
        body.append('<p class="muted card">The run has no lanes.</p>')
    body.append(f'<footer class="muted">heaplens {e(doc.get("heaplens"))} · schema {e(doc.get("schema"))} '
                f'v{e(doc.get("schema_version"))} · generated {e(_when(doc.get("generated_at")))}</footer>')
    title = f"heaplens report {run.get('run_id') or ''}".strip()
    css, js, script_hash = assets()
    csp = CSP.format(script_hash=script_hash)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{e(title)}</title>
<style>{css}</style>
</head>
<body>
<main>
{"".join(body)}
</main>
<script type="application/json" id="heaplens-report">{_json_for_script(doc)}</script>
<script>{js}</script>
</body>
</html>
"""
