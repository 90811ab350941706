"""The state file's checkpoints (the WAL's pages copied into the file), on a thread and a
connection of their own.

A checkpoint syncs the WAL and the file to disk: 10-40 ms here, far longer on a slow or
network disk. Run on the state's connection, it held that connection for as long, and the
loop's writes meanwhile (each request's stored response) went to the state's thread to
wait for it: a stall of every write in flight, every few MiB written. A PASSIVE checkpoint
waits for no reader or writer, and no writer waits for it, so on a connection of its own
the loop's writes go on while it runs.

But the WAL starts over (and stops growing) only once a checkpoint has copied all of it
before the next write begins, which one that writes go on beside never does under load.
So a second pass copies what was written meanwhile with the state's connection held
(``using``): a few pages and their sync, while the first pass did the bulk.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import quote

LOGGER = logging.getLogger("voigpt.state")


def checkpoint(conn: sqlite3.Connection) -> bool:
    """Copy the WAL's pages into the file without waiting for anyone; True if that was all
    of them."""
    ((busy, frames, copied),) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    return not busy and frames == copied


class Checkpoints:
    """``request()`` runs one checkpoint of ``path`` soon, on the checkpoint thread (never
    two at once: a request made while one runs is queued), its second pass holding
    ``using``, the lock of the state's connection; errors are logged at debug and the
    connection made again next time. ``close()`` ends the thread and its connection."""

    def __init__(self, path: str, using: threading.Lock) -> None:
        self.path, self._using = path, using
        self.done = 0
        self._conn: sqlite3.Connection | None = None
        self._inode = 0  # of the file the connection is on
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="voigpt-sqlite-checkpoint")
        self._closed = False

    def request(self) -> None:
        if not self._closed:
            self._executor.submit(self._run)

    def close(self) -> Future[None]:
        self._closed = True
        closing = self._executor.submit(self._close)
        self._executor.shutdown(wait=False)
        return closing

    # On the checkpoint thread:

    def _run(self) -> None:
        try:
            if self._conn is not None and _inode(self.path) != self._inode:
                self._close()  # the file was replaced (the state's connection was made again)
            if self._conn is None:  # the file exists: the state's connection made it
                self._inode = _inode(self.path)
                self._conn = sqlite3.connect(f"file:{quote(self.path)}?mode=rw", uri=True,
                                             isolation_level=None, check_same_thread=False)
            checkpoint(self._conn)  # the bulk, while the loop's writes go on
            with self._using:  # what they wrote meanwhile, and no write in between
                checkpoint(self._conn)
            self.done += 1
        except (sqlite3.Error, OSError) as exc:  # the state's calls say what is wrong
            LOGGER.debug("a checkpoint of sqlite:///%s failed: %s", self.path, exc)
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None


def _inode(path: str) -> int:
    return os.stat(path).st_ino
