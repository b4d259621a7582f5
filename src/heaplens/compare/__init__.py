"""Comparing snapshots: summaries, the two-snapshot delta and the multi-interval trend."""
