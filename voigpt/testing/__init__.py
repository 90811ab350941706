"""The test kit for code that uses voigpt: fakes with real state to assert on, and the real
wiring (container, use case, ``Client``) with those fakes in it. No network.

::

    from voigpt.testing import wired_with_fakes

    with wired_with_fakes(replies=["Hi!"]) as fakes:
        assert fakes.client().ask("Hello") == "Hi!"
    assert fakes.transport.sent[0].conversation.messages[-1].content == "Hello"
    assert fakes.token_source.token_fetches == 1

``fakes.async_client()`` is an ``AsyncClient`` on the same wiring, with the ``async_*`` fakes.

With pytest, ``pytest_plugins = ["voigpt.testing.pytest_plugin"]`` gives the fixtures
``voigpt_fakes`` (the above, per test) and ``voigpt_emulator`` (a started local voigpt.com).
"""

from voigpt.adapters.memory import (
    AsyncFakeChatTransport,
    AsyncFakeClock,
    AsyncFakeTokenSource,
    AsyncInMemoryTokenCache,
    FakeChatTransport,
    FakeClock,
    FakeTokenSource,
    Handler,
    InMemoryTokenCache,
    SentRequest,
    echo_reply,
)
from voigpt.testing.wiring import Fakes, wired_with_fakes

__all__ = [
    "AsyncFakeChatTransport",
    "AsyncFakeClock",
    "AsyncFakeTokenSource",
    "AsyncInMemoryTokenCache",
    "FakeChatTransport",
    "FakeClock",
    "FakeTokenSource",
    "Fakes",
    "Handler",
    "InMemoryTokenCache",
    "SentRequest",
    "echo_reply",
    "wired_with_fakes",
]
