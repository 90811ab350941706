"""The handbook's API reference is the public surface, no more and no less: every name in
``voigpt.__all__``, ``voigpt.testing.__all__`` and ``voigpt.emulator.__all__`` has its
mkdocstrings entry (a ``::: module.Name`` line) on its module's page, and every entry names
a public name that exists. ``__version__`` is described in prose instead (mkdocstrings
would render a bare string). ``mkdocs build --strict`` renders the entries; this test says
which must be there, and runs without building the site."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference"
PAGES = {
    "voigpt": REFERENCE / "api.md",
    "voigpt.testing": REFERENCE / "testing.md",
    "voigpt.emulator": REFERENCE / "emulator.md",
}
PROSE = {"__version__"}  # public, but documented in prose, not by an entry

_FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1[ \t]*$", re.M | re.S)
_ENTRY = re.compile(r"^::: *(\S+)[ \t]*$", re.M)


def entries(page: Path) -> list[str]:
    """The identifiers of the page's ``:::`` lines, in order (fenced code left out)."""
    return _ENTRY.findall(_FENCE.sub("", page.read_text()))


def public_names(module: str) -> list[str]:
    return [name for name in importlib.import_module(module).__all__ if name not in PROSE]


def resolve(identifier: str) -> object:
    """What ``identifier`` names: the longest importable module prefix, then attributes."""
    parts = identifier.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)  # AttributeError: the entry names nothing
        return found
    raise ModuleNotFoundError(identifier)


@pytest.mark.parametrize("module", list(PAGES))
def test_every_public_name_has_its_entry(module: str) -> None:
    documented = set(entries(PAGES[module]))
    missing = [name for name in public_names(module) if f"{module}.{name}" not in documented]
    assert not missing, f"{PAGES[module].name} has no '::: {module}.NAME' entry for {missing}"


@pytest.mark.parametrize("module", list(PAGES))
def test_every_entry_is_a_public_name_that_exists(module: str) -> None:
    public = {f"{module}.{name}" for name in public_names(module)}
    found = entries(PAGES[module])
    assert found, f"{PAGES[module].name} has no entries"
    assert len(found) == len(set(found)), f"an entry twice: {sorted(found)}"
    for identifier in found:
        assert identifier in public, f"{identifier} is not in {module}.__all__"
        resolve(identifier)


def test_version_is_described_in_prose() -> None:
    text = PAGES["voigpt"].read_text()
    assert re.search(r"^#+ `__version__`$", text, re.M)
    assert "__version__" in importlib.import_module("voigpt").__all__


def test_the_parser_sees_entries_and_skips_code() -> None:
    """What the tests above rely on: an entry's options are not entries, a fenced ``:::`` is
    not one, and a name that does not exist is caught."""
    page = "::: voigpt.Client\n    options:\n      heading_level: 3\n```text\n::: no.Such\n```\n"
    assert _ENTRY.findall(_FENCE.sub("", page)) == ["voigpt.Client"]
    assert resolve("voigpt.Client") is importlib.import_module("voigpt.client").Client
    with pytest.raises(AttributeError):
        resolve("voigpt.NoSuchName")
