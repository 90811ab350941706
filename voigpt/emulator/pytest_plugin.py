"""pytest plugin with the ``voigpt_emulator`` fixture: ``pytest_plugins =
["voigpt.emulator.pytest_plugin"]`` in a root conftest.py, or ``-p voigpt.emulator.pytest_plugin``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from voigpt.emulator.server import Emulator


@pytest.fixture
def voigpt_emulator() -> Iterator[Emulator]:
    """A started voigpt.com emulator on a free 127.0.0.1 port, stopped after the test."""
    with Emulator() as emulator:
        yield emulator
