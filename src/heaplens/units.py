"""Sizes, counts and durations as heaplens prints them (OpenClaw's wrapper's style: 1024-based, KiB below
1 MiB, MiB below 1 GiB, GiB above). The one place that formats them, and reads a size a user gives."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:([kmgt])(?:i?b)?|b)?\s*$", re.I)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """``512KiB``, ``2MiB``, ``1.5G``, ``32gb``, ``4096`` (bytes; K/M/G/T are 1024-based, as heaplens prints
    them); ``ValueError`` for anything else."""
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError(f"not a size: {text!r} (e.g. 512KiB, 2MiB, 1GiB)")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])


def fmt_size(n: float, signed: bool = False) -> str:
    sign = ""
    if signed:
        sign = "+" if n > 0 else ("-" if n < 0 else "±")
    elif n < 0:
        sign = "-"
    a = abs(n)
    if a < 1024 * 1024:
        body = f"{a / 1024:.1f}KiB"
    elif a < 1024**3:
        body = f"{a / 1024 ** 2:.1f}MiB"
    else:
        body = f"{a / 1024 ** 3:.2f}GiB"
    return sign + body


def fmt_bytes(n: float) -> str:
    """Like :func:`fmt_size`, but small sizes in bytes ("40 B", not "0.0KiB")."""
    return f"{int(n)} B" if abs(n) < 1024 else fmt_size(n)


def fmt_elapsed(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds >= 1 else f"{int(seconds * 1000)}ms"


def fmt_pct(before: float, after: float) -> str:
    """The change from ``before`` to ``after`` as " (−12 %)" (typographic minus), "" when before is 0."""
    if not before:
        return ""
    return f" ({100.0 * (after - before) / before:+.0f} %)".replace("-", "−")


def fmt_count(n: int, signed: bool = False) -> str:
    return f"{n:+,}" if signed else f"{n:,}"


def cut(text: str, width: int) -> str:
    """One line, at most ``width`` characters, with an ellipsis when cut."""
    text = " ".join(text.split()) if ("\n" in text or "\r" in text or "\t" in text) else text
    return text if len(text) <= width else text[: width - 1] + "…"
