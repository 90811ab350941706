"""``voigpt chat``: a conversation that keeps its history, one message per line."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import TextIO

from voigpt.client import Client
from voigpt.domain.errors import VoiGptError
from voigpt.domain.values import Conversation, Role
from voigpt.entrypoints.cli.ask import read_text

BANNER = "voigpt chat: type a message and press Enter. /reset forgets the history, /exit ends."


def run_chat(
    client: Client,
    *,
    system: str | None,
    model: str | None,
    stdin: TextIO | None,
    stdout: TextIO,
    stderr: TextIO,
    report: Callable[[VoiGptError], object],
) -> int:
    """Interactive at a TTY (prompt, errors reported and the chat goes on); otherwise reads
    lines until EOF and stops at the first error with its exit code."""
    interactive = stdin is not None and not stdin.closed and stdin.isatty()
    if interactive:
        _enable_line_editing()
        print(BANNER, file=stderr)
    start: list[dict[str, str]] = [] if system is None else [{"role": "system", "content": system}]
    history = start
    while True:
        line = _read_line(stdin, interactive)
        if line is None:
            if interactive:
                print(file=stderr)
            return 0
        text = line.rstrip("\r\n")
        command = text.strip()
        if not command:
            continue
        if command == "/exit":
            return 0
        if command == "/reset":
            history = start
            if interactive:
                print("(history cleared)", file=stderr)
            continue
        try:
            asked = [*history, {"role": Role.USER.value, "content": text}]
            reply = client.complete(Conversation.from_dicts(asked), model=model).text
        except VoiGptError as exc:
            if not interactive:
                raise
            report(exc)
            continue
        print(reply, file=stdout, flush=True)
        history = [*asked, {"role": Role.ASSISTANT.value, "content": reply}]


def _read_line(stdin: TextIO | None, interactive: bool) -> str | None:
    """The next line, or None at EOF. At a TTY, ``input`` gives a prompt and line editing."""
    if interactive and stdin is sys.stdin:
        try:
            return input("you> ")
        except EOFError:
            return None
    return read_text(stdin, line=True) or None


def _enable_line_editing() -> None:
    with contextlib.suppress(ImportError):  # not on every platform
        import readline  # noqa: F401 - importing it gives input() history and editing


