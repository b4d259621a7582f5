"""The ``heaplens`` command line: parse arguments, run one command, map errors to exit codes.

Exit codes: 0 success; 1 a command's own negative verdict (e.g. a failing check); 2 bad input or
usage (one line on stderr, never a traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__, printable
from .commands import COMMANDS
from .errors import HeaplensError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="heaplens",
        description="Find out why a test suite's memory grows, and fix it.",
    )
    parser.add_argument("--version", action="version", version=f"heaplens {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS:
        cmd = importlib.import_module(f"heaplens.commands.{module}").Command()
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.description or cmd.help)
        cmd.add_arguments(p)
        p.set_defaults(_command=cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `heaplens run … -- VITEST ARGS`: what follows "--" is not ours (argparse would take it as paths)
    passthrough: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, passthrough = argv[:i], argv[i + 1:]
    parser = build_parser()
    args = parser.parse_args(argv)
    args.command_line = ["heaplens", *argv, *(["--", *passthrough] if passthrough else [])]
    args.passthrough = passthrough
    if passthrough and not getattr(args._command, "accepts_passthrough", False):
        parser.error(f"arguments after -- are only for `heaplens run` (got {' '.join(passthrough)})")
    try:
        return int(args._command.run(args) or 0)
    except HeaplensError as exc:
        print(f"heaplens: error: {printable.line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("heaplens: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # e.g. `heaplens diff … | head`: stop quietly
        try:
            sys.stdout = None  # type: ignore[assignment]
        finally:
            return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
