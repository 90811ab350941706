"""Chat transport over HTTP: ``POST {base}/generate_response/`` with the CSRF pair."""

from __future__ import annotations

from urllib.parse import urlsplit

import attrs

from voigpt.adapters.requests.endpoint import HttpEndpoint
from voigpt.domain.protocol import (
    COMPLETION_PATH,
    TOKEN_COOKIE,
    TOKEN_HEADER,
    decode_reply,
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
        base = self.endpoint.base_url
        headers = {
            "Accept": "application/json, text/plain, */*",
            "Content-Type": "application/json",
            "Cookie": f"{TOKEN_COOKIE}={token.value}",
            TOKEN_HEADER: token.value,
            "Origin": origin_of(base),
            "Referer": base + "/",
        }
        answer = self.endpoint.post(
            COMPLETION_PATH,
            what="sending the conversation",
            headers=headers,
            body=encode_request(conversation),
            deadline=deadline,
        )
        return decode_reply(
            answer.text, where=f"the reply from {base}{COMPLETION_PATH}", status=answer.status
        )


def origin_of(url: str) -> str:
    """``https://host[:port]``: what a browser sends as Origin for pages under ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
