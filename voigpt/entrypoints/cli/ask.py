"""``voigpt ask``: one question, only the reply on stdout (or ``--json``)."""

from __future__ import annotations

import argparse
import json
import time
from typing import TextIO

from voigpt.client import Client
from voigpt.domain.errors import InvalidInput
from voigpt.domain.values import Conversation


def run_ask(args: argparse.Namespace, client: Client, *, stdin: TextIO, stdout: TextIO) -> int:
    prompt = stdin.read().rstrip("\r\n") if args.prompt == "-" else args.prompt
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
