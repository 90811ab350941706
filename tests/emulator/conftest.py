"""Fixtures for the emulator tests: the shipped ``voigpt_emulator`` fixture and a small client.

The fixture is imported (not enabled through ``pytest_plugins``, which pytest only honours in
the root conftest); ``test_emulator_lifecycle`` checks the ``pytest_plugins`` route separately.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import pytest
import requests

from voigpt.emulator import Emulator, running_emulator
from voigpt.emulator.pytest_plugin import voigpt_emulator  # noqa: F401  (the shipped fixture)

GENERATE = "/generate_response/"
HELLO = [{"role": "user", "content": "hello"}]


class SiteClient:
    """A ``requests.Session`` that never sends cookies by itself: every test says what it sends."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.session = requests.Session()
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def token(self) -> str:
        response = self.session.get(self.emulator.url + "/", timeout=10)
        assert response.status_code == 200, response.text
        return response.cookies["csrftoken"]

    def generate(
        self,
        messages: Any = HELLO,
        *,
        token: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
    ) -> requests.Response:
        """POST /generate_response/ with cookie and header both set to ``token`` (if given)."""
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers.update({"Cookie": f"csrftoken={token}", "X-CSRFToken": token})
        headers.update(extra_headers or {})
        if data is None:
            return self.session.post(
                self.emulator.url + GENERATE, headers=headers, json={"messages": messages},
                timeout=30,
            )
        return self.session.post(
            self.emulator.url + GENERATE, headers=headers, data=data, timeout=30
        )

    def complete(self, messages: Any = HELLO) -> requests.Response:
        """A fresh token, then a POST with it."""
        return self.generate(messages, token=self.token())


@pytest.fixture
def site_client(voigpt_emulator: Emulator) -> Iterator[SiteClient]:  # noqa: F811
    client = SiteClient(voigpt_emulator)
    yield client
    client.session.close()


@pytest.fixture
def control_emulator() -> Iterator[Emulator]:
    with running_emulator(control=True) as emulator:
        yield emulator
