"""Chat transport over HTTP: ``POST {base}/generate_response/`` with the CSRF pair."""

from __future__ import annotations

import attrs

from voigpt.adapters.requests.endpoint import HttpEndpoint
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
class RequestsChatTransport:
    endpoint: HttpEndpoint

    def send(
        self, conversation: Conversation, token: AccessToken, *, deadline: Deadline | None = None
    ) -> str:
        with detached_errors():  # nothing of a library's exception leaves here
            base = self.endpoint.base_url
            answer = self.endpoint.post(
                COMPLETION_PATH,
                what="sending the conversation",
                headers=completion_headers(base, token),
                body=encode_request(conversation),
                deadline=deadline,
            )
            return decode_reply(
                answer.body, where=f"the reply from {base}{COMPLETION_PATH}", status=answer.status,
                secrets=(token.value,),
            )
