"""Where a batch run's results go, and their counts: a success's line to OUTPUT, its id
marked done in the same step (a line is never written twice), a failure's to ERRORS.

The first write that fails halts the run: ``halted`` is set, ``error`` says which file and
why, and nothing more is written (the runner stops at once and raises ``WriteFailed``).
Kept apart from the runner, which decides when requests start and stop, not what a result
becomes in the files.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from voigpt.entrypoints.batch.journal import FailureLog
from voigpt.entrypoints.batch.plan import Plan


class Results:
    """The results of one run on ``plan``: ``succeeded`` and ``failed`` (this run's),
    ``halted`` and ``error`` once a write failed; ``close`` ERRORS at the end."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.failures = FailureLog(plan.errors)
        self.succeeded = self.failed = 0
        self.halted = asyncio.Event()  # OUTPUT or ERRORS failed: stop now
        self.error: tuple[Path, OSError] | None = None

    def write(self, line: bytes, custom_id: str | None = None) -> bool:
        """A failure's line to ERRORS (no ``custom_id``), or the success of ``custom_id`` to
        OUTPUT; True if it was a success."""
        if self.halted.is_set():
            return False
        path = self.plan.errors if custom_id is None else self.plan.output
        journal = self.plan.journal
        try:
            if custom_id is None:
                self.failures.append(line)
                self.failed += 1
            elif custom_id not in journal.done:  # never twice
                journal.append(line)
                journal.done.add(custom_id)
                self.succeeded += 1
        except OSError as exc:
            self.error = (path, exc)
            self.halted.set()
            return False
        return custom_id is not None

    def close(self) -> None:
        self.failures.close()
