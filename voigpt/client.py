"""``Client``: the Pythonic entry for services that embed voigpt.

::

    from voigpt import Client

    with Client(base_url="https://voigpt.com", timeout=30) as client:
        completion = client.complete([{"role": "user", "content": "Hello"}])
        print(completion.text)

One client holds one container: one keep-alive session and one token cache, shared safely
by every thread that uses the client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from voigpt.container import Container, build_container, close_container
from voigpt.domain.complete_chat import PLAIN, Asked, Messages
from voigpt.domain.values import AccessToken, Completion, Conversation

if TYPE_CHECKING:  # annotations only: the tools' rules load when a call asks for them
    from voigpt.domain.tools import ResponseFormat, Tool, ToolChoice


def container_from(
    config: Mapping[str, Any] | None,
    environ: Mapping[str, str] | None,
    container: Container | None,
    settings: Mapping[str, Any],
) -> Container:
    """The given container, or one built from the settings (checked now, before any I/O)."""
    if container is not None and (config or settings or environ is not None):
        raise TypeError("pass either container= or settings, not both")
    if container is not None:
        return container
    return build_container(config, environ=environ, **settings)


class Client:
    """Settings as keyword arguments (``base_url``, ``access_token``, ``proxy``, ``timeout``,
    ``backend``, ``max_reply_bytes``), else from ``config``, else ``VOIGPT_*`` variables.
    All are checked here, before any I/O."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        container: Container | None = None,
        **settings: Any,
    ) -> None:
        self.container = container_from(config, environ, container, settings)

    def complete(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        access_token: str | AccessToken | None = None,
        tools: Sequence[Mapping[str, Any] | Tool] | None = None,
        tool_choice: str | Mapping[str, Any] | ToolChoice | None = None,
        response_format: Mapping[str, Any] | ResponseFormat | type | None = None,
        parallel_tool_calls: bool | None = None,
    ) -> Completion:
        """Send ``messages`` (a list of ``{"role", "content"}`` dicts, OpenAI's shapes
        with earlier tool calls and results too, or a ``Conversation``).

        ``tools`` (OpenAI's function tools), ``tool_choice``, ``response_format``
        (``json_object``, ``json_schema``, or a pydantic model class) and
        ``parallel_tool_calls`` are emulated: the model is told of them, and its reply
        is parsed, checked against their JSON Schemas and repaired once if it does not fit
        (``InvalidModelReply`` if it still does not). The ``Completion`` then carries
        ``tool_calls`` or the structured answer in ``data``."""
        use_case = self.container.complete_chat()
        asked = asked_of(tools, tool_choice, response_format, parallel_tool_calls)
        return use_case(messages, model=model, access_token=access_token, asked=asked)


    def ask(self, prompt: str, *, system: str | None = None, model: str | None = None) -> str:
        """One question, one answer: the reply text."""
        conversation = Conversation.question(prompt, system=system)
        return self.complete(conversation, model=model).text

    def close(self) -> None:
        close_container(self.container)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        config = self.container.config
        return f"Client(base_url={config.base_url()!r}, backend={config.backend()!r})"


def asked_of(tools: object, tool_choice: object, response_format: object,
             parallel_tool_calls: object) -> Asked:
    """What ``complete`` was asked besides text: ``PLAIN`` (the plain path) if nothing."""
    if tools is None and tool_choice is None and response_format is None and \
            parallel_tool_calls is None:
        return PLAIN
    return Asked(tools, tool_choice, response_format, parallel_tool_calls)
