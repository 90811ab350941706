"""Fixtures for the emulator tests: the shipped ``voigpt_emulator`` fixture, a small client,
and a TLS emulator whose certificate a private CA (trustme) signs at run time.

The fixture is imported (not enabled through ``pytest_plugins``, which pytest only honours in
the root conftest); ``test_emulator_lifecycle`` checks the ``pytest_plugins`` route separately.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme

from tests.emulator.helpers import SiteClient
from voigpt.emulator import Emulator
from voigpt.emulator.pytest_plugin import voigpt_emulator  # noqa: F401  (the shipped fixture)


@pytest.fixture
def site_client(voigpt_emulator: Emulator) -> Iterator[SiteClient]:  # noqa: F811
    client = SiteClient(voigpt_emulator)
    yield client
    client.session.close()


@pytest.fixture
def control_emulator() -> Iterator[Emulator]:
    with Emulator(control=True) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_bundle(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def tls_emulator(ca: trustme.CA) -> Iterator[Emulator]:
    """An emulator serving HTTPS for 127.0.0.1; clients pass ``verify=ca_bundle``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with Emulator(tls=context) as emulator:
        yield emulator
