"""The fleet's fixtures: one emulator and one ``redis-server`` per test module, the shared
state as a ``--state`` URL (``state_kind`` picks Redis or SQLite), and fleets of three
``voigpt serve`` processes on it."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.fleet import Fleet, Site
from tests.support.redis_server import INSTALL, PROGRAM, RedisServer


@pytest.fixture(scope="module")
def site_watch() -> Iterator[Site]:
    with Site() as watched:
        yield watched


@pytest.fixture
def site(site_watch: Site) -> Iterator[Site]:
    """The module's emulator, its records, faults and arrivals cleared for the test."""
    site_watch.reset()
    yield site_watch
    site_watch.release()


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real ``redis-server`` for the module. Fails (never skips) without one."""
    if shutil.which(PROGRAM) is None and not Path("/usr/bin/redis-server").exists():
        pytest.fail(f"the fleet tests need Debian's redis-server: {INSTALL}")
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def new_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """``new_state(kind)``: a ``--state`` URL no fleet has used yet: a Redis database of its
    own (1, 2, ...: the module's ``redis-server``, started on first use, has 16), or a new
    SQLite file."""
    databases, files = itertools.count(1), itertools.count()
    servers: list[RedisServer] = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('state') / f'fleet{next(files)}.db'}"
        if not servers:
            if shutil.which(PROGRAM) is None and not Path("/usr/bin/redis-server").exists():
                pytest.fail(f"the fleet tests need Debian's redis-server: {INSTALL}")
            servers.append(RedisServer(tmp_path_factory.mktemp("redis")))
        server = servers[0]
        if server.process is None or server.process.poll() is not None:
            server.start()
        database = next(databases)
        assert database < 16, "the module's Redis has 16 databases"
        return f"redis://127.0.0.1:{server.port}/{database}"

    yield make
    for server in servers:
        server.stop()


def fleet_args(site: Site, state: str, *extra: str) -> tuple[str, ...]:
    return ("--backend", "http", "--base-url", site.url, "--state", state, *extra)


@pytest.fixture
def start_fleet(site: Site) -> Iterator[Callable[..., Fleet]]:
    """``start_fleet(state, *flags)``: three copies on ``state``, stopped after the test."""
    fleets: list[Fleet] = []

    def start(state: str, *extra: str, count: int = 3) -> Fleet:
        fleets.append(Fleet(*fleet_args(site, state, *extra), count=count))
        return fleets[-1]

    yield start
    site.release()
    for fleet in fleets:
        fleet.stop()
