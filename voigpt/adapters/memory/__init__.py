"""In-memory adapters: the token caches, the server's stored responses, the shared state of
one process (pace, reply cache), and fakes for offline tests, each with its asyncio twin."""

from voigpt.adapters.memory.caches import (
    AsyncAttributeTokenCache,
    AsyncInMemoryTokenCache,
    AttributeTokenCache,
    InMemoryTokenCache,
)
from voigpt.adapters.memory.fakes import (
    AsyncFakeChatTransport,
    AsyncFakeClock,
    AsyncFakeTokenSource,
    FakeChatTransport,
    FakeClock,
    FakeTokenSource,
    Handler,
    SentRequest,
    echo_reply,
)
from voigpt.adapters.memory.responses import BoundedResponseStore
from voigpt.adapters.memory.state import (
    MemoryPace,
    MemoryReplyCache,
    MemoryState,
    RememberedTokenCache,
)

__all__ = [
    "AsyncAttributeTokenCache",
    "AsyncFakeChatTransport",
    "AsyncFakeClock",
    "AsyncFakeTokenSource",
    "AsyncInMemoryTokenCache",
    "AttributeTokenCache",
    "BoundedResponseStore",
    "FakeChatTransport",
    "FakeClock",
    "FakeTokenSource",
    "Handler",
    "InMemoryTokenCache",
    "MemoryPace",
    "MemoryReplyCache",
    "MemoryState",
    "RememberedTokenCache",
    "SentRequest",
    "echo_reply",
]
