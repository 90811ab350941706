"""Scripted replies: what the emulator's "model" answers, a FIFO of texts (or one-shot reply
functions) taken first, then the reply function (the echo ``reply_for`` unless scripted)."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, cast

Messages = list[dict[str, Any]]  # what ``parse_request_body`` returns
ReplyFunction = Callable[[Messages], str]
"""What ``Emulator(reply=...)`` takes: ``fn(messages) -> str``, the request's messages (dicts
with ``"role"`` and ``"content"``) to the reply text. ``reply_for`` is the default."""
Scripted = str | ReplyFunction  # one queued reply


class ReplyScript:
    """Thread-safe FIFO of scripted replies in front of a reply function: each completion takes
    the next queued item (a text, or a function called once) or, with none queued, calls
    ``fallback``."""

    def __init__(self, fallback: ReplyFunction) -> None:
        if not callable(fallback):
            raise TypeError(f"reply must be a callable, got {type(fallback).__name__}")
        self._fallback = fallback
        self._lock = threading.Lock()
        self._queue: deque[Scripted] = deque()

    def push(self, items: tuple[object, ...], what: str) -> None:
        """Queue ``items`` in order, or none of them: ``TypeError`` names the first that is
        neither a str nor a callable (``what``: how to name the arguments)."""
        for index, item in enumerate(items):
            if not (isinstance(item, str) or callable(item)):
                raise TypeError(
                    f"{what} argument at index {index} must be a str or a callable, got "
                    f"{type(item).__name__}"
                )
        with self._lock:
            self._queue.extend(cast("tuple[Scripted, ...]", items))  # checked above

    def push_json(self, body: bytes) -> None:
        """Queue the texts of a control request's body, ``{"replies": ["...", ...]}``, or none
        of them: ``ValueError`` says what is wrong."""
        try:
            data = json.loads(body)
        except ValueError:
            raise ValueError("body is not valid JSON") from None
        if not isinstance(data, dict) or set(data) != {"replies"}:
            raise ValueError('body must be a JSON object with the one key "replies"')
        replies = data["replies"]
        if not isinstance(replies, list):
            raise ValueError(f'"replies" must be a list of strings, got {_json_type(replies)}')
        for index, reply in enumerate(replies):
            if not isinstance(reply, str):
                raise ValueError(f'"replies"[{index}] must be a string, got {_json_type(reply)}')
            try:
                reply.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f'"replies"[{index}] holds a lone surrogate') from None
        with self._lock:
            self._queue.extend(replies)

    def reply(self, messages: Messages) -> str:
        """The next reply to ``messages``; ``TypeError`` if a function returned a non-str (what
        a function raises propagates)."""
        with self._lock:
            item = self._queue.popleft() if self._queue else self._fallback
        if isinstance(item, str):
            return item
        text = item(messages)
        if not isinstance(text, str):
            raise TypeError(f"the reply function {item!r} returned {type(text).__name__}, not str")
        return text

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
