"""The asyncio HTTP adapters, built on aiohttp (and aiohttp-socks, imported only for SOCKS
proxies): one keep-alive session per endpoint and event loop, opened in the loop on first
use."""

from voigpt.adapters.aiohttp.endpoint import AiohttpEndpoint
from voigpt.adapters.aiohttp.token_source import AiohttpTokenSource
from voigpt.adapters.aiohttp.transport import AiohttpChatTransport
from voigpt.adapters.site import Answer

__all__ = ["AiohttpChatTransport", "AiohttpEndpoint", "AiohttpTokenSource", "Answer"]
