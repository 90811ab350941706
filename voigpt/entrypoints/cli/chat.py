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

BANNER = "voigpt chat: type a message and press Enter. /help lists the commands, /exit ends."
COMMANDS = {
    "/help": "list these commands",
    "/reset": "forget the history (a --system message stays)",
    "/exit": "end the chat (so do EOF and Ctrl-D; Ctrl-C interrupts, exit 130)",
}
HELP = "\n".join(
    [*(f"  {name:<7} {what}" for name, what in COMMANDS.items()),
     "A line that starts with / is a command, never sent; start it with // to send it:",
     "//etc/hosts is sent as /etc/hosts."]
)


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
        try:
            line = _read_line(stdin, interactive)
        except KeyboardInterrupt:
            if interactive:  # the message goes below the half-typed line, not after it
                print(file=stderr, flush=True)
            raise
        if line is None:
            if interactive:
                print(file=stderr)
            return 0
        text = line.rstrip("\r\n")
        command = text.strip()
        if not command:
            continue
        if command.startswith("//"):
            text = text.replace("/", "", 1)  # escaped: sent, less its first slash
        elif command.startswith("/"):
            name, *rest = command.split()
            if name == "/exit" and not rest:
                return 0
            if name == "/reset" and not rest:
                history = start
                if interactive:
                    print("(history cleared)", file=stderr)
            else:
                print(_answer(name, rest), file=stderr, flush=True)
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


def _answer(name: str, rest: list[str]) -> str:
    """What a command other than /exit and /reset prints; it sends nothing."""
    if name == "/help" and not rest:
        return HELP
    if name in COMMANDS:
        return f"voigpt: {name} takes nothing after it; /help lists the commands"
    return f"voigpt: unknown command {name}; /help lists the commands"


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


