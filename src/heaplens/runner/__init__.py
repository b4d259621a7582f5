"""The lane runner: plan a Vitest suite into lanes (OpenClaw's manifests), run each lane as one
``vitest run`` with a per-worker memory trace, interval heap snapshots and fault reports."""
