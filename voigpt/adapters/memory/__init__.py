"""In-memory adapters: the token caches the product uses, and fakes for offline tests."""

from voigpt.adapters.memory.caches import AttributeTokenCache, InMemoryTokenCache
from voigpt.adapters.memory.fakes import (
    FakeChatTransport,
    FakeClock,
    FakeTokenSource,
    Handler,
    SentRequest,
    echo_reply,
)

__all__ = [
    "AttributeTokenCache",
    "FakeChatTransport",
    "FakeClock",
    "FakeTokenSource",
    "Handler",
    "InMemoryTokenCache",
    "SentRequest",
    "echo_reply",
]
