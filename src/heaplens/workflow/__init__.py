"""Workflows: what the commands call. ``investigate`` (run → diagnose → report → fix → verify), ``verify``,
the cached report of a run, and the snapshot inspections behind the expert sub-commands."""
