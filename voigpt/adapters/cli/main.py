"""``voigpt``'s entry point: parse, build the client through the container, run, format.

Exit codes: 0 success, 1 service or network error, 2 usage or bad input, 130 interrupted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from voigpt.adapters.cli.parser import build_parser

if TYPE_CHECKING:
    import argparse

    from voigpt.client import Client
    from voigpt.config import Settings
    from voigpt.logs import SecretsFilter


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    args = build_parser().parse_args(argv)
    streams = _Streams(stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr)
    from voigpt.logs import SecretsFilter

    secrets = SecretsFilter()
    if args.verbose:
        _log_to(streams.stderr, secrets)
    try:
        if args.command == "emulator":
            from voigpt.adapters.cli.serve import run_emulator

            return run_emulator(args.host, args.port, stdout=streams.stdout)
        return _run(args, streams, secrets)
    except KeyboardInterrupt:
        print("voigpt: interrupted", file=streams.stderr)
        return 130
    except Exception as exc:
        return _report(exc, args.verbose, streams.stderr, secrets)


class _Streams:
    def __init__(self, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> None:
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr


def _run(args: argparse.Namespace, streams: _Streams, secrets: SecretsFilter) -> int:
    secrets.remember(args.access_token, os.environ.get("VOIGPT_ACCESS_TOKEN"))
    with _client(args) as client:
        proxy = client.container.config.proxy()
        secrets.remember(proxy.password if proxy else None)
        if args.command == "ask":
            return _ask(args, client, streams)
        from voigpt.adapters.cli.chat import run_chat

        return run_chat(
            client,
            system=args.system,
            model=args.model,
            stdin=streams.stdin,
            stdout=streams.stdout,
            stderr=streams.stderr,
            report=lambda exc: _report(exc, args.verbose, streams.stderr, secrets),
        )


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[Client]:
    from voigpt.domain.errors import InvalidConfig

    backend = args.backend or os.environ.get("VOIGPT_BACKEND") or "http"
    flags: dict[str, Any] = {
        "base_url": args.base_url,
        "proxy": args.proxy,
        "access_token": args.access_token,
        "timeout": args.timeout,
        "retries": args.retries,
        "backend": backend,
    }
    if backend != "local":
        with _built(flags) as client:
            yield client
        return
    if args.base_url:
        raise InvalidConfig("--backend local runs its own emulator; drop --base-url")
    _built_settings(flags | {"backend": "http"})  # all flags checked before it starts
    from voigpt.emulator import Emulator

    with Emulator() as emulator, _built(flags | {"base_url": emulator.url, "backend": "http"}) as c:
        yield c


_LABELS = {name: "--" + name.replace("_", "-") for name in (
    "base_url", "proxy", "access_token", "timeout", "retries", "backend"
)}


def _built_settings(flags: dict[str, Any]) -> Settings:
    from voigpt.config import Settings

    return Settings.load(labels=_LABELS, **flags)


@contextlib.contextmanager
def _built(flags: dict[str, Any]) -> Iterator[Client]:
    from voigpt.client import Client
    from voigpt.container import container_for

    with Client(container=container_for(_built_settings(flags))) as client:
        yield client


def _ask(args: argparse.Namespace, client: Client, streams: _Streams) -> int:
    from voigpt.domain.errors import InvalidInput
    from voigpt.domain.values import Conversation

    prompt = streams.stdin.read().rstrip("\r\n") if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise InvalidInput("the prompt is empty")
    conversation = Conversation.question(prompt, system=args.system)
    started = time.perf_counter()
    completion = client.complete(conversation, model=args.model)
    elapsed = time.perf_counter() - started
    if args.json:
        document = {
            "reply": completion.text,
            "model": completion.model,
            "elapsed_seconds": round(elapsed, 6),
        }
        print(json.dumps(document, ensure_ascii=False), file=streams.stdout)
    else:
        print(completion.text, file=streams.stdout)
    return 0


def _report(exc: BaseException, verbose: bool, stderr: TextIO, secrets: SecretsFilter) -> int:
    from voigpt.domain.errors import InvalidInput, VoiGptError

    if isinstance(exc, InvalidInput):
        code, line = 2, f"voigpt: error: {exc}"
    elif isinstance(exc, VoiGptError):
        code, line = 1, f"voigpt: {type(exc).__name__}: {exc}"
    elif isinstance(exc, OSError):
        code, line = 1, f"voigpt: {exc}"
    else:
        raise exc
    if verbose:
        print(secrets.scrub("".join(traceback.format_exception(exc))), file=stderr, end="")
    print(secrets.scrub(line), file=stderr)
    return code


def _log_to(stream: TextIO, secrets: SecretsFilter) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(secrets)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


