"""Why a worker's heap grew: every surviving new object attributed to its nearest pre-existing holder,
one finding per cause (module-graph retention, a runtime leak held by a named variable, external
memory), with severity, confidence and the fix that fits the holder. docs/diagnose.md has the
principle, the algorithm and what confidence and severity mean.

- :func:`diagnose_run` — every worker of a run (``diagnose RUN``, ``report``, ``investigate``);
- :func:`diagnose_files` — two snapshots of one worker, without a run record;
- :func:`load_rules` — what the engine knows about runtimes and runners (``rules.json``, ``--rules``).
"""

from __future__ import annotations

from .rules import Rules, load_rules
from .run import ENGINE_VERSION, RunDiagnosis, WorkerDiagnosis, cache_key, diagnose_files, diagnose_run

__all__ = ["ENGINE_VERSION", "Rules", "RunDiagnosis", "WorkerDiagnosis", "cache_key", "diagnose_files",
           "diagnose_run", "load_rules"]
