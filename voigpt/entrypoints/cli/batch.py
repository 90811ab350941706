"""``voigpt batch``: the runner of ``voigpt.entrypoints.batch`` as a command.

The input is checked before anything else happens (bad lines listed, exit 2, nothing sent),
then OUTPUT is opened (a torn last line repaired, with a note), then the run: a bar on a
terminal, else a line every few seconds, and one summary line at the end, always. Ctrl-C or
SIGTERM stops new requests, lets those in flight finish for a few seconds (a second Ctrl-C:
at once), writes what finished, says how to resume and exits 130.

``--state URL`` (or ``VOIGPT_STATE``; default ``memory``) shares the site's pace with the
servers and batches on that state; a state that cannot be used is exit 2 before anything
is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TextIO

from voigpt.domain.errors import InvalidInput
from voigpt.entrypoints.batch.plan import Plan, prepare
from voigpt.entrypoints.batch.progress import Reporter, reporter_for
from voigpt.entrypoints.batch.reading import BadInputFile
from voigpt.entrypoints.batch.runner import GRACE, execute
from voigpt.entrypoints.batch.sharing import shared_pace
from voigpt.entrypoints.batch.summary import RESUME_HINT, BatchSummary, WriteFailed
from voigpt.entrypoints.cli.batch_input import (
    as_given,
    input_path,
    refuse_missing_extra,
    refuse_streams,
)
from voigpt.entrypoints.cli.settings import reachable_site, settings_from

_BAR_END = "\n"  # the bar's line stays; the note starts below it

if TYPE_CHECKING:
    from voigpt.config import Settings
    from voigpt.domain.state_location import StateLocation
    from voigpt.logs import SecretsFilter


def run_batch(
    args: argparse.Namespace, *, stdin: TextIO | None, stdout: TextIO, stderr: TextIO,
    secrets: SecretsFilter,
) -> int:
    refuse_streams(args.output, args.errors)
    settings = settings_from(args, secrets)
    refuse_missing_extra(settings)
    state = _state(args.state)
    if state.location is not None:
        secrets.remember(state.location.password)
    with input_path(args.input, stdin, stderr) as source:
        return _batch(source, args, settings, state, stderr=stderr, secrets=secrets)


def _batch(
    source: Path, args: argparse.Namespace, settings: Settings, state: _State, *,
    stderr: TextIO, secrets: SecretsFilter,
) -> int:
    errors = Path(args.errors) if args.errors else None
    try:
        plan = prepare(source, Path(args.output), errors)
    except InvalidInput as exc:
        exc.args = (as_given(str(exc), source, args.input),)
        if not isinstance(exc, BadInputFile):
            raise
        print(secrets.scrub(f"voigpt: error: {exc}"), file=stderr)  # a line per bad line
        return 2
    try:
        if plan.journal.torn is not None:
            torn = plan.journal.torn
            print(f"voigpt batch: {plan.output} ended with a torn line (line {torn.line}, "
                  f"{torn.size} bytes, from an interrupted run): removed; that request is "
                  "sent again", file=stderr)
        reporter = reporter_for(stderr, quiet=args.quiet)
        try:
            with reachable_site(settings) as site:
                summary = asyncio.run(_run(plan, site, args, state, reporter, secrets,
                                           stderr))
        finally:
            reporter.close()
    except KeyboardInterrupt:  # before the loop took the signals, or where it cannot
        print(f"voigpt: interrupted; {RESUME_HINT}", file=stderr)
        return 130
    except WriteFailed as exc:
        print(secrets.scrub(f"voigpt: {exc.strerror}; the run stopped"), file=stderr)
        print(exc.summary.line(), file=stderr)
        print(f"voigpt: what {exc.summary.output} holds is whole; make room, then "
              f"{RESUME_HINT}", file=stderr)
        return 1
    finally:
        plan.close()
    print(summary.line(), file=stderr)
    if summary.interrupted:
        print(f"voigpt: interrupted; {RESUME_HINT}", file=stderr)
    return summary.exit_code


async def _run(
    plan: Plan, settings: Settings, args: argparse.Namespace, state: _State,
    reporter: Reporter, secrets: SecretsFilter, stderr: TextIO,
) -> BatchSummary:
    from voigpt.async_client import AsyncClient
    from voigpt.container import container_for

    stop, hurry = asyncio.Event(), asyncio.Event()

    def interrupted() -> None:
        if stop.is_set():
            hurry.set()
            return
        stop.set()
        print(f"{_BAR_END if _is_terminal(stderr) else ''}voigpt batch: stopping: no new "
              f"requests; up to {GRACE:g} s for those in flight (Ctrl-C again: stop now)",
              file=stderr, flush=True)

    with _signals(interrupted):
        async with AsyncClient(container=container_for(settings)) as client, \
                shared_pace(client, state.location, state.setting) as pace:
            return await execute(plan, client, concurrency=args.concurrency, rate=args.rate,
                                 progress=reporter, scrub=secrets.scrub, stop=stop,
                                 hurry=hurry, pace=pace)


class _State(NamedTuple):
    location: StateLocation | None  # None: memory, the default for a batch
    setting: str  # where it came from, for an error to name


def _state(flag: str | None) -> _State:
    """The state the run shares the site's pace on, from ``--state`` or ``VOIGPT_STATE``
    (its Redis password from the URL or ``VOIGPT_REDIS_PASSWORD``); checked before any I/O."""
    from voigpt.domain.state_location import parse_state

    password = os.environ.get("VOIGPT_REDIS_PASSWORD") or None
    if flag is not None:
        return _State(parse_state(flag, "--state", redis_password=password), "--state")
    if os.environ.get("VOIGPT_STATE"):
        return _State(parse_state(os.environ["VOIGPT_STATE"], "$VOIGPT_STATE",
                                  redis_password=password), "$VOIGPT_STATE")
    return _State(None, "--state")


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _signals:
    """SIGINT and SIGTERM call ``handler`` in the loop, for the block. Where the loop cannot
    take signals (Windows), Ctrl-C stays a KeyboardInterrupt: exit 130, without the grace."""

    def __init__(self, handler: Callable[[], None]) -> None:
        self._handler = handler
        self._installed: list[signal.Signals] = []

    def __enter__(self) -> None:
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(number, self._handler)
            except (NotImplementedError, RuntimeError, ValueError):
                continue
            self._installed.append(number)

    def __exit__(self, *exc: object) -> None:
        loop = asyncio.get_running_loop()
        for number in self._installed:
            loop.remove_signal_handler(number)
