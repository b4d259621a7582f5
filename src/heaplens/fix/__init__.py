"""Fixes heaplens can apply itself: manifest edits (behavior isolation, memory hotspots, timings)."""
