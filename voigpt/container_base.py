"""What the container is built with that knows no adapter, kept cheap to import.

``ProviderContainer`` gives a set of ``dependency_injector.providers`` the methods of a
``DeclarativeContainer`` that an embedder is likely to call, without that class: the
``containers`` module imports ``dependency_injector.wiring`` (which we do not use), and that
imports fastapi, starlette and werkzeug whenever they are installed, which cost every
``Client`` and every ``voigpt ask`` about a quarter of a second once the server extra is
installed. ``imported`` builds an adapter whose module is imported only when first built.
``by_backend`` and ``use_case`` are the two shapes the container writes for its sync side
and again for its asyncio side.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from dependency_injector import providers
from dependency_injector.providers import Provider

T = TypeVar("T")


def imported(module: str, name: str) -> Callable[..., Any]:
    """A builder for an HTTP adapter, its module imported when it is first built: the
    requests adapters (requests and urllib3, ~70 ms to import) only when a call goes over
    HTTP with threads, aiohttp's (the optional ``async`` extra) only with asyncio. The fake
    backend loads neither (over HTTP, the environment is read with ``requests.utils``, as
    requests reads it); sync users never load aiohttp."""

    def build(*args: Any, **kwargs: Any) -> Any:
        found: Any = importlib.import_module(module)
        for part in name.split("."):  # "Environment.read": a class's method
            found = getattr(found, part)
        return found(*args, **kwargs)

    return build


def by_backend(backend: Provider[Any], http: Callable[..., Any], fake: Callable[..., Any],
               **http_needs: Any) -> providers.Selector[Any]:
    """The adapter of the configured backend, one per container: ``http`` built with
    ``http_needs`` (its endpoint), or the in-memory ``fake``."""
    return providers.Selector(backend, http=providers.ThreadSafeSingleton(http, **http_needs),
                              fake=providers.ThreadSafeSingleton(fake))


def use_case(kind: Callable[..., T], config: providers.Configuration, *, retry: Provider[Any],
             observer: Provider[Any], **ports: Provider[Any]) -> providers.Factory[T]:
    """A fresh use case per call (so an override of a port applies to the next one), its
    ``ports`` and the settings every call shares."""
    return providers.Factory(kind, **ports, access_token=config.access_token, retry=retry,
                             deadline=config.deadline, observer=observer)


class ProviderContainer:
    """A ``DeclarativeContainer``'s ``providers``, ``override_providers`` and
    ``reset_singletons``, over the providers a subclass sets as attributes."""

    @property
    def providers(self) -> dict[str, Provider[Any]]:
        """Every provider by name, as a ``DeclarativeContainer``'s ``providers`` is."""
        return {name: p for name, p in vars(self).items() if isinstance(p, Provider)}

    @contextlib.contextmanager
    def override_providers(self, **overriding: Any) -> Iterator[None]:
        """Override providers by name at once, as a ``DeclarativeContainer`` does (a value
        that is not a provider is provided as is); undone when the ``with`` block ends."""
        unknown = sorted(set(overriding) - set(self.providers))
        if unknown:
            raise AttributeError(f"the container has no provider named {', '.join(unknown)}")
        with contextlib.ExitStack() as stack:
            for name, value in overriding.items():
                stack.enter_context(getattr(self, name).override(value))
            yield

    def reset_singletons(self) -> None:
        """Forget every singleton built so far (the next call builds it again)."""
        for provider in providers.traverse(*vars(self).values(),
                                           types=[providers.BaseSingleton]):
            if isinstance(provider, providers.BaseSingleton):  # what types= chose
                provider.reset()
