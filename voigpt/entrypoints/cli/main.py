"""``voigpt``'s entry point: parse, build the client through the container, run, format.

Exit codes: 0 success, 1 service or network error, 2 usage or bad input, 130 interrupted,
141 the reader of standard output went away (a closed pipe), quietly, as Unix tools do.
Every failure is one line on standard error (``-v`` adds the traceback); with
``ask --json``, it is one JSON object on standard output instead,
``{"error": {"type", "message"}}``, with the same exit code.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from voigpt.entrypoints.cli.failures import Failure, UsageError
from voigpt.entrypoints.cli.parser import build_parser, wants_json

if TYPE_CHECKING:
    import argparse

    from voigpt.client import Client
    from voigpt.logs import SecretsFilter


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stdin = stdin if stdin is not None else sys.stdin
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    as_json = wants_json(argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        if not as_json:
            print(exc.usage, file=stderr, end="")
        return _report(exc, stderr, json_out=stdout if as_json else None)
    from voigpt.logs import SecretsFilter

    secrets = SecretsFilter()
    if args.verbose:
        _log_to(stderr, secrets)
    try:
        if args.command == "emulator":
            from voigpt.entrypoints.cli.emulator import run_emulator

            return run_emulator(args.host, args.port, stdout=stdout)
        if args.command == "serve":
            from voigpt.entrypoints.cli.serve import run_serve

            return run_serve(args, stdout=stdout, stderr=stderr, secrets=secrets)
        if args.command == "batch":
            from voigpt.entrypoints.cli.batch import run_batch

            return run_batch(args, stdin=stdin, stdout=stdout, stderr=stderr, secrets=secrets)
        with _client(args, secrets) as client:
            if args.command == "ask":
                from voigpt.entrypoints.cli.ask import run_ask

                return run_ask(args, client, stdin=stdin, stdout=stdout)
            from voigpt.entrypoints.cli.chat import run_chat

            return run_chat(
                client, system=args.system, model=args.model,
                stdin=stdin, stdout=stdout, stderr=stderr,
                report=lambda exc: _report(exc, stderr, verbose=args.verbose, secrets=secrets),
            )
    except BrokenPipeError:
        _discard_output(stdout)
        return 141
    except (Exception, KeyboardInterrupt) as exc:
        return _report(exc, stderr, json_out=stdout if as_json else None,
                       verbose=args.verbose, secrets=secrets)


def _report(
    exc: BaseException, stderr: TextIO, *, json_out: TextIO | None = None,
    verbose: bool = False, secrets: SecretsFilter | None = None,
) -> int:
    """``exc`` as one JSON object on ``json_out`` (for ``--json``), else one line on
    ``stderr``, scrubbed of ``secrets``; with ``verbose``, the traceback first on stderr.
    Returns the exit code."""
    failure = Failure.of(exc, secrets.scrub if secrets is not None else str)
    if verbose and secrets is not None and not isinstance(exc, KeyboardInterrupt):
        print(secrets.scrub("".join(traceback.format_exception(exc))), file=stderr, end="")
    if json_out is not None:
        try:
            print(failure.json(), file=json_out, flush=True)
            return failure.code
        except (OSError, ValueError):  # stdout is what failed (a full disk, closed)
            pass
    print(failure.line, file=stderr)
    return failure.code


def _discard_output(stdout: TextIO) -> None:
    """After a closed pipe, point standard output at /dev/null, so that flushing it when
    Python exits reports nothing either."""
    if stdout is sys.__stdout__ and stdout is not None:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stdout.fileno())


@contextlib.contextmanager
def _client(args: argparse.Namespace, secrets: SecretsFilter) -> Iterator[Client]:
    """A client from the flags, then ``VOIGPT_*``; with the ``local`` backend, against an
    emulator started for the command's lifetime."""
    from voigpt.client import Client
    from voigpt.container import container_for
    from voigpt.entrypoints.cli.settings import reachable_site, settings_from

    with reachable_site(settings_from(args, secrets)) as settings, Client(
        container=container_for(settings)
    ) as client:
        yield client


def _log_to(stream: TextIO, secrets: SecretsFilter) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(secrets)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
