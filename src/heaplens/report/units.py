"""Sizes as OpenClaw's wrapper prints them: 1024-based, KiB below 1 MiB, MiB below 1 GiB."""

from __future__ import annotations


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


def fmt_count(n: int, signed: bool = False) -> str:
    return f"{n:+,}" if signed else f"{n:,}"


def cut(text: str, width: int) -> str:
    """One line, at most ``width`` characters, with an ellipsis when cut."""
    text = " ".join(text.split()) if ("\n" in text or "\r" in text or "\t" in text) else text
    return text if len(text) <= width else text[: width - 1] + "…"


def row_cells(row, by: str, width: int, intervals: bool = False) -> list[str]:
    """The cells of one delta (or trend) row: size and count growth, [per-interval growth],
    [type,] name cut to ``width``."""
    cells = [fmt_size(row.size_delta, signed=True), fmt_count(row.count_delta, signed=True)]
    if intervals:
        cells += [fmt_size(d, signed=True) for d in row.size_deltas]
    if by == "family":
        cells.append(row.type or "")
    cells.append(cut(row.name or '""', width))
    return cells
