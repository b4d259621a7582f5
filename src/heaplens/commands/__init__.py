"""One class per sub-command: parse the arguments, call one library function, print its result.

The vocabulary every command shares lives here (docs/cli.md): ``--format`` takes words from one set —
``text`` (the default: a terminal's tables, never wrapped when piped), ``markdown``, ``json``, ``html`` — each
command accepting the ones it can produce; a run is a run directory, its ``run.json`` or a run id wherever a
command takes one; every help text ends with examples.

Each command imports its library function inside ``run()``: the library (numpy, rich, psutil, the C kernels)
costs 0.3–0.6 s to import, which ``heaplens --help`` and a mistyped option should not pay.
"""

from __future__ import annotations

import argparse
import pkgutil

from ..runner.options import argtype, parse_nonneg_float, parse_pos_int

# The order sub-commands are listed in ``heaplens --help``; any other module of this package that
# defines ``Command`` (a subclass of BaseCommand) is added after these, alphabetically.
ORDER = ("investigate", "plan", "run", "merge", "diff", "top", "retainers", "diagnose", "report",
         "isolate", "hotspots", "timings", "verify", "baseline", "check", "harness")
FORMATS = ("text", "markdown", "json", "html")
FORMAT_ALIASES = {"terminal": "text", "table": "text"}  # the words of heaplens ≤ 0.1.0, still accepted
RUN_HELP = "a run directory, its run.json, or a run id (looked up in $HEAPLENS_RUNS_DIR and .heaplens/runs)"

positive_int = argtype(parse_pos_int)
non_negative_float = argtype(parse_nonneg_float)


def _discover() -> tuple[str, ...]:
    found = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
    return tuple(n for n in ORDER if n in found) + tuple(sorted(found - set(ORDER)))


def add_format(p: argparse.ArgumentParser, choices: tuple[str, ...], help: str | None = None) -> None:
    """``--format`` with some of :data:`FORMATS` (default ``text``)."""
    assert set(choices) <= set(FORMATS)

    def fmt(text: str) -> str:
        word = FORMAT_ALIASES.get(text, text)
        if word not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return word

    p.add_argument("--format", type=fmt, default="text", metavar="|".join(choices),
                   help=help or f"output format (default text; one of {', '.join(choices)})")


def add_run(p: argparse.ArgumentParser, dest: str = "run", nargs=None) -> None:
    p.add_argument(dest, metavar="RUN", nargs=nargs, help=RUN_HELP)


COMMANDS = _discover()


class BaseCommand:
    name: str = ""
    help: str = ""
    description: str = ""
    examples: tuple[str, ...] = ()  # shown at the end of the command's --help
    accepts_passthrough = False  # cli.main hands what follows "--" over as args.passthrough

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:  # pragma: no cover - interface
        pass

    def run(self, args: argparse.Namespace) -> int:  # pragma: no cover - interface
        raise NotImplementedError
