"""One ``heaplens plan`` / ``heaplens run``: options → suite → plan → lanes → run record."""

from __future__ import annotations

import fnmatch
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import UsageError
from . import manifests as M
from . import options as O
from . import record as R
from .execute import DiskLedger, LaneRunner, run_dir_for, run_settings, say
from .inspection import Early, asked, filters_for, resolve_root
from .plan import Lane, Plan, PlanOptions, annotate, build_plan
from .seam import DEFAULT as DEFAULT_RUNNER
from .seam import Suite, load_suite
from .suite import RunnerError, package_bin, package_manager_note


def prepare(cli: dict, paths: list[str], early: Early | None = None
            ) -> tuple[Suite, Plan, dict, dict, M.Timings, M.Hotspots]:
    """The suite, its plan and the options. ``early``: the suite loaded and inspected ahead
    (:mod:`heaplens.runner.inspection`), taken when it was asked of the same."""
    root = resolve_root(cli.get("root"), paths)
    values, sources = O.resolve(cli, root)
    wanted = asked(paths, root, values)
    loaded = early.suite(wanted) if early is not None else None
    suite, detection = loaded if loaded is not None else load_suite(root, values["config"], values["runner"])
    runner = suite.runner
    runner.check_overrides(values["pool"], values["isolate"])
    behavior = M.load_behavior(root, values["behavior"])
    timings = M.load_timings(root, values["timings"])
    hotspots = M.load_hotspots(root, values["hotspots"])
    # the runner decides the files, a shard's too (its own sharding, as `vitest run --shard i/n` / `jest --shard`)
    shard = values["shard"]
    config = early.config(wanted) if early is not None and loaded is not None else None
    if config is None:
        config = runner.inspect(suite, list(wanted.filters), shard=shard)
    files = config.files
    if not files:
        raise UsageError(f"{runner.title} lists no test files under {root}" + (f" for {' '.join(paths)}" if paths else ""))
    if shard:
        picked = set(config.shard_files or [])
        files = [f for f in config.files if f in picked]  # in the order the runner lists them
        if not files:
            raise UsageError(f"shard {shard[0]}/{shard[1]} of the {len(config.files)} test file(s) is empty")
    popts = PlanOptions.of(values, sources, filters_for(paths, root), sharded_out=len(config.files) - len(files))
    plan = build_plan(files, behavior, timings, hotspots, popts)
    annotate(plan, config)
    plan.suite_config = config
    plan.runner = runner.name
    if detection.reason != "--runner" and runner.name != DEFAULT_RUNNER:
        plan.notes.append(f"runner {runner.name} ({detection.reason})")
    plan.notes.extend(config.notes)
    pm_note = package_manager_note(suite.package_manager, runner.name, package_bin(runner.name, root))
    if pm_note:  # issue 14 item 13: run the installed runner with Node, said once
        plan.notes.append(pm_note)
    if not config.known:
        plan.notes.append(f"the suite's {runner.title} config could not be read ({config.source}): lanes run it as it "
                          "is, deviations cannot be checked")
    if values["lane"]:
        names = {l.name for l in plan.lanes}
        missing = [n for n in values["lane"] if n not in names and not any(_glob(n, x) for x in names)]
        if missing:
            raise UsageError(f"no lane named {', '.join(missing)} in the plan (lanes: {', '.join(sorted(names))})")
        plan.lanes = [l for l in plan.lanes if any(n == l.name or _glob(n, l.name) for n in values["lane"])]
    return suite, plan, values, sources, timings, hotspots


def _glob(pattern: str, name: str) -> bool:
    return any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(name, pattern)


def plan_header(suite: Suite, plan: Plan) -> str:
    shard = f" shard={plan.shard[0]}/{plan.shard[1]}" if plan.shard else ""
    return (f"root={suite.root} {suite.runner.name}={suite.version} node={suite.node_version} pm={suite.package_manager} "
            f"files={len(plan.files)} lanes={len(plan.lanes)}{shard}")


def gc_line(values: dict, sources: dict) -> str:
    """The per-file GC budget in one line (plan and run say it once)."""
    v, src = values.get("gc_overhead"), sources.get("gc_overhead", "default")
    if v == O.GC_EVERY:
        return f"gc-overhead off ({src}): every file end of a worker is GC-settled (a per-file growth for every file)"
    return (f"gc-overhead {v:g}% ({src}): a worker that runs several files forces a full GC at a file end while its "
            f"GCs take at most {v:g}% of the suite's own time in it (its first and last file ends and every snapshot "
            "boundary always); "
            "a file end without it is measured together with the next settled one, and that growth is reported "
            "for the files together (a span), never as one file's; --gc-overhead off settles every file end")


class Interrupt:
    """SIGINT/SIGTERM while lanes run: remember the signal and let the lane watchers stop their groups."""

    def __init__(self, stop: threading.Event | None = None, signal_seen: list | None = None) -> None:
        # a lane started ahead was given its event and list before the handlers could be installed (main thread)
        self.stop = stop if stop is not None else threading.Event()
        self.signal: list[int] = signal_seen if signal_seen is not None else []
        self._old: dict = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if not self.signal:
            self.signal.append(signum)
            print(f"[heaplens] {signal.Signals(signum).name}: stopping the lanes", file=sys.stderr, flush=True)
        self.stop.set()

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


@dataclass
class RunResult:
    """What a run leaves: its record (saved in its directory) and heaplens's exit code."""

    record: R.RunRecord
    exit_code: int

    @property
    def dir(self) -> Path:
        return self.record.dir


def execute(cli: dict, paths: list[str], vitest_args: list[str], argv: list[str], *,
            shape: Callable[[Suite, Plan], None] | None = None,
            on_last: Callable[[str, list[str]], None] | None = None,
            on_written: Callable[[str, list[str]], None] | None = None, early: Early | None = None) -> RunResult:
    """Plan and run (``shape``: a caller's change to the plan before it runs — verify's own lanes — recorded
    in the run record like any plan). ``on_last(lane, snapshots)``: a worker's last snapshot is written while its
    lane is the only one running and none is waiting (what is read then does not compete with a running file).
    ``on_written(lane, snapshots)``: a worker's other snapshot is written while its lane is the only one running
    and none is waiting (what is read then competes with the lane's files for the CPU, not with other lanes).
    ``early``: the suite's inspection started ahead (:func:`prepare`)."""
    try:
        suite, plan, values, sources, _, _ = prepare(cli, paths, early)
        if shape is not None:
            shape(suite, plan)
        # the run's only lane, started behind its gate while the suite was read (runner/early_lane.py)
        ahead = early.lane() if early is not None else None
    except BaseException:
        if early is not None:
            early.close()  # a lane started ahead is abandoned
        raise
    if ahead is not None and (shape is not None or not ahead.fits(suite, plan.lanes, values, vitest_args)):
        ahead.abandon()
        ahead = None
    if ahead is not None:
        run_id, run_dir, settings, notes, disk = ahead.run_id, ahead.run_dir, ahead.settings, ahead.notes, ahead.disk
    else:
        run_id = R.new_run_id()
        run_dir = run_dir_for(values, suite.root, run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        settings, notes = run_settings(values, run_dir, vitest_args)
        disk = DiskLedger(settings.disk_budget)
    values["trace"] = settings.trace  # the record says what ran
    for line in notes:
        say(line)
    say(f"[heaplens] run {run_id} " + plan_header(suite, plan))
    say(f"[heaplens] record {run_dir / 'run.json'}")
    say(f"[heaplens] {gc_line(values, sources)}")
    for note in plan.notes:
        say(f"[heaplens] note {note}")
    for lane in plan.lanes:
        say(f"[heaplens] lane {lane.line()}")
        for d in lane.deviations:
            say(f"[heaplens]   deviation {d['text']}")
    record = R.RunRecord.create(
        run_dir,
        argv=list(argv),
        cwd=str(Path.cwd()),
        root=str(suite.root),
        started_at=time.time(),
        versions=R.Versions(**{suite.runner.name: suite.version}, node=suite.node_version,
                            package_manager=suite.package_manager, heaplens=__version__),
        options={k: (str(v) if isinstance(v, Path) else v) for k, v in values.items()},
        option_sources=sources,
        vitest_args=list(vitest_args),
        snapshot_dir=str(settings.snapshot_base) if settings.snapshot_base else None,
        snapshot_disk_budget=settings.disk_budget,
        plan=R.PlanRecord.from_json(plan.to_json(), "plan"),
        shards=[run_id],
    )
    record.save()
    lock = threading.Lock()
    runners: list[LaneRunner] = []
    with (Interrupt(ahead.stop, ahead.stop_signal) if ahead is not None else Interrupt()) as intr:
        pending = list(plan.lanes)
        active: list[tuple[threading.Thread, LaneRunner]] = []

        def lane_done(r: LaneRunner) -> None:
            with lock:
                record.lanes[r.lane.name] = R.LaneRecord.from_json(r.to_json(), f"lanes.{r.lane.name}")
                record.save()

        # a lane's thread is done: the loop below looks at once, not at its next tick
        ended = threading.Event()
        finished: set[LaneRunner] = set()  # the lane runners whose thread is done

        def work(r: LaneRunner) -> None:
            try:
                r.run()
            except RunnerError as exc:  # a lane that cannot start: one line, not a traceback (issue 14 item 13)
                r.status, r.exit_code = "failed", 127
                r.faults.append({"kind": "cannot-start", "pid": None, "files": [], "error": str(exc)})
                say(f"[heaplens] done {r.lane.name} code=127 elapsed=0ms (cannot start: {exc})")
            except Exception as exc:  # a heaplens bug must fail the lane loudly, not pass it
                traceback.print_exc()
                r.status, r.exit_code = "error", 70
                r.faults.append({"kind": "heaplens-error", "pid": None, "files": [], "error": repr(exc)})
                say(f"[heaplens] done {r.lane.name} code=70 elapsed=? (heaplens error: {exc!r})")
            finally:
                lane_done(r)
                finished.add(r)
                ended.set()

        def last_snapshot(lane_name: str, snapshots: list[str]) -> None:  # on a lane runner's thread
            if on_last is not None and not pending and len(active) == 1:
                on_last(lane_name, snapshots)

        def snapshot_written(lane_name: str, snapshots: list[str]) -> None:  # on a lane runner's thread
            if on_written is not None and not pending and len(active) == 1:
                on_written(lane_name, snapshots)

        parents: dict[str, LaneRunner] = {}  # a follow-up pairs lane → the lane whose files it reruns
        while pending or active:
            while pending and len(active) < values["parallel"] and not intr.stop.is_set():
                lane = pending.pop(0)
                if ahead is not None and ahead.runner.lane is lane:
                    r = ahead.take()  # it opens its gate when run
                    r.on_last, r.on_written = last_snapshot, snapshot_written
                else:
                    r = LaneRunner(lane, suite, settings, run_dir, intr.stop, intr.signal, disk,
                                   follow_up_of=parents.get(lane.name), on_last=last_snapshot,
                                   on_written=snapshot_written)
                runners.append(r)
                t = threading.Thread(target=work, args=(r,), name=f"lane-{lane.name}", daemon=True)
                t.start()
                active.append((t, r))
            ended.wait(timeout=0.05)
            ended.clear()
            for t, r in list(active):
                if r in finished or not t.is_alive():
                    t.join()
                    active.remove((t, r))
                    if r.pairs_planned and not intr.stop.is_set():
                        follow = pairs_lane(r, {l.name for l in plan.lanes} | set(parents))
                        parents[follow.name] = r
                        pending.insert(0, follow)
                        say(f"[heaplens] lane {follow.line()} (follow-up of {r.lane.name}: a snapshot pair for each)")
            if intr.stop.is_set() and not active:
                break
    codes = [r.exit_code or 0 for r in runners]
    interrupted = intr.stop.is_set()
    exit_code = 130 if interrupted else (1 if any(c != 0 for c in codes) else 0)
    not_run = [l.name for l in plan.lanes if l.name not in {r.lane.name for r in runners}]
    with lock:
        record.status = "interrupted" if interrupted else ("failed" if exit_code else "passed")
        record.exit_code = exit_code
        record.finished_at = time.time()
        record.not_run = not_run
        record.save()
    failed = [r.lane.name for r in runners if r.exit_code]
    say(f"[heaplens] finished {run_id} lanes={len(runners)} failed={len(failed)}"
        + (f" ({', '.join(failed)})" if failed else "") + (f" not_run={len(not_run)}" if not_run else "")
        + f" record={record.path}")
    return RunResult(record, exit_code)


def pairs_lane(r: LaneRunner, taken: set[str]) -> Lane:
    """The follow-up of a lane whose files each had a worker of their own: the files that grew most inside the
    file (GC-settled), rerun with the lane's own settings, each taking its snapshot pair (after its collection,
    at its end)."""
    name = f"{r.lane.name}-pairs"
    i = 2
    while name in taken:
        name, i = f"{r.lane.name}-pairs-{i}", i + 1
    src = r.lane
    lane = Lane(name, "pairs", [x["file"] for x in r.pairs_planned], workers=src.workers, isolate=src.isolate,
                pool=src.pool, reasons={x["file"]: f"GC-settled growth inside the file {x['growth']} bytes in "
                                                   f"{src.name}: rerun for a snapshot pair" for x in r.pairs_planned},
                why=dict(src.why), config=dict(src.config), deviations=list(src.deviations))
    # a file that several projects include grew in the one named here: rerun it there only (`vitest run FILE`
    # alone runs it once per project — hono's jsx/dom files three times, each with its pair of snapshots)
    projects = sorted({x.get("project") or "" for x in r.pairs_planned})
    if r.runner.name == "vitest" and all(projects):
        lane.runner_args = [f"--project={p}" for p in projects]
    lane.runs = len(lane.files)
    return lane
