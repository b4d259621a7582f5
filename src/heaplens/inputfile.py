"""Opening input files so that bad input is one line, never a hang or a traceback.

- :func:`open_regular` opens without blocking (a FIFO opens at once instead of waiting for a writer)
  and accepts only a regular file (after symlinks): a FIFO, a socket or a device (``/dev/zero``,
  ``/dev/stdin`` on a terminal) is refused by what it is.
- :func:`read_text` reads a small JSON-ish input (a manifest, a rules file) whole, with a size limit.
- :func:`read_document` and :func:`check_schema` read a versioned document heaplens itself wrote (a run
  record, a report, a baseline) and check its ``schema`` and ``schema_version``: the one place that does.
- :func:`parse_json` parses it: duplicate keys in one object are refused (JSON readers disagree on which
  one counts, and a text edit would go to the one they ignore), and so is nesting deeper than
  ``max_depth`` (Python's reader would raise ``RecursionError`` past ~1,000 levels, and our own
  walkers long before a real manifest gets there).
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat

from .errors import UsageError

MAX_TEXT = 64 << 20  # a manifest or rules file larger than this is not one
MAX_DEPTH = 64
MAX_DOCUMENT = 1 << 30  # a run record or report of a suite of thousands of files is tens of MB
DOCUMENT_DEPTH = 256


def kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


class NotRegular(Exception):
    """Raised by :func:`open_regular`; ``str()`` is the reason (``is a FIFO …``)."""


def open_regular(path: str | os.PathLike) -> tuple[int, os.stat_result]:
    """``(fd, stat)`` of ``path`` opened for reading, which must be a regular file.

    Raises :class:`NotRegular` for anything else and ``OSError`` (``FileNotFoundError`` …) when it
    cannot be opened. The caller closes ``fd``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.EOPNOTSUPP, errno.ENODEV):  # a socket, a device without a driver
            try:
                mode = os.stat(path).st_mode
            except OSError:
                raise exc from None
            if not stat.S_ISREG(mode):
                raise NotRegular(f"is {kind_of(mode)}, not a regular file") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(f"is {kind_of(st.st_mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_bytes(path: str | os.PathLike, what: str, limit: int = MAX_TEXT) -> bytes:
    """The content of a small regular file; one :class:`UsageError` line for anything else."""
    try:
        fd, st = open_regular(path)
    except NotRegular as exc:
        raise UsageError(f"{what} {path} {exc}") from None
    except FileNotFoundError:
        raise UsageError(f"{what} {path}: no such file") from None
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise UsageError(f"{what} {path} is a directory, not a file") from None
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        if st.st_size > limit:
            raise UsageError(f"{what} {path} is {st.st_size:,} bytes, more than the {limit:,} a {what} can be")
        chunks, total = [], 0
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            total += len(b)
            if total > limit:
                raise UsageError(f"{what} {path} is more than the {limit:,} bytes a {what} can be")
            chunks.append(b)
        return b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike, what: str, limit: int = MAX_TEXT) -> str:
    """:func:`read_bytes` decoded as UTF-8, exactly (no newline translation)."""
    data = read_bytes(path, what, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path} is not UTF-8 text (byte {exc.start:,})") from None


class _Duplicate(ValueError):
    pass


def _no_constant(name: str):
    # NaN and Infinity are Python's extension; JSON (and JSON.parse) has no such values
    raise ValueError(f"{name} is not a JSON value")


def _unique_pairs(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise _Duplicate(k)
        obj[k] = v
    return obj


def parse_json(text: str, where: str, *, unique_keys: bool = True, max_depth: int = MAX_DEPTH):
    """``json.loads(text)``, with one :class:`UsageError` line (starting with ``where``) for invalid
    JSON, a key repeated in one object, or nesting deeper than ``max_depth``."""
    if _depth_exceeds(text, max_depth):
        raise UsageError(f"{where} nests deeper than {max_depth} levels; nothing this deep is a valid input")
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs if unique_keys else None, parse_constant=_no_constant)
    except _Duplicate as exc:
        raise UsageError(f"{where} has the key {json.dumps(exc.args[0], ensure_ascii=True)} twice in one object; "
                         f"JSON readers disagree on which one counts — keep one") from None
    except RecursionError:
        raise UsageError(f"{where} nests too deeply") from None
    except ValueError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc}") from None


def _depth_exceeds(text: str, max_depth: int) -> bool:
    """True when brackets outside strings nest deeper than ``max_depth`` (a text with fewer brackets
    than that cannot, and is not scanned)."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth = 0
    for c in _BRACKETS.findall(_STRINGS.sub("", text)):
        if c in "[{":
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")


def read_document(path: str | os.PathLike, what: str, error: type[UsageError] = UsageError):
    """The parsed JSON of a document heaplens wrote (``what``: "run record", "report", "baseline"): a
    regular file, UTF-8, valid JSON, nested no deeper than ``DOCUMENT_DEPTH``; anything else is one
    ``error`` line naming the file."""
    try:
        text = read_text(path, what, MAX_DOCUMENT)
        return parse_json(text, f"{what} {path}", unique_keys=False, max_depth=DOCUMENT_DEPTH)
    except UsageError as exc:
        if isinstance(exc, error):
            raise
        raise error(str(exc)) from None


def check_schema(doc, schema: str, max_version: int, where: str, what: str,
                 error: type[UsageError] = UsageError) -> int:
    """``doc["schema_version"]`` of a document that must be ``schema``, written by this heaplens or an
    earlier one; one ``error`` line (starting with ``where``) otherwise."""
    if not isinstance(doc, dict) or doc.get("schema") != schema:
        raise error(f"{where}: not a heaplens {what} (schema {schema!r} expected)")
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise error(f"{where}: schema_version: expected a positive integer, got {json_kind(version)}")
    if version > max_version:
        raise error(f"{where}: {what} schema_version {version} is newer than this heaplens ({max_version})")
    return version


def json_kind(value) -> str:
    """What a JSON value is, for a message ("a string", "the number 3", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"[:60]
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
