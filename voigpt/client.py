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
from voigpt.domain.call import PLAIN, Asked, Messages
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
    """A thread-safe client: one keep-alive session and one token cache for all its calls.

    Each setting comes from a keyword argument, else from ``config``, else from its
    ``VOIGPT_*`` variable, else its default; all are checked here, before any I/O. They are
    ``base_url``, ``access_token``, ``proxy``, ``timeout``, ``backend``, ``max_reply_bytes``,
    ``retries`` and ``max_connections`` (which only ``AsyncClient`` uses): see ``Settings``.

    Use it as a context manager, ``with Client() as client:``, which calls ``close()`` on
    the way out; a client that is closed can still be used (it connects again).

    :param config: settings as a mapping, e.g. ``{"timeout": 30}``.
    :param environ: where ``VOIGPT_*`` variables are read; ``None``: ``os.environ``.
    :param container: a ready ``Container`` to run on, instead of any settings.
    :param settings: the settings as keyword arguments, e.g. ``timeout=30``.
    :raises InvalidConfig: an unknown setting or a value that cannot be used (also
        ``backend="local"``: start an ``Emulator`` instead); a bad proxy is ``InvalidProxy``.
    :raises TypeError: both ``container`` and settings were given.
    :ivar container: the ``Container`` the client runs on; override its providers (its
        ``transport``, say) to swap an adapter.
    """

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
        ``tool_calls`` or the structured answer in ``data``.

        Transient failures (``ConnectionFailed``, ``RateLimited``, a 502/503/504) are retried
        ``retries`` times, within the ``timeout`` of the whole call.

        :param messages: the conversation, oldest message first; not empty.
        :param model: the model's name, sent as given; ``None`` or ``""``: ``gpt-3.5-turbo``.
        :param access_token: a csrftoken for this call only; ``None``: the ``access_token``
            setting, else one fetched from ``GET /`` and cached.
        :param tools: the functions the model may call, OpenAI's ``{"type": "function",
            "function": {...}}`` dicts or ``Tool`` objects.
        :param tool_choice: ``"auto"``, ``"none"``, ``"required"``, one function (OpenAI's
            ``{"type": "function", "function": {"name": ...}}``) or a ``ToolChoice``.
        :param response_format: the JSON the answer must be, in OpenAI's shape, a
            ``ResponseFormat`` or a pydantic model class.
        :param parallel_tool_calls: ``False``: at most one tool call in the reply.
        :returns: the reply: its ``text``, ``model``, ``tool_calls`` and ``data``.
        :raises InvalidInput: bad ``messages`` (``InvalidMessages``), ``model``,
            ``access_token``, tools or format, before anything is sent.
        :raises InvalidModelReply: the reply did not fit the tools or format, even repaired.
        :raises TimedOut: a connect or read timeout, or the call's deadline, ran out.
        :raises ConnectionFailed: no usable connection (``UntrustedCertificate``: TLS), after
            the retries.
        :raises RateLimited: HTTP 429, after the retries.
        :raises ServiceUnavailable: a 5xx answer, after the retries.
        :raises AccessRejected: the service refused the token (a fetched one is replaced
            once first).
        :raises VoiGptError: any other failure of the site: ``TokenUnavailable``,
            ``MalformedReply``, ``ReplyTooLarge``, ``Blocked`` or ``UnexpectedStatus``.
        """
        use_case = self.container.complete_chat()
        asked = asked_of(tools, tool_choice, response_format, parallel_tool_calls)
        return use_case(messages, model=model, access_token=access_token, asked=asked)


    def ask(self, prompt: str, *, system: str | None = None, model: str | None = None) -> str:
        """One question, one answer: the reply text.

        :param prompt: the user's question.
        :param system: a system message sent before it, if any.
        :param model: as ``complete`` takes it.
        :returns: the reply's text.
        :raises VoiGptError: what ``complete`` raises (``InvalidMessages`` for a prompt or
            system message that is not text).
        """
        conversation = Conversation.question(prompt, system=system)
        return self.complete(conversation, model=model).text

    def close(self) -> None:
        """Close the pooled connections and forget the cached token. The client can still
        be used: the next call connects again. ``with Client() as client:`` calls it."""
        close_container(self.container)

    def __enter__(self) -> Client:
        """The client itself: ``with Client() as client:`` closes it on the way out."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the client (``close()``); an exception raised in the block goes on."""
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
