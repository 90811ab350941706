"""A GET's redirects, followed on the site alone: the hop logic the requests and aiohttp
endpoints share. Each endpoint only sends the hops (one blocking, the other awaiting); what
an answer means for the next hop is decided here, once.

``Hops`` holds the URL to ask next and the cookies every hop set (each hop is on the site
itself, so all of them count). Given each answer, it says whether that is the last one (not
a redirect), or moves on to where the redirect leads, checked by ``redirect_target``. More
than ``MAX_REDIRECTS`` redirects is ``UnexpectedStatus``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import attrs

from voigpt.adapters.site.answers import MAX_REDIRECTS, redirect_target
from voigpt.adapters.site.wire import Answer
from voigpt.domain.errors import UnexpectedStatus


class Hops:
    """The hops of one GET from ``url``. ``secrets(cookies)``: what must never show in an
    error about the exchange, given the cookies received so far (asked for only if a
    redirect is to be checked)."""

    __slots__ = ("_cookies", "_first", "_redirects", "_secrets", "_what", "url")

    def __init__(
        self, url: str, what: str, secrets: Callable[[Mapping[str, str]], Iterable[str]]
    ) -> None:
        self.url = self._first = url
        self._what, self._secrets = what, secrets
        self._cookies: dict[str, str] = {}
        self._redirects = 0

    def final(self, answer: Answer) -> Answer | None:
        """``answer`` (to ``url``) with every hop's cookies if it is not a redirect; else
        None, and ``url`` is now where the redirect leads."""
        self._cookies.update(answer.cookies)
        location = answer.headers.get("Location")
        if not (300 <= answer.status < 400 and location is not None):
            return attrs.evolve(answer, cookies=self._cookies)
        self.url = redirect_target(
            self.url, location, status=answer.status, what=self._what,
            secrets=self._secrets(self._cookies),
        )
        self._redirects += 1
        if self._redirects > MAX_REDIRECTS:
            raise UnexpectedStatus(
                f"{self._what}: {self._first} redirected more than {MAX_REDIRECTS} times",
                status=answer.status,
            )
        return None
