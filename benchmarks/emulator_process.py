"""The bundled emulator in a process of its own, so its threads never share the benchmarked
client's GIL or CPU accounting.

    python -m benchmarks.emulator_process [--cert PEM]

Prints its URL on the first line of stdout, then serves until its stdin closes. ``--cert`` is
one PEM file with the private key and the certificate chain; with it the emulator speaks
HTTPS. The control endpoint is on, so the harness can read how many tokens were issued.
"""

from __future__ import annotations

import argparse
import ssl
import subprocess
import sys
from pathlib import Path

from voigpt.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cert", help="PEM with the private key and certificate chain")
    args = parser.parse_args()
    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert)
    with Emulator(control=True, tls=tls) as emulator:
        print(emulator.url, flush=True)
        sys.stdin.read()  # returns when the harness closes the pipe or exits


class EmulatorProcess:
    """Start ``python -m benchmarks.emulator_process``; ``url`` once it listens."""

    def __init__(self, cert: Path | None = None) -> None:
        command = [sys.executable, "-m", "benchmarks.emulator_process"]
        if cert is not None:
            command += ["--cert", str(cert)]
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()
        if not self.url.startswith(("http://", "https://")):
            self.stop()
            raise RuntimeError(f"the emulator process did not start (said {self.url!r})")
        self.pid = self._process.pid

    def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    main()
