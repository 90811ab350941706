"""The state file's checkpoints, on a thread and a connection of their own
(``voigpt.adapters.sqlite.checkpoints``), on real files."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from voigpt.adapters.sqlite.checkpoints import Checkpoints


def written(path: Path, size: int) -> sqlite3.Connection:
    """A WAL database at ``path`` with ``size`` bytes in its WAL, none yet in the file."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE IF NOT EXISTS t (x BLOB)")
    conn.execute("INSERT INTO t VALUES (?)", (os.urandom(size),))
    return conn


def checkpointed(checkpoints: Checkpoints, count: int) -> None:
    deadline = time.monotonic() + 5
    while checkpoints.done < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert checkpoints.done == count


def test_a_checkpoint_copies_the_wal_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    conn = written(path, 300_000)
    assert os.path.getsize(path) < 100_000
    checkpoints = Checkpoints(str(path), threading.Lock())
    checkpoints.request()
    checkpointed(checkpoints, 1)
    assert os.path.getsize(path) > 300_000
    checkpoints.close().result(5)
    conn.close()


def test_a_file_replaced_since_the_last_checkpoint_is_the_one_checkpointed(
        tmp_path: Path) -> None:
    """The file was deleted and made again (its connection on the old one would copy
    nothing into the new file)."""
    path = tmp_path / "s.db"
    checkpoints = Checkpoints(str(path), threading.Lock())
    written(path, 1000).close()
    checkpoints.request()
    checkpointed(checkpoints, 1)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        name.unlink(missing_ok=True)
    conn = written(path, 300_000)
    assert os.path.getsize(path) < 100_000
    checkpoints.request()
    checkpointed(checkpoints, 2)
    assert os.path.getsize(path) > 300_000
    checkpoints.close().result(5)
    conn.close()
