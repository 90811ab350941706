"""What ``from voigpt import Client`` and a whole ``voigpt ask`` load, read off a real
interpreter's ``sys.modules`` as it exits: none of the server's, the asyncio side's or the
extras' libraries, even though the test venv has every one of them installed. Each of them
costs a CLI user tens to hundreds of milliseconds before anything happens (fastapi alone,
pulled in by dependency-injector's ``containers`` -> ``wiring`` import, cost about 200)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Packages a Client or a ``voigpt ask`` never needs. (dependency-injector's ``providers``
# module itself imports yaml and pydantic or pydantic_settings when they are installed:
# that is its own doing, reported upstream, and not listed here.)
HEAVY = ("fastapi", "starlette", "uvicorn", "aiohttp", "prometheus_client", "werkzeug",
         "jsonschema", "redis", "tqdm", "httpx", "dependency_injector.wiring",
         "dependency_injector.containers", "voigpt.entrypoints.server", "voigpt.emulator",
         "voigpt.domain.tools")  # the tools' rules: only a call that asks for tools needs them


def _loaded(code: str, tmp_path: Path) -> set[str]:
    """Every module in ``sys.modules`` when the interpreter running ``code`` exits."""
    report = tmp_path / "modules.json"
    hook = ("import atexit, json, sys\n"
            f"atexit.register(lambda: open({str(report)!r}, 'w')"
            ".write(json.dumps(list(sys.modules))))\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
    done = subprocess.run([sys.executable, "-c", hook + code], capture_output=True, text=True,
                          timeout=60, env=environment, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(report.read_text()))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules
                  if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize("name", ["fastapi", "uvicorn", "aiohttp", "prometheus_client"])
def test_the_libraries_the_test_looks_for_are_installed_here(name: str, tmp_path: Path) -> None:
    """Otherwise the two tests below would pass for the wrong reason."""
    assert name in _loaded(f"import {name}", tmp_path)


def test_from_voigpt_import_client_loads_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    modules = _loaded("from voigpt import Client", tmp_path)
    assert "voigpt.client" in modules
    assert _heavy(modules) == []
    assert "requests" not in modules  # until a call goes over HTTP (below)


def test_requests_is_loaded_once_a_client_will_go_over_http(tmp_path: Path) -> None:
    modules = _loaded("from voigpt import Client\nClient(base_url='http://127.0.0.1:9')",
                      tmp_path)
    assert {"requests", "voigpt.adapters.environment"} <= modules
    assert _heavy(modules) == []


def test_a_whole_voigpt_ask_loads_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    modules = _loaded("sys.argv = ['voigpt', 'ask', '--backend', 'fake', 'hi']\n"
                      "from voigpt.__main__ import main\nsys.exit(main())", tmp_path)
    assert {"voigpt.client", "voigpt.entrypoints.cli"} <= modules
    assert _heavy(modules) == []
    assert "requests" not in modules  # the fake backend opens no connection
