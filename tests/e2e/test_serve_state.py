"""``voigpt serve``'s state (issue 22): by default a SQLite file in the user's state directory
(``$XDG_STATE_HOME/voigpt/state.sqlite3``, else ``~/.local/state/voigpt/``), made owner-only;
opened once before anything binds, so that a state that cannot be used is one line and exit
2 naming the setting (never a hang, a traceback or a password), while a Redis out of reach
lets the server start on its own state. Real processes, real files, a real redis-server."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cli import run_cli
from tests.support.ports import unused_port
from tests.support.redis_server import RedisServer, redis_server_fixture  # noqa: F401
from tests.support.server import ServeProcess
from tests.support.sqlite_locks import (  # noqa: F401 (the fixture holders)
    hold_exclusive,
    holders_fixture,
)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-Pw-4711"
WRONG = "wr0ng-Pw-0815"
BOUND = 30.0  # seconds: a refusal comes within SQLite's busy timeout (5 s), with slack


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def ask(server: ServeProcess) -> None:
    """One completion through the server (the fake backend answers)."""
    reply = httpx.post(server.v1 + "/chat/completions", timeout=30, json={
        "model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]})
    assert reply.status_code == 200, reply.text


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


def refused(result: subprocess.CompletedProcess[str], *named: str) -> str:
    """``result`` is exit 2 with one error line naming each of ``named``; the line."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stderr.startswith("voigpt: error: ") and result.stderr.count("\n") == 1, \
        result.stderr
    assert "Traceback" not in result.stderr
    assert "listening" not in result.stdout
    for name in named:
        assert name in result.stderr, (name, result.stderr)
    return result.stderr


def serve_cli(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    result = run_cli("serve", "--backend", "fake", "--port", str(unused_port()), *args,
                     env=env, timeout=BOUND)
    return result, time.monotonic() - began


# --- the default -----------------------------------------------------------------------------

def test_the_default_state_is_a_sqlite_file_under_xdg_state_home_made_owner_only(
        tmp_path: Path) -> None:
    home = tmp_path / "xdg"  # not there yet: made 0700 like the directory below it
    previous = os.umask(0)  # whatever the umask, the user's state is the user's only
    try:
        server = ServeProcess("--backend", "fake", env={"XDG_STATE_HOME": str(home)})
    finally:
        os.umask(previous)
    with server:
        ask(server)
        path = home / "voigpt" / "state.sqlite3"
        assert path.is_file()
        assert mode(path) == 0o600
        assert mode(home / "voigpt") == 0o700 and mode(home) == 0o700
        assert {"token", "pace", "responses"} <= tables(path)
        with sqlite3.connect(path) as conn:  # the fake backend's token is kept in the file
            assert conn.execute("SELECT count(*) FROM token WHERE value IS NOT NULL"
                                ).fetchone()[0] == 1


@pytest.mark.parametrize("xdg", [None, "", "relative/state"],
                         ids=["unset", "empty", "not absolute"])
def test_without_a_usable_xdg_state_home_the_file_is_under_home(
        tmp_path: Path, xdg: str | None) -> None:
    env: dict[str, str | None] = {"HOME": str(tmp_path), "XDG_STATE_HOME": xdg}
    with ServeProcess("--backend", "fake", env=env) as server:
        ask(server)
        path = tmp_path / ".local" / "state" / "voigpt" / "state.sqlite3"
        assert path.is_file() and mode(path) == 0o600
        assert mode(path.parent) == 0o700


def test_each_test_server_keeps_its_default_state_in_a_directory_of_its_own() -> None:
    with ServeProcess("--backend", "fake") as one, ServeProcess("--backend", "fake") as two:
        ask(one)
        assert one.state_home != two.state_home
        assert (Path(one.state_home) / "voigpt" / "state.sqlite3").is_file()
    assert not Path(one.state_home).exists()  # removed once it stopped


def test_state_memory_makes_no_file_and_serves(tmp_path: Path) -> None:
    with ServeProcess("--backend", "fake", "--state", "memory",
                      env={"XDG_STATE_HOME": str(tmp_path)}) as server:
        ask(server)
    assert list(tmp_path.iterdir()) == []


def test_an_explicit_sqlite_state_is_used_and_the_default_is_not(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "fleet.db"
    with ServeProcess("--backend", "fake", env={"XDG_STATE_HOME": str(tmp_path / "xdg"),
                                                "VOIGPT_STATE": f"sqlite:///{path}"}) as server:
        ask(server)
    assert path.is_file() and mode(path) == 0o600
    assert not (tmp_path / "xdg").exists()


# --- a state that cannot be used --------------------------------------------------------------

def spoil(kind: str, path: Path, holders: list[subprocess.Popen[str]]) -> str:
    """Make ``path`` a state that cannot be used; the words the error gives for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "directory":
        path.mkdir()
        return "is a directory"
    if kind == "corrupt":
        path.write_bytes(b"this is no database at all\n" * 200)
        return "not a SQLite database"
    hold_exclusive(path, holders)
    return "locked by another process"


@pytest.mark.parametrize("kind", ["directory", "corrupt", "locked"])
@pytest.mark.parametrize("how", ["flag", "variable", "default"])
def test_a_state_that_cannot_be_used_exits_2_naming_the_setting_and_the_path(
        tmp_path: Path, holders: list[subprocess.Popen[str]], kind: str, how: str) -> None:
    xdg = tmp_path / "xdg"
    path = xdg / "voigpt" / "state.sqlite3" if how == "default" else tmp_path / "state.db"
    words = spoil(kind, path, holders)
    env = {"XDG_STATE_HOME": str(xdg)}
    args: list[str] = []
    if how == "flag":
        args = ["--state", f"sqlite:///{path}"]
    elif how == "variable":
        env["VOIGPT_STATE"] = f"sqlite:///{path}"
    result, took = serve_cli(*args, env=env)
    named = {"flag": "--state", "variable": "$VOIGPT_STATE", "default": "--state"}[how]
    line = refused(result, named, f"sqlite:///{path}", words)
    assert took < BOUND
    if how == "default":
        assert "default" in line


def test_a_read_only_state_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with ServeProcess("--backend", "fake", "--state", f"sqlite:///{path}"):
        pass  # made by a first server
    path.chmod(0o444)
    command = [sys.executable, "-m", "voigpt", "serve", "--backend", "fake", "--port",
               str(unused_port()), "--state", f"sqlite:///{path}"]
    if os.geteuid() == 0:  # root writes any file: run it without the capabilities that allow
        if shutil.which("setpriv") is None:
            pytest.skip("running as root, and no setpriv to drop root's capabilities")
        command = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", *command]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=BOUND,
                            env={**clean, "PYTHONPATH": str(ROOT),
                                 "XDG_STATE_HOME": str(tmp_path / "xdg")}, check=False)
    refused(result, "--state", f"sqlite:///{path}", "read-only")


# --- Redis -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def guarded_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server that wants ``PASSWORD``."""
    with RedisServer(tmp_path_factory.mktemp("redis-pw"), password=PASSWORD) as server:
        yield server


@pytest.mark.parametrize("how", ["in the URL", "in VOIGPT_REDIS_PASSWORD", "none"])
def test_a_password_redis_refuses_exits_2_without_showing_it(
        guarded_redis: RedisServer, tmp_path: Path, how: str) -> None:
    port = guarded_redis.port
    env = {"XDG_STATE_HOME": str(tmp_path)}
    if how == "in the URL":
        args = ["--state", f"redis://:{WRONG}@127.0.0.1:{port}/0"]
    else:
        args = ["--state", f"redis://127.0.0.1:{port}/0"]
        if how != "none":
            env["VOIGPT_REDIS_PASSWORD"] = WRONG
    result, took = serve_cli(*args, env=env)
    refused(result, "--state", f"127.0.0.1:{port}/0", "password" if how == "none"
            else "refused the credentials")
    assert WRONG not in result.stdout + result.stderr
    assert took < BOUND
    assert list(tmp_path.iterdir()) == []  # no default file either


def test_the_right_password_serves(guarded_redis: RedisServer, tmp_path: Path) -> None:
    with ServeProcess("--backend", "fake", "--state",
                      f"redis://:{PASSWORD}@127.0.0.1:{guarded_redis.port}/0",
                      env={"XDG_STATE_HOME": str(tmp_path)}) as server:
        ask(server)
        _, out, err = server.stop()
    assert PASSWORD not in out + err


def test_a_redis_out_of_reach_at_start_is_a_warning_and_the_server_serves(
        tmp_path: Path) -> None:
    port = unused_port()  # nothing listens there
    with ServeProcess("--backend", "fake", "--state", f"redis://:{WRONG}@127.0.0.1:{port}/0",
                      env={"XDG_STATE_HOME": str(tmp_path)}) as server:
        ask(server)
        code, out, err = server.stop()
    assert code == 0
    assert err.count("is unreachable") == 1, err  # one warning, from the app's start-up
    assert f"redis://:***@127.0.0.1:{port}/0" in err
    assert WRONG not in out + err


def test_the_listening_line_names_the_state_never_its_password(tmp_path: Path) -> None:
    with ServeProcess("--backend", "fake", env={"XDG_STATE_HOME": str(tmp_path)}) as server:
        line = server.stdout_lines[-1].rstrip()
    assert line.endswith(f"(1 process, state sqlite:///{tmp_path}/voigpt/state.sqlite3)"), line
    port = unused_port()
    with ServeProcess("--backend", "fake", "--state", f"redis://:{WRONG}@127.0.0.1:{port}/0",
                      env={"XDG_STATE_HOME": str(tmp_path)}) as server:
        line = server.stdout_lines[-1].rstrip()
    assert line.endswith(f"(1 process, state redis://:***@127.0.0.1:{port}/0)"), line
