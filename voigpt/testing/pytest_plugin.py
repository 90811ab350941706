"""pytest fixtures for code that uses voigpt. Enable with
``pytest_plugins = ["voigpt.testing.pytest_plugin"]`` in a root ``conftest.py``.

- ``voigpt_fakes``: ``wired_with_fakes()`` for one test (see ``voigpt.testing``).
- ``voigpt_emulator``: a started local voigpt.com on a free 127.0.0.1 port.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from voigpt.emulator.pytest_plugin import voigpt_emulator
from voigpt.testing.wiring import Fakes, wired_with_fakes

__all__ = ["voigpt_emulator", "voigpt_fakes"]


@pytest.fixture
def voigpt_fakes() -> Iterator[Fakes]:
    """The real container and use case with fake transport, token source and clock."""
    with wired_with_fakes() as fakes:
        yield fakes
