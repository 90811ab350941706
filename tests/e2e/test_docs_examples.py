"""Every Python example in the README and the handbook (``docs/``) runs as written, so a page
can never drift from the code.

Each ```` ```python ```` block is one example, run on its own. The comment line just above it,
if any, says how (``<!-- example: KIND ... -->``):

- no comment (or ``<!-- example: run -->``): executed in this process, in a fresh namespace,
  in an empty working directory; ``http://127.0.0.1:8000`` in it is a real emulator's URL;
- ``<!-- example: serve FLAGS -->``: the same, with ``http://127.0.0.1:8080`` a real
  ``voigpt serve --backend local FLAGS`` process;
- ``<!-- example: pytest -->``: a test module, run by pytest in a subprocess; it must pass;
- ``<!-- example: serves PORT -->``: a program that serves on PORT for ever (uvicorn.run,
  g4f's run_api): run as a subprocess with PORT replaced by a free one, and it must accept
  a connection there before it is stopped.

An example that prints must print something, and if a ```` ```text ```` block marked
``<!-- output -->`` follows it, exactly that.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from tests.support.g4f_offline import offline_config_dir
from tests.support.server import ServeProcess
from voigpt import VoiGpt
from voigpt.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
KINDS = ("run", "serve", "pytest", "serves")

_BLOCK = re.compile(
    r"(?:^[ \t]*<!-- example: (?P<how>[^>]*?) -->\n)?"
    r"^(?P<indent>[ \t]*)```python[ \t]*\n(?P<code>.*?)^(?P=indent)```[ \t]*\n"
    r"(?:\s*<!-- output -->\n[ \t]*```text[ \t]*\n(?P<output>.*?)^[ \t]*```)?",
    re.M | re.S,
)
_ANY_PYTHON_FENCE = re.compile(r"^[ \t]*(?:```|~~~)[ \t]*(?:python3?|py|pycon)\b", re.M)


@attrs.frozen
class Example:
    page: Path
    line: int
    kind: str
    arguments: tuple[str, ...]
    code: str
    output: str | None

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _examples(page: Path) -> list[Example]:
    text = page.read_text()
    found = []
    for match in _BLOCK.finditer(text):
        how = shlex.split(match.group("how") or "run")
        code = textwrap.dedent(
            "\n".join(line[len(match.group("indent")):] if line.strip() else ""
                      for line in match.group("code").splitlines()))
        output = match.group("output")
        found.append(Example(
            page, text.count("\n", 0, match.start("code")), how[0], tuple(how[1:]), code,
            textwrap.dedent(output) if output is not None else None))
    return found


EXAMPLES = [example for page in PAGES for example in _examples(page)]


def test_every_python_fence_is_an_example_the_suite_runs() -> None:
    """A block the pattern misses (``py``, ``~~~``, a typo in the marker) would never run."""
    for page in PAGES:
        assert len(_ANY_PYTHON_FENCE.findall(page.read_text())) == len(_examples(page)), page
    assert all(example.kind in KINDS for example in EXAMPLES), [
        (e.id, e.kind) for e in EXAMPLES if e.kind not in KINDS]
    assert len(EXAMPLES) >= 10


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as site:
        yield site


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[tuple[str, ...], ServeProcess]]:
    """One ``voigpt serve`` per distinct set of flags, started when first asked for."""
    started: dict[tuple[str, ...], ServeProcess] = {}
    yield started
    for process in started.values():
        process.stop()


def _check_output(example: Example, out: str) -> None:
    if example.output is not None:
        assert out.strip() == example.output.strip()
    elif "print(" in example.code:
        assert out.strip(), "an example that prints printed nothing"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serves(example: Example, emulator: Emulator, directory: Path) -> None:
    (port,) = example.arguments
    free = _free_port()
    code = example.code.replace(port, str(free)).replace("http://127.0.0.1:8000", emulator.url)
    assert str(free) in code, f"{example.id}: the example names no port {port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
    env.update(PYTHONPATH=str(ROOT), G4F_CONFIG_DIR=str(offline_config_dir(directory)))
    process = subprocess.Popen([sys.executable, "-c", code], cwd=directory, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, f"{example.id} ended: {process.communicate()[0]}"
            try:
                socket.create_connection(("127.0.0.1", free), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"{example.id} did not listen on its port within 60 s")
    finally:
        process.kill()
        process.communicate(timeout=30)


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_example_runs(
    example: Example, emulator: Emulator, servers: dict[tuple[str, ...], ServeProcess],
    g4f_provider: type[VoiGpt], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code = example.code.replace("http://127.0.0.1:8000", emulator.url)
    if example.kind == "pytest":
        (tmp_path / "test_example.py").write_text(code)
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert " passed" in run.stdout
        return
    if example.kind == "serves":
        _serves(example, emulator, tmp_path)
        return
    if example.kind == "serve":
        flags = example.arguments
        if flags not in servers:
            backend = () if "--backend" in flags else ("--backend", "local")
            servers[flags] = ServeProcess(*backend, *flags)
        served = code.replace("http://127.0.0.1:8080", servers[flags].url)
        assert served != code, f"{example.id}: a serve example that names no 127.0.0.1:8080"
        code = served
    exec(compile(code, str(example.page), "exec"), {"__name__": "__main__"})
    _check_output(example, capsys.readouterr().out)
