"""SQLite files held by other processes, for the tests of ``--state sqlite``.

``holders`` (a fixture, imported by name: ``holders_fixture``) is the list of processes a
test started; they are killed at its teardown. ``hold_exclusive`` and ``hold_write_lock``
start one holding a lock on a file (``let_go`` ends the second's). ``sqlite_state`` is a
``SqliteState`` on a path."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from voigpt.adapters.sqlite import SqliteState
from voigpt.domain.state_location import StateLocation


@pytest.fixture(name="holders")
def holders_fixture() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def sqlite_state(path: Path, **options: float) -> SqliteState:
    return SqliteState(StateLocation("sqlite", path=str(path)), **options)  # type: ignore[arg-type]


def hold_exclusive(path: Path, started: list[subprocess.Popen[str]]) -> None:
    """Another process holding an EXCLUSIVE transaction open on ``path`` (for two minutes,
    or until the test ends)."""
    code = ("import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('CREATE TABLE IF NOT EXISTS other (x)')\n"
            "c.execute('BEGIN EXCLUSIVE'); c.execute('INSERT INTO other VALUES (1)')\n"
            "print('holding', flush=True); time.sleep(120)\n")
    _start(code, path, started)


def hold_write_lock(path: Path, started: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    """Another process holding the write lock of a state's file until its stdin says so."""
    code = ("import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE'); c.execute('DELETE FROM replies')\n"
            "print('holding', flush=True); sys.stdin.readline(); c.execute('COMMIT')\n")
    return _start(code, path, started)


def let_go(holder: subprocess.Popen[str]) -> None:
    """The holder of ``hold_write_lock`` commits and lets the lock go."""
    assert holder.stdin is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()


def _start(code: str, path: Path, started: list[subprocess.Popen[str]]
           ) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    started.append(process)
    assert process.stdout is not None and process.stdout.readline().strip() == "holding"
    return process
