"""The lines ``voigpt batch`` writes, in OpenAI's Batch output format.

A success (to OUTPUT)::

    {"id": "batch_req_...", "custom_id": "...", "response": {"status_code": 200,
     "request_id": "req_...", "body": <chat.completion>}, "error": null}

with the very ``chat.completion`` object ``voigpt serve`` answers. A failure (to ERRORS)::

    {"id": "batch_req_...", "custom_id": "...", "response": null,
     "error": {"code": "rate_limited", "message": "..."}}

whose code is the voigpt error's name in snake case (``timed_out``, ``service_unavailable``...)
and whose message is scrubbed of secrets.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from voigpt.domain.errors import VoiGptError
from voigpt.domain.tools.flow import as_sent
from voigpt.domain.values import Completion
from voigpt.entrypoints.batch.parsing import BatchRequest
from voigpt.entrypoints.openai_format import chat_completion

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def success_line(request: BatchRequest, completion: Completion) -> bytes:
    return encode({
        "id": _line_id(),
        "custom_id": request.custom_id,
        "response": {
            "status_code": 200,
            "request_id": f"req_{uuid.uuid4().hex}",
            # usage counts what the model was given: the instructions too
            "body": chat_completion(as_sent(request.conversation, request.spec), completion),
        },
        "error": None,
    })


def failure_line(custom_id: str, error: BaseException, scrub: Callable[[str], str]) -> bytes:
    return encode({
        "id": _line_id(),
        "custom_id": custom_id,
        "response": None,
        "error": {"code": error_code(error), "message": scrub(" ".join(_text(error).split()))},
    })


def error_code(error: BaseException) -> str:
    """``TimedOut`` -> ``timed_out``; anything that is not a voigpt error is a bug:
    ``internal_error``."""
    if not isinstance(error, VoiGptError):
        return "internal_error"
    return _CAMEL.sub("_", type(error).__name__).lower()


def encode(document: dict[str, Any]) -> bytes:
    """One JSONL line, newline included. Text stays readable UTF-8; a reply holding a lone
    surrogate (which UTF-8 cannot carry) is written with ASCII escapes instead."""
    try:
        return (json.dumps(document, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(document) + "\n").encode("ascii")


def _text(error: BaseException) -> str:
    if isinstance(error, VoiGptError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _line_id() -> str:
    return f"batch_req_{uuid.uuid4().hex}"
