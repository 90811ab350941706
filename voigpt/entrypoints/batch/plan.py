"""What a run has to do, found before anything is sent: the input checked whole, OUTPUT
opened (locked, scanned, a torn tail repaired), and the ids still to do.

ERRORS holds the failures of one run: a failure from an earlier run is tried again, so the
old file is removed when the run starts, and written again as failures happen.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from voigpt.domain.errors import InvalidInput
from voigpt.entrypoints.batch.journal import Journal
from voigpt.entrypoints.batch.reading import survey

ERRORS_SUFFIX = ".errors.jsonl"


def errors_path_for(output: Path) -> Path:
    """``out.jsonl`` -> ``out.errors.jsonl``; ``out`` or ``out.txt`` -> ``out.errors.jsonl``
    or ``out.txt.errors.jsonl``."""
    name = output.name[: -len(".jsonl")] if output.name.endswith(".jsonl") else output.name
    return output.with_name(name + ERRORS_SUFFIX)


@attrs.define
class Plan:
    input: Path
    output: Path
    errors: Path
    journal: Journal
    total: int
    pending: set[str]  # ids neither in OUTPUT nor yet started in this run

    @property
    def skipped(self) -> int:
        return self.total - len(self.pending)

    def close(self) -> None:
        self.journal.close()


def prepare(input: Path, output: Path, errors: Path | None = None) -> Plan:
    """Check the input (``BadInputFile`` lists what is wrong), then open OUTPUT. Nothing is
    written if the input is bad."""
    errors = errors or errors_path_for(output)
    _distinct(input, output, errors)
    ids = survey(input)
    journal = Journal(output)
    try:
        pending = ids - journal.done
        total = len(ids)
        del ids
        _remove_stale(errors)
    except BaseException:
        journal.close()
        raise
    return Plan(input, output, errors, journal, total, pending)


def _distinct(input: Path, output: Path, errors: Path) -> None:
    paths = {"INPUT": input, "OUTPUT": output, "ERRORS": errors}
    seen: dict[tuple[int, int] | Path, str] = {}
    for label, path in paths.items():
        key = _identity(path)
        if key in seen:
            raise InvalidInput(f"{label} and {seen[key]} are the same file ({path})")
        seen[key] = label


def _identity(path: Path) -> tuple[int, int] | Path:
    try:
        status = path.stat()
    except OSError:
        return path.resolve()
    return status.st_dev, status.st_ino


def _remove_stale(errors: Path) -> None:
    try:
        os.unlink(errors)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise InvalidInput(f"cannot replace {errors}: {exc.strerror}") from None
