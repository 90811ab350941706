"""The interfaces the use case needs; adapters implement them."""

from voigpt.ports.clock import Clock
from voigpt.ports.token_cache import TokenCache
from voigpt.ports.token_source import TokenSource
from voigpt.ports.transport import ChatTransport

__all__ = ["ChatTransport", "Clock", "TokenCache", "TokenSource"]
