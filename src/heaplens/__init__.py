"""heaplens: find out why a test suite's memory grows, and fix it."""

__version__ = "0.2.0"
