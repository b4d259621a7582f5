"""The snapshot's string table, decoded on demand from the mapped file."""

from __future__ import annotations

import json

import numpy as np

from .. import kernels as K


class StringTable:
    """Index of the ``strings`` array: offsets, lengths, flags and a 64-bit hash of every string.

    Decoding is lazy (``table[i]``) and done by C code: ``bytes.decode`` for plain strings,
    ``json.loads`` for strings with escapes. Hashes let two snapshots be compared by string
    content without decoding every string.
    """

    ESCAPED = 1
    NON_ASCII = 2

    def __init__(self, mm, starts: np.ndarray, lengths: np.ndarray, flags: np.ndarray, hashes: np.ndarray):
        self._mm = mm
        self.starts = starts
        self.lengths = lengths
        self.flags = flags
        self.hashes = hashes
        self._cache: dict[int, str] = {}

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def raw(self, i: int) -> bytes:
        if self._mm is None:
            raise ValueError("string table is closed")
        s = int(self.starts[i])
        return self._mm[s : s + int(self.lengths[i])]

    def __getitem__(self, i: int) -> str:
        i = int(i)
        v = self._cache.get(i)
        if v is None:
            raw = self.raw(i)
            if self.flags[i] & self.ESCAPED:
                try:
                    v = json.loads(b'"' + raw + b'"')
                except ValueError:
                    v = raw.decode("utf-8", "replace")
            else:
                v = raw.decode("utf-8", "replace")
            self._cache[i] = v
        return v

    def bracketed(self, indices: np.ndarray) -> np.ndarray:
        """Per string of ``indices``: empty, or in parentheses — ``(object elements)``: a name V8 gives an
        internal object by what refers to it."""
        if self._mm is None:
            raise ValueError("string table is closed")
        idx = np.asarray(indices, dtype=np.int64)
        starts = self.starts[idx].astype(np.int64)
        lengths = self.lengths[idx].astype(np.int64)
        out = lengths == 0
        full = np.flatnonzero(lengths >= 2)
        buf = np.frombuffer(self._mm, dtype=np.uint8)
        try:
            out[full] = (buf[starts[full]] == ord("(")) & (buf[starts[full] + lengths[full] - 1] == ord(")"))
        finally:
            del buf
        return out

    def get_many(self, indices) -> list[str]:
        return [self[i] for i in indices]

    def release(self) -> None:
        """Forget the mapping (after this only cached strings are available)."""
        self._mm = None


def hash_text(text: str) -> int:
    """Hash of a string as it would appear, JSON-escaped, in a snapshot (same as the kernel).

    Only exact for strings V8 writes without escapes; used for names heaplens builds itself.
    """
    return int(K.fnv1a(json.dumps(text, ensure_ascii=True)[1:-1].encode("ascii")))


def find_string(snap, text: str) -> int:
    """Index of ``text`` in the string table, -1 if absent."""
    h = hash_text(text)
    for i in np.flatnonzero(snap.strings.hashes == np.uint64(h)):
        if snap.strings[int(i)] == text:
            return int(i)
    return -1
