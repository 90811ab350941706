"""The start-up section's targets and table, from figures given by hand."""

from __future__ import annotations

from benchmarks.startup import ASK, ASK_HTTP, FLOOR, StartupRun

BUILT = "from voigpt import Client; Client()"


def run(*, judged: bool, server_ask: float = 0.20) -> StartupRun:
    imports = {"import requests": 0.100, "from voigpt import Client": 0.110,
               BUILT: 0.200, "from voigpt import VoiGpt": 0.120}
    commands = {"python -c pass": 0.015, FLOOR: 0.140, "voigpt --help": 0.1, ASK: 0.150,
                ASK_HTTP: 0.280}
    return StartupRun(judged=judged, rounds=3,
                      imports={"core": imports,
                               "server": {**imports, "from voigpt import Client": 0.160}},
                      commands={"core": commands, "server": {**commands, ASK: server_ask}})


def verdicts(r: StartupRun) -> dict[str, bool]:
    return {t.figure: t.met for t in r.targets() if not t.informational}


def test_each_venv_is_held_to_its_floors_and_the_extra_to_costing_the_same() -> None:
    found = verdicts(run(judged=True))
    assert found["`from voigpt import Client` / `import requests`, core"] is True  # 1.1x
    assert found["`from voigpt import Client` / `import requests`, server"] is False  # 1.6x
    assert found[f"`{ASK}` / `{FLOOR}`, whole commands, core"] is True  # 1.07x
    assert found[f"`{ASK}` / `{FLOOR}`, whole commands, server"] is True  # 1.43x
    assert found["`from voigpt import Client` with the server extra / without"] is False
    assert found[f"`{ASK}` with the server extra / without"] is False  # 1.33x > 1.1x
    assert verdicts(run(judged=True, server_ask=0.16))[
        f"`{ASK}` with the server extra / without"] is True  # 1.07x


def test_the_http_rows_are_shown_and_never_judged() -> None:
    informational = [t for t in run(judged=True).targets() if t.informational]
    assert {t.figure for t in informational} >= {
        f"`{ASK_HTTP}` / `{FLOOR}`, whole commands, core", f"`{BUILT}` / `import requests`, core"}
    text = "\n".join(run(judged=True).render())
    assert "(informational) | no |" in text  # 2.0x, shown as a miss but not MISSED


def test_the_table_has_a_column_per_venv_and_a_verdict_per_target() -> None:
    text = "\n".join(run(judged=True).render())
    assert "| what | core | server |" in text
    assert f"| `{ASK}` (whole command) | 150.0 ms | 200.0 ms |" in text
    assert ("| `from voigpt import Client` / `import requests`, server | 1.60x | <= 1.5x "
            "| MISSED |") in text


def test_a_quick_run_judges_nothing() -> None:
    text = "\n".join(run(judged=False).render())
    assert "MISSED" not in text
    assert "not judged (quick run)" in text
