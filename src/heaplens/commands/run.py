"""``heaplens run``: run the plan's lanes with a per-worker memory trace, heap snapshots and fault reports."""

from __future__ import annotations

import argparse

from ..runner.options import argtype, parse_nonneg_float, parse_percent, parse_pos_int, parse_signal
from . import BaseCommand
from .plan import add_plan_arguments, cli_values


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """What ``heaplens run`` and ``heaplens investigate`` share."""
    add_plan_arguments(p)
    p.add_argument("--max-old-space-mb", type=argtype(parse_pos_int), metavar="N",
                   help="--max-old-space-size for every worker")
    p.add_argument("--trace", action=argparse.BooleanOptionalAction, default=None,
                   help="per-file memory trace (default on)")
    p.add_argument("--poll-ms", type=argtype(parse_pos_int), metavar="N", help="worker sampling period (default 1000)")
    p.add_argument("--top", type=argtype(parse_pos_int), metavar="N", help="files in a lane summary's top= (default 6)")
    p.add_argument("--snapshots", action=argparse.BooleanOptionalAction, default=None,
                   help="heap snapshots written inside each worker at test-file boundaries, after a full GC "
                        "(run: default off; investigate: default on)")
    p.add_argument("--snapshot-overhead", type=argtype(parse_percent), metavar="PCT",
                   help="snapshot writing may take at most this share of a lane's time (default 25)")
    p.add_argument("--snapshot-interval", type=argtype(parse_nonneg_float), metavar="SECONDS",
                   help="also signal every fork worker running a file for a heap snapshot this often (default 0 = off)")
    p.add_argument("--snapshot-dir", metavar="DIR", help="snapshots go to DIR/<lane>/ (default: the run's heapsnap/)")
    p.add_argument("--snapshot-signal", type=argtype(parse_signal), metavar="SIG", help="default SIGUSR2")
    p.add_argument("--snapshot-budget-gb", type=argtype(parse_nonneg_float), metavar="N",
                   help="disk budget of a run's snapshots: no more are written past it (default: the smaller of "
                        "20 GiB and half the free space; 0 = none)")
    p.add_argument("--runs-dir", metavar="DIR", help="where run records go (default <root>/.heaplens/runs)")
    p.add_argument("--parallel", type=argtype(parse_pos_int), metavar="N",
                   help="lanes at once (default 2; OpenClaw's CI runs 4)")
    p.add_argument("--grace", type=argtype(parse_nonneg_float), metavar="SECONDS",
                   help="after Ctrl-C/SIGTERM, kill the lanes this long after signalling them (default 5)")


class Command(BaseCommand):
    name = "run"
    accepts_passthrough = True
    help = "run a Vitest or Jest suite in lanes with a per-worker memory trace and heap snapshots"
    description = (
        "Run each lane of the plan as one `vitest run` or `jest` (through the suite's package manager), with the "
        "suite's own pool, isolate, workers and projects unless a manifest or an option says otherwise (each deviation is "
        "printed and recorded). Each worker records RSS and the GC-settled heap per test file; with --snapshots "
        "it writes heap snapshots at test-file boundaries into <snapshot-dir>/<lane>/ within an overhead budget; "
        "--snapshot-interval also signals fork workers on an interval. Options also "
        "come from HEAPLENS_* and OPENCLAW_TEST_* variables and heaplens.toml. Arguments after -- go to the runner. "
        "The record is written to <root>/.heaplens/runs/<run-id>/run.json."
    )

    examples = ("heaplens run", "heaplens run src/ --snapshots", "heaplens run src/ --no-isolate --workers 2",
                "OPENCLAW_TEST_MEMORY_TRACE=1 OPENCLAW_TEST_HEAPSNAPSHOT_INTERVAL_MS=60000 heaplens run",
                "heaplens run --lane unit-fast -- --reporter=verbose")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.usage = "heaplens run [PATH …] [options] [-- RUNNER ARGS …]"
        add_run_arguments(p)

    def run(self, args: argparse.Namespace) -> int:
        from ..runner import inspection  # deferred: see commands/__init__ (as light as this module)

        cli = cli_values(args)
        # the suite's inspection (a Node process) runs while the rest is imported (runner/inspection.py)
        early = inspection.start(cli, list(args.paths), list(args.passthrough))
        try:
            from ..runner import session

            result = session.execute(cli, list(args.paths), list(args.passthrough), list(args.command_line),
                                     early=early)
        finally:
            early.close()
        return result.exit_code
