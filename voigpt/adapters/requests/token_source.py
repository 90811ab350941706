"""Token source over HTTP: ``GET {base}/`` and read the ``csrftoken`` cookie it sets."""

from __future__ import annotations

import attrs

from voigpt.adapters.requests.endpoint import HttpEndpoint
from voigpt.adapters.site import PAGE_HEADERS, TOKEN_PATH, detached_errors, token_from
from voigpt.domain.retry import Deadline
from voigpt.domain.values import AccessToken


@attrs.frozen
class RequestsTokenSource:
    endpoint: HttpEndpoint

    def fetch(self, *, deadline: Deadline | None = None) -> AccessToken:
        with detached_errors():  # nothing of a library's exception leaves here
            answer = self.endpoint.get(
                TOKEN_PATH, what="fetching a token", headers=PAGE_HEADERS, deadline=deadline
            )
            return token_from(
                answer.cookies, status=answer.status, url=self.endpoint.base_url + TOKEN_PATH
            )
