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
from voigpt.domain.call import Messages
from voigpt.domain.errors import InvalidConfig
from voigpt.domain.values import AccessToken, Completion, Conversation

if TYPE_CHECKING:  # annotations only: the tools' rules load when a call asks for them
    from voigpt.domain.tools import ResponseFormat, Tool, ToolChoice


class AsyncClient:
    """An asyncio client: one aiohttp session and one token cache for the tasks of a loop.

    Each setting comes from a keyword argument, else from ``config``, else from its
    ``VOIGPT_*`` variable, else its default; all are checked here, before any I/O. They are
    ``base_url``, ``access_token``, ``proxy``, ``timeout``, ``backend``, ``max_reply_bytes``,
    ``retries`` and ``max_connections`` (the connections kept to the site at most): see
    ``Settings``.

    Use it as an async context manager, ``async with AsyncClient() as client:``, which
    awaits ``aclose()`` on the way out.

    :param config: settings as a mapping, e.g. ``{"timeout": 30}``.
    :param environ: where ``VOIGPT_*`` variables are read; ``None``: ``os.environ``.
    :param container: a ready ``Container`` to run on, instead of any settings.
    :param settings: the settings as keyword arguments, e.g. ``timeout=30``.
    :raises InvalidConfig: an unknown setting or a value that cannot be used, or aiohttp (or
        aiohttp-socks, for a SOCKS proxy) is not installed for ``backend="http"``; a bad
        proxy is ``InvalidProxy``.
    :raises TypeError: both ``container`` and settings were given.
    :ivar container: the ``Container`` the client runs on; override its ``async_*``
        providers to swap an adapter.
    """

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
        takes them, with the same retries within the call's ``timeout``.

        :param messages: the conversation, oldest message first; not empty.
        :param model: the model's name; ``None`` or ``""``: ``gpt-3.5-turbo``.
        :param access_token: a csrftoken for this call only; ``None``: the ``access_token``
            setting, else one fetched from ``GET /`` and cached.
        :param tools: the functions the model may call (see ``Client.complete``).
        :param tool_choice: which tool to call, if any (see ``Client.complete``).
        :param response_format: the JSON the answer must be (see ``Client.complete``).
        :param parallel_tool_calls: ``False``: at most one tool call in the reply.
        :returns: the reply: its ``text``, ``model``, ``tool_calls`` and ``data``.
        :raises InvalidInput: an argument is wrong (``InvalidMessages``: the messages); nothing
            was sent.
        :raises TimedOut: a timeout, or the deadline of the whole call, ran out.
        :raises ConnectionFailed: the connection failed through every retry (likewise
            ``RateLimited`` for a 429 and ``ServiceUnavailable`` for a 5xx).
        :raises VoiGptError: any other failure (``InvalidModelReply``, ``AccessRejected``...):
            ``Client.complete`` lists each one.
        """
        use_case = self.container.async_complete_chat()
        asked = asked_of(tools, tool_choice, response_format, parallel_tool_calls)
        return await use_case(messages, model=model, access_token=access_token, asked=asked)

    async def ask(self, prompt: str, *, system: str | None = None, model: str | None = None) -> str:
        """One question, one answer: the reply text.

        :param prompt: the user's question.
        :param system: a system message sent before it, if any.
        :param model: as ``complete`` takes it.
        :returns: the reply's text.
        :raises VoiGptError: what ``complete`` raises.
        """
        conversation = Conversation.question(prompt, system=system)
        return (await self.complete(conversation, model=model)).text

    async def aclose(self) -> None:
        """Close the aiohttp session and forget the cached token. The client can still be
        used: the next call opens a new session. ``async with`` awaits it on the way out."""
        await aclose_container(self.container)

    async def __aenter__(self) -> AsyncClient:
        """The client itself: ``async with AsyncClient() as client:`` closes it after."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Await ``aclose()``; an exception raised in the block goes on."""
        await self.aclose()

    def __repr__(self) -> str:
        config = self.container.config
        return f"AsyncClient(base_url={config.base_url()!r}, backend={config.backend()!r})"


def _has_aiohttp() -> bool:
    return importlib.util.find_spec("aiohttp") is not None
