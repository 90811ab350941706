"""Chat transport over aiohttp: ``POST {base}/generate_response/`` with the CSRF pair."""

from __future__ import annotations

import attrs

from voigpt.adapters.aiohttp.endpoint import AiohttpEndpoint

# Twin of adapters/requests/transport.py, kept apart because this one awaits its endpoint and
# keeps each token's headers (it is on the server's hot path); the wire is adapters.site's.
from voigpt.adapters.site import (
    COMPLETION_PATH,
    completion_headers,
    decode_reply,
    detached_errors,
    encode_request,
)
from voigpt.domain.retry import Deadline
from voigpt.domain.values import AccessToken, Conversation


@attrs.frozen
class AiohttpChatTransport:
    endpoint: AiohttpEndpoint
    # The headers for the last few tokens: they depend on the token alone.
    _headers: dict[str, dict[str, str]] = attrs.field(
        init=False, factory=dict, repr=False, eq=False
    )

    async def send(
        self, conversation: Conversation, token: AccessToken, *, deadline: Deadline | None = None
    ) -> str:
        with detached_errors():  # nothing of a library's exception leaves here
            base = self.endpoint.base_url
            answer = await self.endpoint.post(
                COMPLETION_PATH,
                what="sending the conversation",
                headers=self._headers_for(token),
                body=encode_request(conversation),
                deadline=deadline,
            )
            return decode_reply(
                answer.body, where=f"the reply from {base}{COMPLETION_PATH}", status=answer.status,
                secrets=(token.value,),
            )

    def _headers_for(self, token: AccessToken) -> dict[str, str]:
        headers = self._headers.get(token.value)
        if headers is None:
            if len(self._headers) >= 4:
                self._headers.clear()
            headers = self._headers[token.value] = completion_headers(
                self.endpoint.base_url, token
            )
        return headers
