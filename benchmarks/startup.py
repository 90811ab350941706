"""Start-up, with and without the server extra: what ``from voigpt import Client`` and a
whole ``voigpt ask`` cost before any network I/O, against ``import requests``.

    .venv/bin/python -m benchmarks.startup            # this section alone (about two minutes)
    .venv/bin/python -m benchmarks.startup --quick    # the project's venv only, one round

A full run uses two venvs of its own, made once per machine under ``$VOIGPT_BENCH_CACHE``
(else ``$XDG_CACHE_HOME/voigpt-bench``, else ``~/.cache/voigpt-bench``; PyPI is needed that
once): ``core`` holds ``pip install .``, ``server`` holds ``pip install '.[server]'``
(fastapi, pydantic, uvicorn with PyYAML, prometheus-client...). voigpt itself is installed
again from this checkout at every run, as a wheel, not editable: an editable install adds an
import hook to every interpreter's start, and users install wheels. A quick run measures the
project's own venv (which has every extra) once: too short to judge.

Each figure is the median over rounds of a fresh interpreter; the venvs and the commands
take turns. Imports are timed inside the interpreter (its own start-up not counted);
commands are timed whole, from outside. Targets: the import within 1.5x ``import requests``
and ``voigpt ask --backend fake hi`` within 1.5x ``python -c "import requests"``, in each
venv; and each costing the same with or without the extra (within 1.1x). A Client loads
requests once it will go over HTTP, which the fake backend never does, so a real ``voigpt
ask`` (the bundled emulator on 127.0.0.1, in a process of its own) and an import that builds
a Client are shown beside them, against the same floors, informational.
"""

from __future__ import annotations

import fcntl
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import attrs

from benchmarks.emulator_process import EmulatorProcess
from benchmarks.targets import Target, arguments, exit_code, target_rows

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = {
    "import requests": "import requests",
    "from voigpt import Client": "from voigpt import Client",
    # requests is imported when a Client will go over HTTP: shown, not judged.
    "from voigpt import Client; Client()": "from voigpt import Client; Client()",
    "from voigpt import VoiGpt": "from voigpt import VoiGpt",
}
_TIMED = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
ASK = "voigpt ask --backend fake hi"
ASK_HTTP = "voigpt ask hi (HTTP, the emulator on 127.0.0.1)"
FLOOR = 'python -c "import requests"'
RATIO = 1.5  # the import / import requests, and ask / the floor command, at most
SAME = 1.1  # with the server extra / without, at most
VENVS = {"core": ".", "server": ".[server]"}


@attrs.frozen
class Venv:
    name: str  # "core", "server", or "project" (a quick run's own venv)
    python: Path

    @property
    def voigpt(self) -> Path:
        return self.python.with_name("voigpt")


@attrs.define
class StartupRun:
    judged: bool
    rounds: int
    # venv name -> row name -> median seconds
    imports: dict[str, dict[str, float]] = attrs.Factory(dict)
    commands: dict[str, dict[str, float]] = attrs.Factory(dict)

    def targets(self) -> list[Target]:
        found = []
        for name in self.imports:
            imports, commands = self.imports[name], self.commands[name]
            found.append(Target(f"`from voigpt import Client` / `import requests`, {name}",
                                imports["from voigpt import Client"] / imports["import requests"],
                                RATIO, at_most=True))
            built = "from voigpt import Client; Client()"
            found.append(Target(f"`{built}` / `import requests`, {name}",
                                imports[built] / imports["import requests"], RATIO,
                                at_most=True, informational=True))
            found.append(Target(f"`{ASK}` / `{FLOOR}`, whole commands, {name}",
                                commands[ASK] / commands[FLOOR], RATIO, at_most=True))
            found.append(Target(f"`{ASK_HTTP}` / `{FLOOR}`, whole commands, {name}",
                                commands[ASK_HTTP] / commands[FLOOR], RATIO, at_most=True,
                                informational=True))
        if {"core", "server"} <= set(self.imports):
            for row, table in (("from voigpt import Client", self.imports),
                               (ASK, self.commands)):
                found.append(Target(f"`{row}` with the server extra / without",
                                    table["server"][row] / table["core"][row], SAME,
                                    at_most=True))
        return found

    def render(self) -> list[str]:
        names = list(self.imports)
        lines = [f"Start-up: median of {self.rounds} fresh interpreter(s); imports timed "
                 "inside the interpreter, commands whole:", "",
                 "| what | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for row in IMPORTS:
            lines.append(f"| `{row}` (import) | "
                         + " | ".join(_ms(self.imports[n][row]) for n in names) + " |")
        for row in self.commands[names[0]]:
            lines.append(f"| `{row}` (whole command) | "
                         + " | ".join(_ms(self.commands[n][row]) for n in names) + " |")
        return [*lines, "", *target_rows(self.targets(), judged=self.judged), ""]


def measure_startup(*, quick: bool, rounds: int = 15) -> StartupRun:
    with EmulatorProcess() as emulator:
        return _measure(emulator.url, quick=quick, rounds=rounds)


def _measure(url: str, *, quick: bool, rounds: int) -> StartupRun:
    if quick:
        venvs = [Venv("project", Path(sys.executable))]
        rounds = 1
    else:
        venvs = [_venv(name, spec) for name, spec in VENVS.items()]
    run = StartupRun(judged=not quick, rounds=rounds)
    imports: dict[str, dict[str, list[float]]] = {v.name: {} for v in venvs}
    commands: dict[str, dict[str, list[float]]] = {v.name: {} for v in venvs}
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
    for _ in range(rounds):
        for venv in venvs:
            for row, stmt in IMPORTS.items():
                out = subprocess.run([str(venv.python), "-c", _TIMED.format(stmt=stmt)],
                                     capture_output=True, text=True, check=True,
                                     env=environment).stdout
                imports[venv.name].setdefault(row, []).append(float(out))
            for row, command in _commands(venv, url).items():
                started = time.perf_counter()
                subprocess.run(command, capture_output=True, check=True, env=environment)
                commands[venv.name].setdefault(row, []).append(time.perf_counter() - started)
    run.imports = {v: {r: statistics.median(s) for r, s in rows.items()}
                   for v, rows in imports.items()}
    run.commands = {v: {r: statistics.median(s) for r, s in rows.items()}
                    for v, rows in commands.items()}
    return run


def _commands(venv: Venv, url: str) -> dict[str, Sequence[str]]:
    python, voigpt = str(venv.python), str(venv.voigpt)
    return {
        "python -c pass": [python, "-c", "pass"],
        FLOOR: [python, "-c", "import requests"],
        "voigpt --help": [voigpt, "--help"],
        ASK: [voigpt, "ask", "--backend", "fake", "hi"],
        # The whole of a real ask: requests, a token and a completion over loopback.
        ASK_HTTP: [voigpt, "ask", "--base-url", url, "hi"],
    }


def _cache_root() -> Path:
    explicit = os.environ.get("VOIGPT_BENCH_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "voigpt-bench"


def _venv(name: str, spec: str) -> Venv:
    """The venv ``name``: made once with voigpt's dependencies as ``spec`` asks, then voigpt
    installed from this checkout again (a wheel, no dependencies), its bytecode compiled."""
    root = _cache_root() / f"startup-{name}"
    root.mkdir(parents=True, exist_ok=True)
    python = root / "venv" / "bin" / "python"
    print(f"  - start-up: the {name} venv ({root}) ...", file=sys.stderr, flush=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted = f"{sys.version}\n{spec}\n{(ROOT / 'pyproject.toml').read_text()}"
        ready = root / "ready"
        if not ready.is_file() or ready.read_text() != wanted:
            ready.unlink(missing_ok=True)
            _run(sys.executable, "-m", "venv", "--clear", str(root / "venv"))
            _run(str(python), "-m", "pip", "install", "-q", spec, cwd=ROOT)
            ready.write_text(wanted)
        _run(str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall",
             ".", cwd=ROOT)
        _run(str(python), "-m", "compileall", "-q", str(root / "venv" / "lib"))
    return Venv(name, python)


def _run(*command: str, cwd: Path | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{tail}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    args = arguments("python -m benchmarks.startup", __doc__, argv)
    run = measure_startup(quick=args.quick)
    print("\n".join(run.render()))
    return exit_code([], run.targets(), strict=args.strict, judged=run.judged)


if __name__ == "__main__":
    sys.exit(main())
