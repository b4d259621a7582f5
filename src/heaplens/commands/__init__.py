"""One class per sub-command. ``heaplens.cli`` builds the parser from :data:`COMMANDS`."""

from __future__ import annotations

import argparse

import pkgutil

# The order sub-commands are listed in ``heaplens --help``; any other module of this package that
# defines ``Command`` (a subclass of BaseCommand) is added after these, alphabetically.
ORDER = ("investigate", "plan", "run", "merge", "diff", "top", "retainers", "diagnose", "report",
         "isolate", "hotspots", "timings", "verify", "harness")


def _discover() -> tuple[str, ...]:
    found = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
    return tuple(n for n in ORDER if n in found) + tuple(sorted(found - set(ORDER)))


COMMANDS = _discover()


class BaseCommand:
    name: str = ""
    help: str = ""
    description: str = ""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:  # pragma: no cover - interface
        pass

    def run(self, args: argparse.Namespace) -> int:  # pragma: no cover - interface
        raise NotImplementedError
