"""``REQUESTS_CA_BUNDLE`` is loaded whole once per file a process sees (a system bundle
takes ~30 ms to parse, and every container reads the environment again when closed), and
a file changed since is loaded again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trustme

from voigpt import Client, InvalidConfig
from voigpt.adapters import environment
from voigpt.adapters.environment import Environment


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(path))
    return path


def test_a_good_bundle_is_loaded_once(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str | None] = []
    real = environment.ssl.create_default_context

    def counting(*args: object, cafile: str | None = None, **kwargs: object) -> object:
        loads.append(cafile)
        return real(cafile=cafile)

    monkeypatch.setattr(environment.ssl, "create_default_context", counting)
    for _ in range(3):
        assert Environment.read("https://example.invalid").ca_bundle == str(bundle)
    assert loads.count(str(bundle)) <= 1


def test_a_bundle_broken_after_it_was_loaded_is_refused(bundle: Path) -> None:
    Environment.read("https://example.invalid")
    bundle.write_text("-----BEGIN CERTIFICATE-----\nnot base64 !!!\n-----END CERTIFICATE-----\n")
    os.utime(bundle, ns=(0, 1))  # a different mtime even on a coarse clock

    with pytest.raises(InvalidConfig, match="REQUESTS_CA_BUNDLE"):
        Environment.read("https://example.invalid")


def test_the_fake_backend_reads_no_http_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It opens no connection, so a bundle it would never use costs it nothing."""
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "bad.pem"))
    with Client(backend="fake", environ={}) as client:
        assert client.ask("hi")
    with pytest.raises(InvalidConfig, match="REQUESTS_CA_BUNDLE"):
        Client(base_url="https://127.0.0.1:9", environ={})
