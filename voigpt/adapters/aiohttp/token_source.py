"""Token source over aiohttp: ``GET {base}/`` and read the ``csrftoken`` cookie it sets."""

from __future__ import annotations

import attrs

from voigpt.adapters.aiohttp.endpoint import AiohttpEndpoint
from voigpt.adapters.site import PAGE_HEADERS, TOKEN_PATH, detached_errors, token_from
from voigpt.domain.retry import Deadline
from voigpt.domain.values import AccessToken


@attrs.frozen
class AiohttpTokenSource:
    endpoint: AiohttpEndpoint

    async def fetch(self, *, deadline: Deadline | None = None) -> AccessToken:
        with detached_errors():  # nothing of a library's exception leaves here
            answer = await self.endpoint.get(
                TOKEN_PATH, what="fetching a token", headers=PAGE_HEADERS, deadline=deadline
            )
            return token_from(
                answer.cookies, status=answer.status, url=self.endpoint.base_url + TOKEN_PATH
            )
