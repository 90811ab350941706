"""One voigpt.com site reached through a shared session: timeouts, proxy and size cap applied
to every request, and every failure mapped to a voigpt error."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import attrs
import requests

from voigpt.adapters.requests.environment import RequestsEnvironment
from voigpt.adapters.requests.mapping import mapped_exceptions
from voigpt.adapters.site import raise_for_status
from voigpt.domain.errors import ReplyTooLarge
from voigpt.domain.limits import DEFAULT_MAX_REPLY_BYTES, Timeouts
from voigpt.domain.proxy import ProxyUrl
from voigpt.domain.retry import Deadline

logger = logging.getLogger("voigpt.http")

_CHUNK = 64 * 1024


@attrs.frozen
class Answer:
    status: int
    headers: Mapping[str, str]
    text: str
    cookies: Mapping[str, str]


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
    environment: RequestsEnvironment = attrs.field(
        default=attrs.Factory(lambda self: RequestsEnvironment.read(self.base_url),
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
        return self._request("GET", path, what, headers, None, deadline)

    def post(
        self,
        path: str,
        *,
        what: str,
        headers: Mapping[str, str],
        body: bytes,
        deadline: Deadline | None,
    ) -> Answer:
        return self._request("POST", path, what, headers, body, deadline)

    def _request(
        self,
        method: str,
        path: str,
        what: str,
        headers: Mapping[str, str],
        body: bytes | None,
        deadline: Deadline | None,
    ) -> Answer:
        url = self.base_url + path
        via = self.proxy.redacted() if self.proxy else None
        connect, read = self.timeouts.as_tuple()
        if deadline is not None:
            left = deadline.check(what)
            connect, read = min(connect, left), min(read, left)
        started = time.perf_counter()
        with mapped_exceptions(what, url, connect_timeout=connect, read_timeout=read, via=via):
            response = self.session.request(
                method,
                url,
                headers=dict(headers),
                data=body,
                timeout=(connect, read),
                # A copy: a session that trusts the environment would add to it.
                proxies=dict(self._proxies),
                verify=self.environment.ca_bundle,
                allow_redirects=method == "GET",
                stream=True,
            )
            try:
                answer = self._read(response, what=what, url=url)
            finally:
                response.close()
        logger.debug(
            "%s %s -> %d (%d chars) in %.1f ms",
            method, url, answer.status, len(answer.text), (time.perf_counter() - started) * 1e3,
        )
        raise_for_status(
            answer.status, answer.headers, answer.text, what=what, url=url, via=via
        )
        return answer

    def _read(self, response: requests.Response, *, what: str, url: str) -> Answer:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_reply_bytes:
            raise self._too_large(what, url, response.status_code)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > self.max_reply_bytes:
                raise self._too_large(what, url, response.status_code)
            chunks.append(chunk)
        raw = b"".join(chunks)
        cookies: dict[str, str] = {}
        for hop in (*response.history, response):
            cookies.update(hop.cookies.get_dict())
        return Answer(
            status=response.status_code,
            headers=response.headers,
            text=raw.decode(response.encoding or "utf-8", errors="replace"),
            cookies=cookies,
        )

    def _too_large(self, what: str, url: str, status: int) -> ReplyTooLarge:
        return ReplyTooLarge(
            f"{what}: the reply from {url} is larger than the {self.max_reply_bytes} byte cap "
            "(max_reply_bytes)",
            status=status,
        )

