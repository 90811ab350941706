"""Token source over HTTP: ``GET {base}/`` and read the ``csrftoken`` cookie it sets."""

from __future__ import annotations

import attrs

from voigpt.adapters.requests.endpoint import HttpEndpoint
from voigpt.domain.errors import InvalidInput, TokenUnavailable
from voigpt.domain.protocol import TOKEN_COOKIE
from voigpt.domain.retry import Deadline
from voigpt.domain.values import AccessToken

_PAGE_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}


@attrs.frozen
class RequestsTokenSource:
    endpoint: HttpEndpoint

    def fetch(self, *, deadline: Deadline | None = None) -> AccessToken:
        url = self.endpoint.base_url + "/"
        answer = self.endpoint.get(
            "/", what="fetching a token", headers=_PAGE_HEADERS, deadline=deadline
        )
        value = answer.cookies.get(TOKEN_COOKIE)
        if value is None:
            raise TokenUnavailable(
                f"fetching a token: GET {url} answered HTTP {answer.status} but set no "
                f"{TOKEN_COOKIE!r} cookie; check the base URL, or pass an access token"
            )
        try:
            return AccessToken.parse(value, where=f"the {TOKEN_COOKIE} cookie from {url}")
        except InvalidInput as exc:
            raise TokenUnavailable(f"fetching a token: {exc}") from None
