"""``voigpt batch --state URL`` (issue 22): a batch and a server on one state share one pace.
A 429 the server's site answered pauses the batch's next starts, and one the batch got
pauses the server's; ``--state memory`` (the batch's default) shares nothing. Real
processes (``voigpt serve`` and ``voigpt batch``), one real SQLite file, one emulator that
notes when each request reached it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import voigpt.batch
from tests.support.fleet import Site, chat
from tests.support.server import ServeProcess
from voigpt.domain.errors import InvalidConfig
from voigpt.emulator import Fault

ROOT = Path(__file__).resolve().parents[2]
PAUSE = 5  # the site's Retry-After, seconds
SLACK = 0.3  # seconds: clocks read in different processes, the pace's polling


@pytest.fixture
def site() -> Iterator[Site]:
    """The server's site."""
    with Site() as running:
        yield running


@pytest.fixture
def other() -> Iterator[Site]:
    """The batch's site (a site of its own, so that a fault reaches the process meant)."""
    with Site() as running:
        yield running


@pytest.fixture
def state(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def server(site: Site, state: str) -> Iterator[ServeProcess]:
    """A server on the state file; no retries, so a 429 reaches its client at once."""
    with ServeProcess("--backend", "http", "--base-url", site.url, "--retries", "0",
                      "--state", state) as running:
        yield running


def lines(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({
        "custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": f"n{n}"}]},
    }) + "\n" for n in range(count)))
    return path


def batch(tmp_path: Path, site: Site, count: int, *args: str,
          env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``voigpt batch`` as a process of its own, on ``count`` lines."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "voigpt", "batch", str(lines(tmp_path, count)), "-o",
         str(tmp_path / "out.jsonl"), "--base-url", site.url, "--retries", "0", "--quiet",
         *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**clean, **(env or {})})


def finished(process: subprocess.Popen[str], tmp_path: Path, count: int) -> None:
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == count


def paused_in(state: str) -> float:
    """Seconds of pause the state file holds now (its ``pace`` row, read as another process
    would): the report of a 429 reaches the file a moment after the 429 itself."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with sqlite3.connect(state.removeprefix("sqlite:///")) as conn:
            row = conn.execute("SELECT paused_until FROM pace WHERE name = 'site'").fetchone()
        if row is not None and row[0] > time.time():
            return float(row[0]) - time.time()
        time.sleep(0.01)
    raise AssertionError("no pause reached the state file")


@pytest.mark.parametrize(("when", "how"), [("before", "flag"), ("during", "flag"),
                                           ("during", "variable")])
def test_a_429_the_server_got_pauses_the_batchs_next_starts(
        tmp_path: Path, site: Site, other: Site, server: ServeProcess, state: str,
        when: str, how: str) -> None:
    def pause() -> float:
        site.emulator.inject(Fault.RATE_LIMITED, retry_after=PAUSE)
        assert chat(server.url, "limited").status_code == 429
        assert paused_in(state) > PAUSE - 1
        [limited] = site.posts()
        return limited

    if when == "before":
        limited = pause()
    args = ["--state", state] if how == "flag" else []
    env = {"VOIGPT_STATE": state} if how == "variable" else {}
    # Before: all its first starts at once (concurrency 8); during: spread over 4 s.
    pacing = ["--rate", "3"] if when == "during" else []
    process = batch(tmp_path, other, 12, *pacing, *args, env=env)
    if when == "during":
        deadline = time.monotonic() + 30
        while len(other.posts()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        limited = pause()
    finished(process, tmp_path, 12)

    starts = other.posts()
    assert len(starts) == 12, starts
    if when == "before":
        assert min(starts) >= limited + PAUSE - SLACK, min(starts) - limited
    else:
        assert min(starts) < limited  # the pause came while the batch ran
        # Those started before the pause reached them (the file is read every 0.1 s) may
        # arrive just after it; none later, until it is over.
        held = [start - limited for start in starts if 0.5 <= start - limited < PAUSE - SLACK]
        assert held == [], held
        assert max(starts) >= limited + PAUSE - SLACK


def test_a_429_the_batch_got_pauses_the_servers_starts(
        tmp_path: Path, site: Site, other: Site, server: ServeProcess, state: str) -> None:
    other.emulator.inject(Fault.RATE_LIMITED, retry_after=PAUSE)
    process = batch(tmp_path, other, 1, "--state", state)
    assert paused_in(state) > PAUSE - 2
    [limited] = other.posts()

    assert chat(server.url, "after").status_code == 200
    finished(process, tmp_path, 1)  # its line sent again once the pause was over

    [after] = site.posts()
    assert after >= limited + PAUSE - SLACK, after - limited
    assert len(other.posts()) == 2 and other.posts()[1] >= limited + PAUSE - SLACK


@pytest.mark.parametrize("args", [["--state", "memory"], []], ids=["memory", "default"])
def test_a_batch_on_memory_shares_no_pause(tmp_path: Path, site: Site, other: Site,
                                            server: ServeProcess, state: str,
                                            args: list[str]) -> None:
    site.emulator.inject(Fault.RATE_LIMITED, retry_after=60)  # the longest pause there is
    assert chat(server.url, "limited").status_code == 429
    assert paused_in(state) > 50
    [limited] = site.posts()

    finished(batch(tmp_path, other, 3, *args), tmp_path, 3)

    starts = other.posts()
    assert len(starts) == 3 and max(starts) < limited + 50, starts  # not held by the pause


def test_a_state_the_batch_cannot_use_is_exit_2_naming_it_before_anything_is_sent(
        tmp_path: Path, other: Site) -> None:
    (tmp_path / "dir.db").mkdir()
    process = batch(tmp_path, other, 2, "--state", f"sqlite:///{tmp_path / 'dir.db'}")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2, err
    assert err.startswith(f"voigpt: error: --state sqlite:///{tmp_path / 'dir.db'}: is a "
                          "directory"), err
    assert "Traceback" not in err
    assert other.posts() == []


def test_the_python_api_takes_the_state_too(tmp_path: Path, site: Site) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(InvalidConfig, match=r"^state sqlite:///.*dir\.db: is a directory"):
        voigpt.batch.run(lines(tmp_path, 1), tmp_path / "out.jsonl", base_url=site.url,
                         state=f"sqlite:///{tmp_path / 'dir.db'}")
    summary = voigpt.batch.run(lines(tmp_path, 2), tmp_path / "out.jsonl", base_url=site.url,
                               state=f"sqlite:///{tmp_path / 'state.db'}")
    assert summary.exit_code == 0
    assert (tmp_path / "state.db").is_file()
