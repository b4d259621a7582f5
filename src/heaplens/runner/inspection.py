"""The suite's inspection, started before the modules that need it are imported.

Before a run can be planned, heaplens loads the suite (its runner, config file, versions: ``node --version``) and
asks the runner for its test files and resolved config (``runner.inspect``: a Node process, ~0.4 s on date-fns,
0.2 s of it Node importing ``vitest/node``). Importing what the run and the diagnosis need (numpy, the graph and
diagnosis modules) takes another 0.2 s. Neither needs the other, so ``heaplens run`` and ``investigate`` start
the inspection on a thread (:func:`start`) and then import the rest: the wait on the Node process releases the
GIL, and the two overlap.

:func:`heaplens.runner.session.prepare` takes what was inspected early when it was asked of the same suite (root,
config, runner, filters, shard); otherwise, or when nothing was started, it inspects then, as before. An error
of the early inspection is raised where the inspection would have raised it: when ``prepare`` takes it, after its
own checks of the options and the manifests, so the first error a user sees is the same. Nothing of it is
printed. This module imports only what ``heaplens --help`` imports already.

Given the runner's arguments (``run``, ``investigate``), it also starts the run's only lane behind its gate when
the plan cannot be more than that lane (runner/early_lane.py), on a thread of its own as soon as the suite is
loaded; :meth:`Early.lane` hands it to the session, and :meth:`Early.close` abandons it when nobody took it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from . import options as O
from .seam import Detection, Suite, load_suite
from .suite import SuiteConfig, find_root


def resolve_root(cli_root: str | None, paths: list[str]) -> Path:
    root = cli_root or os.environ.get("HEAPLENS_ROOT")
    if root:
        p = Path(root)
        if not p.is_dir():
            raise UsageError(f"--root {root}: not a directory")
        return p.resolve()
    return find_root(Path.cwd())


def filters_for(paths: list[str], root: Path) -> list[str]:
    """PATHS as the runner's filters: an existing path becomes absolute (so it means that file or directory)."""
    out = []
    for p in paths:
        q = Path(p)
        if q.exists():
            out.append(str(q.resolve()))
        elif (root / p).exists():
            out.append(str((root / p).resolve()))
        else:
            out.append(p)
    return out


@dataclass(frozen=True)
class Asked:
    """What an inspection is of: the same ``Asked`` gives the same suite and files."""

    root: Path
    config: str | None
    runner: str | None
    filters: tuple[str, ...]
    shard: tuple[int, int] | None


def asked(paths: list[str], root: Path, values: dict) -> Asked:
    return Asked(root, values["config"], values["runner"], tuple(filters_for(paths, root)), values["shard"])


class Early:
    """One inspection running on a daemon thread (:func:`start`). ``prepare`` takes the suite it loaded and the
    config it read, each only when it was asked of the same (:class:`Asked`), each with its own error."""

    def __init__(self, cli: dict, paths: list[str], runner_args: list[str] | None = None,
                 defaults: dict | None = None) -> None:
        self._cli, self._paths = dict(cli), list(paths)
        self._defaults = dict(defaults or {})  # the command's own defaults (O.with_defaults), for the lane
        # with the runner's arguments (run, investigate): the run's only lane may start behind its gate
        self._runner_args = None if runner_args is None else list(runner_args)
        self.asked: Asked | None = None
        self._suite: tuple[Suite, Detection] | None = None
        self._config: SuiteConfig | None = None
        self._suite_error: BaseException | None = None
        self._config_error: BaseException | None = None
        self._lane = None  # runner/early_lane.py's EarlyLane
        self._lane_thread: threading.Thread | None = None
        self._thread = threading.Thread(target=self._work, name="heaplens-inspect", daemon=True)

    def _work(self) -> None:
        try:
            root = resolve_root(self._cli.get("root"), self._paths)
            # the command's own defaults change no option the inspection is asked of (Asked), only the lane's
            cli = O.with_defaults(self._cli, root, self._defaults)[0] if self._defaults else self._cli
            values, sources = O.resolve(cli, root)
            wanted = asked(self._paths, root, values)
        except BaseException:  # noqa: BLE001 — prepare resolves the options itself and says their error
            return
        try:
            self._suite = load_suite(root, values["config"], values["runner"])
        except BaseException as exc:  # noqa: BLE001 — raised again where prepare loads the suite
            self._suite_error = exc
        else:
            suite = self._suite[0]
            if self._runner_args is not None and suite.runner.gated:
                self._lane_thread = threading.Thread(target=self._start_lane, name="heaplens-early-lane", daemon=True,
                                                     args=(suite, values, sources, list(wanted.filters)))
                self._lane_thread.start()
            try:
                self._config = suite.runner.inspect(suite, list(wanted.filters), shard=wanted.shard)
            except BaseException as exc:  # noqa: BLE001 — raised again where prepare inspects the suite
                self._config_error = exc
        self.asked = wanted

    def _of(self, wanted: Asked) -> bool:
        self._thread.join()
        return self.asked is not None and self.asked == wanted

    def suite(self, wanted: Asked) -> tuple[Suite, Detection] | None:
        """The suite loaded early (its error raised), or None when it was not of ``wanted``."""
        if not self._of(wanted):
            return None
        if self._suite_error is not None:
            raise self._suite_error
        return self._suite

    def config(self, wanted: Asked) -> SuiteConfig | None:
        """The runner's files and config read early (its error raised), or None when not of ``wanted``."""
        if not self._of(wanted) or self._suite is None:
            return None
        if self._config_error is not None:
            raise self._config_error
        return self._config

    def _start_lane(self, suite: Suite, values: dict, sources: dict, filters: list[str]) -> None:
        # deferred, as the commands defer their library: the lane runner's modules (0.1 s: numpy through the
        # snapshot names) are imported on this thread, beside the inspection and the main thread's imports
        from . import early_lane  # noqa: PLC0415

        try:
            self._lane = early_lane.start(suite, values, sources, filters, self._runner_args or [])
        except Exception:  # noqa: BLE001 — only a head start: the lane is then started after the plan, as usual
            self._lane = None

    def lane(self):
        """The run's only lane, started ahead behind its gate (runner/early_lane.py), or None. Whether it is the
        run's is for ``EarlyLane.fits`` to say (the same suite object — the one ``prepare`` took from here only
        when it was asked of the same — and the same options, command and environment)."""
        self._thread.join()
        if self._lane_thread is not None:
            self._lane_thread.join()
        return self._lane

    def close(self) -> None:
        """Wait for the inspection: its Node process ends on its own, and a daemon thread cut short at exit would
        leave it running and its temporary directory behind. A lane started ahead and not taken is abandoned."""
        self._thread.join()
        if self._lane_thread is not None:
            self._lane_thread.join()
        if self._lane is not None:
            self._lane.abandon()


def start(cli: dict, paths: list[str], runner_args: list[str] | None = None, defaults: dict | None = None) -> Early:
    """The inspection of the suite ``cli``/``paths`` name, started on a thread. With ``runner_args`` (the
    arguments after ``--``), the run's only lane may also start ahead, behind its gate (runner/early_lane.py),
    with the command's own ``defaults`` (:func:`heaplens.runner.options.with_defaults`)."""
    early = Early(cli, paths, runner_args, defaults)
    early._thread.start()
    return early
