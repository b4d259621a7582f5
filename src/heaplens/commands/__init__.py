"""One class per sub-command. ``heaplens.cli`` builds the parser from :data:`COMMANDS`."""

from __future__ import annotations

import argparse

# Modules in this package, each defining ``Command`` (a subclass of BaseCommand).
COMMANDS = ("diff", "plan", "run", "merge", "harness", "top", "retainers", "diagnose")


class BaseCommand:
    name: str = ""
    help: str = ""
    description: str = ""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:  # pragma: no cover - interface
        pass

    def run(self, args: argparse.Namespace) -> int:  # pragma: no cover - interface
        raise NotImplementedError
