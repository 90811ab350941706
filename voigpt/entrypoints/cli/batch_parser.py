"""``voigpt batch``'s flags."""

from __future__ import annotations

import argparse
import math
from typing import Any

MAX_CONCURRENCY = 10_000


def add_batch_parser(commands: Any, connection: argparse.ArgumentParser) -> None:
    batch = commands.add_parser(
        "batch", parents=[connection],
        help="run an OpenAI Batch JSONL file of chat completions, resumably",
        description="Read OpenAI Batch input lines, write OpenAI Batch output lines. "
        "Running the same command again resumes. Exit 0: all succeeded; 1: some failed "
        "(see ERRORS); 2: bad input (nothing sent); 130: interrupted.",
    )
    batch.add_argument("input", metavar="INPUT.jsonl",
                       help="the requests, one per line; - reads them from stdin")
    batch.add_argument("-o", "--output", required=True, metavar="OUTPUT.jsonl",
                       help="successes go here (and are skipped on resume); a file, not -")
    batch.add_argument("--errors", metavar="ERRORS.jsonl",
                       help="this run's failures (default: OUTPUT with .errors.jsonl)")
    batch.add_argument("--concurrency", type=concurrency, default=8, metavar="N",
                       help="requests in flight at most (default 8)")
    batch.add_argument("--rate", type=rate, metavar="PER_SECOND",
                       help="requests started per second at most (default: no cap)")
    batch.add_argument(
        "--state", metavar="URL",
        help="share the site's pace with the servers and batches on this state: a 429 any of "
        "them gets pauses the others' starts, and theirs this run's (also VOIGPT_STATE): "
        "sqlite:///PATH or redis://HOST:PORT/DB (rediss:// for TLS; the password in the URL "
        "or in VOIGPT_REDIS_PASSWORD). Default: memory, the run alone",
    )
    batch.add_argument("--quiet", action="store_true",
                       help="no progress bar, only a summary line every few seconds")


def concurrency(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_CONCURRENCY}, got {text!r}"
        )
    return int(text)


def rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number per second, got {text!r}")
    return value
