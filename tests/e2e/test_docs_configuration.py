"""The configuration reference (docs/reference/configuration.md) names every setting and
every ``VOIGPT_*`` variable the code reads, so a new setting cannot ship undocumented.

Each setting of ``voigpt.config.Settings`` and of the server's ``ServerSettings`` must be
in a table row together with its variable; and every ``VOIGPT_*`` name anywhere in the
package's source (read through a settings table or straight from ``os.environ``) must be on
the page.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from voigpt import config
from voigpt.entrypoints.server import settings as server_settings

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reference" / "configuration.md"
_VARIABLE = re.compile(r"\bVOIGPT_[A-Z0-9_]*[A-Z0-9]\b")


def _rows() -> list[str]:
    return [line for line in PAGE.read_text().splitlines() if line.startswith("|")]


def _row_naming(setting: str) -> str:
    """The table row whose first cells name ``setting`` as code (its keyword or field)."""
    rows = [row for row in _rows() if f"`{setting}`" in "|".join(row.split("|")[:3])]
    assert rows, f"{PAGE.name} has no table row for the setting {setting!r}"
    return rows[0]


def _variables_in_source() -> set[str]:
    found: set[str] = set()
    for source in (ROOT / "voigpt").rglob("*.py"):
        found |= set(_VARIABLE.findall(source.read_text()))
    return found


def test_every_connection_setting_has_a_row_with_its_variable() -> None:
    fields = [field.name for field in attrs.fields(config.Settings)]
    assert fields and set(fields) == set(config.ENVIRONMENT)
    for name in fields:
        assert f"`{config.ENVIRONMENT[name]}`" in _row_naming(name), name


def test_every_server_setting_has_a_row_with_its_variable() -> None:
    fields = [field.name for field in attrs.fields(server_settings.ServerSettings)]
    assert fields and set(fields) == set(server_settings.ENVIRONMENT)
    for name in fields:
        assert f"`{server_settings.ENVIRONMENT[name]}`" in _row_naming(name), name


def test_every_variable_the_code_reads_is_on_the_page() -> None:
    variables = _variables_in_source()
    # The scan must see what the settings tables read, or it scans the wrong thing.
    assert set(config.ENVIRONMENT.values()) | set(server_settings.ENVIRONMENT.values()) \
        | {server_settings.REDIS_PASSWORD} <= variables
    page = PAGE.read_text()
    missing = sorted(name for name in variables if f"`{name}`" not in page)
    assert not missing, f"{PAGE.name} does not name {missing}"
