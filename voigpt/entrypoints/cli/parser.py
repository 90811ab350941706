"""The command line's shape. It imports argparse and the settings' names only (no HTTP
library, no container), so ``voigpt --help`` starts fast."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from voigpt.config import ENVIRONMENT
from voigpt.domain.setting_values import BACKENDS
from voigpt.entrypoints.cli.failures import UsageError


class Parser(argparse.ArgumentParser):
    """Raises ``UsageError`` where argparse would print and exit, so that the caller words
    it (as JSON for ``ask --json``); every subcommand's parser is one too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, prog=self.prog, usage=self.format_usage())


def wants_json(argv: Sequence[str]) -> bool:
    """Whether the command line is ``ask ... --json ...`` (before any ``--``), even one
    argparse refuses."""
    words = list(argv[: list(argv).index("--")] if "--" in argv else argv)
    return bool(words) and words[0] == "ask" and "--json" in words


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="voigpt",
        description="Talk to voigpt.com (or its bundled emulator) from the terminal.",
        epilog=f"Settings also come from {', '.join(ENVIRONMENT.values())}; "
        "flags win over the environment.",
    )
    from voigpt import __version__

    parser.add_argument("--version", action="version", version=f"voigpt {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    connection = connection_flags()
    conversation = Parser(add_help=False)
    conversation.add_argument("--system", metavar="TEXT", help="a system message sent first")
    conversation.add_argument("--model", help="model name (default: gpt-3.5-turbo)")
    common = [conversation, connection]

    ask = commands.add_parser(
        "ask", parents=common, help="ask one question and print the reply",
        description="Print only the reply text on stdout.",
    )
    ask.add_argument("prompt", metavar="PROMPT", help="the question; - reads it from stdin")
    ask.add_argument("--json", action="store_true",
                     help="print {reply, model, elapsed_seconds} on stdout; a failure is "
                     "{error: {type, message}} on stdout, with the same exit code")

    commands.add_parser(
        "chat", parents=common, help="hold a conversation (history is kept)",
        description="One message per line. /help lists the commands (/reset forgets the "
        "history, /exit or EOF ends); a line that starts with // is sent less one slash.",
    )

    from voigpt.entrypoints.cli.batch_parser import add_batch_parser
    from voigpt.entrypoints.cli.serve_parser import add_serve_parser

    add_serve_parser(commands, connection)
    add_batch_parser(commands, connection)

    emulator = commands.add_parser(
        "emulator", help="run the bundled voigpt.com emulator in the foreground"
    )
    emulator.add_argument("--host", default="127.0.0.1", help="address to bind")
    emulator.add_argument(
        "--port", type=port_number, default=8000, help="port (0 picks a free one)"
    )
    emulator.add_argument("-v", "--verbose", action="store_true", help="log requests on stderr")
    return parser


def connection_flags() -> Parser:
    """The flags of every command that talks to the site (a parent parser)."""
    connection = Parser(add_help=False)
    connection.add_argument("--base-url", metavar="URL", help="site to talk to")
    connection.add_argument(
        "--proxy", metavar="URL", help="http://, https://, socks5:// or socks5h://"
    )
    connection.add_argument("--access-token", metavar="TOKEN", help="use this csrftoken as given")
    connection.add_argument(
        "--timeout", metavar="SECONDS", help="give up after this long, retries included"
    )
    connection.add_argument(
        "--retries", metavar="N", help="retries of transient failures (default 2)"
    )
    connection.add_argument(
        "--backend",
        choices=BACKENDS,
        help="http: the site; local: the bundled emulator, started in-process; "
        "fake: in-memory, no network",
    )
    connection.add_argument("-v", "--verbose", action="store_true", help="debug log on stderr")
    return connection


def port_number(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text!r}")
    return int(text)
