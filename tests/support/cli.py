"""The ``voigpt`` command run as a person runs it: a subprocess, no ``VOIGPT_*`` variables but
those given."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


def run_cli(
    *args: str, input: str | None = None, env: Mapping[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
    return subprocess.run(
        [sys.executable, "-m", "voigpt", *args],
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=timeout,
        check=False,
    )
