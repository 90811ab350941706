"""A container's life after it is built: configured from settings, closed, used again.

Configuring reads requests' environment variables (``HTTPS_PROXY``, ``NO_PROXY``,
``REQUESTS_CA_BUNDLE``...) as ``Settings.load`` read the ``VOIGPT_*`` ones, so a bad one is
``InvalidConfig`` before any I/O. Closing drops the pooled connections and every singleton;
the next call builds them again, and reads the environment anew.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voigpt.config import LOCAL, Settings
from voigpt.domain.errors import InvalidConfig

if TYPE_CHECKING:  # the container imports this module to configure and close itself
    from voigpt.container import Container


def configure(container: Container, settings: Settings) -> None:
    """Give a new container already validated settings, and read requests' variables."""
    if settings.backend == LOCAL:
        raise InvalidConfig(
            "backend 'local' is the command line's (it starts the bundled emulator); in Python, "
            "start voigpt.emulator.Emulator() and pass base_url=emulator.url"
        )
    container.config.from_dict(settings.to_config())
    read_environment(container)


def read_environment(container: Container) -> None:
    """Read requests' variables now (a bad one is ``InvalidConfig`` before any I/O); only the
    HTTP backend uses them: the fake one never opens a connection."""
    if container.config.backend() == "http":
        container.environment()


def post_directly(container: Container) -> bool:
    """Have the asyncio side POST its completions straight over asyncio with httptools
    rather than through aiohttp, when the HTTP backend reaches the site with no proxy
    (``voigpt serve`` does, at start-up: ``AiohttpEndpoint.post_directly``). Whether it
    will; the token's GET, and every request through a proxy, stay on aiohttp."""
    if container.config.backend() != "http":
        return False
    return bool(container.async_endpoint().post_directly())


def close_container(container: Container) -> None:
    """Close the shared session's pooled connections; the container can still be used after
    (a new session is built on the next call). Building a session does no I/O; requests'
    environment variables are read again now."""
    if container.config.backend() == "http":
        container.session().close()
    container.reset_singletons()
    read_environment(container)


async def aclose_container(container: Container) -> None:
    """``close_container`` for the asyncio side: close the aiohttp session, if one was made."""
    if container.config.backend() == "http":
        await container.async_endpoint().aclose()
    container.reset_singletons()
    read_environment(container)
