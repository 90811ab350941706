"""``voigpt serve --state sqlite:///PATH`` on a file it cannot use refuses to start: exit
code 2 at once (no hang, no server that fails later), with a message naming the path and
``--state``. Real files, and a real other process holding the lock."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fleet import serve_exits
from tests.support.sqlite_locks import holders_fixture  # noqa: F401 (the fixture holders)
from voigpt.adapters.sqlite.database import BUSY_TIMEOUT


def corrupt(path: Path, _: list[subprocess.Popen[str]]) -> None:
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))


def a_directory(path: Path, _: list[subprocess.Popen[str]]) -> None:
    path.mkdir()


def read_only(path: Path, _: list[subprocess.Popen[str]]) -> None:
    sqlite3.connect(path).execute("CREATE TABLE other (x)").connection.close()
    path.chmod(0o400)


def locked(path: Path, holders: list[subprocess.Popen[str]]) -> None:
    """Another process holding an EXCLUSIVE transaction open on ``path``."""
    code = ("import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('CREATE TABLE IF NOT EXISTS other (x)')\n"
            "c.execute('BEGIN EXCLUSIVE'); c.execute('INSERT INTO other VALUES (1)')\n"
            "print('holding', flush=True); time.sleep(120)\n")
    process = subprocess.Popen([sys.executable, "-c", code, str(path)],
                               stdout=subprocess.PIPE, text=True)
    holders.append(process)
    assert process.stdout is not None and process.stdout.readline().strip() == "holding"


@pytest.mark.parametrize("spoil", [corrupt, a_directory, read_only, locked],
                         ids=lambda spoil: spoil.__name__)
def test_a_file_it_cannot_use_stops_voigpt_serve_at_once(
        tmp_path: Path, holders: list[subprocess.Popen[str]], spoil: object) -> None:
    path = tmp_path / "state.db"
    assert callable(spoil)
    spoil(path, holders)
    command: tuple[str, ...] = ()
    if spoil is read_only and os.geteuid() == 0:  # root writes any file: drop what allows it
        if shutil.which("setpriv") is None:
            pytest.skip("running as root, and no setpriv to drop root's capabilities")
        command = ("--inh-caps=-all", "--bounding-set=-all")

    code, out, err, took = serve_exits("--backend", "fake", "--state", f"sqlite:///{path}",
                                       setpriv=command, timeout=BUSY_TIMEOUT + 30)

    assert "listening on" not in out, (out, err)
    assert code == 2, (code, err[-3000:])
    assert str(path) in err and "--state" in err, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert took < BUSY_TIMEOUT + 10, took
