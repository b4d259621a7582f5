"""Files written so that a reader (or a crash) never sees half of them.

The new content goes to a temporary file in the target's directory (same filesystem, so the rename
is atomic), is fsynced, and replaces the target with ``os.replace``. On Linux the temporary file is
*unnamed* (``O_TMPFILE``) while it is written and synced, and gets a name only for the instant
between ``link`` and ``rename``, so a ``kill -9`` (or a power cut) leaves either the old file or the
new one and no hidden ``.tmp`` file; where ``O_TMPFILE`` is missing a named ``.NAME.PID.heaplens-tmp``
is used, and the next write to the same file removes those whose process is gone.

- A symlink is written *through*: its target gets the new content, the link stays a link.
- An existing file keeps its permissions; a new one is 0644 (mkstemp's 0600 would hide run records
  from CI artefact uploads).
- A directory that cannot be written, a full disk, a target that is not a regular file: one
  :class:`~heaplens.errors.WriteError` line, and the old file is left as it was.
- Text is encoded as UTF-8; a character UTF-8 cannot hold (a lone surrogate from a snapshot string)
  is written as its ``\\uXXXX`` escape instead of failing the write.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import stat
from pathlib import Path

from .errors import WriteError

TMP_SUFFIX = ".heaplens-tmp"
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8", "backslashreplace"))


def write_json_atomic(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


def write_bytes_atomic(path: Path, data: bytes) -> None:
    target = _through_links(Path(path))
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create the directory {parent}: {_why(exc)}; nothing written") from None
    try:
        st = os.stat(target)
    except FileNotFoundError:
        mode = 0o644
    except OSError as exc:
        raise WriteError(f"cannot write {target}: {_why(exc)}; nothing written") from None
    else:
        if not stat.S_ISREG(st.st_mode):
            raise WriteError(f"cannot write {target}: it exists and is not a regular file; nothing written")
        mode = stat.S_IMODE(st.st_mode)
    _remove_stale(target)
    try:
        if _O_TMPFILE:
            try:
                _write_unnamed(target, data, mode)
                return
            except _NoTmpfile:
                pass
        _write_named(target, data, mode)
    except OSError as exc:
        why = _why(exc)
        if exc.errno in (errno.EACCES, errno.EPERM) and not os.access(parent, os.W_OK):
            why = (f"the directory {parent} is not writable (files are replaced through a temporary file "
                   f"beside them)")
        raise WriteError(f"cannot write {target}: {why}; nothing written") from None


class _NoTmpfile(Exception):
    """This filesystem (or kernel) has no O_TMPFILE: use a named temporary file."""


def _write_unnamed(target: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(target.parent, _O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
            raise _NoTmpfile() from None
        raise
    try:
        _fill(fd, data, mode)
        # Give the synced file a name for the instant of the rename. /proc/self/fd is the documented
        # way to link an O_TMPFILE file without CAP_DAC_READ_SEARCH (open(2)).
        name = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}"
        try:
            os.link(f"/proc/self/fd/{fd}", name, follow_symlinks=True)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP):
                raise _NoTmpfile() from None  # no /proc, or a filesystem that refuses the link
            raise
    finally:
        os.close(fd)
    try:
        os.replace(name, target)
    except BaseException:
        _unlink(name)
        raise
    _sync_dir(target.parent)


def _write_named(target: Path, data: bytes, mode: int) -> None:
    name = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}"
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            _fill(fd, data, mode)
        finally:
            os.close(fd)
        os.replace(name, target)
    except BaseException:
        _unlink(name)
        raise
    _sync_dir(target.parent)


def _fill(fd: int, data: bytes, mode: int) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
    os.fchmod(fd, mode)
    os.fsync(fd)


def _sync_dir(d: Path) -> None:
    """Make the rename itself durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(d, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _through_links(path: Path) -> Path:
    """The file a symlink chain ends at (a dangling link: the path it names), so the write replaces
    the target and leaves the link in place."""
    if not path.is_symlink():
        return path
    return Path(os.path.realpath(path))


def _remove_stale(target: Path) -> None:
    """Temporary files of earlier writes to ``target`` whose process is gone (killed mid-write
    where O_TMPFILE is missing, or between link and rename)."""
    prefix = f".{target.name}."
    try:
        entries = os.scandir(target.parent)
    except OSError:
        return
    with entries:
        for e in entries:
            if not (e.name.startswith(prefix) and e.name.endswith(TMP_SUFFIX)):
                continue
            middle = e.name[len(prefix):-len(TMP_SUFFIX)]
            pid = middle.split(".", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                _unlink(Path(e.path))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _unlink(p: Path) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def _why(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device"
    return exc.strerror or str(exc)
