"""Where ``voigpt batch`` reads its requests: a file, or ``-``, standard input, copied whole
into a private temporary file first (the input is checked whole before anything is sent,
then read again for the run, and memory stays flat however long it is). OUTPUT and ERRORS
are files: a later run reads OUTPUT back to resume."""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from voigpt.config import Settings
from voigpt.domain.errors import InvalidConfig, InvalidInput

STDIN = "-"
STDIN_NAME = "standard input"  # what messages call it, for the temporary file's path
_CHUNK = 1 << 20
# What AsyncClient needs for any site (the async extra, which the batch extra includes);
# aiohttp-socks, only for a SOCKS proxy, is checked by the client with the settings.
_NEEDED = ("aiohttp",)


def refuse_streams(output: str, errors: str | None) -> None:
    """OUTPUT and ERRORS must be files; ``-`` is refused (it would make a file named ``-``)."""
    if output == STDIN:
        raise InvalidInput("-o must name a file: a later run reads OUTPUT back to resume, "
                           "so it cannot be standard output")
    if errors == STDIN:
        raise InvalidInput("--errors must name a file, not standard output")


def refuse_missing_extra(settings: Settings) -> None:
    """Before anything starts: a run on the site needs aiohttp; say which flag avoids it."""
    if settings.backend == "fake":
        return
    missing = [name for name in _NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        which = "which is" if len(missing) == 1 else "which are"
        raise InvalidConfig(
            f"voigpt batch needs {' and '.join(missing)} to reach the site, {which} not "
            "installed: pip install 'voigpt[batch]' (or run it offline with --backend fake)"
        )


@contextlib.contextmanager
def input_path(name: str, stdin: TextIO | None, stderr: TextIO) -> Iterator[Path]:
    """``name`` as a path; for ``-``, a temporary copy of all of ``stdin``, removed after."""
    if name != STDIN:
        yield Path(name)
        return
    with tempfile.TemporaryDirectory(prefix="voigpt-batch-") as scratch:
        copy = Path(scratch) / "input.jsonl"
        if _is_terminal(stdin):
            print("voigpt batch: reading the requests from standard input "
                  "(end them with Ctrl-D)", file=stderr, flush=True)
        with copy.open("wb") as file:
            _copy(stdin, file)
        yield copy


def as_given(message: str, path: Path, name: str) -> str:
    """A message about the input at ``path``, naming it as the user did: for ``-``, the
    temporary copy's path reads "standard input"."""
    return message.replace(str(path), STDIN_NAME) if name == STDIN else message


def _copy(stdin: TextIO | None, file: BinaryIO) -> None:
    if stdin is None or stdin.closed:
        raise InvalidInput("standard input is closed; give INPUT.jsonl as a file")
    try:
        binary = getattr(stdin, "buffer", None)
        if binary is not None:
            shutil.copyfileobj(binary, file, _CHUNK)
        else:  # a text stream with no bytes underneath (tests, embedding)
            file.write(stdin.read().encode("utf-8"))
    except OSError as exc:
        raise InvalidInput(f"standard input cannot be read ({exc.strerror})") from None


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False
