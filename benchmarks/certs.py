"""A private CA and a server certificate for 127.0.0.1, made at run time (trustme)."""

from __future__ import annotations

import os
from pathlib import Path

import trustme


def make_certificates(directory: Path) -> Path:
    """Write the server's key + chain to ``directory`` and trust the CA for this process
    through ``REQUESTS_CA_BUNDLE`` (which every client under test honours alike). Returns the
    server PEM's path, for ``benchmarks.emulator_process --cert``."""
    ca = trustme.CA()
    server = directory / "server.pem"
    bundle = directory / "ca.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(server))
    ca.cert_pem.write_to_path(str(bundle))
    os.environ["REQUESTS_CA_BUNDLE"] = str(bundle)
    return server
