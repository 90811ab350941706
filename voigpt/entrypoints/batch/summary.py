"""How a run ended: ``BatchSummary``, its one-line account and its exit code; and
``WriteFailed``, a run stopped because OUTPUT or ERRORS could not be written."""

from __future__ import annotations

from pathlib import Path

import attrs

from voigpt.entrypoints.batch.progress import BatchProgress, duration

RESUME_HINT = "run the same command again to resume"


@attrs.frozen
class BatchSummary:
    input: Path
    output: Path
    errors: Path  # written only if something failed
    progress: BatchProgress
    interrupted: bool = False

    @property
    def total(self) -> int:
        return self.progress.total

    @property
    def done(self) -> int:
        """Requests whose result is in OUTPUT, from this run and earlier ones."""
        return self.progress.done

    @property
    def succeeded(self) -> int:
        """Requests that succeeded in this run."""
        return self.progress.succeeded

    @property
    def failed(self) -> int:
        """Requests that failed in this run (their lines are in ``errors``)."""
        return self.progress.failed

    @property
    def remaining(self) -> int:
        """Requests not tried (an interrupted run)."""
        return self.progress.remaining

    @property
    def complete(self) -> bool:
        return self.done == self.total

    @property
    def exit_code(self) -> int:
        """0 all done, 1 some failed (or were not tried), 130 interrupted."""
        if self.interrupted:
            return 130
        return 0 if self.complete else 1

    def line(self) -> str:
        """``voigpt batch: 4997/5000 done (1200 this run), 3 failed (see
        out.errors.jsonl), 52.3 s``"""
        p = self.progress
        this_run = f" ({p.succeeded} this run)" if p.skipped else ""
        parts = [f"{p.done}/{p.total} done{this_run}",
                 f"{p.failed} failed" + (f" (see {self.errors})" if p.failed else "")]
        if p.remaining:
            parts.append(f"{p.remaining} not tried")
        return f"voigpt batch: {', '.join(parts)}, {_seconds(p.elapsed)}"


class WriteFailed(OSError):
    """OUTPUT or ERRORS could not be written (a full disk...): the run stopped. What is in
    OUTPUT is whole; ``summary`` says how far it got."""

    def __init__(self, path: Path, cause: OSError, summary: BatchSummary) -> None:
        self.path, self.cause, self.summary = path, cause, summary
        super().__init__(cause.errno, f"cannot write {path}: {cause.strerror or cause}")


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else duration(seconds)
