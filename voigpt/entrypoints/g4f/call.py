"""One call of the ``VoiGpt`` provider, its arguments checked into what the use case takes
(before any I/O): the conversation, the settings (``VoiGpt.url`` as the site, ``proxy=``,
``timeout=``), the model, the token and what the tools ask for."""

from __future__ import annotations

from typing import Any

import attrs

from voigpt.config import Settings
from voigpt.domain.call import Asked
from voigpt.domain.errors import InvalidInput
from voigpt.domain.models import resolve_model
from voigpt.domain.values import AccessToken, Conversation
from voigpt.entrypoints.g4f.output import asked_of


@attrs.frozen
class Call:
    """One call's validated arguments: bad input fails at the call, before any I/O."""

    conversation: Conversation
    settings: Settings
    model: str
    token: AccessToken | None
    asked: Asked

    @classmethod
    def prepare(
        cls, url: str, model: object, messages: object, proxy: str | None,
        access_token: str | None, kwargs: dict[str, Any],
    ) -> Call:
        asked = asked_of(kwargs)
        conversation = Conversation.from_dicts(messages)
        if kwargs.get("media"):  # what g4f makes of image=/images=/media=
            raise InvalidInput("media: voigpt.com takes text only; send no images or files")
        settings = Settings.load(
            base_url=url, proxy=proxy or None, timeout=kwargs.get("timeout")
        )
        token = AccessToken.parse(access_token) if access_token else None
        return cls(conversation, settings, resolve_model(model), token, asked)
