"""``voigpt.testing.wired_with_fakes``: the real container and use case, with fakes in it."""

from __future__ import annotations

import pytest

from tests.support.messages import HELLO
from voigpt import Client, InvalidConfig, ServiceUnavailable
from voigpt.adapters.requests import RequestsChatTransport
from voigpt.testing import FakeChatTransport, FakeClock, wired_with_fakes


def test_the_real_use_case_runs_on_the_fakes() -> None:
    with wired_with_fakes(replies=["Hi from a fake"]) as fakes:
        assert fakes.client().complete(HELLO).text == "Hi from a fake"
    assert fakes.transport.sent[0].conversation.to_dicts() == HELLO
    assert fakes.token_source.token_fetches == 1


def test_retries_wait_on_the_fake_clock_instantly() -> None:
    failure = ServiceUnavailable("down", status=502)
    with wired_with_fakes(replies=[failure, "back"], retries=1) as fakes:
        assert fakes.client().ask("Hi") == "back"
    assert len(fakes.clock.sleeps) == 1
    assert 0.25 <= fakes.clock.sleeps[0] <= 0.5


def test_settings_are_validated_as_for_a_client() -> None:
    with pytest.raises(InvalidConfig, match="timeout= must be a number"), wired_with_fakes(
        timeout="soon"
    ):
        pass  # pragma: no cover


def test_the_environment_is_ignored_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOIGPT_TIMEOUT", "not a number")
    with wired_with_fakes() as fakes:
        assert fakes.container.config.deadline() == 90.0
    with wired_with_fakes(environ={"VOIGPT_TIMEOUT": "5"}) as fakes:
        assert fakes.container.config.deadline() == 5.0


def test_the_overrides_end_with_the_block() -> None:
    with wired_with_fakes() as fakes:
        assert fakes.container.transport() is fakes.transport
    assert isinstance(fakes.container.transport(), RequestsChatTransport)


def test_your_own_fakes_can_be_wired_in() -> None:
    transport = FakeChatTransport(handler=lambda conversation, token: token.value)
    clock = FakeClock()
    with wired_with_fakes(transport=transport, clock=clock) as fakes:
        assert fakes.client().ask("Hi") == "fake-token-1"
    assert fakes.transport is transport and fakes.clock is clock


def test_replies_and_a_transport_together_are_refused() -> None:
    with pytest.raises(TypeError, match="either replies= or transport="), wired_with_fakes(
        replies=["x"], transport=FakeChatTransport()
    ):
        pass  # pragma: no cover


def test_the_local_backend_is_the_command_lines_only() -> None:
    with pytest.raises(InvalidConfig, match="backend 'local' is the command line's"):
        Client(backend="local")
