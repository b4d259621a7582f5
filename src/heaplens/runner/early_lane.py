"""A run's only lane, started while heaplens still reads the suite, behind a gate.

Before its lanes start, ``heaplens run``/``investigate`` asks the runner for the suite's files and resolved config
(``runner.inspect``: a Node process that imports the runner and reads the config, 0.4 s on date-fns); each lane
then starts the runner again, through the package manager (0.6 s on date-fns from its start to its config). When
the plan cannot be more than one lane with every file — no behavior, timings or hotspot manifest, no shard, no
``--lane``, no heap limit (whose place depends on the projects' pools) — that lane is known before the inspection
ends, except for two settings that depend on the files (the runs planned, the most workers its projects can have).

So the lane is started at once (on the inspection's side, :func:`start`) with the environment variable
``HEAPLENS_GATE``: its generated config waits at its top (``GATE_JS`` in runner/suite.py) — on Vitest after Node,
the package manager and the runner have started and the suite's config module was imported, as the inspection
imports it, before the runner resolves anything of the suite, runs a globalSetup or starts a worker; on Jest
before the suite's config is read — until heaplens writes the gate file with those two settings. When the plan is
made, :meth:`EarlyLane.fits` checks that the plan is that one lane with the same command line, environment and
generated config as the lane started; then the lane goes on as if just started (its start lines are said at the
usual place). Otherwise, or when planning fails, the lane is killed (:meth:`EarlyLane.abandon`: nothing of the
suite's ran but, on Vitest, its config module) and its run directory removed; the run goes on as without it.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from . import manifests as M
from . import record as R
from .execute import DiskLedger, LaneRunner, RunSettings, run_dir_for, run_settings
from .plan import Lane, PlanOptions, build_plan
from .seam import Suite

# the stand-in for the suite's files in the plan made before they are known (never a path)
PLACEHOLDER = "\0"


@dataclass
class EarlyLane:
    """One lane started ahead, waiting at its gate, and what the run it was started for is made of."""

    runner: LaneRunner
    values: dict  # the options it was started with
    run_id: str
    run_dir: Path
    settings: RunSettings
    notes: list[str]  # run_settings's lines, said by the run
    disk: DiskLedger
    stop: threading.Event  # the run's Interrupt uses these (its handlers are installed on the main thread later)
    stop_signal: list
    taken: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fits(self, suite: Suite, lanes: list[Lane], values: dict, runner_args: list[str]) -> bool:
        """Whether the plan made is this lane: one lane of the same name, the same suite and options, the same
        command line, environment (but the settings the gate gives) and generated config. The runner then runs
        the planned lane (its files, its projects' config)."""
        r = self.runner
        # the lane's settings follow from the options and the runner's arguments (run_settings)
        if (len(lanes) != 1 or lanes[0].name != r.lane.name or suite is not r.suite or values != self.values
                or list(runner_args) != self.settings.vitest_args):
            return False
        before = (list(r.argv), dict(r.env_extra), dict(r.env_internal), [str(p) for p in r.generated],
                  _texts(r.generated))
        ahead_lane = r.lane
        r.lane = lanes[0]
        try:
            cmd = r.runner.lane_command(r.suite, r.lane_setup())
            after = (list(cmd.argv), dict(cmd.env), dict(cmd.internal_env), [str(p) for p in cmd.generated],
                     _texts(cmd.generated))
            env = r.lane_env(float(r.spawned_env.get("HEAPLENS_LANE_T0", 0)))
        except Exception:  # noqa: BLE001 — a lane that cannot be set up again is not taken; planning says why
            r.lane = ahead_lane
            return False
        if before != after or _unsettled(env) != _unsettled(r.spawned_env):
            r.lane = ahead_lane
            return False
        return True

    def take(self) -> LaneRunner:
        """The lane runner, to be run as the plan's lane (it opens the gate when run)."""
        with self._lock:
            self.taken = True
        return self.runner

    def abandon(self) -> None:
        """Kill the lane (once) and remove its run directory; nothing when it was taken."""
        with self._lock:
            if self.taken:
                return
            self.taken = True
        self.runner.abandon()
        shutil.rmtree(self.run_dir, ignore_errors=True)


def _texts(paths: list[Path]) -> list[str | None]:
    out = []
    for p in paths:
        try:
            out.append(Path(p).read_text())
        except OSError:
            out.append(None)
    return out


def _unsettled(env: dict) -> dict:
    """A lane's environment but what the gate gives and when it started."""
    skip = {"HEAPLENS_PLANNED", "HEAPLENS_MAX_WORKERS", "HEAPLENS_LANE_T0", "HEAPLENS_GATE"}
    return {k: v for k, v in env.items() if k not in skip}


def eligible(suite: Suite, values: dict) -> tuple[M.Behavior, M.Timings, M.Hotspots] | None:
    """The (absent) manifests when the plan can only be one lane with every file, else None."""
    if not suite.runner.gated:
        return None
    if values["shard"] or values["lane"] or values["max_old_space_mb"]:
        return None
    behavior = M.load_behavior(suite.root, values["behavior"])
    timings = M.load_timings(suite.root, values["timings"])
    hotspots = M.load_hotspots(suite.root, values["hotspots"])
    if behavior.entries or behavior.prefixes or timings.path is not None or hotspots.files:
        return None
    return behavior, timings, hotspots


def start(suite: Suite, values: dict, sources: dict, filters: list[str], runner_args: list[str]) -> EarlyLane | None:
    """Start the run's only lane behind its gate, when the plan can only be that lane; None otherwise (or when
    it cannot be set up: the run then does it the usual way and says why)."""
    manifests = eligible(suite, values)
    if manifests is None:
        return None
    popts = PlanOptions.of(values, sources, filters)
    plan = build_plan([PLACEHOLDER], *manifests, popts)
    if len(plan.lanes) != 1:
        return None
    run_id = R.new_run_id()
    run_dir = run_dir_for(values, suite.root, run_id)
    settings, notes = run_settings(values, run_dir, runner_args)
    disk = DiskLedger(settings.disk_budget)
    stop: threading.Event = threading.Event()
    stop_signal: list = []
    run_dir.mkdir(parents=True, exist_ok=True)
    runner = LaneRunner(plan.lanes[0], suite, settings, run_dir, stop, stop_signal, disk)
    try:
        if not runner.check_disk(quiet=True):
            shutil.rmtree(run_dir, ignore_errors=True)
            return None
        runner.prepare()
        if not runner.spawn(gate=runner.lane_dir / "gate.json", quiet=True):
            runner.abandon()
            shutil.rmtree(run_dir, ignore_errors=True)
            return None
    except BaseException:
        runner.abandon()
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return EarlyLane(runner, dict(values), run_id, run_dir, settings, notes, disk, stop, stop_signal)

