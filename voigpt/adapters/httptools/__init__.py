"""The site's POST straight over asyncio, parsed by httptools: what ``voigpt serve`` sends
its completions with when no proxy is in the way (``AiohttpEndpoint.post_directly``)."""

from voigpt.adapters.httptools.endpoint import HttptoolsEndpoint

__all__ = ["HttptoolsEndpoint"]
