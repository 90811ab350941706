"""One voigpt.com site reached through aiohttp: one deadline over each whole exchange, the
timeouts, proxy and size cap applied to every request, and every failure mapped to a
voigpt error. The asyncio twin of ``adapters.requests.endpoint``."""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import aiohttp
import attrs
from yarl import URL

from voigpt.adapters.aiohttp.connections import watching_answer
from voigpt.adapters.aiohttp.mapping import translate
from voigpt.adapters.aiohttp.reading import read_answer
from voigpt.adapters.aiohttp.routes import Route, chosen_proxy
from voigpt.adapters.aiohttp.sessions import POOL_LIMIT, Sessions
from voigpt.adapters.environment import Environment
from voigpt.adapters.site import (
    Answer,
    account,
    credential_forms,
    exchange_secrets,
    raise_for_status,
)
from voigpt.adapters.site.redirects import Hops
from voigpt.domain.errors import VoiGptError
from voigpt.domain.limits import DEFAULT_MAX_REPLY_BYTES, Timeouts
from voigpt.domain.proxy import ProxyUrl
from voigpt.domain.retry import Deadline

if TYPE_CHECKING:  # built in post_directly, when asked: httptools is the server extra's
    from voigpt.adapters.httptools import HttptoolsEndpoint

logger = logging.getLogger("voigpt.http")

# The exchange's bound is the deadline plus this: a server silent for the whole read
# timeout (clamped to the deadline) is reported as such ("did not answer within"), not as
# the deadline passing.
_SLACK = 0.05


@attrs.frozen
class AiohttpEndpoint:
    """``base_url`` is like ``https://voigpt.com`` (no trailing slash).

    Without ``proxy``, the proxy and CA bundle variables apply as requests reads them, read
    once here (``Environment``); ``environment`` may be given instead (the container does).
    Sessions are opened lazily, one per event loop that uses the endpoint (``sessions.py``);
    ``aclose()`` closes them.
    """

    base_url: str
    timeouts: Timeouts = attrs.Factory(Timeouts)
    proxy: ProxyUrl | None = None
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    max_connections: int = POOL_LIMIT
    environment: Environment = attrs.field(
        default=attrs.Factory(lambda self: Environment.read(self.base_url), takes_self=True),
        repr=False,
    )
    _route: Route = attrs.field(init=False, repr=False)
    _sessions: Sessions = attrs.field(init=False, repr=False)
    _urls: dict[str, URL] = attrs.field(init=False, repr=False)
    _static_secrets: frozenset[str] = attrs.field(init=False, repr=False)
    _direct: HttptoolsEndpoint | None = attrs.field(init=False, repr=False, default=None)

    def __attrs_post_init__(self) -> None:
        route = Route.to(self.base_url, chosen_proxy(self.base_url, self.proxy, self.environment))
        secrets = set(self.environment.credentials)
        if route.proxy is not None:
            secrets |= credential_forms(route.proxy.username, route.proxy.password)
        object.__setattr__(self, "_route", route)
        object.__setattr__(self, "_sessions", Sessions(
            route, self.environment.ca_bundle, self.max_connections
        ))
        object.__setattr__(self, "_urls", {})
        object.__setattr__(self, "_static_secrets", frozenset(secrets))

    async def get(
        self, path: str, *, what: str, headers: Mapping[str, str], deadline: Deadline | None
    ) -> Answer:
        """GET, following redirects that stay on the site, within the one deadline."""
        hops = Hops(self.base_url + path, what, functools.partial(self._secrets, headers))
        while True:
            answer = await self._request("GET", hops.url, what, headers, None, deadline)
            final = hops.final(answer)
            if final is not None:
                return self._checked(final, what, hops.url, headers)

    @property
    def posts_directly(self) -> bool:
        return self._direct is not None

    def post_directly(self) -> bool:
        """From now on, POST straight over asyncio with httptools when no proxy is in the
        way (``voigpt.adapters.httptools``: ``voigpt serve`` asks). Whether it will."""
        if self._route.proxy is None and self._direct is None:
            from voigpt.adapters.httptools import HttptoolsEndpoint  # only when asked

            object.__setattr__(self, "_direct", HttptoolsEndpoint(
                self.base_url, timeouts=self.timeouts, max_reply_bytes=self.max_reply_bytes,
                max_connections=self.max_connections,
                tls=self._sessions.tls() if self._route.tls else None,  # no proxy: the site's
            ))
        return self._direct is not None

    async def post(
        self, path: str, *, what: str, headers: Mapping[str, str], body: bytes,
        deadline: Deadline | None,
    ) -> Answer:
        """POST; a redirect is reported, never followed."""
        url = self.base_url + path
        if self._direct is not None:
            answer = await self._direct.exchange(path, what=what, headers=headers, body=body,
                                                 deadline=deadline)
        else:
            answer = await self._request("POST", url, what, headers, body, deadline)
        return self._checked(answer, what, url, headers)

    async def aclose(self) -> None:
        """Close the sessions (and their pooled connections). The endpoint stays usable: a
        later call opens a new session."""
        await self._sessions.aclose()
        if self._direct is not None:
            await self._direct.aclose()

    def _secrets(
        self, headers: Mapping[str, str], cookies: Mapping[str, str] | None = None
    ) -> set[str]:
        """What must never show in an error about this exchange: the token and cookies sent
        and received, and the proxy passwords."""
        return exchange_secrets(headers, cookies, self._static_secrets)

    def _checked(self, answer: Answer, what: str, url: str, headers: Mapping[str, str]) -> Answer:
        if not 200 <= answer.status < 300:
            raise_for_status(
                answer.status, answer.headers, answer.text, what=what, url=url,
                via=self._route.proxy.redacted() if self._route.proxy is not None else None,
                secrets=self._secrets(headers, answer.cookies),
            )
        return answer

    def _url(self, url: str) -> URL:
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = URL(url)
            if len(self._urls) < 16:  # the site's own paths; redirect targets vary
                self._urls[url] = parsed
        return parsed

    async def _request(
        self, method: str, url: str, what: str, headers: Mapping[str, str],
        body: bytes | None, deadline: Deadline | None,
    ) -> Answer:
        connect, read, left = self.timeouts.within(deadline, what)
        started = time.perf_counter()
        # ``total`` bounds the whole exchange: connecting (proxy handshakes included),
        # sending, and every byte of the answer, read here until the connection is released.
        timeout = aiohttp.ClientTimeout(
            total=left + _SLACK, sock_connect=connect, sock_read=read, ceil_threshold=math.inf
        )
        failure: VoiGptError | None = None
        try:
            with watching_answer() as watch:
                session = await self._sessions.current()
                response = await session.request(
                    method, self._url(url), headers=headers, data=body, allow_redirects=False,
                    timeout=timeout, **self._route.options,
                )
                try:
                    answer = await read_answer(
                        response, self.max_reply_bytes, what=what, url=url
                    )
                except BaseException:
                    response.close()  # never back to the pool: its exchange did not end
                    raise
                response.release()
        except VoiGptError:
            raise
        except Exception as exc:
            failure = translate(
                exc, what=what, url=url, connect_timeout=connect, read_timeout=read,
                proxy=self._route.proxy, deadline=deadline, answer_began=watch.began,
            )
            failure.__cause__ = account(exc)
        if failure is not None:
            raise failure  # outside the except block: aiohttp's exception is not its context
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d (%d bytes) in %.1f ms", method, url, answer.status,
                len(answer.body), (time.perf_counter() - started) * 1e3,
            )
        return answer
