"""VoiGpt keeps g4f's interface; these run on the fake backend, with no sockets."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.messages import FAKE_REPLY, HELLO
from voigpt import VoiGpt
from voigpt.config import Settings
from voigpt.domain.errors import InvalidConfig, InvalidInput, InvalidMessages, InvalidProxy


@pytest.fixture(autouse=True)
def fake_backend(g4f_provider: type[VoiGpt], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOIGPT_BACKEND", "fake")


def test_has_the_seed_class_attributes() -> None:
    assert VoiGpt.url == "https://voigpt.com"
    assert VoiGpt.working is True
    assert VoiGpt.supports_gpt_35_turbo is True
    assert VoiGpt.supports_message_history is True
    assert VoiGpt.supports_stream is False
    assert VoiGpt.needs_auth is False
    assert "access_token" in VoiGpt.params


def test_create_completion_has_the_seed_signature() -> None:
    params = inspect.signature(VoiGpt.create_completion).parameters
    assert list(params) == ["model", "messages", "stream", "proxy", "access_token", "kwargs"]
    assert params["proxy"].default is None
    assert params["access_token"].default is None


def test_yields_the_reply_and_caches_the_token_on_the_class() -> None:
    result = VoiGpt.create_completion(model="gpt-3.5-turbo", messages=HELLO, stream=False)
    assert inspect.isgenerator(result)
    assert next(result) == FAKE_REPLY
    assert VoiGpt._access_token == "fake-token-1"
    assert "".join(VoiGpt.create_completion("", HELLO, False)) == FAKE_REPLY
    assert VoiGpt._access_token == "fake-token-1"


def test_forgetting_the_class_token_fetches_a_fresh_one() -> None:
    list(VoiGpt.create_completion("", HELLO, False))
    VoiGpt._access_token = None
    list(VoiGpt.create_completion("", HELLO, False))
    assert VoiGpt._access_token == "fake-token-2"


def test_an_explicit_token_is_used_and_never_cached() -> None:
    list(VoiGpt.create_completion("", HELLO, False, access_token="mine"))
    assert VoiGpt._access_token is None


def test_bad_messages_fail_at_the_call_not_at_iteration() -> None:
    with pytest.raises(InvalidMessages, match=r"messages\[0\]: 'content' must be a string"):
        VoiGpt.create_completion("", [{"role": "user", "content": 1}], False)


def test_bad_proxy_fails_at_the_call() -> None:
    with pytest.raises(InvalidProxy, match="has no host"):
        VoiGpt.create_completion("", HELLO, False, proxy="http://:8080")


def test_create_async_returns_the_text() -> None:
    text = asyncio.run(VoiGpt.create_async("gpt-3.5-turbo", HELLO))
    assert text == FAKE_REPLY


# --- what g4f 8 reads of a provider class -------------------------------------------------


def test_has_what_g4f_8_reads_of_a_provider_class() -> None:
    assert VoiGpt.get_dict() == {"name": "VoiGpt", "url": VoiGpt.url, "label": "VoiGpt"}
    assert VoiGpt.get_parent() == "VoiGpt"
    assert VoiGpt.default_model == "gpt-3.5-turbo"
    assert VoiGpt.get_models() == VoiGpt.models == ["gpt-3.5-turbo"]
    assert VoiGpt.get_models(api_key="x") is not VoiGpt.models  # a copy
    assert VoiGpt.supports_system_message is True
    assert VoiGpt.use_stream_timeout is False  # one chunk: the whole-call timeout applies
    assert isinstance(VoiGpt.live, int)
    assert VoiGpt.__name__ == "VoiGpt"


def test_get_dict_follows_the_url() -> None:
    VoiGpt.url = "http://127.0.0.1:9"
    assert VoiGpt.get_dict()["url"] == "http://127.0.0.1:9"


def test_create_async_generator_has_g4f_8s_signature() -> None:
    params = inspect.signature(VoiGpt.create_async_generator).parameters
    assert list(params) == ["model", "messages", "proxy", "access_token", "timeout", "kwargs"]
    assert all(params[name].default is None for name in ("proxy", "access_token", "timeout"))


def test_create_async_generator_yields_the_reply_as_one_chunk() -> None:
    async def collect() -> list[str]:
        return [chunk async for chunk in VoiGpt.create_async_generator("", HELLO, stream=True)]

    assert asyncio.run(collect()) == [FAKE_REPLY]
    assert VoiGpt._access_token == "fake-token-1"


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"messages": [{"role": "tool", "content": "x"}]}, InvalidMessages, r"messages\[0\]"),
        ({"proxy": "http://:8080"}, InvalidProxy, "has no host"),
        ({"timeout": -1}, InvalidConfig, "timeout"),
        ({"access_token": "a b"}, InvalidInput, "access_token"),
        ({"media": [(b"\x89PNG", "a.png")]}, InvalidInput, "text only"),
        ({"model": 3}, InvalidInput, "model must be a string"),
    ],
)
def test_create_async_generator_refuses_bad_input_at_the_call(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    call = {"model": "", "messages": HELLO, **arguments}
    with pytest.raises(error, match=message):
        VoiGpt.create_async_generator(**call)
    with pytest.raises(error, match=message):
        asyncio.run(VoiGpt.create_async(**call))


G4F_EXTRAS: dict[str, Any] = {
    "stream": True, "conversation": None, "media": None, "temperature": 0.7,
    "max_tokens": 100, "api_key": "g4f-key", "stop": ["x"], "provider": VoiGpt,
    "stream_timeout": 30, "ignore_stream": True, "web_search": False, "base_url": None,
    "response_format": None, "tools": None, "user": "u1", "history_disabled": True,
}


def test_what_g4f_sends_routinely_is_accepted_and_ignored() -> None:
    assert "".join(VoiGpt.create_completion("auto", HELLO, **G4F_EXTRAS)) == FAKE_REPLY

    async def both() -> tuple[str, list[str]]:
        text = await VoiGpt.create_async("", HELLO, **G4F_EXTRAS)
        chunks = [c async for c in VoiGpt.create_async_generator("", HELLO, **G4F_EXTRAS)]
        return text, chunks

    assert asyncio.run(both()) == (FAKE_REPLY, [FAKE_REPLY])


def test_any_model_name_is_accepted_as_by_the_seed() -> None:
    # voigpt.com has one model and takes none in the request: g4f's "auto" or "" are fine.
    for model in ("auto", "", "gpt-4o"):
        assert asyncio.run(_first(VoiGpt.create_async_generator(model, HELLO))) == FAKE_REPLY


def test_create_async_is_native_not_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_thread(*args: object, **kwargs: object) -> None:
        raise AssertionError("ran in a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    assert asyncio.run(VoiGpt.create_async("", HELLO)) == FAKE_REPLY


def test_each_event_loop_gets_its_own_container_closed_with_the_loop() -> None:
    seen: list[object] = []

    async def call() -> None:
        await VoiGpt.create_async("", HELLO)
        async with VoiGpt._loop_routes.use(_settings()) as container:
            seen.append(container)
        assert VoiGpt._loop_routes.open_loops() == 1

    asyncio.run(call())
    asyncio.run(call())
    assert seen[0] is not seen[1]
    assert VoiGpt._loop_routes.open_loops() == 0  # each loop's routes went with it


def test_a_loop_reuses_its_container_across_calls() -> None:
    async def twice() -> bool:
        async with VoiGpt._loop_routes.use(_settings()) as first:
            pass
        async with VoiGpt._loop_routes.use(_settings()) as second:
            pass
        return first is second

    assert asyncio.run(twice()) is True


def test_aclose_forgets_the_running_loops_routes() -> None:
    async def scenario() -> int:
        await VoiGpt.create_async("", HELLO)
        await VoiGpt.aclose()
        return VoiGpt._loop_routes.open_loops()

    assert asyncio.run(scenario()) == 0


def test_the_token_is_shared_between_the_sync_and_async_paths() -> None:
    assert asyncio.run(VoiGpt.create_async("", HELLO)) == FAKE_REPLY
    token = VoiGpt._access_token
    list(VoiGpt.create_completion("", HELLO, False))
    assert VoiGpt._access_token == token


def _settings() -> Settings:
    return Settings.load(base_url=VoiGpt.url)


async def _first(gen: AsyncIterator[str]) -> str:
    return await gen.__anext__()
