"""How far a batch is, and how that is shown on standard error.

``BatchProgress`` is a snapshot of the counts; the runner hands one to its ``progress``
callback after every result and once a second. The command line's callbacks: ``Bar`` (tqdm,
for a terminal) and ``PeriodicLines`` (one line every few seconds, for logs and pipes).
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any, Protocol, TextIO

import attrs

SUMMARY_EVERY = 10.0  # seconds between the one-line summaries


@attrs.frozen
class BatchProgress:
    total: int  # requests in the input
    skipped: int  # already in OUTPUT when the run started
    succeeded: int  # this run
    failed: int  # this run
    elapsed: float  # seconds, this run

    @property
    def done(self) -> int:
        """Requests whose result is in OUTPUT."""
        return self.skipped + self.succeeded

    @property
    def remaining(self) -> int:
        """Requests not yet tried in this run."""
        return self.total - self.done - self.failed

    @property
    def per_second(self) -> float:
        finished = self.succeeded + self.failed
        return finished / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        return self.remaining / self.per_second if self.per_second > 0 else None


class Reporter(Protocol):
    def __call__(self, progress: BatchProgress) -> None: ...

    def close(self) -> None: ...


def progress_line(progress: BatchProgress) -> str:
    """``voigpt batch: 1200/5000 done, 3 failed, 95.1/s, ETA 40s``"""
    eta = "ETA --" if progress.eta is None else f"ETA {duration(progress.eta)}"
    return (f"voigpt batch: {progress.done}/{progress.total} done, {progress.failed} failed, "
            f"{progress.per_second:.1f}/s, {eta}")


def duration(seconds: float) -> str:
    """``40s``, ``5m03s``, ``2h05m``."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class PeriodicLines:
    """A ``progress_line`` at most every ``every`` seconds (the first after ``every``)."""

    def __init__(self, stream: TextIO, every: float = SUMMARY_EVERY) -> None:
        self._stream, self._every = stream, every
        self._last = time.monotonic()

    def __call__(self, progress: BatchProgress) -> None:
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            print(progress_line(progress), file=self._stream, flush=True)

    def close(self) -> None:
        pass


class Bar:
    """A tqdm bar: done/total (failures included), failures, rate and ETA of this run."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._bar: Any = None
        self._failed = 0

    def __call__(self, progress: BatchProgress) -> None:
        if self._bar is None:
            from tqdm import tqdm  # type: ignore[import-untyped]

            self._bar = tqdm(
                total=progress.total, initial=progress.skipped, file=self._stream,
                desc="voigpt batch", unit="req", dynamic_ncols=True, smoothing=0.1,
            )
        finished = progress.done + progress.failed
        if progress.failed != self._failed:
            self._failed = progress.failed
            self._bar.set_postfix_str(f"{progress.failed} failed", refresh=False)
        self._bar.update(finished - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def reporter_for(stream: TextIO, *, quiet: bool) -> Reporter:
    """A bar on a terminal (if tqdm is installed), else periodic lines."""
    if not quiet and _is_terminal(stream) and importlib.util.find_spec("tqdm") is not None:
        return Bar(stream)
    return PeriodicLines(stream)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
