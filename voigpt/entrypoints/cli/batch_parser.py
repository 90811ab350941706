"""``voigpt batch``'s flags."""

from __future__ import annotations

import argparse
from typing import Any


def add_batch_parser(commands: Any, connection: argparse.ArgumentParser) -> None:
    batch = commands.add_parser(
        "batch", parents=[connection],
        help="run an OpenAI Batch JSONL file of chat completions, resumably",
        description="Read OpenAI Batch input lines, write OpenAI Batch output lines. "
        "Running the same command again resumes.",
    )
    batch.add_argument("input", metavar="INPUT.jsonl", help="the requests, one per line")
    batch.add_argument("-o", "--output", required=True, metavar="OUTPUT.jsonl",
                       help="successes go here (and are skipped on resume)")
