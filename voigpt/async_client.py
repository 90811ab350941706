"""``AsyncClient``: the asyncio twin of ``Client``, for services on an event loop.

::

    from voigpt import AsyncClient

    async with AsyncClient(timeout=30) as client:
        completion = await client.complete([{"role": "user", "content": "Hello"}])

The same settings, validation, errors, deadline, retries and proxies as ``Client``; one
aiohttp session and one token cache per client, shared by all the tasks of its event loop
(concurrent tasks that find no token share one fetch).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from voigpt.client import asked_of, container_from
from voigpt.container import Container, aclose_container
from voigpt.domain.complete_chat import Messages
from voigpt.domain.errors import InvalidConfig
from voigpt.domain.values import AccessToken, Completion, Conversation

if TYPE_CHECKING:  # annotations only: the tools' rules load when a call asks for them
    from voigpt.domain.tools import ResponseFormat, Tool, ToolChoice


class AsyncClient:
    """Settings as keyword arguments (``base_url``, ``access_token``, ``proxy``, ``timeout``,
    ``backend``, ``max_reply_bytes``, ``retries``), else from ``config``, else ``VOIGPT_*``
    variables. All are checked here, before any I/O."""

    # Twin of Client.__init__'s signature (the settings are read by the same container_from),
    # spelled out so that help() and editors show the parameters here too.
    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        container: Container | None = None,
        **settings: Any,
    ) -> None:
        self.container = container_from(config, environ, container, settings)
        if self.container.config.backend() == "http":
            if not _has_aiohttp():
                raise InvalidConfig(
                    "AsyncClient talks to the site through aiohttp, which is not installed: "
                    "pip install 'voigpt[async]' (or use backend='fake' offline)"
                )
            # Built now (no I/O): what it needs installed for these settings, such as
            # aiohttp-socks for a SOCKS proxy, is checked with the settings.
            self.container.async_endpoint()

    # Twin of Client.complete, kept apart because this one is a coroutine: its parameters
    # are spelled out (what they mean is shared: asked_of, and the rules both drivers run) so
    # that help() and editors show them, which a signature copied from Client's would not.
    async def complete(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        access_token: str | AccessToken | None = None,
        tools: Sequence[Mapping[str, Any] | Tool] | None = None,
        tool_choice: str | Mapping[str, Any] | ToolChoice | None = None,
        response_format: Mapping[str, Any] | ResponseFormat | type | None = None,
        parallel_tool_calls: bool | None = None,
    ) -> Completion:
        """Send ``messages`` (a list of message dicts or a ``Conversation``); ``tools``,
        ``tool_choice``, ``response_format`` and ``parallel_tool_calls`` as ``Client.complete``
        takes them."""
        use_case = self.container.async_complete_chat()
        asked = asked_of(tools, tool_choice, response_format, parallel_tool_calls)
        return await use_case(messages, model=model, access_token=access_token, asked=asked)

    async def ask(self, prompt: str, *, system: str | None = None, model: str | None = None) -> str:
        """One question, one answer: the reply text."""
        conversation = Conversation.question(prompt, system=system)
        return (await self.complete(conversation, model=model)).text

    async def aclose(self) -> None:
        await aclose_container(self.container)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        config = self.container.config
        return f"AsyncClient(base_url={config.base_url()!r}, backend={config.backend()!r})"


def _has_aiohttp() -> bool:
    return importlib.util.find_spec("aiohttp") is not None
