"""The seed's three examples, unchanged but for their placeholders, against a strict local
server; and g4f-style use through ``ChatCompletion.create(..., provider=VoiGpt)``."""

from __future__ import annotations

import asyncio
from typing import Dict, List  # noqa: UP035 - the seed's own spelling

import pytest

from tests.support import g4f_like
from tests.support.proxies import RunningProxy
from tests.support.strict_server import StrictServer
from voigpt import VoiGpt


def test_seed_example_1_minimal(
    strict: StrictServer, g4f_at: type[VoiGpt], capsys: pytest.CaptureFixture[str]
) -> None:
    VoiGpt.url = strict.url
    # Пример 1: Использование с минимальными параметрами
    messages: List[Dict[str, str]] = [{"role": "user", "content": "Hello, VoiGpt!"}]  # noqa: UP006
    result = VoiGpt.create_completion(model="gpt-3.5-turbo", messages=messages, stream=False)
    print(next(result))

    assert capsys.readouterr().out == "strict echo: Hello, VoiGpt!\n"
    assert VoiGpt._access_token == strict.issued[0]


def test_seed_example_2_with_access_token(
    strict: StrictServer, g4f_at: type[VoiGpt], capsys: pytest.CaptureFixture[str]
) -> None:
    VoiGpt.url = strict.url
    # Пример 2: Использование с указанием access_token
    access_token = strict.issue()  # the seed has "your_access_token" here
    messages: List[Dict[str, str]] = [{"role": "user", "content": "Как дела?"}]  # noqa: UP006
    result = VoiGpt.create_completion(
        model="gpt-3.5-turbo", messages=messages, stream=False, access_token=access_token
    )
    print(next(result))

    assert capsys.readouterr().out == "strict echo: Как дела?\n"
    assert strict.requests("GET") == []
    assert VoiGpt._access_token is None


def test_seed_example_3_with_proxy(
    strict_with_pids: StrictServer,
    proxy: RunningProxy,
    g4f_at: type[VoiGpt],
    capsys: pytest.CaptureFixture[str],
) -> None:
    VoiGpt.url = strict_with_pids.url
    your_proxy = proxy.url("http")  # the seed has "http://your_proxy:8080" here
    # Пример 3: Использование с указанием прокси
    messages: List[Dict[str, str]] = [{"role": "user", "content": "Tell me a joke."}]  # noqa: UP006
    result = VoiGpt.create_completion(
        model="gpt-3.5-turbo", messages=messages, stream=False, proxy=your_proxy
    )
    print(next(result))

    assert capsys.readouterr().out == "strict echo: Tell me a joke.\n"
    assert {seen.peer_pid for seen in strict_with_pids.seen} == {proxy.pid}


def test_works_as_provider_for_g4f_chat_completion(
    strict: StrictServer, g4f_at: type[VoiGpt]
) -> None:
    VoiGpt.url = strict.url
    messages = [{"role": "user", "content": "Hello"}]
    text = g4f_like.ChatCompletion.create("gpt-3.5-turbo", messages, provider=VoiGpt)
    assert text == "strict echo: Hello"
    again = asyncio.run(
        g4f_like.ChatCompletion.create_async("gpt-3.5-turbo", messages, provider=VoiGpt)
    )
    assert again == "strict echo: Hello"
    assert len(strict.issued) == 1


def test_g4f_refuses_stream_for_it_as_for_any_non_streaming_provider(
    g4f_at: type[VoiGpt],
) -> None:
    with pytest.raises(g4f_like.StreamNotSupportedError, match="VoiGpt"):
        g4f_like.ChatCompletion.create(
            "gpt-3.5-turbo", [{"role": "user", "content": "x"}], provider=VoiGpt, stream=True
        )


def test_a_url_change_sends_later_traffic_there_without_leaking_the_old_token(
    g4f_at: type[VoiGpt],
) -> None:
    first, second = StrictServer().start(), StrictServer().start()
    try:
        VoiGpt.url = first.url
        list(VoiGpt.create_completion("", [{"role": "user", "content": "a"}], False))
        VoiGpt.url = second.url
        assert next(VoiGpt.create_completion("", [{"role": "user", "content": "b"}], False)) == (
            "strict echo: b"
        )
        assert [s.method for s in second.seen] == ["GET", "POST"]
        assert second.seen[1].headers["X-CSRFToken"] == second.issued[0]
    finally:
        first.stop()
        second.stop()


def test_a_stale_class_token_is_refreshed(strict: StrictServer, g4f_at: type[VoiGpt]) -> None:
    VoiGpt.url = strict.url
    VoiGpt._access_token = "STALEtoken"
    assert next(VoiGpt.create_completion("", [{"role": "user", "content": "x"}], False)) == (
        "strict echo: x"
    )
    assert VoiGpt._access_token == strict.issued[0]
