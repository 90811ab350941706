"""VoiGpt keeps g4f's interface; these run on the fake backend, with no sockets."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from tests.support.messages import FAKE_REPLY, HELLO
from voigpt import VoiGpt
from voigpt.domain.errors import InvalidMessages, InvalidProxy


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
