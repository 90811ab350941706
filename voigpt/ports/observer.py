"""Port: what a completion did, for whoever watches (the server's metrics). Each hook is
called on the caller's thread or task, must be quick and must not raise.

``NO_OBSERVER`` watches nothing: the default, so a use case without a watcher costs a
method call per step and nothing else.
"""

from __future__ import annotations

from typing import Protocol


class CompletionObserver(Protocol):
    def token_fetched(self, seconds: float, error: BaseException | None) -> None:
        """A token request to the site ended (``error`` is None when it gave a token)."""
        ...

    def sent(self, seconds: float, error: BaseException | None) -> None:
        """A chat request to the site ended (``error`` is None when it gave a reply; a
        cancelled request reports its ``CancelledError``)."""
        ...

    def retrying(self, error: Exception, pause: float) -> None:
        """``error`` will be retried after ``pause`` seconds."""
        ...

    def repairing(self, problem: str) -> None:
        """The model's reply did not fit the tools or format asked for (``problem`` says
        why, in words of the model's output only): it is sent one correction."""
        ...


class _NoObserver:
    def token_fetched(self, seconds: float, error: BaseException | None) -> None:
        pass

    def sent(self, seconds: float, error: BaseException | None) -> None:
        pass

    def retrying(self, error: Exception, pause: float) -> None:
        pass

    def repairing(self, problem: str) -> None:
        pass

    def __repr__(self) -> str:
        return "NO_OBSERVER"


NO_OBSERVER: CompletionObserver = _NoObserver()
