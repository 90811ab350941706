"""``voigpt ask``: one question, only the reply on stdout (or ``--json``)."""

from __future__ import annotations

import argparse
import json
import time
from typing import TextIO

from voigpt.client import Client
from voigpt.domain.errors import InvalidInput
from voigpt.domain.values import Conversation


def read_text(stdin: TextIO | None, line: bool = False) -> str:
    """All of standard input (or one line of it), which must be open and UTF-8 text."""
    if stdin is None or stdin.closed:
        raise InvalidInput("standard input is closed; pass the prompt as an argument")
    try:
        text = stdin.readline() if line else stdin.read()
        text.encode("utf-8")  # undecodable bytes may arrive as surrogate escapes
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise InvalidInput("standard input is not UTF-8 text") from None
    except OSError as exc:  # e.g. a closed descriptor
        raise InvalidInput(f"standard input cannot be read ({exc.strerror})") from None
    return text


def run_ask(
    args: argparse.Namespace, client: Client, *, stdin: TextIO | None, stdout: TextIO
) -> int:
    prompt = read_text(stdin).rstrip("\r\n") if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise InvalidInput("the prompt is empty")
    conversation = Conversation.question(prompt, system=args.system)
    started = time.perf_counter()
    completion = client.complete(conversation, model=args.model)
    elapsed = time.perf_counter() - started
    if args.json:
        document = {
            "reply": completion.text,
            "model": completion.model,
            "elapsed_seconds": round(elapsed, 6),
        }
        print(json.dumps(document, ensure_ascii=False), file=stdout)
    else:
        print(completion.text, file=stdout)
    return 0
