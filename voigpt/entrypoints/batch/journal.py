"""OUTPUT as an append-only journal of successes, the record of what is done.

A result counts once its whole line, newline included, is in the file. Each line goes out in
one ``write`` of the full line (looped only if the OS writes part of it), so an interrupted
process (Ctrl-C, ``kill -9``, a crash) leaves at most one torn line at the end, and a write
that fails (a full disk) is cut back at once. On open, the file is scanned: the ids of its
complete lines are done, and a torn tail (a last line without its newline, or that is not
JSON) is truncated away and reported, never copied forward. Anything else that is not a
result line cannot come from an interruption (a bad line before good ones, an error line),
so the file is refused rather than guessed at.

The file is locked (``flock``) while a run writes it, so two runs cannot both write it.
Lines are flushed to the OS as they are written (which a killed process cannot lose) and
``fsync``ed at most once a second and on close (what a power cut could lose is only redone).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from pathlib import Path

import attrs

from voigpt.domain.errors import InvalidInput

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one run at a time is then up to the user
    fcntl = None  # type: ignore[assignment]

_NOT_JSON = object()
SYNC_EVERY = 1.0  # seconds between fsyncs
READ_BUFFER = 1 << 20


class BadOutputFile(InvalidInput):
    """OUTPUT holds something that is not a result line, or another run is writing it."""


@attrs.frozen
class TornTail:
    """What the scan cut off: from ``line`` on, ``size`` bytes."""

    line: int
    size: int


class Journal:
    """An open OUTPUT: ``done`` (the ids of its lines), ``torn`` (what was repaired, if
    anything), and ``append`` for new lines."""

    def __init__(self, path: Path, *, sync_every: float = SYNC_EVERY) -> None:
        self.path, self._sync_every = path, sync_every
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise BadOutputFile(f"cannot open {path}: {exc.strerror}") from None
        try:
            _lock(self._fd, path)
            self.done, self.torn, self.size = _scan(self._fd, path)
            if self.torn is not None:
                os.ftruncate(self._fd, self.size)
                os.fsync(self._fd)
        except BaseException:
            os.close(self._fd)
            raise
        self._synced_at = time.monotonic()

    def append(self, line: bytes) -> None:
        """Write one whole line, or raise ``OSError`` with the file as it was before."""
        try:
            write_all(self._fd, line)
        except OSError:
            self._cut_back()
            raise
        self.size += len(line)
        if time.monotonic() - self._synced_at >= self._sync_every:
            self.sync()

    def sync(self) -> None:
        os.fsync(self._fd)
        self._synced_at = time.monotonic()

    def close(self) -> None:
        if self._fd < 0:
            return
        try:
            self.sync()
        finally:
            os.close(self._fd)
            self._fd = -1

    def _cut_back(self) -> None:
        """Remove the part of a line a failed write left (best effort: if this fails too,
        the next run finds a torn tail and repairs it)."""
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self.size)


class FailureLog:
    """ERRORS: the failures of this run, one line each, written as they happen. The file is
    created (or emptied) at the run's first failure."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1

    def append(self, line: bytes) -> None:
        if self._fd < 0:
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND
            self._fd = os.open(self.path, flags, 0o644)
        write_all(self._fd, line)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def write_all(fd: int, data: bytes) -> None:
    """``data`` in one ``write``, looped only if the OS takes part of it."""
    view, written = memoryview(data), 0
    while written < len(data):
        count = os.write(fd, view[written:])
        if count == 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written += count


def result_id(line: bytes) -> str | None:
    """The ``custom_id`` of a complete success line, or None if ``line`` is not one."""
    data = _json(line) if line.endswith(b"\n") else None
    if not isinstance(data, dict) or data.get("error") is not None:
        return None
    custom_id, response = data.get("custom_id"), data.get("response")
    if not isinstance(custom_id, str) or not isinstance(response, dict):
        return None
    return custom_id


def _scan(fd: int, path: Path) -> tuple[set[str], TornTail | None, int]:
    """The done ids, the torn tail (if any) and the size of the good part. Only the last
    line can be torn, and only if it lacks its newline or is not JSON: a bad line before
    it, or a whole JSON line that is not a result, is no interrupted write."""
    done: set[str] = set()
    good_end, bad = 0, 0  # bad: the number of a line that is not a result
    os.lseek(fd, 0, os.SEEK_SET)
    with open(fd, "rb", buffering=READ_BUFFER, closefd=False) as reader:
        for number, line in enumerate(reader, 1):
            if bad:
                break
            custom_id = result_id(line)
            if custom_id is None:
                bad = number
                torn = not line.endswith(b"\n") or _json(line) is _NOT_JSON
            else:
                done.add(custom_id)
                good_end += len(line)
        else:
            if not bad:
                return done, None, good_end
            if torn:
                return done, TornTail(bad, os.fstat(fd).st_size - good_end), good_end
    raise BadOutputFile(
        f"{path} line {bad} is not a batch result line, and it is not the torn end of an "
        "interrupted run; is it the right file? Repair or move it"
    )


def _json(line: bytes) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return _NOT_JSON


def _lock(fd: int, path: Path) -> None:
    if fcntl is None:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise BadOutputFile(
            f"another voigpt batch is writing {path}; wait for it, or choose another output"
        ) from None
