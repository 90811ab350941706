"""``VoiGpt``: gpt4free's provider of the same name, driving the use case.

It keeps the seed's interface (class attributes, ``create_completion``, ``create_async``, the
class-level token cache ``VoiGpt._access_token``), so ``provider=VoiGpt`` works in g4f
0.1.9's ``ChatCompletion.create``, and has what g4f 8 reads of a provider class (``get_dict``,
``live``, ``use_stream_timeout``, ``create_async_generator``...), so it works in g4f 8's
``Client``, ``AsyncClient``, ``ChatCompletion`` and provider lists. ``tools``,
``tool_choice``, ``parallel_tool_calls`` and ``response_format`` are emulated by voigpt
(``output``); g4f is imported only to give tool calls back as its ``ToolCalls``.

``proxy=`` applies to the token GET and the POST; ``timeout=`` (seconds) bounds the whole call;
the ``VOIGPT_*`` variables apply, except that ``VoiGpt.url`` is the site. Errors are
``VoiGptError`` subclasses, which are RuntimeErrors. The async methods run on aiohttp (the
``async`` extra) without blocking the loop; without aiohttp they run the sync call in a thread.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, ClassVar

from voigpt.domain.models import DEFAULT_MODEL
from voigpt.domain.values import Completion
from voigpt.entrypoints.g4f.call import Call
from voigpt.entrypoints.g4f.output import chunks_of, text_of
from voigpt.entrypoints.g4f.routes import LoopRoutes, SyncRoutes

# Text; with tools, g4f 8's ``ToolCalls`` and ``FinishReason`` (``output.chunks_of``).
CreateResult = Generator[Any, None, None]


class VoiGpt:
    """Provider for voigpt.com, compatible with g4f's ``VoiGpt`` (0.1.9) and g4f 8: pass
    ``provider=VoiGpt``, or call its class methods yourself. Never instantiated.

    ``proxy=`` applies to the token's GET and the POST; ``timeout=`` (seconds) bounds the
    whole call; ``tools``, ``tool_choice``, ``parallel_tool_calls`` and
    ``response_format`` are emulated as ``Client.complete`` emulates them. The ``VOIGPT_*``
    variables apply, except that the site is always ``url``. Errors are ``VoiGptError``
    subclasses.

    :cvar url: the site, ``https://voigpt.com``; set it to use another (an emulator's
        ``url``, say).
    :cvar models: the model ids it lists, ``["gpt-3.5-turbo"]`` (``default_model``).
    :cvar supports_stream: ``False``: the reply comes as one chunk.
    """

    # The seed's attributes, as it has them.
    url: ClassVar[str] = "https://voigpt.com"
    working: ClassVar[bool] = True
    supports_gpt_35_turbo: ClassVar[bool] = True
    supports_message_history: ClassVar[bool] = True
    supports_stream: ClassVar[bool] = False
    needs_auth: ClassVar[bool] = False
    _access_token: ClassVar[str | None] = None
    _access_token_origin: ClassVar[tuple[str, str] | None] = None
    params: ClassVar[str] = (
        "g4f.provider.VoiGpt supports: (\n    model: str,\n    messages: Messages,\n"
        "    proxy: str = None,\n    access_token: str = None\n)"
    )

    # What g4f 8 reads of a provider class.
    label: ClassVar[str] = "VoiGpt"
    default_model: ClassVar[str] = DEFAULT_MODEL
    models: ClassVar[list[str]] = [DEFAULT_MODEL]
    supports_system_message: ClassVar[bool] = True
    # The reply is one chunk, so the whole-call ``timeout`` is the one g4f should wait on,
    # not ``stream_timeout`` (its limit between chunks of a streaming provider).
    use_stream_timeout: ClassVar[bool] = False
    live: ClassVar[int] = 0  # g4f counts successes (+1) and failures (-1) here
    # g4f 8 hands ``tools`` to a provider that says this, rather than wrapping it in its
    # own prompt emulation (``ToolSupportProvider``): voigpt's checks and repair apply.
    supports_native_tools: ClassVar[bool] = True

    _sync_routes: ClassVar[SyncRoutes] = SyncRoutes()
    _loop_routes: ClassVar[LoopRoutes] = LoopRoutes()

    @classmethod
    def create_completion(
        cls,
        model: str,
        messages: Any,
        stream: bool,
        proxy: str | None = None,
        access_token: str | None = None,
        **kwargs: Any,
    ) -> CreateResult:
        """Yield the reply (or its tool calls). Arguments are checked now; the request is
        sent on iteration."""
        call = Call.prepare(cls.url, model, messages, proxy, access_token, kwargs)
        return _chunks(cls._complete_sync(call))

    @classmethod
    async def create_async(cls, model: str, messages: Any, **kwargs: Any) -> str:
        """The reply text (or its tool calls' JSON), awaited on the running loop (in a
        thread only without aiohttp)."""
        proxy, access_token = kwargs.pop("proxy", None), kwargs.pop("access_token", None)
        call = Call.prepare(cls.url, model, messages, proxy, access_token, kwargs)
        return text_of(await cls._complete_async(call))

    @classmethod
    def create_async_generator(
        cls,
        model: str,
        messages: Any,
        proxy: str | None = None,
        access_token: str | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """g4f 8's async method: an async generator yielding the reply as one chunk (or
        its tool calls). Arguments are checked now; the request is sent on iteration."""
        kwargs["timeout"] = timeout
        call = Call.prepare(cls.url, model, messages, proxy, access_token, kwargs)
        return _achunks(lambda: cls._complete_async(call))

    @classmethod
    def get_dict(cls) -> dict[str, str]:
        """What g4f 8 shows of a provider: its ``name``, ``url`` and ``label``."""
        return {"name": cls.__name__, "url": cls.url, "label": cls.label}

    @classmethod
    def get_parent(cls) -> str:
        """Its own name: g4f 8 groups providers by parent."""
        return cls.__name__

    @classmethod
    def get_models(cls, api_key: str | None = None, **kwargs: Any) -> list[str]:
        """``models``, as a new list; the arguments are ignored."""
        return list(cls.models)

    @classmethod
    def close(cls) -> None:
        """Close the pooled connections of the sync calls. The cached token is kept, as in
        g4f. An event loop's sessions close when it shuts down, or with ``aclose``."""
        cls._sync_routes.close()

    @classmethod
    async def aclose(cls) -> None:
        """Close the running event loop's sessions (later calls open new ones)."""
        await cls._loop_routes.aclose()

    @classmethod
    def _complete_sync(cls, call: Call) -> Callable[[], Completion]:
        container = cls._sync_routes.get(call.settings)
        use_case = container.complete_chat(
            token_cache=container.attribute_token_cache(holder=cls, origin=call.settings.base_url)
        )
        return lambda: use_case(
            call.conversation, model=call.model, access_token=call.token, asked=call.asked
        )

    @classmethod
    async def _complete_async(cls, call: Call) -> Completion:
        if call.settings.backend == "http" and not _has_aiohttp():
            return await asyncio.to_thread(cls._complete_sync(call))
        async with cls._loop_routes.use(call.settings) as container:
            use_case = container.async_complete_chat(
                token_cache=container.async_attribute_token_cache(
                    holder=cls, origin=call.settings.base_url
                )
            )
            return await use_case(
                call.conversation, model=call.model, access_token=call.token, asked=call.asked
            )


def _chunks(call: Callable[[], Completion]) -> CreateResult:
    yield from chunks_of(call())


async def _achunks(call: Callable[[], Awaitable[Completion]]) -> AsyncIterator[Any]:
    for chunk in chunks_of(await call()):
        yield chunk


def _has_aiohttp() -> bool:
    return importlib.util.find_spec("aiohttp") is not None
