"""``VoiGpt``: gpt4free's provider of the same name, driving the use case.

The class attributes, the ``create_completion`` signature and the class-level token cache
(``VoiGpt._access_token``) are g4f's, so ``provider=VoiGpt`` works in
``g4f.ChatCompletion.create``. ``proxy=`` applies to the token GET and the POST;
``timeout=`` (seconds) and the ``VOIGPT_*`` variables apply, except that ``VoiGpt.url`` is
the site. Connections are kept alive per (url, proxy, timeout); errors are
``VoiGptError`` subclasses, which are RuntimeErrors.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Generator
from typing import Any, ClassVar

from voigpt.config import Settings
from voigpt.container import Container, close_container, container_for
from voigpt.domain.values import AccessToken, Conversation, resolve_model

CreateResult = Generator[str, None, None]
_MAX_ROUTES = 8


class VoiGpt:
    """Provider for voigpt.com, compatible with g4f's ``VoiGpt``."""

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

    _routes: ClassVar[OrderedDict[Settings, Container]] = OrderedDict()
    _routes_lock: ClassVar[threading.Lock] = threading.Lock()

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
        """Yield the reply. Arguments are checked now; the request is sent on iteration."""
        call = cls._prepare(model, messages, proxy, access_token, kwargs)
        return _single(call)

    @classmethod
    async def create_async(cls, model: str, messages: Any, **kwargs: Any) -> str:
        """The reply text, without blocking the event loop (the call runs in a thread)."""
        proxy = kwargs.pop("proxy", None)
        access_token = kwargs.pop("access_token", None)
        call = cls._prepare(model, messages, proxy, access_token, kwargs)
        return await asyncio.to_thread(call)

    @classmethod
    def _prepare(
        cls,
        model: str,
        messages: Any,
        proxy: str | None,
        access_token: str | None,
        kwargs: dict[str, Any],
    ) -> Callable[[], str]:
        # Everything is validated here, so bad input fails at the call, before any I/O.
        conversation = Conversation.from_dicts(messages)
        settings = Settings.load(
            base_url=cls.url, proxy=proxy or None, timeout=kwargs.get("timeout")
        )
        container = cls._container_for(settings)
        use_case = container.complete_chat(
            token_cache=container.attribute_token_cache(holder=cls, origin=settings.base_url)
        )
        explicit = AccessToken.parse(access_token) if access_token else None
        resolved = resolve_model(model)

        def call() -> str:
            return use_case(conversation, model=resolved, access_token=explicit).text

        return call

    @classmethod
    def _container_for(cls, settings: Settings) -> Container:
        """One container (one keep-alive session) per distinct settings, a few kept."""
        with cls._routes_lock:
            container = cls._routes.get(settings)
            if container is not None:
                cls._routes.move_to_end(settings)
                return container
            container = container_for(settings)
            cls._routes[settings] = container
            if len(cls._routes) > _MAX_ROUTES:
                _, oldest = cls._routes.popitem(last=False)
                close_container(oldest)
            return container

    @classmethod
    def close(cls) -> None:
        """Close every pooled connection. The cached token is kept, as in g4f."""
        with cls._routes_lock:
            for container in cls._routes.values():
                close_container(container)
            cls._routes.clear()


def _single(call: Callable[[], str]) -> CreateResult:
    yield call()
