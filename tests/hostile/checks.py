"""Assertions shared by the hostile-server tests, with messages that say what went wrong:
which exception escaped, how long a call took, which secret leaked where."""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import voigpt

PYTHON = sys.executable


def bound(timeout: float) -> float:
    """How long a call with ``timeout=T`` may take: generous slack, a correctness bound."""
    return 2.5 * timeout + 1.0


@dataclass
class Outcome:
    value: Any
    error: BaseException | None
    elapsed: float

    def describe(self) -> str:
        if self.error is None:
            return f"returned {self.value!r:.80} after {self.elapsed:.2f}s"
        return f"raised {qualified(self.error)}: {self.error!s:.300} after {self.elapsed:.2f}s"


def qualified(exc: BaseException) -> str:
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"


def run(call: Callable[[], Any]) -> Outcome:
    """Call and time ``call``; whatever it raises (KeyboardInterrupt aside) is caught."""
    started = time.monotonic()
    try:
        value = call()
    except Exception as exc:
        return Outcome(None, exc, time.monotonic() - started)
    return Outcome(value, None, time.monotonic() - started)


def is_voigpt_error(exc: BaseException | None) -> bool:
    return isinstance(exc, voigpt.VoiGptError) and type(exc).__module__.startswith("voigpt")


def expect_error(
    outcome: Outcome, kind: type[BaseException] = voigpt.VoiGptError, *, what: str = ""
) -> BaseException:
    """The error of ``outcome``, asserted to be a voigpt error of ``kind``."""
    prefix = f"{what}: " if what else ""
    assert outcome.error is not None, f"{prefix}expected {kind.__name__}, {outcome.describe()}"
    assert is_voigpt_error(outcome.error), (
        f"{prefix}a non-voigpt exception escaped the boundary: {outcome.describe()}"
    )
    assert isinstance(outcome.error, kind), (
        f"{prefix}expected {kind.__name__}, {outcome.describe()}"
    )
    return outcome.error


def expect_result_or_error(outcome: Outcome, *, what: str = "") -> None:
    """Either a result or a voigpt error: nothing else escapes."""
    if outcome.error is not None:
        expect_error(outcome, what=what)


def expect_within(outcome: Outcome, timeout: float, *, what: str = "") -> None:
    limit = bound(timeout)
    assert outcome.elapsed <= limit, (
        f"{what}: timeout={timeout:g} but the call took {outcome.elapsed:.2f}s "
        f"(bound {limit:g}s); it {outcome.describe()}"
    )


def server_fault(outcome: Outcome, *, what: str = "") -> BaseException:
    """A voigpt error that blames the server, not the user's input or configuration."""
    error = expect_error(outcome, what=what)
    assert not isinstance(error, voigpt.InvalidInput), (
        f"{what}: the server's doing was blamed on the user's settings: {outcome.describe()}"
    )
    return error


# -- secrets --------------------------------------------------------------------------------

def secret_forms(secret: str) -> set[str]:
    """``secret`` as sent and as it may be echoed: percent-encoded, lower/upper case."""
    forms = {secret, quote(secret, safe=""), quote(secret)}
    return {form for form in forms if form}


def chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception shown with it, as a traceback shows them: its cause, or
    its context unless suppressed (``raise ... from None``)."""
    seen: list[BaseException] = []
    item: BaseException | None = exc
    while item is not None and not any(item is s for s in seen):
        seen.append(item)
        shown_context = None if item.__suppress_context__ else item.__context__
        item = item.__cause__ if item.__cause__ is not None else shown_context
    return seen


def renderings(exc: BaseException) -> dict[str, str]:
    """Everything a user or a log could see of ``exc``: str, repr, excerpt, the formatted
    traceback (with chained causes), and str/repr/string attributes of each chained one."""
    shown = {
        "str(error)": str(exc),
        "repr(error)": repr(exc),
        "error.excerpt": str(getattr(exc, "excerpt", "")),
        "traceback.format_exception(error)": "".join(traceback.format_exception(exc)),
    }
    for depth, item in enumerate(chain(exc)):
        shown[f"chain[{depth}] {type(item).__name__} str"] = str(item)
        shown[f"chain[{depth}] {type(item).__name__} repr"] = repr(item)
        shown[f"chain[{depth}] {type(item).__name__} args"] = repr(item.args)
        for name, value in vars(item).items():
            if isinstance(value, str):
                shown[f"chain[{depth}] {type(item).__name__}.{name}"] = value
    return shown


def leaks(texts: dict[str, str], secrets: Iterable[str]) -> list[str]:
    """Where (``texts`` keys) any form of any secret shows."""
    found: dict[str, None] = {}
    for where, text in texts.items():  # str/repr/excerpt/traceback first, then the chain
        for secret in secrets:
            if any(form in text for form in secret_forms(secret)):
                found[f"{secret[:6]}... in {where}"] = None
    return list(found)


def assert_no_leak(
    exc: BaseException, secrets: Iterable[str], *, records: Sequence[logging.LogRecord] = (),
    log_text: str = "", what: str = "",
) -> None:
    secrets = [s for s in secrets if s]
    texts = renderings(exc)
    for index, record in enumerate(records):
        texts[f"log record {index} ({record.name})"] = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            texts[f"log record {index} exc_info"] = "".join(
                traceback.format_exception(record.exc_info[1])
            )
    if log_text:
        texts["caplog.text"] = log_text
    found = leaks(texts, secrets)
    assert not found, f"{what}: a secret leaked: {found}; the error was {qualified(exc)}: {exc}"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: no VOIGPT_* nor proxy variables, UTF-8 locale."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith("VOIGPT_") and "proxy" not in key.lower()
        and key not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PYTHONIOENCODING", "PYTHONUTF8")
    }
    env.update({"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}, **extra)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
