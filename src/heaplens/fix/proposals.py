"""The other fixes a diagnosis supports besides isolating files (issue 13 item 2): each proposed only when a
finding or a fault of the run supports it, each with the reason, and never applied (they change how the suite
runs, or its code: a person decides).

``proposals(doc)`` reads the report model (:mod:`heaplens.report.model`) and returns a list of
``{"kind", "lane", "text", "why", "config"}``:

- ``heap-limit`` — a worker of a forks/threads lane died of an out-of-memory (a fault) or a finding's
  projected growth reaches the worker's heap limit: ``execArgv: ['--max-old-space-size=N']`` with N the
  projected growth ×1.25 (an OOM: the limit it died at ×1.5), rounded up to 512 MiB. A stopgap that lets the lane finish; the finding's own fix is the cure.
- ``recycle`` — a vm pool (vmThreads/vmForks: where ``isolate`` has no effect) with module-graph retention
  or an OOM: ``vmMemoryLimit`` (Vitest ≥ 4; ``poolOptions.<pool>.memoryLimit`` before) recycles a worker whose
  memory passes the limit, so retained module graphs are dropped with it.
- ``split-lane`` — module-graph retention spread over the lane: the isolate list holds more than half of the
  worker's files, so isolating them is the same as ``isolate: true`` for the lane. Splitting it (more shards,
  more workers) makes each worker load fewer modules; ``isolate: true`` for the lane is the other way.
- ``code`` — a runtime leak or external memory: the cleanup with the holder's file and line, as the finding
  says (shown, never applied).
"""

from __future__ import annotations

import math

from ..units import fmt_size

MIB = 2**20
VM_POOLS = ("vmThreads", "vmForks")


def _pool(lane: dict | None) -> str | None:
    if not lane:
        return None
    p = lane.get("pool") or (lane.get("config") or {}).get("pool")
    return p if p and "|" not in str(p) else None


def proposals(doc: dict) -> list[dict]:
    lanes = {l["name"]: l for l in doc.get("lanes") or []}
    out: list[dict] = []
    seen = set()

    def add(p: dict) -> None:
        key = (p["kind"], p["lane"])
        if key not in seen:
            seen.add(key)
            out.append(p)

    for name, lane in lanes.items():
        pool = _pool(lane)
        ooms = [f for f in lane.get("faults") or [] if f.get("kind") == "oom"]
        if ooms:
            limit = max((f.get("heap_limit") or 0) for f in ooms)
            if pool in VM_POOLS:
                add(_recycle(name, pool, f"{len(ooms)} worker(s) of {name} ran out of memory"))
            else:
                need = limit * 1.5 if limit else None
                add(_heap_limit(name, need, f"{len(ooms)} worker(s) of {name} ran out of memory"
                                + (f" at a {fmt_size(limit)} heap limit" if limit else "")))
    for w in doc.get("workers") or []:
        lane = lanes.get(w.get("lane"))
        pool = _pool(lane)
        trace = w.get("trace") or {}
        limit = trace.get("heap_limit")
        files = trace.get("files") or 0
        for f in w.get("findings") or []:
            if f["kind"] == "module-graph":
                if pool in VM_POOLS:
                    add(_recycle(w["lane"], pool, f"module-graph retention in {w['lane']} (pid {w['pid']}), in a "
                                 f"vm pool where isolate has no effect"))
                iso = (f.get("fix") or {}).get("files") or []
                if files >= 4 and len(iso) * 2 > files:
                    add({"kind": "split-lane", "lane": w["lane"],
                         "text": f"split {w['lane']}: more shards (`vitest run --shard=i/n` on more CI jobs) or more "
                                 "workers, so each long-lived worker loads fewer modules — or `isolate: true` for the "
                                 "lane (slower: every file loads its modules afresh)",
                         "why": f"the module-graph growth is spread: {len(iso)} of the worker's {files} files each "
                                "left a share of the same order, so isolating them is the lane's isolation",
                         "config": None})
            proj = f.get("projected")
            if limit and proj and f["kind"] in ("module-graph", "runtime-leak") and pool not in VM_POOLS:
                if proj >= limit:
                    add(_heap_limit(w["lane"], proj * 1.25,
                                    f"{f['title']}: projected {fmt_size(proj, signed=True)} over the lane's files, "
                                    f"past the worker's {fmt_size(limit)} heap limit"))
            if f["kind"] in ("runtime-leak", "external-memory"):
                fix = f.get("fix") or {}
                if fix.get("kind") not in (None, "none"):
                    add({"kind": "code", "lane": w["lane"], "where": fix.get("where"),
                         "text": fix.get("text") or "", "why": f["title"], "config": None})
    return out


def _heap_limit(lane: str, need: float | None, why: str) -> dict:
    mb = 512 * math.ceil((need or 0) / MIB / 512) if need else None
    flag = f"--max-old-space-size={mb}" if mb else "--max-old-space-size=<MiB>"
    return {"kind": "heap-limit", "lane": lane,
            "text": f"raise the workers' heap limit for {lane}: `test.execArgv: ['{flag}']` in the Vitest config "
                    "(Vitest < 4: `poolOptions.forks.execArgv` / `poolOptions.threads.execArgv`) — a stopgap that "
                    "lets the lane finish; the finding's own fix removes the growth",
            "why": why, "config": {"execArgv": [flag]}}


def _recycle(lane: str, pool: str, why: str) -> dict:
    return {"kind": "recycle", "lane": lane,
            "text": f"recycle {pool} workers of {lane} by memory: `test.vmMemoryLimit: '25%'` (Vitest < 4: "
                    f"`poolOptions.{pool}.memoryLimit`) — a worker past the limit is replaced, and the module graphs "
                    "it kept go with it (isolate has no effect in vm pools)",
            "why": why, "config": {"vmMemoryLimit": "25%"}}
