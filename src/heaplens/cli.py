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


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions re-flowed to the terminal, the examples kept as written (one command per line)."""

    def _fill_text(self, text, width, indent):
        if text.startswith("examples:"):
            return super()._fill_text(text, width, indent)
        return argparse.HelpFormatter._fill_text(self, text, width, indent)


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
        epilog = "examples:\n" + "\n".join(f"  {e}" for e in cmd.examples) if cmd.examples else None
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.description or cmd.help, epilog=epilog,
                           formatter_class=_Formatter)
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
