"""The self-contained HTML report (``heaplens report RUN_DIR --format html``): one file, no network.

Everything is drawn here, in Python: the tables and the charts (inline SVG) — the RSS timeline of each lane
with one line per worker, snapshot markers, faults and file spans; per-file RSS growth bars; the growth of the
top families across snapshots. A small inline script adds what needs a browser (hover read-outs on the
timelines, copy buttons) and marks ``<body data-rendered="1">`` when it ran; the page reads fully without it.
The report model is embedded as JSON (``<script type="application/json" id="heaplens-report">``).

Every text from the document is escaped: file names, chains and commands can hold ``<``, ``&`` and quotes.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import json
import math
from pathlib import PurePath

from .units import fmt_count, fmt_size

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
# No load of any kind, except the page's own inline style and script: the file works (and stays) offline.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
OVERHEAD = ' <span class="warn">(a snapshot was written during it)</span>'
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


# ---------------------------------------------------------------------------------------------- trend
def _trend_svg(trend: dict) -> str:
    fams = [f for f in trend.get("families") or [] if f.get("sizes")]
    totals = trend.get("totals") or []
    snaps = trend.get("snapshots") or []
    n = max([len(f["sizes"]) for f in fams] + [len(totals), 0])
    if n < 2 or not fams:
        return '<p class="muted">Fewer than two snapshots of this worker: no growth across snapshots to draw.</p>'
    vmax = max([v or 0 for f in fams for v in f["sizes"]] + [1024])
    ticks, unit, div = _byte_ticks(0, vmax * 1.05)
    ymax = ticks[-1] or vmax
    w, h = 640, 260
    L, R, T, B = 74, w - 20, 14, h - 30

    def X(i):
        return L + (R - L) * (i / (n - 1))

    def Y(v):
        return B - (B - T) * ((v or 0) / ymax)

    out = [f'<svg class="chart trend" viewBox="0 0 {w} {h}" role="img" data-series="{len(fams)}" '
           f'aria-label="growth of the top families across snapshots">']
    for v in ticks:
        out.append(f'<line class="grid" x1="{L}" x2="{R}" y1="{Y(v):.1f}" y2="{Y(v):.1f}"/><text class="tick" '
                   f'x="{L - 6}" y="{Y(v) + 4:.1f}" text-anchor="end">{e(_tick_label(v, unit, div))}</text>')
    for i in range(n):
        label = f"#{i + 1}"
        out.append(f'<text class="tick" x="{X(i):.1f}" y="{B + 16}" text-anchor="middle">{label}'
                   f'<title>{e(_base(snaps[i]) if i < len(snaps) else "")}</title></text>')
    out.append(f'<line class="axis" x1="{L}" x2="{R}" y1="{B}" y2="{B}"/>')
    for k, f in enumerate(fams):
        c = PALETTE[k % len(PALETTE)]
        pts = [(X(i), Y(v)) for i, v in enumerate(f["sizes"])]
        name = ((f.get("type") or "") + " " + (f.get("name") or '""')).strip()
        out.append(f'<g class="fam" stroke="{c}" fill="{c}"><polyline class="series" points="{_pts(pts)}"/>'
                   + "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>' for x, y in pts)
                   + f'<title>{e(name)}: {e(" → ".join(_size(v) for v in f["sizes"]))}</title></g>')
    out.append("</svg>")
    rows = ['<table class="legend-table"><thead><tr><th></th><th>type</th><th>name</th><th class="num">first</th>'
            '<th class="num">last</th><th class="num">Δ</th></tr></thead><tbody>']
    for k, f in enumerate(fams):
        s = f["sizes"]
        rows.append(f'<tr><td><i class="sw" style="background:{PALETTE[k % len(PALETTE)]}"></i></td>'
                    f'<td>{e(f.get("type"))}</td><td class="name"><code>{e(f.get("name") or chr(34) * 2)}</code></td>'
                    f'<td class="num">{_size(s[0])}</td><td class="num">{_size(s[-1])}</td>'
                    f'<td class="num">{_size((s[-1] or 0) - (s[0] or 0), True)}</td></tr>')
    if totals:
        rows.append(f'<tr class="total"><td></td><td colspan="2">heap self size (all objects)</td>'
                    f'<td class="num">{_size(totals[0])}</td><td class="num">{_size(totals[-1])}</td>'
                    f'<td class="num">{_size((totals[-1] or 0) - (totals[0] or 0), True)}</td></tr>')
    rows.append("</tbody></table>")
    mono = trend.get("monotonic")
    note = {True: "growth is monotonic across the intervals", False: "growth is not monotonic across the intervals",
            None: "monotonic growth not shown (two snapshots)"}.get(mono, "")
    return (f'<div class="trend-wrap"><div>{"".join(out)}{_totals_svg(totals)}</div><div>{"".join(rows)}'
            f'<p class="muted">{n} snapshots; {e(note)}</p></div></div>')


def _totals_svg(totals: list) -> str:
    """The heap's self size at each snapshot: a small line under the families (its scale would flatten them)."""
    vals = [v for v in totals if isinstance(v, (int, float))]
    if len(vals) < 2 or len(vals) != len(totals):
        return ""
    w, h, L, R, T, B = 640, 78, 74, 620, 22, 60
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1

    def X(i):
        return L + (R - L) * (i / (len(vals) - 1))

    def Y(v):
        return B - (B - T) * ((v - lo) / span)

    pts = [(X(i), Y(v)) for i, v in enumerate(vals)]
    out = [f'<svg class="chart totals" viewBox="0 0 {w} {h}" role="img" data-series="1" '
           f'aria-label="heap self size at each snapshot"><text class="tick" x="{L - 6}" y="{(T + B) / 2 + 4:.1f}" '
           f'text-anchor="end">heap total</text><polyline class="series total" points="{_pts(pts)}"/>']
    for i, ((x, y), v) in enumerate(zip(pts, vals)):
        anchor = "start" if i == 0 else "end" if i == len(vals) - 1 else "middle"
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>'
                   f'<text class="tick" x="{x:.1f}" y="{y - 7:.1f}" text-anchor="{anchor}">{e(_size(v))}</text>')
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------------------------------- findings
def _chain(text) -> str:
    if not text:
        return ""
    steps = [s.strip() for s in str(text).split("→")]
    return ('<ol class="chain">' + "".join(f"<li>{e(s)}</li>" for s in steps) + "</ol>")


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


def _holders(f: dict) -> str:
    holders = f.get("holders") or []
    rets = f.get("retainers") or []
    if not holders and not rets:
        return '<p class="muted">No retainer chain was recovered for this worker.</p>'
    out = []
    for h in holders:
        loader = "through module-loader machinery" if h.get("via_loader") else "through user code"
        out.append('<div class="holder">'
                   f'<p class="holder-head"><b>{e(fmt_count(h.get("count") or 0))}</b> of '
                   f'{e(fmt_count(h.get("total") or 0))} <code>{e(h.get("class_name"))}</code> held by '
                   f'{"<code>" + e(h.get("variable")) + "</code>" if h.get("variable") else "an unnamed holder"}'
                   f'{" in <code>" + e(h.get("source")) + "</code>" if h.get("source") else ""} '
                   f'<span class="pill">{e(h.get("kind"))}</span> <span class="pill">{e(loader)}</span></p>'
                   f'{_chain(h.get("chain"))}'
                   f'<p class="muted">{e(h.get("sentence"))}</p></div>')
    for r in rets:
        chains = (r.get("chains") or {}).get("chains") or []
        out.append(f'<details class="retainers"><summary>retainer chains of <code>{e(r.get("class"))}</code>: '
                   f'{e(fmt_count(r.get("new_count") or 0))} new, {e(_size(r.get("new_retained")))} retained '
                   f'({len(chains)} chain pattern(s))</summary>')
        for c in chains:
            ex = c.get("example") or {}
            script = f' — <code>{e(c.get("script"))}</code>' if c.get("script") else ""
            example = f'<p class="muted">example: <code>{e(ex.get("text"))}</code></p>' if ex.get("text") else ""
            out.append(f'<div class="rchain"><p><b>{e(fmt_count(c.get("count") or 0))}</b> via '
                       f'{e(c.get("holder"))}{script}</p>{_chain(c.get("pattern"))}{example}</div>')
        out.append("</details>")
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
    kind = fix.get("kind") or "none"
    layer = f' <span class="pill">{e(fix.get("layer"))}</span>' if fix.get("layer") else ""
    out = [f'<div class="fix fix-{e(kind)}"><p class="fix-head"><span class="pill">{e(kind)}</span>{layer} '
           f'{e(fix.get("text"))}</p>']
    if kind == "isolate":
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
    elif kind == "cleanup":
        h = fix.get("holder") or {}
        if h:
            out.append(f'<p>holder: <code>{e(h.get("variable") or "?")}</code>'
                       f'{" in <code>" + e(h.get("source")) + "</code>" if h.get("source") else ""} '
                       f'({e(h.get("kind"))}), keeping {e(fmt_count(h.get("count") or 0))} '
                       f'<code>{e(h.get("class_name"))}</code></p>')
        if fix.get("chain"):
            out.append("<h5>chain</h5>" + _chain(fix["chain"]))
        if fix.get("files"):
            out.append("<h5>files</h5>" + _list(fix["files"], "files"))
        if fix.get("cleanup"):
            out.append(f'<p class="cleanup">missing cleanup: <b>{e(fix["cleanup"])}</b></p>')
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


KIND_LABEL = {"module-graph": "module-graph retention", "runtime-leak": "runtime leak",
              "external-memory": "external memory"}


def _worker(w: dict, n: int) -> str:
    from .findings import html as findings_html

    snaps = w.get("snapshots") or []
    compared = (f'<code title="{e(w.get("before"))}">{e(_base(w.get("before")))}</code> → '
                f'<code title="{e(w.get("after"))}">{e(_base(w.get("after")))}</code>'
                if w.get("before") else '<span class="muted">no snapshot pair (RSS trace only)</span>')
    badges = " ".join(_verdict_badge(KIND_LABEL.get(f.get("kind"))) for f in w.get("findings") or []) or \
        _verdict_badge("no significant growth" if w.get("analysed") else w.get("verdict"))
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
 {''.join('<div class="cols"><div><h4>The fix: ' + e(f['title']) + '</h4>' + _fix(f.get('fix') or {}) + '</div></div>'
          for f in w.get('findings') or [] if (f.get('fix') or {}).get('kind') == 'isolate')}
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
             ("isolate", lane.get("isolate")), ("files planned", lane.get("files_planned")),
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
    return f"""
<section class="lane card" id="lane-{i}">
 <header><h3>lane <code>{e(lane.get('name'))}</code>
  <span class="{status_cls}">{e(lane.get('status'))}</span></h3></header>
 <div class="stats">{cells}</div>
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


def render(doc: dict) -> str:
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
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
{"".join(body)}
</main>
<script type="application/json" id="heaplens-report">{_json_for_script(doc)}</script>
<script>{JS}</script>
</body>
</html>
"""


CSS = """
:root { --ink:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#f6f8fa; --card:#fff; --accent:#2563eb;
  --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; --snap:#8250df; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 40px; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
code { background:#eff1f3; border-radius:4px; padding:0 4px; overflow-wrap:anywhere; }
h1 { font-size: 22px; margin: 0 0 6px; }
h1 .muted, h1 .status { font-size: 14px; font-weight: 400; }
h2 { font-size: 18px; margin: 28px 0 10px; }
.card > h2:first-child { margin-top: 0; }
h3 { font-size: 16px; margin: 0; }
h4 { font-size: 14px; margin: 18px 0 6px; }
h5 { font-size: 13px; margin: 10px 0 4px; color: var(--muted); }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin: 0 0 16px; }
.muted { color: var(--muted); }
.ok { color: var(--ok); font-weight:600; }
.bad { color: var(--bad); font-weight:600; }
.warn { color: var(--warn); }
.status { font-size: 13px; padding: 2px 8px; border-radius: 12px; vertical-align: middle; border:1px solid currentColor; }
.badge { display:inline-block; font-size:12px; font-weight:600; padding:1px 8px; border-radius:10px; white-space:nowrap;
  border:1px solid transparent; }
.v-leak { background:#ffebe9; color:#a40e26; border-color:#ffcecb; }
.v-graph { background:#fff1e5; color:#953800; border-color:#ffd8b5; }
.v-external { background:#fbefff; color:#6e40c9; border-color:#ecd8ff; }
.v-ambiguous { background:#fff8c5; color:#7d4e00; border-color:#f5e0a0; }
.v-none { background:#dafbe1; color:#116329; border-color:#aceebb; }
.v-other { background:#eaeef2; color:#424a53; }
.chips, .counts { display:flex; flex-wrap:wrap; gap:6px 10px; }
.chip { font-size:12px; border:1px solid var(--line); border-radius:12px; padding:1px 8px; background:#fff; }
.chip span { color: var(--muted); }
.count b { margin-left: 2px; }
.copy { display:flex; gap:8px; align-items:flex-start; }
pre.cmd { flex:1; margin:0; padding:8px 10px; background:#f6f8fa; border:1px solid var(--line); border-radius:6px;
  white-space:pre-wrap; word-break:break-all; }
pre.cmd code { background:none; padding:0; }
button.copy-btn { font: inherit; font-size:12px; padding:6px 10px; border:1px solid var(--line); border-radius:6px;
  background:#fff; cursor:pointer; }
button.copy-btn:hover { background:#f3f4f6; }
.toc ul { list-style:none; padding:0; margin:0 0 8px; display:flex; flex-wrap:wrap; gap:6px 14px; }
.toc a { color: var(--accent); text-decoration:none; }
.finding-head { display:flex; flex-wrap:wrap; justify-content:space-between; align-items:center; gap:8px;
  border-bottom:1px solid var(--line); padding-bottom:8px; }
.finding.minor { opacity: .85; }
.summary { font-size: 15px; margin: 10px 0; }
.conf { font-size: 13px; }
.meter { display:inline-block; width:80px; height:8px; background:#eaeef2; border-radius:4px; vertical-align:middle; overflow:hidden; }
.meter i { display:block; height:100%; background: var(--accent); }
dl.meta { display:grid; grid-template-columns: 160px 1fr; gap:6px 12px; margin: 8px 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin:0; min-width:0; }
.stats { display:flex; flex-wrap:wrap; gap:8px; margin: 8px 0; }
.stat { border:1px solid var(--line); border-radius:6px; padding:4px 10px; background:#fafbfc; min-width:90px; }
.stat span { display:block; font-size:11px; color: var(--muted); text-transform: uppercase; letter-spacing:.02em; }
.stat b { font-size: 13px; overflow-wrap:anywhere; }
.cols { display:grid; grid-template-columns: 1fr 1fr; gap: 0 24px; }
.cols > div { min-width: 0; }
@media (max-width: 900px) { .cols { grid-template-columns: 1fr; } }
ul { padding-left: 20px; margin: 4px 0; }
li, td, dd, p { overflow-wrap: anywhere; }
ul.evidence li { margin-bottom: 3px; }
ul.checks { list-style:none; padding-left:0; }
ul.checks li { padding-left: 22px; position:relative; margin-bottom:3px; }
ul.checks.yes li::before { content:"\\2713"; color: var(--ok); position:absolute; left:4px; font-weight:700; }
ul.checks.no li::before { content:"\\2717"; color: var(--bad); position:absolute; left:4px; font-weight:700; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align:left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { font-weight:600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); }
td.num, th.num { text-align:right; white-space:nowrap; font-variant-numeric: tabular-nums; }
td.name, td.file { max-width: 460px; }
tr.total td { font-weight:600; border-top: 1px solid var(--line); }
table.bars td { vertical-align: middle; }
table.bars tr.hl td { background: #fff8e6; }
.star { color: #d97706; }
.fix { border-left: 4px solid var(--accent); background:#f5f8ff; padding: 8px 12px; border-radius: 0 6px 6px 0; }
.fix-none { border-left-color: var(--line); background:#fafbfc; }
.fix-cleanup { border-left-color: #cf222e; background:#fff7f7; }
.fix-isolate { border-left-color: #d97706; background:#fffaf0; }
.fix-head { margin: 0 0 6px; }
.pill { display:inline-block; font-size:11px; padding:0 6px; border-radius:8px; background:#eaeef2; color:#424a53; margin-right:4px; }
pre.diff { background:#f6f8fa; border:1px solid var(--line); border-radius:6px; padding:8px; overflow:auto; max-height: 320px; }
pre.diff .add { color:#116329; background:#dafbe1; display:inline-block; width:100%; }
pre.diff .del { color:#a40e26; background:#ffebe9; display:inline-block; width:100%; }
pre.diff .hunk { color: var(--snap); }
ol.chain { list-style:none; padding:0; margin:6px 0; display:flex; flex-wrap:wrap; gap:4px 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12px; }
ol.chain li { background:#eff1f3; border-radius:4px; padding:1px 6px; overflow-wrap:anywhere; }
ol.chain li + li::before { content:"\\2192"; color: var(--muted); margin: 0 6px 0 -2px; padding-right: 4px; }
ol.chain li:last-child { background:#ffebe9; font-weight:600; }
.holder { border:1px solid var(--line); border-radius:6px; padding:8px 12px; margin-bottom:8px; }
.holder-head { margin: 0 0 4px; }
details.retainers { margin: 6px 0; }
details summary { cursor:pointer; color: var(--accent); }
.rchain { border-left: 3px solid var(--line); padding: 2px 10px; margin: 6px 0; }
.rchain p { margin: 2px 0; }
.chart-wrap { position: relative; }
svg.chart { width: 100%; height: auto; display:block; background:#fff; }
svg .grid, svg .grid-x { stroke:#eef0f2; stroke-width:1; }
svg .axis { stroke:#8c959f; stroke-width:1; }
svg .tick { fill: var(--muted); font-size: 11px; font-family: system-ui, sans-serif; }
svg .series { fill:none; stroke-width:2; stroke-linejoin:round; stroke-linecap:round; }
svg .series.tree { stroke: var(--ink); stroke-width:2.5; }
svg .snap-marker line { stroke: var(--snap); stroke-dasharray: 4 3; stroke-width:1.2; }
svg .snap-marker path { fill: var(--snap); }
svg .fault-marker line { stroke: var(--bad); stroke-width:2; }
svg .fault-marker circle { fill: var(--bad); }
svg .fault-marker text { fill: var(--bad); font-size:12px; font-weight:700; font-family: system-ui, sans-serif; }
svg rect.span { opacity:.35; stroke:#fff; stroke-width:1; }
svg .span-label { font-size: 10.5px; fill: #1f2328; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; pointer-events:none; }
svg rect.span.hl { opacity:.85; fill:#d97706; stroke:#92400e; stroke-width:1.5; }
svg .cursor { stroke:#8c959f; stroke-width:1; stroke-dasharray: 2 2; }
svg.barsvg { display:block; width:300px; max-width:100%; }
svg.barsvg rect.bar { fill: #93a8c8; }
svg.barsvg rect.bar.hl { fill: #d97706; }
svg.barsvg rect.bar.neg { fill: #9fd3ae; }
svg.barsvg .zero { stroke:#8c959f; stroke-width:1; }
.readout { position:absolute; pointer-events:none; background: rgba(255,255,255,.96); border:1px solid var(--line);
  border-radius:6px; padding:6px 8px; font-size:12px; box-shadow: 0 2px 6px rgba(0,0,0,.08); white-space:nowrap; }
.legend { display:flex; flex-wrap:wrap; gap:4px 16px; font-size:12px; margin: 6px 0 4px; color: var(--muted); }
i.sw { display:inline-block; width:14px; height:4px; border-radius:2px; vertical-align:middle; margin-right:5px; }
i.sw.tree { background: var(--ink); height:5px; }
i.sw.snap { background: var(--snap); }
i.sw.fault { background: var(--bad); }
i.sw.hlspan { background:#d97706; height:8px; }
.trend-wrap { display:grid; grid-template-columns: minmax(360px, 600px) 1fr; gap: 16px; align-items:start; }
.trend-wrap > div { min-width:0; }
@media (max-width: 1000px) { .trend-wrap { grid-template-columns: 1fr; } }
svg.trend .fam circle { stroke:#fff; stroke-width:1; }
svg.totals .series.total { stroke:#57606a; stroke-dasharray: 5 3; }
svg.totals circle { fill:#57606a; }
svg.trend .tick, svg.totals .tick { font-size: 13px; }
table.kv { width:auto; }
table.kv th { text-align:left; white-space:nowrap; }
.verdict-line { font-size: 15px; }
footer { margin-top: 24px; font-size: 12px; }
"""

JS = r"""
(function () {
  "use strict";
  var doc = null;
  try { doc = JSON.parse(document.getElementById("heaplens-report").textContent); } catch (err) { doc = null; }
  function size(n) {
    if (typeof n !== "number") return "–";
    var a = Math.abs(n), s = n < 0 ? "-" : "";
    if (a < 1048576) return s + (a / 1024).toFixed(1) + "KiB";
    if (a < 1073741824) return s + (a / 1048576).toFixed(1) + "MiB";
    return s + (a / 1073741824).toFixed(2) + "GiB";
  }
  // copy buttons
  Array.prototype.forEach.call(document.querySelectorAll("button.copy-btn"), function (b) {
    b.addEventListener("click", function () {
      var text = b.getAttribute("data-copy") || "";
      function done(ok) { b.textContent = ok ? "copied" : "select + copy"; setTimeout(function () { b.textContent = "copy"; }, 1500); }
      function fallback() {
        var ta = document.createElement("textarea");
        ta.value = text; ta.setAttribute("readonly", ""); ta.style.position = "fixed"; ta.style.opacity = "0";
        document.body.appendChild(ta); ta.select();
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
        document.body.removeChild(ta); done(ok);
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
      } else { fallback(); }
    });
  });
  // hover read-outs on the RSS timelines
  var charts = document.querySelectorAll("svg.timeline");
  Array.prototype.forEach.call(charts, function (svg) {
    var lane = doc && doc.lanes ? doc.lanes[+svg.getAttribute("data-lane")] : null;
    var tl = lane && lane.timeline ? lane.timeline : {};
    var samples = tl.samples || [], files = tl.files || [];
    if (!samples.length) return;
    var x0 = +svg.getAttribute("data-x0"), x1 = +svg.getAttribute("data-x1"), tmax = +svg.getAttribute("data-tmax");
    var top = +svg.getAttribute("data-top"), bottom = +svg.getAttribute("data-bottom");
    var cursor = svg.querySelector(".cursor"), box = svg.parentNode.querySelector(".readout");
    function hide() { cursor.setAttribute("visibility", "hidden"); box.hidden = true; }
    svg.addEventListener("mouseleave", hide);
    svg.addEventListener("mousemove", function (ev) {
      var r = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
      var ux = (ev.clientX - r.left) * vb.width / r.width, uy = (ev.clientY - r.top) * vb.height / r.height;
      if (ux < x0 || ux > x1 || uy < top - 10 || uy > bottom) { hide(); return; }
      var t = (ux - x0) / (x1 - x0) * tmax, best = samples[0];
      for (var i = 1; i < samples.length; i++) if (Math.abs(samples[i].t - t) < Math.abs(best.t - t)) best = samples[i];
      var x = x0 + (x1 - x0) * best.t / tmax;
      cursor.setAttribute("x1", x); cursor.setAttribute("x2", x); cursor.setAttribute("visibility", "visible");
      box.textContent = "";
      function line(label, value) {
        var d = document.createElement("div"), b = document.createElement("b");
        d.appendChild(document.createTextNode(label + " ")); b.textContent = value; d.appendChild(b); box.appendChild(d);
      }
      line("t =", best.t.toFixed(1) + " s");
      line("process tree", size(best.rss));
      var w = best.workers || {};
      Object.keys(w).forEach(function (p) { line("pid " + p, size(w[p])); });
      files.forEach(function (f) { if (f.start <= best.t && best.t <= f.end) line("running", f.file + " (pid " + f.pid + ")"); });
      box.hidden = false;
      var px = (x / vb.width) * r.width;
      box.style.top = "8px";
      if (px > r.width / 2) { box.style.left = ""; box.style.right = (r.width - px + 10) + "px"; }
      else { box.style.right = ""; box.style.left = (px + 10) + "px"; }
    });
  });
  document.body.setAttribute("data-rendered", "1");
  document.body.setAttribute("data-timelines", String(charts.length));
})();
"""
