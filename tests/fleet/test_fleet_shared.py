"""Three real ``voigpt serve`` processes on one shared state (one Redis, or one SQLite file),
in front of one emulator: what one copy learns or holds, the others see. Each test runs once
on Redis and once on SQLite."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.fleet import Fleet, Site, at_once, chat, spread
from tests.support.server import metric
from voigpt.adapters.redis.pace import LEASE as REDIS_SLOT_LEASE
from voigpt.adapters.sqlite.pace import SLOT_LEASE as SQLITE_SLOT_LEASE
from voigpt.emulator import Fault

KINDS = ("redis", "sqlite")
SLOT_LEASE = {"redis": REDIS_SLOT_LEASE, "sqlite": SQLITE_SLOT_LEASE}
CAP = 4
# No retries, so that a 429 reaches the fleet's pace at once (a copy with retries would
# also wait it out itself); the cap and the cache on, for the tests that need them.
FLAGS = ("--retries", "0", "--site-concurrency", str(CAP), "--cache-ttl", "60")


@pytest.fixture(scope="module", params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def fleet(kind: str, site_watch: Site, new_state: Callable[[str], str]) -> Iterator[Fleet]:
    """Three copies for the module, on a state of their own: for the tests that need no
    fresh state and leave every copy running."""
    with Fleet("--backend", "http", "--base-url", site_watch.url,
               "--state", new_state(kind), *FLAGS) as started:
        yield started


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex}"  # never a cached reply


def test_the_fleet_fetches_one_token_in_all(
        kind: str, site: Site, new_state: Callable[[str], str],
        start_fleet: Callable[..., Fleet]) -> None:
    fleet = start_fleet(new_state(kind), *FLAGS)

    answers = at_once(spread(fleet, [unique(f"hello {n}") for n in range(30)]))

    assert [answer.status_code for answer in answers] == [200] * 30
    assert len(site.emulator.tokens_issued) == 1, site.emulator.tokens_issued
    assert site.emulator.completions == 30


def test_a_429_seen_by_one_copy_pauses_the_others(fleet: Fleet, site: Site) -> None:
    site.emulator.inject(Fault.RATE_LIMITED, retry_after=2)

    limited = chat(fleet[0].url, unique("limited"))
    after = chat(fleet[1].url, unique("after"))

    assert limited.status_code == 429, limited.text
    assert after.status_code == 200, after.text
    posts = site.posts()
    assert len(posts) == 2, posts
    waited = posts[1] - posts[0]
    assert 1.8 <= waited < 6, waited  # Retry-After: 2, on another copy


def test_the_site_concurrency_cap_holds_across_the_copies(fleet: Fleet, site: Site) -> None:
    answers = at_once(spread(fleet, [unique(f"hold 0.3: {n}") for n in range(30)]))

    assert [answer.status_code for answer in answers] == [200] * 30
    assert site.most == CAP


def test_a_copy_killed_while_holding_slots_frees_them_within_the_lease(
        kind: str, site: Site, new_state: Callable[[str], str],
        start_fleet: Callable[..., Fleet]) -> None:
    fleet = start_fleet(new_state(kind), "--site-concurrency", str(CAP))
    chat(fleet[0].url, "a token first")  # so that the held slots are all the site sees
    held = [threading.Thread(target=_quietly, args=(fleet[0].url, f"hold 300: {n}"))
            for n in range(CAP)]
    for thread in held:
        thread.start()
    _wait_for(lambda: site.now == CAP)
    fleet[0].process.kill()  # SIGKILL: its slots are never given back
    killed = time.monotonic()

    answers = at_once([(fleet[1].url, unique("after")), (fleet[2].url, unique("after"))],
                      timeout=SLOT_LEASE[kind] + 30)
    took = time.monotonic() - killed

    assert [answer.status_code for answer in answers] == [200, 200]
    lease = SLOT_LEASE[kind]
    # The slots were held (renewed every third of the lease), then ran out within it.
    assert lease / 2 < took < lease + 5, (took, lease)
    for thread in held:
        thread.join(10)


def test_previous_response_id_continues_on_another_copy(fleet: Fleet, site: Site) -> None:
    first = unique("my name is Ada")
    made = httpx.post(fleet[0].v1 + "/responses", timeout=30,
                      json={"model": "gpt-3.5-turbo", "input": first})
    assert made.status_code == 200, made.text
    second = httpx.post(fleet[1].v1 + "/responses", timeout=30, json={
        "model": "gpt-3.5-turbo", "input": "and yours?", "previous_response_id": made.json()["id"]})
    assert second.status_code == 200, second.text
    third = httpx.post(fleet[2].v1 + "/responses", timeout=30, json={
        "model": "gpt-3.5-turbo", "input": "again?", "previous_response_id": second.json()["id"]})
    assert third.status_code == 200, third.text

    sent = site.emulator.requests[-1].json()
    assert isinstance(sent, dict)
    said = [message["content"] for message in sent["messages"] if message["role"] == "user"]
    assert said == [first, "and yours?", "again?"], sent
    for copy in fleet:
        read = httpx.get(f"{copy.v1}/responses/{second.json()['id']}", timeout=30)
        assert read.status_code == 200, read.text
        assert read.json()["output"] == second.json()["output"]


def test_a_reply_cached_by_one_copy_answers_another(fleet: Fleet, site: Site) -> None:
    text = unique("cache me")
    hits = metric(fleet[1].url, "voigpt_reply_cache_lookups_total", outcome="hit")

    first = chat(fleet[0].url, text)
    second = chat(fleet[1].url, text)

    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert len(site.posts()) == 1
    assert second.json()["choices"] == first.json()["choices"]
    assert metric(fleet[1].url, "voigpt_reply_cache_lookups_total", outcome="hit") == hits + 1


def _quietly(url: str, text: str) -> None:
    with contextlib.suppress(httpx.HTTPError):  # its copy was killed under it
        chat(url, text, timeout=600)


def _wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
