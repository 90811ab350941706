"""Real client programs whose requirements cannot share the project's venv (g4f 0.1.9.3's
ancient pins; instructor's ``jiter<0.15`` against the openai SDK the other tests need), each
in a venv of its own, built once per machine in the user's cache (``$VOIGPT_TEST_CACHE``,
else ``$XDG_CACHE_HOME/voigpt-tests``, else ``~/.cache/voigpt-tests``), so a fresh clone and
every CI run reuse it; PyPI is needed that once. A lock makes parallel sessions wait for
one build; a venv whose recipe changed is rebuilt."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest


def cache_root() -> Path:
    explicit = os.environ.get("VOIGPT_TEST_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "voigpt-tests"


def client_python(name: str, installs: Sequence[Sequence[str]], probe: str) -> Path:
    """The interpreter of the venv ``name``: made with ``pip install`` of each of
    ``installs`` in turn (each a list of pip arguments), then proven by running ``probe``."""
    root = cache_root() / name
    root.mkdir(parents=True, exist_ok=True)
    venv, ready = root / "venv", root / "ready"
    wanted = "\n".join((sys.version, *(" ".join(step) for step in installs), probe))
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.is_file() or ready.read_text() != wanted:
            ready.unlink(missing_ok=True)
            _run(name, sys.executable, "-m", "venv", "--clear", venv)
            python = venv / "bin" / "python"
            for step in installs:
                _run(name, python, "-m", "pip", "install", "-q", *step)
            _run(name, python, "-c", probe)
            ready.write_text(wanted)
    return venv / "bin" / "python"


def _run(name: str, *command: str | Path) -> None:
    """Run a step of the venv's build; fail the test with the step's own words if it fails."""
    words = [str(part) for part in command]
    done = subprocess.run(
        words, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        pytest.fail(
            f"could not build the venv {name!r} (it needs PyPI once): "
            f"{' '.join(words)} exited {done.returncode}:\n{tail}",
            pytrace=False,
        )


def clean_environment() -> dict[str, str]:
    """This process's environment without proxies, ``VOIGPT_*`` and ``PYTHON*``: the client
    program sees only what its command line gives it."""
    return {k: v for k, v in os.environ.items()
            if "proxy" not in k.lower() and not k.startswith(("VOIGPT_", "PYTHON"))}
