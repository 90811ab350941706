"""Fixtures of the integration tests: TLS on loopback for the HTTP adapters, a private CA
made at run time (trustme) and the emulator serving HTTPS for 127.0.0.1 with a certificate
it signed (a module may define its own, as ``test_tls.py`` does)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme

from voigpt.emulator import Emulator


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_emulator(ca: trustme.CA) -> Iterator[Emulator]:
    """The emulator over HTTPS; a client trusts it through ``ca`` (its PEM in
    ``REQUESTS_CA_BUNDLE``, say)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with Emulator(tls=context) as emulator:
        yield emulator
