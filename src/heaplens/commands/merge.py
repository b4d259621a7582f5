"""``heaplens merge``: one run record from several (CI shards)."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import BaseCommand, add_run


class Command(BaseCommand):
    name = "merge"
    help = "combine the run records of several shards into one"
    description = (
        "Read RUN… (run directories, run.json files or run ids written by `heaplens run`, e.g. one per CI "
        "shard) and write one record of the same schema with every lane, its per-file stats, faults and "
        "snapshots. Every command that reads a run reads the merged one."
    )
    examples = ("heaplens merge shard-1/ shard-2/ shard-3/", "heaplens merge runs/*/run.json -o merged/run.json")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        add_run(p, "runs", nargs="+")
        p.add_argument("-o", "--output", metavar="FILE", help="where to write the merged run.json "
                       "(default: <runs dir of the first record>/<merged-id>/run.json)")

    def run(self, args: argparse.Namespace) -> int:
        from ..runner.merge import load_all, merge_records  # deferred: see commands/__init__
        from ..units import fmt_size

        records = load_all(args.runs)
        merged = merge_records(records)
        out = Path(args.output) if args.output else records[0].dir.parent / merged.run_id / "run.json"
        merged.save(out)
        for name, lane in merged.lanes.items():
            s = lane.summary
            print(f"[heaplens] merged {name} code={lane.exit_code} files={s.files} "
                  f"peak={fmt_size(s.peak)} totalDelta={fmt_size(s.total_delta, signed=True)}")
        print(f"[heaplens] merged {len(records)} record(s), {len(merged.lanes)} lane(s) -> {out}")
        return 0
