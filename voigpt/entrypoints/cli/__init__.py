"""The ``voigpt`` command line: parse, build the client through the container, run, format."""

from voigpt.entrypoints.cli.main import main

__all__ = ["main"]
