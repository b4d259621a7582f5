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

    def __init__(self, cli: dict, paths: list[str]) -> None:
        self._cli, self._paths = dict(cli), list(paths)
        self.asked: Asked | None = None
        self._suite: tuple[Suite, Detection] | None = None
        self._config: SuiteConfig | None = None
        self._suite_error: BaseException | None = None
        self._config_error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="heaplens-inspect", daemon=True)

    def _work(self) -> None:
        try:
            root = resolve_root(self._cli.get("root"), self._paths)
            values, _ = O.resolve(self._cli, root)
            wanted = asked(self._paths, root, values)
        except BaseException:  # noqa: BLE001 — prepare resolves the options itself and says their error
            return
        try:
            self._suite = load_suite(root, values["config"], values["runner"])
        except BaseException as exc:  # noqa: BLE001 — raised again where prepare loads the suite
            self._suite_error = exc
        else:
            suite = self._suite[0]
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

    def close(self) -> None:
        """Wait for the inspection: its Node process ends on its own, and a daemon thread cut short at exit would
        leave it running and its temporary directory behind."""
        self._thread.join()


def start(cli: dict, paths: list[str]) -> Early:
    early = Early(cli, paths)
    early._thread.start()
    return early
