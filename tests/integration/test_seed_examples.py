"""The seed's three examples, unchanged but for their placeholders, against the local
emulator; and g4f-style use through ``ChatCompletion.create(..., provider=VoiGpt)``."""

from __future__ import annotations

import asyncio
from typing import Dict, List  # noqa: UP035 - the seed's own spelling

import pytest

from tests.support import g4f_like
from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.proxies import ConnectionOwners, RunningProxy
from tests.support.site import token_issued_by
from voigpt import VoiGpt
from voigpt.emulator import Emulator


def test_seed_example_1_minimal(
    voigpt_emulator: Emulator, g4f_provider: type[VoiGpt], capsys: pytest.CaptureFixture[str]
) -> None:
    VoiGpt.url = voigpt_emulator.url
    # Пример 1: Использование с минимальными параметрами
    messages: List[Dict[str, str]] = [{"role": "user", "content": "Hello, VoiGpt!"}]  # noqa: UP006
    result = VoiGpt.create_completion(model="gpt-3.5-turbo", messages=messages, stream=False)
    print(next(result))

    assert capsys.readouterr().out == "[voigpt emulator] You said: Hello, VoiGpt!\n"
    assert VoiGpt._access_token == voigpt_emulator.tokens_issued[0]


def test_seed_example_2_with_access_token(
    voigpt_emulator: Emulator, g4f_provider: type[VoiGpt], capsys: pytest.CaptureFixture[str]
) -> None:
    VoiGpt.url = voigpt_emulator.url
    # Пример 2: Использование с указанием access_token
    access_token = token_issued_by(voigpt_emulator)  # the seed has "your_access_token" here
    messages: List[Dict[str, str]] = [{"role": "user", "content": "Как дела?"}]  # noqa: UP006
    result = VoiGpt.create_completion(
        model="gpt-3.5-turbo", messages=messages, stream=False, access_token=access_token
    )
    print(next(result))

    assert capsys.readouterr().out == "[voigpt emulator] You said: Как дела?\n"
    assert [r.method for r in voigpt_emulator.requests] == ["POST"]  # no token fetched
    assert voigpt_emulator.requests[0].headers["x-csrftoken"] == access_token
    assert VoiGpt._access_token is None


def test_seed_example_3_with_proxy(
    watched_emulator: Emulator,
    connection_owners: ConnectionOwners,
    proxy: RunningProxy,
    g4f_provider: type[VoiGpt],
    capsys: pytest.CaptureFixture[str],
) -> None:
    VoiGpt.url = watched_emulator.url
    your_proxy = proxy.url("http")  # the seed has "http://your_proxy:8080" here
    # Пример 3: Использование с указанием прокси
    messages: List[Dict[str, str]] = [{"role": "user", "content": "Tell me a joke."}]  # noqa: UP006
    result = VoiGpt.create_completion(
        model="gpt-3.5-turbo", messages=messages, stream=False, proxy=your_proxy
    )
    print(next(result))

    assert capsys.readouterr().out == "[voigpt emulator] You said: Tell me a joke.\n"
    assert connection_owners.pids == [proxy.pid, proxy.pid]


def test_works_as_provider_for_g4f_chat_completion(
    voigpt_emulator: Emulator, g4f_provider: type[VoiGpt]
) -> None:
    VoiGpt.url = voigpt_emulator.url
    text = g4f_like.ChatCompletion.create("gpt-3.5-turbo", HELLO, provider=VoiGpt)
    assert text == EMULATOR_REPLY
    again = asyncio.run(
        g4f_like.ChatCompletion.create_async("gpt-3.5-turbo", HELLO, provider=VoiGpt)
    )
    assert again == EMULATOR_REPLY
    assert len(voigpt_emulator.tokens_issued) == 1


def test_g4f_refuses_stream_for_it_as_for_any_non_streaming_provider(
    g4f_provider: type[VoiGpt],
) -> None:
    with pytest.raises(g4f_like.StreamNotSupportedError, match="VoiGpt"):
        g4f_like.ChatCompletion.create(
            "gpt-3.5-turbo", [{"role": "user", "content": "x"}], provider=VoiGpt, stream=True
        )


def test_a_url_change_sends_later_traffic_there_without_leaking_the_old_token(
    voigpt_emulator: Emulator, g4f_provider: type[VoiGpt]
) -> None:
    first = voigpt_emulator
    with Emulator() as second:
        VoiGpt.url = first.url
        list(VoiGpt.create_completion("", [{"role": "user", "content": "a"}], False))
        VoiGpt.url = second.url
        assert next(VoiGpt.create_completion("", [{"role": "user", "content": "b"}], False)) == (
            "[voigpt emulator] You said: b"
        )
        assert [r.method for r in second.requests] == ["GET", "POST"]
        assert second.requests[1].headers["x-csrftoken"] == second.tokens_issued[0]
        assert first.tokens_issued[0] not in str(second.requests)


def test_a_stale_class_token_is_refreshed(
    voigpt_emulator: Emulator, g4f_provider: type[VoiGpt]
) -> None:
    VoiGpt.url = voigpt_emulator.url
    VoiGpt._access_token = "STALEtoken"
    assert next(VoiGpt.create_completion("", [{"role": "user", "content": "x"}], False)) == (
        "[voigpt emulator] You said: x"
    )
    assert VoiGpt._access_token == voigpt_emulator.tokens_issued[0]
