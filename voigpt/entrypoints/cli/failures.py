"""How the command line words a failure: its exit code, its type and its message, shown as
one line on stderr or, for ``ask --json``, as one JSON object on stdout.

The message speaks to a person at a shell: a library hint such as ``backend='fake'`` reads
``--backend fake``, and a missing optional module names the extra that brings it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import attrs

from voigpt.domain.errors import InvalidInput, VoiGptError

# The optional modules the commands load, and the extra that installs each.
EXTRAS = {
    "aiohttp": "async", "aiohttp_socks": "async", "python_socks": "async", "certifi": "async",
    "fastapi": "server", "uvicorn": "server", "prometheus_client": "server", "tqdm": "batch",
}
# The settings' keywords that are also flags: "backend='fake'" -> "--backend fake"; alone,
# only those no English word is spelt like: "pass no access_token" -> "pass no --access-token".
KEYWORDS = ("base_url", "proxy", "access_token", "timeout", "retries", "backend")
_KEYWORD_HINT = re.compile(rf"\b({'|'.join(KEYWORDS)})=(['\"]?)([^'\"\s,;)]+)\2")
_BARE_KEYWORD = re.compile(r"(?<![\w.-])(access_token|base_url)(?![\w=])")


class UsageError(Exception):
    """A bad command line (argparse's complaint), raised instead of printing and exiting,
    so that ``ask --json`` can answer it in JSON too. ``usage`` is the parser's usage text,
    ``prog`` its name (``voigpt ask``)."""

    def __init__(self, message: str, *, prog: str, usage: str) -> None:
        super().__init__(message)
        self.prog, self.usage = prog, usage


@attrs.frozen
class Failure:
    code: int
    type: str  # the exception's class name, e.g. ConnectionFailed
    message: str  # one line, scrubbed of secrets
    line: str  # what stderr shows

    @classmethod
    def of(cls, exc: BaseException, scrub: Callable[[str], str] = str) -> Failure:
        """``exc`` as the command line reports it; ``scrub`` (``SecretsFilter.scrub``)
        removes every secret from the message."""
        name = type(exc).__name__
        message = scrub(str(exc))  # first: a reworded secret could escape the scrubbing
        if isinstance(exc, VoiGptError):
            message = as_flags(message)
        module = _missing_extra(exc)
        if isinstance(exc, KeyboardInterrupt):
            code, message, line = 130, "interrupted", "voigpt: interrupted"
        elif isinstance(exc, UsageError):
            code, line = 2, f"{exc.prog}: error: {message}"
        elif module is not None:
            message = f"{module} is not installed: pip install 'voigpt[{EXTRAS[module]}]'"
            code, line = 2, f"voigpt: error: {message}"
        elif isinstance(exc, InvalidInput):
            code, line = 2, f"voigpt: error: {message}"
        elif isinstance(exc, VoiGptError):
            code, line = 1, f"voigpt: {name}: {message}"
        elif isinstance(exc, OSError):
            code, line = 1, f"voigpt: {message}"
        else:
            message = f"internal error: {message} (-v shows where)"
            code, line = 1, f"voigpt: internal error: {name}: {scrub(str(exc))} (-v shows where)"
        return cls(code, name, _one_line(message), _one_line(line))

    def json(self) -> str:
        """``{"error": {"type", "message"}}``, one line."""
        document = {"error": {"type": self.type, "message": self.message}}
        return json.dumps(document, ensure_ascii=False)


def as_flags(message: str) -> str:
    """A library hint in Python keywords, reworded in flags: ``backend='fake'`` ->
    ``--backend fake``, ``pass no access_token`` -> ``pass no --access-token``."""
    message = _KEYWORD_HINT.sub(lambda m: f"--{m[1].replace('_', '-')} {m[3]}", message)
    return _BARE_KEYWORD.sub(lambda m: "--" + m[1].replace("_", "-"), message)


def _missing_extra(exc: BaseException) -> str | None:
    if not isinstance(exc, ModuleNotFoundError) or exc.name is None:
        return None
    module = exc.name.partition(".")[0]
    return module if module in EXTRAS else None


def _one_line(text: str) -> str:
    return " ".join(text.split())
