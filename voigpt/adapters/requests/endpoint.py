"""One voigpt.com site reached through a shared session: the deadline, timeouts, proxy and
size cap applied to every request, and every failure mapped to a voigpt error."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping

import attrs
import requests

from voigpt.adapters.environment import Environment
from voigpt.adapters.requests.exchange import exchange
from voigpt.adapters.requests.mapping import mapped_exceptions
from voigpt.adapters.site import (
    Answer,
    credential_forms,
    declares_more_than,
    exchange_secrets,
    failures,
    raise_for_status,
)
from voigpt.adapters.site.redirects import Hops
from voigpt.domain.errors import ReplyTooLarge
from voigpt.domain.limits import DEFAULT_MAX_REPLY_BYTES, Timeouts
from voigpt.domain.proxy import ProxyUrl, redacted_url
from voigpt.domain.retry import Deadline

logger = logging.getLogger("voigpt.http")

_CHUNK = 64 * 1024


@attrs.frozen
class HttpEndpoint:
    """``base_url`` is like ``https://voigpt.com`` (no trailing slash).

    Without ``proxy``, requests' proxy and CA bundle variables apply, read once here (see
    ``environment.py``); ``environment`` may be given instead, e.g. by tests.
    """

    session: requests.Session
    base_url: str
    timeouts: Timeouts = attrs.Factory(Timeouts)
    proxy: ProxyUrl | None = None
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    environment: Environment = attrs.field(
        default=attrs.Factory(lambda self: Environment.read(self.base_url),
                              takes_self=True),
        repr=False,
    )
    _proxies: dict[str, str] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        proxies = (
            {"http": self.proxy.url, "https": self.proxy.url}
            if self.proxy else self.environment.proxies
        )
        object.__setattr__(self, "_proxies", proxies)

    def get(
        self, path: str, *, what: str, headers: Mapping[str, str], deadline: Deadline | None
    ) -> Answer:
        """GET, following redirects that stay on the site, within the one deadline."""
        hops = Hops(self.base_url + path, what, functools.partial(self._secrets, headers))
        while True:
            answer = self._request("GET", hops.url, what, headers, None, deadline)
            final = hops.final(answer)
            if final is not None:
                return self._checked(final, what, hops.url, headers)

    def post(
        self,
        path: str,
        *,
        what: str,
        headers: Mapping[str, str],
        body: bytes,
        deadline: Deadline | None,
    ) -> Answer:
        """POST; a redirect is reported, never followed."""
        url = self.base_url + path
        answer = self._request("POST", url, what, headers, body, deadline)
        return self._checked(answer, what, url, headers)

    @property
    def _via(self) -> str | None:
        if self.proxy is not None:
            return self.proxy.redacted()
        proxy = self._proxies.get(self.base_url.partition(":")[0])
        return redacted_url(proxy) if proxy else None

    def _secrets(
        self, headers: Mapping[str, str], cookies: Mapping[str, str] | None = None
    ) -> set[str]:
        """What must never show in an error about this exchange: the token and cookies sent
        and received, and the proxy passwords."""
        known = set(self.environment.credentials)
        if self.proxy is not None:
            known |= credential_forms(self.proxy.username, self.proxy.password)
        return exchange_secrets(headers, cookies, known)

    def _checked(self, answer: Answer, what: str, url: str, headers: Mapping[str, str]) -> Answer:
        if 200 <= answer.status < 300:
            return answer
        raise_for_status(
            answer.status, answer.headers, answer.text, what=what, url=url, via=self._via,
            secrets=self._secrets(headers, answer.cookies),
        )
        return answer

    def _request(
        self,
        method: str,
        url: str,
        what: str,
        headers: Mapping[str, str],
        body: bytes | None,
        deadline: Deadline | None,
    ) -> Answer:
        connect, read, left = self.timeouts.within(deadline, what)
        started = time.perf_counter()
        secrets = self._secrets(headers)
        with exchange(time.monotonic() + left, secrets) as progress, mapped_exceptions(
            what, url, connect_timeout=connect, read_timeout=read, via=self._via,
            deadline=deadline, progress=progress,
        ):
            response = self.session.request(
                method,
                url,
                headers=dict(headers),
                data=body,
                timeout=(connect, read),
                proxies=dict(self._proxies),
                verify=self.environment.ca_bundle,
                allow_redirects=False,
                stream=True,
            )
            try:
                answer = self._read(response, what=what, url=url)
            finally:
                response.close()
        logger.debug(
            "%s %s -> %d (%d bytes) in %.1f ms",
            method, url, answer.status, len(answer.body), (time.perf_counter() - started) * 1e3,
        )
        return answer

    def _read(self, response: requests.Response, *, what: str, url: str) -> Answer:
        if declares_more_than(response.headers.get("Content-Length", ""), self.max_reply_bytes):
            raise self._too_large(what, url, response.status_code)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > self.max_reply_bytes:
                raise self._too_large(what, url, response.status_code)
            chunks.append(chunk)
        return Answer(
            status=response.status_code,
            headers=response.headers,
            body=b"".join(chunks),
            cookies=response.cookies.get_dict(),
        )

    def _too_large(self, what: str, url: str, status: int) -> ReplyTooLarge:
        return failures.too_large(what, url, self.max_reply_bytes, status)
