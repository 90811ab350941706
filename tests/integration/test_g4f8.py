"""``VoiGpt`` as a provider of the real g4f 8 (a test dependency, imported normally: CI
installs it, so these never skip), against the emulator on loopback and real proxy processes.
g4f stays offline here: no version check, and its usage log goes to a temporary directory."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import g4f
import g4f.cookies
import g4f.debug
import psutil
import pytest
from g4f.client import AsyncClient, Client
from g4f.providers.retry_provider import IterListProvider

import voigpt
from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.proxies import ConnectionOwners, RunningProxy
from voigpt import VoiGpt
from voigpt.emulator import Emulator, Fault

pytestmark = pytest.mark.usefixtures("g4f_offline")


@pytest.fixture
def g4f_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What a test needs of g4f's global state: no version check thread (it asks PyPI), the
    usage log and cookie files under ``tmp_path``, no proxy from the environment."""
    monkeypatch.setattr(g4f.debug, "version_check", False)
    monkeypatch.setattr(g4f.cookies.CookiesConfig, "cookies_dir", str(tmp_path / "g4f"))
    monkeypatch.delenv("G4F_PROXY", raising=False)


@pytest.fixture
def emulator(voigpt_emulator: Emulator, g4f_provider: type[VoiGpt]) -> Emulator:
    VoiGpt.url = voigpt_emulator.url
    return voigpt_emulator


@pytest.fixture
def watched(watched_emulator: Emulator, g4f_provider: type[VoiGpt]) -> Emulator:
    VoiGpt.url = watched_emulator.url
    return watched_emulator


def connections_to(emulator: Emulator) -> list[Any]:
    """This process's open client connections to the emulator (which runs in it too)."""
    return [
        c for c in psutil.Process().net_connections(kind="tcp")
        if c.status == psutil.CONN_ESTABLISHED and c.raddr and c.raddr.port == emulator.port
    ]


def sent_messages(emulator: Emulator) -> list[dict[str, str]]:
    posts = [r for r in emulator.requests if r.method == "POST"]
    body: list[dict[str, str]] = json.loads(posts[-1].body)["messages"]
    return body


# --- every way g4f 8 calls a provider class ---------------------------------------------


def test_chat_completion_create(emulator: Emulator) -> None:
    assert g4f.ChatCompletion.create("gpt-3.5-turbo", HELLO, provider=VoiGpt) == EMULATOR_REPLY


def test_chat_completion_create_async(emulator: Emulator) -> None:
    text = asyncio.run(g4f.ChatCompletion.create_async("", HELLO, provider=VoiGpt))
    assert text == EMULATOR_REPLY


def test_chat_completion_refuses_stream_as_the_seed_provider_did(emulator: Emulator) -> None:
    with pytest.raises(g4f.errors.StreamNotSupportedError, match="VoiGpt"):
        g4f.ChatCompletion.create("", HELLO, provider=VoiGpt, stream=True)


def test_client_create(emulator: Emulator) -> None:
    response = Client().chat.completions.create(HELLO, "gpt-3.5-turbo", provider=VoiGpt)
    assert response.choices[0].message.content == EMULATOR_REPLY


def test_client_stream(emulator: Emulator) -> None:
    chunks = Client().chat.completions.create(HELLO, "", provider=VoiGpt, stream=True)
    texts = [chunk.choices[0].delta.content for chunk in chunks]
    assert texts == [EMULATOR_REPLY, None]  # the reply in one chunk, then the finish chunk


def test_async_client_create(emulator: Emulator) -> None:
    async def ask() -> tuple[str, str]:
        response = await AsyncClient().chat.completions.create(HELLO, "", provider=VoiGpt)
        return str(response.choices[0].message.content), response.provider

    assert asyncio.run(ask()) == (EMULATOR_REPLY, "VoiGpt")  # the name from get_dict()


def test_async_client_stream(emulator: Emulator) -> None:
    async def stream() -> list[str | None]:
        chunks = AsyncClient().chat.completions.stream(HELLO, "", provider=VoiGpt)
        return [chunk.choices[0].delta.content async for chunk in chunks]

    assert asyncio.run(stream()) == [EMULATOR_REPLY, None]


def test_a_stream_waits_on_the_call_timeout_not_the_between_chunks_one(
    emulator: Emulator,
) -> None:
    # One chunk is the whole reply: g4f must not cut it off at ``stream_timeout``.
    emulator.inject(Fault.SLOW, delay=0.5)

    async def stream() -> list[str | None]:
        chunks = AsyncClient().chat.completions.stream(
            HELLO, "", provider=VoiGpt, timeout=10, stream_timeout=0.1
        )
        return [chunk.choices[0].delta.content async for chunk in chunks]

    assert asyncio.run(stream()) == [EMULATOR_REPLY, None]


def test_iter_list_provider_in_both_clients(emulator: Emulator) -> None:
    listed = IterListProvider([VoiGpt], shuffle=False)
    response = Client().chat.completions.create(HELLO, "", provider=listed)
    assert response.choices[0].message.content == EMULATOR_REPLY

    async def ask() -> str:
        answer = await AsyncClient().chat.completions.create(HELLO, "", provider=listed)
        return str(answer.choices[0].message.content)

    assert asyncio.run(ask()) == EMULATOR_REPLY
    assert len(emulator.tokens_issued) == 1  # the class-level token, across loops


def test_a_failure_reaches_g4f_as_the_voigpt_error(emulator: Emulator) -> None:
    emulator.inject(Fault.SERVER_ERROR, status=503, times=None)
    with pytest.raises(voigpt.ServiceUnavailable):
        Client().chat.completions.create(HELLO, "", provider=IterListProvider([VoiGpt]))


# --- the async path is native, per loop, and closes what it opens ------------------------


def test_async_calls_run_on_the_loop_not_in_threads(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_thread(*args: object, **kwargs: object) -> None:
        raise AssertionError("create_async ran in a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    emulator.inject(Fault.SLOW, delay=0.3, times=None)

    async def scenario() -> tuple[list[str], int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        beat = asyncio.create_task(ticker())
        replies = await asyncio.gather(*(VoiGpt.create_async("", HELLO) for _ in range(10)))
        beat.cancel()
        return replies, ticks

    replies, ticks = asyncio.run(scenario())
    assert replies == [EMULATOR_REPLY] * 10
    assert ticks > 5  # the loop kept turning while the replies were awaited
    assert emulator.totals.completions == 10


def test_many_concurrent_calls_share_one_token_fetch(emulator: Emulator) -> None:
    emulator.inject(Fault.SLOW, delay=0.2, endpoint="token", times=None)

    async def scenario() -> list[str]:
        client = AsyncClient()
        answers = await asyncio.gather(*(
            client.chat.completions.create([{"role": "user", "content": f"q{n}"}], "",
                                           provider=VoiGpt)
            for n in range(30)
        ))
        return [str(answer.choices[0].message.content) for answer in answers]

    replies = asyncio.run(scenario())
    assert replies == [f"[voigpt emulator] You said: q{n}" for n in range(30)]
    assert emulator.totals.tokens_issued == 1
    assert VoiGpt._access_token == emulator.tokens_issued[0]


def test_repeated_sync_client_calls_each_close_their_loop_session(emulator: Emulator) -> None:
    # g4f's sync Client runs a provider list's async method in a new event loop per call.
    listed = IterListProvider([VoiGpt], shuffle=False)
    for n in range(5):
        response = Client().chat.completions.create(
            [{"role": "user", "content": f"q{n}"}], "", provider=listed
        )
        assert response.choices[0].message.content == f"[voigpt emulator] You said: q{n}"
        assert connections_to(emulator) == []  # that loop's session was closed with it
    assert VoiGpt._loop_routes.open_loops() == 0
    assert emulator.totals.tokens_issued == 1


def test_repeated_asyncio_runs_each_close_their_session(emulator: Emulator) -> None:
    for _ in range(3):
        assert asyncio.run(VoiGpt.create_async("", HELLO)) == EMULATOR_REPLY
        assert connections_to(emulator) == []


def test_a_loop_ending_closes_its_own_session_only(emulator: Emulator) -> None:
    kept = asyncio.new_event_loop()  # a long-lived loop, as a bot's
    try:
        assert kept.run_until_complete(VoiGpt.create_async("", HELLO)) == EMULATOR_REPLY
        assert len(connections_to(emulator)) == 1  # its keep-alive connection
        assert asyncio.run(VoiGpt.create_async("", HELLO)) == EMULATOR_REPLY  # another loop
        assert len(connections_to(emulator)) == 1  # that loop's is closed, this one's kept
        assert kept.run_until_complete(VoiGpt.create_async("", HELLO)) == EMULATOR_REPLY
    finally:
        kept.run_until_complete(kept.shutdown_asyncgens())
        kept.close()
    assert connections_to(emulator) == []
    assert emulator.totals.requests == 4  # one token, three replies, no retry


def test_routes_evicted_mid_call_are_closed_when_their_calls_end(emulator: Emulator) -> None:
    emulator.inject(Fault.SLOW, delay=0.3, times=None)

    async def scenario() -> list[str]:
        # Ten timeouts are ten settings: more than the eight routes a loop keeps.
        return await asyncio.gather(*(
            VoiGpt.create_async("", HELLO, timeout=30 + n) for n in range(10)
        ))

    assert asyncio.run(scenario()) == [EMULATOR_REPLY] * 10
    assert emulator.totals.requests == 11  # no call lost its connection and retried
    assert connections_to(emulator) == []


def test_aclose_closes_the_running_loops_session(emulator: Emulator) -> None:
    async def scenario() -> tuple[int, int]:
        await VoiGpt.create_async("", HELLO)
        kept = len(connections_to(emulator))  # keep-alive: the connection stays open
        await VoiGpt.aclose()
        await asyncio.sleep(0.05)
        return kept, len(connections_to(emulator))

    assert asyncio.run(scenario()) == (1, 0)


def test_without_aiohttp_the_async_methods_fall_back_to_a_thread(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("voigpt.entrypoints.g4f._has_aiohttp", lambda: False)
    threads: list[object] = []
    real = asyncio.to_thread

    async def to_thread(func: Any, *args: Any) -> Any:
        threads.append(func)
        return await real(func, *args)

    monkeypatch.setattr(asyncio, "to_thread", to_thread)
    assert asyncio.run(VoiGpt.create_async("", HELLO)) == EMULATOR_REPLY
    assert len(threads) == 1
    assert VoiGpt._loop_routes.open_loops() == 0


# --- per-call settings and input on the async path --------------------------------------


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_async_client_proxy_carries_both_requests(
    watched: Emulator, connection_owners: ConnectionOwners, proxy: RunningProxy, scheme: str
) -> None:
    async def ask() -> str:
        client = AsyncClient(proxies=proxy.url(scheme))
        response = await client.chat.completions.create(HELLO, "", provider=VoiGpt)
        return str(response.choices[0].message.content)

    assert asyncio.run(ask()) == EMULATOR_REPLY
    assert connection_owners.pids == [proxy.pid, proxy.pid]


def test_sync_client_proxy_carries_both_requests(
    watched: Emulator, connection_owners: ConnectionOwners, proxy: RunningProxy
) -> None:
    client = Client(proxies=proxy.url("http"))
    response = client.chat.completions.create(HELLO, "", provider=VoiGpt)
    assert response.choices[0].message.content == EMULATOR_REPLY
    assert connection_owners.pids == [proxy.pid, proxy.pid]


def test_create_async_generator_per_call_proxy_and_direct_calls_apart(
    watched: Emulator, connection_owners: ConnectionOwners, proxy: RunningProxy
) -> None:
    async def scenario() -> list[str]:
        via = [c async for c in VoiGpt.create_async_generator("", HELLO, proxy=proxy.url("http"))]
        direct = [c async for c in VoiGpt.create_async_generator("", HELLO)]
        return via + direct

    assert asyncio.run(scenario()) == [EMULATOR_REPLY, EMULATOR_REPLY]
    assert connection_owners.pids == [proxy.pid, proxy.pid, os.getpid()]


def test_per_call_timeout_bounds_the_async_call(emulator: Emulator) -> None:
    emulator.inject(Fault.SLOW, delay=3.0)

    async def ask() -> object:
        return await AsyncClient().chat.completions.create(
            HELLO, "", provider=VoiGpt, timeout=0.5
        )

    with pytest.raises(voigpt.TimedOut):
        asyncio.run(ask())


def test_openai_style_messages_pass_through_g4f(emulator: Emulator) -> None:
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "name": "ann", "content": [
            {"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"},
        ]},
    ]

    async def ask() -> str:
        response = await AsyncClient().chat.completions.create(messages, "", provider=VoiGpt)
        return str(response.choices[0].message.content)

    assert asyncio.run(ask()) == EMULATOR_REPLY
    assert sent_messages(emulator) == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"},
    ]


def test_what_cannot_be_sent_is_refused_before_any_request(emulator: Emulator) -> None:
    image = [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]}]

    async def ask() -> object:
        return await AsyncClient().chat.completions.create(image, "", provider=VoiGpt)

    with pytest.raises(voigpt.InvalidMessages, match=r"messages\[0\]\.content\[1\]"):
        asyncio.run(ask())
    with pytest.raises(voigpt.InvalidInput, match="text only"):
        Client().chat.completions.create(HELLO, "", provider=VoiGpt, image=b"\x89PNG")
    assert emulator.totals.requests == 0


def test_what_g4f_sends_routinely_is_accepted(emulator: Emulator) -> None:
    extra: dict[str, Any] = {
        "temperature": 0.2, "max_tokens": 50, "top_p": 1, "stop": None, "seed": 1,
        "response_format": None, "api_key": "g4f-key", "stream_timeout": 5,
        "web_search": False, "history_disabled": True, "user": "u1",
    }
    response = Client().chat.completions.create(HELLO, "auto", provider=VoiGpt, **extra)
    assert response.choices[0].message.content == EMULATOR_REPLY

    async def ask() -> str:
        answer = await AsyncClient().chat.completions.create(
            HELLO, "gpt-3.5-turbo", provider=VoiGpt, **extra
        )
        return str(answer.choices[0].message.content)

    assert asyncio.run(ask()) == EMULATOR_REPLY


@pytest.fixture(autouse=True)
def _no_leftover_loops() -> Iterator[None]:
    yield
    assert VoiGpt._loop_routes.open_loops() == 0
