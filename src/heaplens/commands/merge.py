"""``heaplens merge``: one run record from several (CI shards)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import UsageError
from . import BaseCommand


class Command(BaseCommand):
    name = "merge"
    help = "combine the run records of several shards into one"
    description = (
        "Read RUN… (run directories or run.json files written by `heaplens run`, e.g. one per CI shard) and "
        "write one record of the same schema with every lane, its per-file stats, faults and snapshots."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("runs", nargs="+", metavar="RUN", help="run directory or run.json")
        p.add_argument("-o", "--output", metavar="FILE", help="where to write the merged run.json "
                       "(default: .heaplens/runs/<merged-id>/run.json beside the first record)")

    def run(self, args: argparse.Namespace) -> int:
        from ..report.units import fmt_size
        from ..runner import record as R
        from ..runner.merge import load_all, merge_records

        try:
            records = load_all(args.runs)
        except FileNotFoundError as exc:
            raise UsageError(f"no run record at {exc.filename}") from None
        except (ValueError, json.JSONDecodeError) as exc:
            raise UsageError(str(exc).splitlines()[0]) from None
        merged = merge_records(records)
        if args.output:
            out = Path(args.output)
        else:
            first = Path(records[0]["_path"])
            runs_dir = (first if first.is_dir() else first.parent).parent
            out = runs_dir / merged["run_id"] / "run.json"
        R.write_atomic(out, merged)
        for name, lane in merged["lanes"].items():
            s = lane.get("summary") or {}
            print(f"[heaplens] merged {name} code={lane.get('exit_code')} files={s.get('files', 0)} "
                  f"peak={fmt_size(s.get('peak') or 0)} totalDelta={fmt_size(s.get('total_delta') or 0, signed=True)}")
        print(f"[heaplens] merged {len(records)} record(s), {len(merged['lanes'])} lane(s) -> {out}")
        return 0
