"""Three real ``voigpt serve`` processes on one real ``redis-server`` that goes away under
load and comes back on its port: the copies keep answering, say so once, and share again."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis as redis_py

from tests.support.fleet import Fleet, Site, chat, serve_exits
from tests.support.redis_server import RedisServer
from tests.support.server import metric

UNREACHABLE = "is unreachable"  # the Redis adapter's one warning (voigpt/adapters/redis/link.py)


class Load:
    """``threads`` loops sending chats round the copies until ``stop()``; every answer's
    status (or the error's type) in ``seen``."""

    def __init__(self, fleet: Fleet, threads: int = 3) -> None:
        self.fleet, self.seen = fleet, list[object]()
        self._stopping = threading.Event()
        self._numbers = itertools.count()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            number = next(self._numbers)
            url = self.fleet[number % len(self.fleet.copies)].url
            try:
                self.seen.append(chat(url, f"load {number}", timeout=30).status_code)
            except httpx.HTTPError as error:
                self.seen.append(type(error).__name__)

    def stop(self) -> list[object]:
        self._stopping.set()
        for thread in self._threads:
            thread.join(60)
        return self.seen


@pytest.fixture
def fleet_on(redis: RedisServer, site: Site,
             start_fleet: Callable[..., Fleet]) -> Iterator[Fleet]:
    """Three copies on the module's Redis, running again and emptied for the test."""
    if redis.process is None or redis.process.poll() is not None:
        redis.start()
    flush(redis)
    yield start_fleet(redis.url)
    if redis.process is None or redis.process.poll() is not None:
        redis.start()


def flush(redis: RedisServer) -> None:
    with redis_py.Redis(host="127.0.0.1", port=redis.port) as client:
        client.flushall()


def state_up(fleet: Fleet) -> list[float]:
    return [metric(copy.url, "voigpt_state_up") for copy in fleet]


def wait_for(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.1)
    return time.monotonic() - start


def stored(fleet: Fleet, made_on: int) -> tuple[str, list[int]]:
    """A response stored through copy ``made_on``, and each copy's status reading it."""
    made = httpx.post(fleet[made_on].v1 + "/responses", timeout=30,
                      json={"model": "gpt-3.5-turbo", "input": "remember me"})
    assert made.status_code == 200, made.text
    identifier = made.json()["id"]
    return identifier, [httpx.get(f"{copy.v1}/responses/{identifier}", timeout=30).status_code
                        for copy in fleet]


def test_redis_stopped_under_load_costs_no_request(fleet_on: Fleet, redis: RedisServer) -> None:
    fleet = fleet_on
    assert state_up(fleet) == [1.0, 1.0, 1.0]
    load = Load(fleet)
    wait_for(lambda: len(load.seen) >= 30, 30)

    redis.stop()
    try:
        wait_for(lambda: state_up(fleet) == [0.0, 0.0, 0.0], 15)
        before = len(load.seen)
        wait_for(lambda: len(load.seen) >= before + 30, 30)  # and on, with Redis away
    finally:
        seen = load.stop()

    assert seen and set(seen) == {200}, [s for s in seen if s != 200][:10]
    for code, _, err in fleet.stop():
        assert code == 0, err
        assert err.count(UNREACHABLE) == 1, err
        assert "WARNING voigpt.state" in err


def test_redis_started_again_is_shared_again(fleet_on: Fleet, redis: RedisServer) -> None:
    fleet = fleet_on
    load = Load(fleet)
    try:
        redis.stop()
        wait_for(lambda: state_up(fleet) == [0.0, 0.0, 0.0], 15)
        _, read_while_away = stored(fleet, made_on=0)
        assert read_while_away[0] == 200  # its own memory
        assert read_while_away[1:] == [404, 404]

        redis.start()  # on the same port, empty (no persistence)
        back = wait_for(lambda: state_up(fleet) == [1.0, 1.0, 1.0], 10)
    finally:
        seen = load.stop()

    _, read = stored(fleet, made_on=1)
    assert read == [200, 200, 200], back
    assert seen and set(seen) == {200}, [s for s in seen if s != 200][:10]


PASSWORD = "fleet-pw-Zq8rT5wX3vN1"


@pytest.fixture
def guarded_redis(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path, password=PASSWORD) as server:
        yield server


def test_the_redis_password_never_shows(
        guarded_redis: RedisServer, site: Site, start_fleet: Callable[..., Fleet]) -> None:
    state = f"redis://:{PASSWORD}@127.0.0.1:{guarded_redis.port}/0"
    fleet = start_fleet(state, "--cache-ttl", "60", "--site-concurrency", "2")
    answers: list[httpx.Response] = []
    for copy in fleet:
        answers.append(chat(copy.url, "hi"))
        answers.append(chat(copy.url, "hi"))  # a cache hit
        answers.append(httpx.post(copy.v1 + "/responses", timeout=30,
                                  json={"model": "gpt-3.5-turbo", "input": "hello"}))
        answers.append(httpx.get(f"{copy.v1}/responses/{answers[-1].json()['id']}",
                                 timeout=30))
        answers.append(httpx.get(f"{copy.v1}/responses/resp_nothing", timeout=30))
        answers.append(httpx.post(copy.v1 + "/chat/completions", json={"model": 1}, timeout=30))
        answers += [httpx.get(copy.url + path, timeout=30)
                    for path in ("/metrics", "/health", "/v1/models", "/", "/nowhere")]
    assert [answer.status_code for answer in answers[:5]] == [200, 200, 200, 200, 404]
    wrong = f"redis://:{PASSWORD}-not@127.0.0.1:{guarded_redis.port}/0"
    code, out, err, _ = serve_exits("--backend", "http", "--base-url", site.url,
                                    "--state", wrong)
    assert code == 2 and "--state" in err and "refused the credentials" in err, (code, err)
    assert PASSWORD not in out + err

    guarded_redis.stop()  # the warning about it going away names the state, not the password
    for copy in fleet:
        answers.append(chat(copy.url, "while Redis is away"))
        answers.append(httpx.get(copy.url + "/metrics", timeout=30))
    assert answers[-2].status_code == 200
    assert metric(fleet[0].url, "voigpt_state_up") == 0.0

    assert all(PASSWORD not in f"{a.status_code} {a.headers} {a.text}" for a in answers)
    for code, out, err in fleet.stop():
        assert code == 0, err
        assert UNREACHABLE in err, err  # the warning was written...
        assert PASSWORD not in out + err  # ...without the password
