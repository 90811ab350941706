"""Value objects: roles, messages, conversations, tokens and completions. Immutable, they
cannot be built invalid: every constructor raises an ``InvalidInput`` subclass, and the named
ones (``Conversation.from_dicts``, ``AccessToken.parse``) say which item of untrusted input is
wrong. What their strings must be (UTF-8 text, a cookie-safe token) is said in ``text_rules``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from voigpt.domain.errors import InvalidInput, InvalidMessages
from voigpt.domain.openai_messages import role_and_content
from voigpt.domain.text_rules import check_content, check_token, well_formed

if TYPE_CHECKING:  # an annotation only: a plain completion has no tool calls
    from voigpt.domain.tools.values import ToolCall



class Role(str, enum.Enum):
    """Who speaks a message. A ``str``: ``Role.USER == "user"``."""

    SYSTEM = "system"
    """Instructions to the model (OpenAI's ``developer`` messages are read as these)."""
    USER = "user"
    """The person asking."""
    ASSISTANT = "assistant"
    """The model's earlier answers."""

    def __str__(self) -> str:
        return self.value


# Every name a role goes by (OpenAI's "developer" is system); Role.USER == "user" finds it too.
_ROLES: dict[object, Role] = {**{role.value: role for role in Role}, "developer": Role.SYSTEM}
_ROLE_NAMES = ", ".join(map(repr, _ROLES))


def _role(value: object) -> Role:
    try:
        return _ROLES[value]  # a dict, not Role(value): on every message's path
    except (KeyError, TypeError):
        raise InvalidMessages(f"'role' must be one of {_ROLE_NAMES}, got {_short(value)}") from None


@attrs.frozen
class Message:
    """One turn of a conversation: a ``Role`` (or its name) and UTF-8 encodable text.

    :ivar role: who speaks it; a name given is converted (``"developer"``: ``Role.SYSTEM``).
    :ivar content: the text, any length (``""`` too)."""

    role: Role = attrs.field(converter=_role)
    content: str = attrs.field(validator=check_content)

    @classmethod
    def from_dict(cls, item: object, *, where: str = "message") -> Message:
        """Validate one ``{"role": ..., "content": ...}`` mapping, also in the OpenAI shapes
        (``developer``, ``name``, text parts) that ``voigpt.domain.openai_messages``
        describes; only the role and the text are kept, because they are all that is sent."""
        if type(item) is dict and len(item) == 2 and type(item.get("content")) is str:
            role, content = item.get("role"), item["content"]  # the common shape, checked fast
            if type(role) is not str or role not in _ROLES:
                role, content = role_and_content(item, where)
        elif isinstance(item, Mapping):
            role, content = role_and_content(item, where)
        else:
            raise InvalidMessages(
                f"{where} must be a dict with 'role' and 'content', got {type(item).__name__}"
            )
        try:
            return cls(role=role, content=content)
        except InvalidMessages as exc:
            raise InvalidMessages(f"{where}: {exc}") from None

    def to_dict(self) -> dict[str, str]:
        """``{"role": "user", "content": "..."}``: the shape the site and OpenAI take."""
        return {"role": self.role.value, "content": self.content}


def _to_messages(messages: Iterable[Message]) -> tuple[Message, ...]:
    return tuple(messages)


def _check_messages(instance: object, attribute: object, messages: tuple[Any, ...]) -> None:
    if not messages:
        raise InvalidMessages("messages must not be empty")
    for index, message in enumerate(messages):
        if not isinstance(message, Message):
            raise InvalidMessages(
                f"messages[{index}] must be a Message, got {type(message).__name__}"
            )


@attrs.frozen
class Conversation:
    """A non-empty, ordered sequence of messages.

    :ivar messages: the ``Message`` objects, a tuple, oldest first."""

    messages: tuple[Message, ...] = attrs.field(converter=_to_messages, validator=_check_messages)

    @classmethod
    def from_dicts(cls, messages: object) -> Conversation:
        """Validate g4f/OpenAI-style ``[{"role": ..., "content": ...}, ...]``."""
        if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, (list, tuple)):
            raise InvalidMessages(
                f"messages must be a list of dicts, got {type(messages).__name__}"
            )
        return cls(
            Message.from_dict(item, where=f"messages[{i}]") for i, item in enumerate(messages)
        )

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[object, object]]) -> Conversation:
        """``from_dicts`` of ``{"role": role, "content": text}`` per pair, errors included."""
        messages = []
        for index, (role, text) in enumerate(pairs):
            try:
                messages.append(Message(role, text))  # type: ignore[arg-type]
            except InvalidMessages as exc:
                raise InvalidMessages(f"messages[{index}]: {exc}") from None
        return cls(messages)

    @classmethod
    def of(cls, messages: Iterable[Message]) -> Conversation:
        """From ``Message`` objects (any iterable); ``InvalidMessages`` if it is empty."""
        return cls(messages)

    @classmethod
    def question(cls, prompt: str, *, system: str | None = None) -> Conversation:
        """One user question, after an optional system message; both validated."""
        opening = [] if system is None else [{"role": "system", "content": system}]
        return cls.from_dicts([*opening, {"role": "user", "content": prompt}])

    def to_dicts(self) -> list[dict[str, str]]:
        """The messages as ``Message.to_dict`` gives them, in order: JSON-ready."""
        return [message.to_dict() for message in self.messages]

    def then(self, role: Role | str, content: str) -> Conversation:
        """A new conversation with one more (validated) message at the end."""
        where = f"messages[{len(self.messages)}]"
        message = Message.from_dict({"role": role, "content": content}, where=where)
        return Conversation((*self.messages, message))


@attrs.frozen(repr=False)
class AccessToken:
    """The csrftoken: a cookie-safe ASCII string. Its value never shows in repr, str or
    error messages.

    :ivar value: the token itself; read it only to send it, never to log it."""

    value: str = attrs.field(repr=False, validator=check_token)

    @classmethod
    def parse(cls, value: object, *, where: str = "access_token") -> AccessToken:
        """An ``AccessToken`` from untrusted ``value``; an ``InvalidInput`` names it ``where``."""
        try:
            return cls(value)  # type: ignore[arg-type]
        except InvalidInput as exc:
            raise InvalidInput(str(exc).replace("access_token", where, 1)) from None

    def __repr__(self) -> str:
        return "AccessToken(<redacted>)"

    __str__ = __repr__


@attrs.frozen
class Completion:
    """The assistant's reply. Its ``text`` always encodes to UTF-8: a lone surrogate that the
    site or a transport sent is replaced by U+FFFD (decided here, for every entry point).

    :ivar text: the reply; ``""`` when the model called tools, the JSON of ``data`` if any.
    :ivar model: the model asked for (``gpt-3.5-turbo`` when none was named).
    :ivar tool_calls: the ``ToolCall`` objects the model made, when tools were asked for.
    :ivar data: the structured answer (parsed JSON), when a JSON format was asked for."""

    text: str = attrs.field(converter=well_formed, validator=attrs.validators.instance_of(str))
    model: str = attrs.field(validator=attrs.validators.instance_of(str))
    tool_calls: tuple[ToolCall, ...] = ()
    data: Any = None

    @property
    def finish_reason(self) -> str:
        """OpenAI's name for why the answer ended: ``tool_calls`` or ``stop``."""
        return "tool_calls" if self.tool_calls else "stop"

    def __str__(self) -> str:
        return self.text


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
