"""The interfaces the use case needs, each with its asyncio twin; adapters implement them."""

from voigpt.ports.clock import AsyncClock, Clock
from voigpt.ports.observer import NO_OBSERVER, CompletionObserver
from voigpt.ports.response_store import ResponseStore
from voigpt.ports.token_cache import AsyncTokenCache, TokenCache
from voigpt.ports.token_source import AsyncTokenSource, TokenSource
from voigpt.ports.transport import AsyncChatTransport, ChatTransport

__all__ = [
    "NO_OBSERVER",
    "AsyncChatTransport",
    "AsyncClock",
    "AsyncTokenCache",
    "AsyncTokenSource",
    "ChatTransport",
    "Clock",
    "CompletionObserver",
    "ResponseStore",
    "TokenCache",
    "TokenSource",
]
