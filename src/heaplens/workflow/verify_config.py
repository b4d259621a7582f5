"""Verify a config change the way CI measures it: the suite's own ``vitest run``, nothing injected, no snapshots.

``verify_change(root, before, after, config)`` runs the suite's Vitest (``node <its vitest bin> run [PATHS]``,
what ``npx vitest run`` runs) with the config as it was (``before``) and as the change leaves it (``after``),
``runs`` times each (default 3), **interleaved** (before, after, before, after, …) so that a drift in machine
load falls on both sides alike. Each run is sampled from outside (:func:`heaplens.runner.plain.run_plain`):

- **peak** — the highest RSS one worker process reached (docs/workflow.md, "What "peak" means"; for thread
  pools, whose workers share the Vitest process, that process's RSS): the figure a worker's OOM depends on;
- **total** — the highest RSS of the suite's whole process tree at one sample (what the CI machine holds);
- **wall** — the run's wall time;

each with its run-to-run spread (the lowest and highest of the runs). The side whose text is not the file on disk
runs with ``--config`` pointing to a temporary copy beside the config (so its relative imports resolve the same);
the copy is removed afterwards, whatever happens.

**verified** only when the change exceeds the noise: every run after the change peaks lower than every run
before it (the two ranges do not overlap — with three runs a side, a change that does nothing does that by chance
once in twenty) *and* the median peak falls by more than the noise: the larger of the run-to-run spread and
``min_drop`` percent of the peak before. Otherwise ``not verified
(within noise)`` — noise being the larger of the run-to-run spread and ``min_drop`` percent of the peak before —
or ``not verified (the peak rose)`` beyond it. A run that fails after the change while it passed before is
``not verified (tests fail after the change)``.
"""

from __future__ import annotations

import os
import statistics
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..runner.plain import PlainRun, run_plain
from ..runner.vitest import vitest_bin
from ..units import fmt_size
from .verify_holder import HolderVerification

DEFAULT_RUNS = 3


@dataclass
class Side:
    runs: list[PlainRun] = field(default_factory=list)

    def values(self, what: str) -> list[float]:
        if what == "peak":
            # a worker process's RSS; thread workers live in the Vitest process: the tree's total then
            return [float(r.peak_worker or r.peak_total) for r in self.runs]
        if what == "total":
            return [float(r.peak_total) for r in self.runs]
        return [r.wall_s for r in self.runs]

    def summary(self, what: str) -> dict:
        v = self.values(what)
        return {"median": statistics.median(v) if v else None, "min": min(v, default=None),
                "max": max(v, default=None), "runs": v}


@dataclass
class ConfigVerification:
    config: str
    argv: list[str]
    runs: int
    before: Side = field(default_factory=Side)
    after: Side = field(default_factory=Side)
    verdict: str = "not verified"
    lines: list[str] = field(default_factory=list)
    still_present: list[str] = field(default_factory=list)  # findings the change does not fix
    run_dir: str | None = None  # the investigated run (heaplens verify RUN)
    retained: dict = field(default_factory=dict)  # JS heap kept per file: {"before": {lane: bytes}, "after": …}
    holders: HolderVerification | None = None  # runtime-leak fixes, each holder rerun (verify RUN)

    def to_json(self) -> dict:
        return {"run": self.run_dir, "method": "the suite's own command, no snapshots, interleaved runs", "config": self.config,
                "argv": self.argv, "runs_per_side": self.runs,
                "before": {k: self.before.summary(k) for k in ("peak", "total", "wall")},
                "after": {k: self.after.summary(k) for k in ("peak", "total", "wall")},
                "before_runs": [r.to_json() for r in self.before.runs],
                "after_runs": [r.to_json() for r in self.after.runs],
                "verdict": self.verdict, "lines": self.lines, "still_present": self.still_present,
                "retained_per_file": self.retained,
                "holders": self.holders.to_json() if self.holders is not None else None,
                "peak_before": self.before.summary("peak")["median"],
                "peak_after": self.after.summary("peak")["median"],
                "change_pct": _pct(self.before.summary("peak")["median"], self.after.summary("peak")["median"])}


def _pct(a: float | None, b: float | None) -> float | None:
    return None if not a or b is None else round(100.0 * (b - a) / a, 1)


def _side_config(config: Path, text: str | None, side: str) -> tuple[Path | None, bool]:
    """(the --config to pass, whether it is a temporary copy) for a side whose config text is ``text``
    (None: the suite had no config)."""
    try:
        on_disk = config.read_bytes().decode("utf-8") if config.is_file() else None
    except (OSError, UnicodeDecodeError):
        on_disk = None
    if text == on_disk:
        return None, False
    tmp = config.with_name(f".heaplens-{side}-{config.name}")
    tmp.write_text(text if text is not None else "export default {}\n", encoding="utf-8")
    return tmp, True


def verify_change(root: str | os.PathLike, config: str | os.PathLike, before: str | None, after: str, *,
                  paths: list[str] = (), runs: int = DEFAULT_RUNS, min_drop: float = 10.0,
                  timeout: float | None = 1800, say=print, stop: threading.Event | None = None,
                  log_dir: Path | None = None) -> ConfigVerification:
    """Compare the suite's own ``vitest run`` with the config text ``before`` and ``after`` (see the module)."""
    root, config = Path(root), Path(config)
    if config.name.startswith("vitest.workspace."):
        raise UsageError(f"{config.name}: a workspace file cannot be passed to `vitest run --config`; verify by "
                         "running the suite before and after the change")
    if runs < 1:
        raise UsageError("--runs must be at least 1")
    script = vitest_bin(root)
    if script is None:
        raise UsageError(f"Vitest is not installed in {root} (install the suite's dependencies to verify)")
    base = ["node", str(script), "run", *paths]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEAPLENS_", "OPENCLAW_TEST_"))}
    v = ConfigVerification(config=str(config), argv=base, runs=runs)
    temps = []
    try:
        sides = {}
        for name, text in (("before", before), ("after", after)):
            cfg, temp = _side_config(config, text, name)
            if temp:
                temps.append(cfg)
            sides[name] = base + ([f"--config={cfg}"] if cfg else [])
        say(f"[heaplens] verify: the suite's own command, {runs} run(s) a side, interleaved, no snapshots: "
            + " ".join(sides["after"][1:]).replace(str(script), "vitest"))
        for i in range(runs):
            for name in ("before", "after"):
                log = log_dir / f"verify-{name}-{i + 1}.log" if log_dir else None
                r = run_plain(sides[name], root, env=env, timeout=timeout, stop=stop, log=log)
                getattr(v, name).runs.append(r)
                say(f"[heaplens] verify: {name} run {i + 1}/{runs}: peak {fmt_size(r.peak_worker or r.peak_total)}, "
                    f"total {fmt_size(r.peak_total)}, {r.wall_s:.1f}s, exit {r.exit_code}")
                if r.interrupted:
                    raise KeyboardInterrupt
    finally:
        for t in temps:
            try:
                t.unlink()
            except OSError:
                pass
    _judge(v, min_drop)
    return v


def _range(s: dict, fmt) -> str:
    return f"{fmt(s['median'])} [{fmt(s['min'])}–{fmt(s['max'])}]"


def _judge(v: ConfigVerification, min_drop: float) -> None:
    size = lambda x: fmt_size(x)  # noqa: E731
    secs = lambda x: f"{x:.1f}s"  # noqa: E731
    for what, label, f in (("peak", "peak RSS of one worker", size), ("total", "peak RSS of all the suite's processes", size),
                           ("wall", "wall time", secs)):
        b, a = v.before.summary(what), v.after.summary(what)
        ch = _pct(b["median"], a["median"])
        v.lines.append(f"{label}: {_range(b, f)} → {_range(a, f)}"
                       + (f" ({ch:+.0f} %)".replace("-", "−") if ch is not None else "")
                       + f", median [lowest–highest] of {v.runs} run(s) each")
    fails_b = sum(1 for r in v.before.runs if r.exit_code != 0)
    fails_a = sum(1 for r in v.after.runs if r.exit_code != 0)
    if fails_b or fails_a:
        v.lines.append(f"runs that failed (exit ≠ 0): before {fails_b}, after {fails_a}")
    b, a = v.before.summary("peak"), v.after.summary("peak")
    ch = _pct(b["median"], a["median"])
    if fails_a > fails_b:
        v.verdict = "not verified (tests fail after the change)"
        return
    spread = max((b["max"] or 0) - (b["min"] or 0), (a["max"] or 0) - (a["min"] or 0))
    noise = max(spread, (b["median"] or 0) * min_drop / 100)
    v.lines.append(f"noise: {fmt_size(noise)} (the larger of the run-to-run spread, {fmt_size(spread)}, and "
                   f"--min-drop {min_drop:g} % of the peak before)")
    overlap = a["max"] is None or b["min"] is None or a["max"] >= b["min"]
    if not overlap and ch is not None and b["median"] - a["median"] > noise:
        v.verdict = "verified"
    elif a["median"] is not None and b["median"] is not None and a["median"] - b["median"] > noise:
        v.verdict = "not verified (the peak rose)"
    else:
        v.verdict = "not verified (within noise)"
        v.lines.append("the peaks after the change are within the noise of those before it"
                       + (" (the ranges of the runs overlap)" if overlap else ""))
