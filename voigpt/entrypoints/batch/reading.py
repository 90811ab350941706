"""The input file, streamed: never held in memory, only its ids are.

``survey`` reads the whole file once and checks every line before anything is sent; it keeps
the set of ``custom_id``s and nothing else. ``requests`` reads it again, line by line, for
the run. Blank lines are skipped; line numbers count every line, as an editor does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from voigpt.domain.errors import InvalidInput
from voigpt.entrypoints.batch.parsing import (
    BatchRequest,
    LineProblem,
    custom_id_of,
    load,
    parse,
    request_from,
)

SHOWN = 20  # bad lines listed in full; the rest are counted
READ_BUFFER = 1 << 20


class BadInputFile(InvalidInput):
    """The input file has bad lines (nothing was sent). ``problems`` holds the first 20 as
    ``(line number, what is wrong)``; ``count`` counts them all."""

    def __init__(self, path: Path, problems: list[tuple[int, str]], count: int) -> None:
        self.path, self.problems, self.count = path, problems, count
        lines = [f"{path}: {count} bad line{'s' if count != 1 else ''}; nothing was sent"]
        lines += [f"  line {number}: {problem}" for number, problem in problems]
        if count > len(problems):
            lines.append(f"  ... and {count - len(problems)} more")
        super().__init__("\n".join(lines))


class InputChanged(InvalidInput):
    """The input file changed between the check and the run."""


def survey(path: Path) -> set[str]:
    """Every ``custom_id`` of the file, once every line is known to be good; else
    ``BadInputFile``. An unreadable file is an ``InvalidInput`` naming it."""
    first_seen: dict[str, int] = {}
    problems: list[tuple[int, str]] = []
    count = 0
    for number, raw in numbered_lines(path):
        try:
            data = load(raw)
            custom_id = custom_id_of(data)
            if custom_id in first_seen:
                raise LineProblem(
                    f"duplicate custom_id {custom_id!r} (first on line {first_seen[custom_id]})"
                )
            first_seen[custom_id] = number
            request_from(data, custom_id)
        except LineProblem as exc:
            count += 1
            if len(problems) < SHOWN:
                problems.append((number, str(exc)))
    if count:
        raise BadInputFile(path, problems, count)
    if not first_seen:
        raise InvalidInput(f"{path}: no requests in the file")
    return set(first_seen)


def requests(path: Path) -> Iterator[BatchRequest]:
    """The file's requests, in order, read as they are needed."""
    for number, raw in numbered_lines(path):
        try:
            yield parse(raw)
        except LineProblem as exc:
            raise InputChanged(
                f"{path} changed while it ran: line {number}: {exc}; check it, then run "
                "the same command again (what is done is kept)"
            ) from None


def numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, line without its end)`` for every non-blank line."""
    try:
        file = path.open("rb", buffering=READ_BUFFER)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    with file:
        for number, raw in enumerate(file, 1):
            line = raw.rstrip(b"\r\n")
            if line.strip():
                yield number, line
