"""The loops of the snapshot reader and their Python glue: the one module that imports ``heaplens._kernels``.

Every loop that touches every byte or every node is here. The C functions (``_kernels.c``; their
signatures in ``_kernels.pyi``) take buffers and plain integers, release the GIL (so two threads
parse two chunks at once), never raise on malformed input and never leave their buffers: they return
a status code and the byte offset where they stopped, and :mod:`heaplens.snapshot.reader` turns a bad
status into a one-line error.

When the compiled extension is missing (heaplens was installed where no C compiler was found) or
``HEAPLENS_PURE=1`` is set, the reader's functions come from :mod:`heaplens._pykernels`, a numpy path
with the same contract (slower; said once on stderr when a snapshot is first read). The graph
kernels (dominators, retained sizes, retaining paths) have no such path: :func:`compiled` hands the
graph layer a stand-in whose every use raises :class:`KernelsMissing` (one line, exit 2).
"""

from __future__ import annotations

import os
import sys
import threading

import numpy as np

from . import _pykernels
from ._pykernels import (  # noqa: F401  the same numbers as in _kernels.c (tests/snapshot/test_pykernels.py)
    ERR_BYTE,
    ERR_CONTROL,
    ERR_EOF,
    ERR_NUMBER,
    ERR_SPACE,
    ERR_TOO_MANY,
    MAX_WS_RUN,
    OK_CHUNK,
    OK_END,
)
from .errors import HeaplensError

try:
    from . import _kernels as _C
except ImportError:  # built without a C compiler
    _C = None

# the reader's kernels: one implementation or the other, never a mix
READER_FUNCTIONS = ("count_byte", "count_until_close", "edge_targets", "find_byte", "first_at_least", "fnv1a",
                    "group_fill", "group_masks", "group_sums", "named_edges_in_range", "node_class_ids",
                    "parse_uint_array", "remap_ids", "scan_strings", "skip_value", "skip_ws", "skip_ws_back")


class KernelsMissing(HeaplensError):
    """A command needs the compiled kernels and this install has none (one line, exit 2)."""

    def __init__(self, hint: str = ""):
        reason = ("HEAPLENS_PURE=1 is set" if _C is not None and pure_forced() else
                  "this install of heaplens has none (a pure wheel, or built where no C compiler was found)")
        super().__init__(
            f"this command needs the compiled kernels (heaplens._kernels) for dominators and retaining paths, and "
            f"{reason}; {hint + '; ' if hint else ''}install a binary wheel, or reinstall where a C compiler is "
            "found (`heaplens diff` works without them)")


def pure_forced() -> bool:
    return os.environ.get("HEAPLENS_PURE", "") not in ("", "0")


def _announce() -> None:
    if _C is not None:
        print("heaplens: HEAPLENS_PURE=1: using the slower numpy path instead of the compiled kernels",
              file=sys.stderr)
    else:
        print("heaplens: the compiled kernels are not installed; using the slower numpy path", file=sys.stderr)


_said = threading.Lock()
_said_once = [False]


def _say_once() -> None:
    with _said:
        if not _said_once[0]:
            _said_once[0] = True
            _announce()


def _announcing(fn):
    def wrapper(*args):
        if not _said_once[0]:
            _say_once()
        return fn(*args)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


PURE = False  # which implementation the functions below are bound to
count_byte = count_until_close = edge_targets = find_byte = first_at_least = fnv1a = group_fill = group_masks = None
group_sums = named_edges_in_range = node_class_ids = parse_uint_array = remap_ids = scan_strings = None
skip_value = skip_ws = skip_ws_back = None


def use(pure: bool) -> None:
    """Bind the reader's functions to the numpy path (``pure``) or the C. Tests and bench/ call it
    to run both in one process; heaplens itself decides once, at import. The graph kernels are not
    affected (:func:`compiled`)."""
    global PURE
    if not pure and _C is None:
        raise KernelsMissing("use(pure=False)")
    impl = _pykernels if pure else _C
    g = globals()
    for name in READER_FUNCTIONS:
        fn = getattr(impl, name)
        # said once, when a snapshot is first read (its header goes through skip_ws)
        g[name] = _announcing(fn) if pure and name in ("skip_ws", "parse_uint_array", "scan_strings") else fn
    PURE = pure


use(_C is None or pure_forced())


class _Missing:
    """Stands in for ``heaplens._kernels`` in the graph layer when there is none."""

    def __getattr__(self, name):
        raise KernelsMissing()


RETAINERS_HINT = "`--no-retainers` diagnoses from the object families alone, without them"


# The graph kernels exist when the extension does and HEAPLENS_PURE=1 was not set when heaplens started
# (use(), for tests in one process, switches only the reader's functions).
_GRAPH = _C if not pure_forced() else None


def compiled():
    """The compiled module for the graph kernels, or a stand-in that raises :class:`KernelsMissing`."""
    return _GRAPH if _GRAPH is not None else _Missing()


def require_compiled(hint: str = "") -> None:
    """Raise :class:`KernelsMissing` now (before minutes of work) when the graph kernels are missing;
    ``hint`` says how to do without them (e.g. ``--no-retainers``)."""
    if _GRAPH is None:
        raise KernelsMissing(hint)


def group_pairs(types: np.ndarray, names: np.ndarray, sizes: np.ndarray, nstrings: int):
    """Count and self-size sum per distinct (type, name index) pair of nodes.

    No hashing, no sort: per name the bit set of its types, a dense slot per (name, type) from prefix
    sums of the popcounts, then one pass adding up. Returns ``(pair_type, pair_name, pair_count,
    pair_size)`` in name-then-type order. ``types`` must be < 32 and ``names`` < ``nstrings``.
    """
    types = np.ascontiguousarray(types, dtype=np.uint8)
    names = np.ascontiguousarray(names, dtype=np.uint32)
    sizes = np.ascontiguousarray(sizes)
    if sizes.dtype not in (np.uint32, np.uint64):
        sizes = sizes.astype(np.uint64)
    masks = np.zeros(nstrings, dtype=np.uint32)
    if group_masks(types, names, masks) != 0:
        raise ValueError("group_pairs: a type or name index is out of range")
    per_name = np.bitwise_count(masks) if hasattr(np, "bitwise_count") else _popcount(masks)
    base = np.zeros(nstrings + 1, dtype=np.int64)
    np.cumsum(per_name, out=base[1:])
    total = int(base[-1])
    pair_type = np.empty(total, dtype=np.uint8)
    pair_name = np.empty(total, dtype=np.uint32)
    group_fill(masks, base, pair_type, pair_name)
    pair_count = np.zeros(total, dtype=np.int64)
    pair_size = np.zeros(total, dtype=np.int64)
    group_sums(types, names, sizes, sizes.itemsize, masks, base, pair_count, pair_size)
    return pair_type, pair_name, pair_count, pair_size


def _popcount(a: np.ndarray) -> np.ndarray:  # numpy < 2.0
    a = a.astype(np.uint32)
    a = a - ((a >> 1) & 0x55555555)
    a = (a & 0x33333333) + ((a >> 2) & 0x33333333)
    return (((a + (a >> 4)) & 0x0F0F0F0F) * 0x01010101 & 0xFFFFFFFF) >> 24
