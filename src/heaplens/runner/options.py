"""Run options from four places, strongest first: the command line, ``HEAPLENS_*`` variables, OpenClaw's
``OPENCLAW_TEST_*`` variables (so the seed's reproduce command works with ``heaplens run`` in place of
``pnpm test``), ``heaplens.toml`` at the suite root (top level, or a ``[run]`` / ``[plan]`` table), defaults.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import UsageError
from .seam import parse_runner  # noqa: F401  (an option's parser, with the others here)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def argtype(fn: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type=`` from a parser of this module (its ValueError becomes argparse's error)."""
    def conv(text):
        try:
            return fn(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    conv.__name__ = fn.__name__.replace("parse_", "")
    return conv


def parse_bool(text: str) -> bool:
    t = str(text).strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def parse_pos_int(text) -> int:
    v = int(str(text).strip())
    if v < 1:
        raise ValueError(f"must be at least 1: {text}")
    return v


def parse_nonneg_float(text) -> float:
    v = float(str(text).strip())
    if v < 0 or v != v:
        raise ValueError(f"must be 0 or more: {text}")
    return v


def parse_shard(text) -> tuple[int, int]:
    try:
        a, b = str(text).split("/")
        i, n = int(a), int(b)
    except ValueError:
        raise ValueError(f"expected i/n, e.g. 1/3: {text!r}") from None
    if n < 1 or not (1 <= i <= n):
        raise ValueError(f"shard index must be 1..n: {text}")
    return i, n


def parse_lanes(text) -> list[str]:
    if isinstance(text, list):
        return [str(t) for t in text]
    return [t.strip() for t in str(text).split(",") if t.strip()]


POOL_NAMES = {"forks": "forks", "threads": "threads", "vmforks": "vmForks", "vmthreads": "vmThreads"}


def parse_pool(text) -> str:
    """A Vitest pool (Jest has none to choose: its runner refuses the option with its reason)."""
    name = POOL_NAMES.get(str(text).strip().lower())
    if name is None:
        raise ValueError(f"not a Vitest pool (forks, threads, vmForks, vmThreads): {text!r}")
    return name


def parse_percent(text) -> float:
    t = str(text).strip().rstrip("%")
    v = float(t)
    if not (0 < v <= 100):
        raise ValueError(f"must be a percentage above 0 and at most 100: {text}")
    return v


GC_EVERY = "off"  # --gc-overhead off: no GC budget, every file end GC-settled


def parse_gc_overhead(text) -> float | str:
    """``--gc-overhead``: the share (percent, 0-100) of a worker's time its per-file forced GCs may take, or
    ``off`` (no budget: every file end is GC-settled)."""
    t = str(text).strip().lower().rstrip("%")
    if t in ("off", "none", "every", "all"):
        return GC_EVERY
    try:
        v = float(t)
    except ValueError:
        raise ValueError(f"expected a percentage (0-100) or off: {text!r}") from None
    if not (0 <= v <= 100):
        raise ValueError(f"must be a percentage from 0 to 100, or off: {text}")
    return v


def parse_signal(text) -> str:
    name = str(text).strip().upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    if not hasattr(signal, name):
        raise ValueError(f"unknown signal: {text}")
    return name


@dataclass(frozen=True)
class Opt:
    key: str
    parse: Callable[[Any], Any]
    default: Any
    env: tuple[str, ...] = ()
    scale: float | None = None  # for OpenClaw's *_MS variables given in ms where heaplens takes seconds
    invert: tuple[str, ...] = ()  # variables whose boolean means the opposite (OPENCLAW_TEST_NO_ISOLATE)


OPTS = (
    Opt("workers", parse_pos_int, None, ("HEAPLENS_WORKERS", "OPENCLAW_TEST_WORKERS")),
    Opt("max_old_space_mb", parse_pos_int, None, ("HEAPLENS_MAX_OLD_SPACE_MB", "OPENCLAW_TEST_MAX_OLD_SPACE_SIZE_MB")),
    Opt("trace", parse_bool, True, ("HEAPLENS_TRACE", "OPENCLAW_TEST_MEMORY_TRACE")),
    Opt("poll_ms", parse_pos_int, 1000, ("HEAPLENS_POLL_MS", "OPENCLAW_TEST_MEMORY_TRACE_POLL_MS")),
    Opt("top", parse_pos_int, 6, ("HEAPLENS_TOP_COUNT", "OPENCLAW_TEST_MEMORY_TRACE_TOP_COUNT")),
    Opt("snapshot_interval", parse_nonneg_float, 0.0, ("HEAPLENS_SNAPSHOT_INTERVAL", "OPENCLAW_TEST_HEAPSNAPSHOT_INTERVAL_MS")),
    Opt("snapshot_dir", str, None, ("HEAPLENS_SNAPSHOT_DIR", "OPENCLAW_TEST_HEAPSNAPSHOT_DIR")),
    Opt("snapshot_signal", parse_signal, "SIGUSR2", ("HEAPLENS_SNAPSHOT_SIGNAL", "OPENCLAW_TEST_HEAPSNAPSHOT_SIGNAL")),
    Opt("snapshots", parse_bool, False, ("HEAPLENS_SNAPSHOTS",)),
    Opt("snapshot_overhead", parse_percent, 25.0, ("HEAPLENS_SNAPSHOT_OVERHEAD",)),
    Opt("gc_overhead", parse_gc_overhead, 10.0, ("HEAPLENS_GC_OVERHEAD",)),
    Opt("snapshot_budget_gb", parse_nonneg_float, None, ("HEAPLENS_SNAPSHOT_BUDGET_GB",)),
    Opt("pool", parse_pool, None, ("HEAPLENS_POOL", "OPENCLAW_TEST_UNIT_DEFAULT_POOL")),
    Opt("isolate", parse_bool, None, ("HEAPLENS_ISOLATE", "OPENCLAW_TEST_ISOLATE", "OPENCLAW_TEST_NO_ISOLATE"),
        invert=("OPENCLAW_TEST_NO_ISOLATE",)),
    Opt("lane", parse_lanes, None, ("HEAPLENS_LANE",)),
    Opt("shard", parse_shard, None, ("HEAPLENS_SHARD",)),
    Opt("parallel", parse_pos_int, 2, ("HEAPLENS_PARALLEL",)),
    Opt("grace", parse_nonneg_float, 5.0, ("HEAPLENS_GRACE",)),
    Opt("heavy_min_ms", parse_nonneg_float, 1200.0, ("HEAPLENS_HEAVY_MIN_MS", "OPENCLAW_TEST_HEAVY_UNIT_MIN_MS")),
    Opt("heavy_lanes", parse_pos_int, 4, ("HEAPLENS_HEAVY_LANES", "OPENCLAW_TEST_HEAVY_UNIT_LANES")),
    Opt("batch_ms", parse_nonneg_float, 45000.0, ("HEAPLENS_BATCH_MS", "OPENCLAW_TEST_UNIT_FAST_BATCH_TARGET_MS")),
    Opt("memory_min_kb", parse_pos_int, None, ("HEAPLENS_MEMORY_MIN_KB", "OPENCLAW_TEST_MEMORY_HEAVY_UNIT_MIN_KB")),
    Opt("behavior", str, None, ("HEAPLENS_BEHAVIOR",)),
    Opt("timings", str, None, ("HEAPLENS_TIMINGS",)),
    Opt("hotspots", str, None, ("HEAPLENS_HOTSPOTS",)),
    Opt("config", str, None, ("HEAPLENS_CONFIG", "HEAPLENS_VITEST_CONFIG")),
    Opt("runner", parse_runner, None, ("HEAPLENS_RUNNER",)),
    Opt("runs_dir", str, None, ("HEAPLENS_RUNS_DIR",)),
)

MS_ENV = {"OPENCLAW_TEST_HEAPSNAPSHOT_INTERVAL_MS"}  # ms → seconds


LANE_KEYS = {"pool": parse_pool, "isolate": parse_bool, "workers": parse_pos_int, "reason": str}


def _lane_tables(path: Path, tables) -> list[tuple[str, dict]]:
    """``[lanes."<glob>"]`` tables: per-lane pool/isolate/workers (and a reason), in file order."""
    if not isinstance(tables, dict):
        raise UsageError(f"{path}: [lanes] must hold one table per lane name or glob")
    out = []
    for glob, table in tables.items():
        if not isinstance(table, dict):
            raise UsageError(f'{path}: [lanes."{glob}"] must be a table')
        parsed = {}
        for k, v in table.items():
            k = k.replace("-", "_")
            if k not in LANE_KEYS:
                raise UsageError(f'{path}: [lanes."{glob}"] unknown key {k!r} (known: {", ".join(LANE_KEYS)})')
            try:
                parsed[k] = LANE_KEYS[k](v)
            except (ValueError, TypeError) as exc:
                raise UsageError(f'{path}: [lanes."{glob}"] {k}: {exc}') from None
        out.append((str(glob), parsed))
    return out


def load_toml(root: Path) -> tuple[dict, str | None]:
    path = root / "heaplens.toml"
    if not path.is_file():
        return {}, None
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    flat: dict = {}
    for k, v in data.items():
        if k == "lanes":
            flat["lane_overrides"] = _lane_tables(path, v)
        elif isinstance(v, dict) and k in ("run", "plan", "heaplens"):
            for k2, v2 in v.items():
                flat[k2.replace("-", "_")] = v2
        else:
            flat[k.replace("-", "_")] = v
    known = {o.key for o in OPTS} | {"lane_overrides"}
    unknown = sorted(set(flat) - known)
    if unknown:
        raise UsageError(f"{path}: unknown key(s): {', '.join(unknown)}")
    return flat, str(path)


# `heaplens investigate`'s own defaults: its run writes file-boundary snapshots unless told otherwise
INVESTIGATE_DEFAULTS = {"snapshots": True}


def with_defaults(cli: dict, root: Path, defaults: dict) -> tuple[dict, list[str]]:
    """``cli`` with a command's own defaults (investigate: snapshots on) for the options nothing else sets, as if
    typed, and the keys so set."""
    _, sources = resolve(cli, root)
    out, typed = dict(cli), []
    for key, value in defaults.items():
        if sources.get(key) == "default":
            out[key] = value
            typed.append(key)
    return out, typed


def resolve(cli: dict, root: Path, environ: dict | None = None) -> tuple[dict, dict]:
    """(values, sources): each option's value and where it came from (cli, env NAME, heaplens.toml, default)."""
    env = os.environ if environ is None else environ
    toml, toml_path = load_toml(root)
    values: dict = {}
    sources: dict = {}
    for o in OPTS:
        got = False
        if cli.get(o.key) is not None:
            values[o.key], sources[o.key] = cli[o.key], "cli"
            continue
        for name in o.env:
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                v = o.parse(raw)
            except ValueError as exc:
                raise UsageError(f"{name}={raw!r}: {exc}") from None
            if name in MS_ENV:
                v = v / 1000.0
            if name in o.invert:
                v = not v
            values[o.key], sources[o.key] = v, f"env {name}"
            got = True
            break
        if got:
            continue
        if o.key in toml:
            try:
                values[o.key] = o.parse(toml[o.key])
            except (ValueError, TypeError) as exc:
                raise UsageError(f"heaplens.toml {o.key}: {exc}") from None
            sources[o.key] = "heaplens.toml"
            continue
        values[o.key], sources[o.key] = o.default, "default"
    values["lane_overrides"] = toml.get("lane_overrides", [])
    sources["lane_overrides"] = "heaplens.toml" if values["lane_overrides"] else "default"
    return values, sources
