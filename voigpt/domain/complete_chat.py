"""The completion use case.

1. The model defaults to ``gpt-3.5-turbo`` when empty or None.
2. The token is the explicit one, otherwise the cached one, otherwise a freshly acquired one.
3. Send; the transport returns the reply text, and ``Completion`` carries it with the model.

A cached or acquired token that the service rejects (403 CSRF) is forgotten, a fresh one
is fetched once and the request sent once more; an explicit token is never replaced (its
rejection is reported). Transient failures are retried under ``RetryPolicy``, and the
whole completion, waits included, keeps one deadline.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

import attrs

from voigpt.domain.errors import AccessRejected, VoiGptError
from voigpt.domain.limits import DEFAULT_DEADLINE
from voigpt.domain.retry import Deadline, RetryPolicy
from voigpt.domain.values import AccessToken, Completion, Conversation, resolve_model
from voigpt.ports.clock import Clock
from voigpt.ports.token_cache import TokenCache
from voigpt.ports.token_source import TokenSource
from voigpt.ports.transport import ChatTransport

Messages = Conversation | Sequence[Mapping[str, object]]


@attrs.frozen
class CompleteChat:
    """Turn a conversation into a ``Completion``.

    ``access_token`` is a configured token (e.g. ``VOIGPT_ACCESS_TOKEN``); like a per-call
    ``access_token=``, it is used as given and never replaced. ``deadline`` is the most
    seconds one call may take, retries and waits included.
    """

    transport: ChatTransport
    token_source: TokenSource
    token_cache: TokenCache
    clock: Clock
    access_token: AccessToken | None = None
    retry: RetryPolicy = attrs.Factory(RetryPolicy)
    deadline: float = DEFAULT_DEADLINE
    jitter: Callable[[], float] = random.random

    def __call__(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        access_token: str | AccessToken | None = None,
    ) -> Completion:
        conversation = (
            messages if isinstance(messages, Conversation) else Conversation.from_dicts(messages)
        )
        resolved_model = resolve_model(model)
        explicit = self._explicit_token(access_token)
        deadline = Deadline.after(self.clock, self.deadline)
        attempt = 0
        while True:
            try:
                if explicit is not None:
                    text = self._send_with_explicit(conversation, explicit, deadline)
                else:
                    text = self._send_with_managed(conversation, deadline)
                return Completion(text=text, model=resolved_model)
            except VoiGptError as error:
                if not self.retry.should_retry(error, attempt):
                    raise
                pause = self.retry.pause(error, attempt, self.jitter())
                if pause >= deadline.remaining():
                    raise
                self.clock.sleep(pause)
                attempt += 1

    def _explicit_token(self, access_token: str | AccessToken | None) -> AccessToken | None:
        if isinstance(access_token, AccessToken):
            return access_token
        if access_token is not None and access_token != "":
            return AccessToken.parse(access_token)
        return self.access_token

    def _send_with_explicit(
        self, conversation: Conversation, token: AccessToken, deadline: Deadline
    ) -> str:
        try:
            return self.transport.send(conversation, token, deadline=deadline)
        except AccessRejected as exc:
            raise AccessRejected(
                "the service rejected the access token you supplied; get a fresh csrftoken "
                "from the site, or pass no access_token and let voigpt fetch one",
                status=exc.status,
                explicit=True,
            ) from exc

    def _send_with_managed(self, conversation: Conversation, deadline: Deadline) -> str:
        def fetch() -> AccessToken:
            return self.token_source.fetch(deadline=deadline)

        token = self.token_cache.acquire(fetch)
        try:
            return self.transport.send(conversation, token, deadline=deadline)
        except AccessRejected:
            self.token_cache.invalidate(token)
        fresh = self.token_cache.acquire(fetch)
        try:
            return self.transport.send(conversation, fresh, deadline=deadline)
        except AccessRejected as exc:
            self.token_cache.invalidate(fresh)
            raise AccessRejected(
                "the service rejected a freshly fetched token too; the site may have changed "
                "its protocol or be refusing this client",
                status=exc.status,
            ) from exc
