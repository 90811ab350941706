"""The ``voigpt`` command line: a driving adapter that builds the use case through the
container and holds no protocol logic."""

from voigpt.adapters.cli.main import main

__all__ = ["main"]
