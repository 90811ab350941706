"""The reference pages name everything they are a reference of, read off the code, so that a
new flag, error class, exit code or error type cannot ship undocumented.

- ``docs/reference/cli.md``: every option string of every ``voigpt`` parser, in backticks, in
  its subcommand's section (``## voigpt serve``); the flags the commands share in
  ``## Connection flags``; ``-h``/``--help`` anywhere.
- ``docs/reference/errors.md``: every exception class ``voigpt`` exports as a heading or the
  first cell of a table row; every exit code the command line returns as a row of
  ``## Exit codes``; every error ``type`` and ``code`` the server answers, in backticks.
"""

from __future__ import annotations

import argparse
import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import voigpt
from voigpt.entrypoints import anthropic_format
from voigpt.entrypoints.cli.parser import build_parser, connection_flags
from voigpt.entrypoints.server.api_error import APIError
from voigpt.entrypoints.server.errors import from_voigpt

ROOT = Path(__file__).resolve().parents[2]
CLI_PAGE = ROOT / "docs" / "reference" / "cli.md"
ERRORS_PAGE = ROOT / "docs" / "reference" / "errors.md"
CLI_CODE = ROOT / "voigpt" / "entrypoints" / "cli"
SERVER_CODE = ROOT / "voigpt" / "entrypoints" / "server"
# What the commands return besides their own modules: the batch's summary, the server's run.
EXIT_CODE_MODULES = [*sorted(CLI_CODE.glob("*.py")),
                     ROOT / "voigpt" / "entrypoints" / "batch" / "summary.py",
                     SERVER_CODE / "run.py"]
HELP = {"-h", "--help"}


def _sections(page: Path, level: str = "##") -> dict[str, str]:
    """Each ``level`` heading's text (less its hashes) -> its body, up to the next heading of
    that level or above."""
    sections: dict[str, str] = {}
    heading = ""
    fenced = False
    for line in page.read_text().splitlines():
        fenced ^= line.lstrip().startswith("```")  # a "# comment" in a block is no heading
        match = None if fenced else re.match(rf"(#{{1,{len(level)}}}) (.*)", line)
        if match:
            heading = match.group(2).strip()
            sections[heading] = ""
        else:
            sections[heading] = sections.get(heading, "") + line + "\n"
    return sections


def _in_backticks(word: str, text: str) -> bool:
    """``word`` alone in a code span, or first in one (`` `--port PORT` ``, `` `--x=1` ``)."""
    return re.search(r"`" + re.escape(word) + r"(?:[ =][^`\n]*)?`", text) is not None


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    top = build_parser()
    return [("voigpt", top), *((f"voigpt {name}", sub) for name, sub in _subparsers(top))]


def test_the_parsers_are_found() -> None:
    """The walk itself: a walk that found nothing would make the next test pass vacuously."""
    names = [name for name, _ in _parsers()]
    assert names == ["voigpt", "voigpt ask", "voigpt chat", "voigpt serve", "voigpt batch",
                     "voigpt emulator"]
    assert "--version" in _options(build_parser())
    assert {"--max-concurrency", "-o", "--output"} <= set().union(
        *(_options(parser) for _, parser in _parsers()))


@pytest.mark.parametrize("command", [name for name, _ in _parsers()])
def test_every_flag_is_in_the_cli_reference(command: str) -> None:
    parser = dict(_parsers())[command]
    page = CLI_PAGE.read_text()
    sections = _sections(CLI_PAGE)
    assert command in sections, f"cli.md has no '## {command}' section"
    shared = _options(connection_flags()) if command != "voigpt" else set()
    missing = []
    for option in sorted(_options(parser)):
        if option in HELP:
            found = _in_backticks(option, page)
        elif option in shared and command != "voigpt emulator":
            found = _in_backticks(option, sections.get("Connection flags", ""))
        else:
            found = _in_backticks(option, sections[command])
        if not found:
            missing.append(option)
    assert not missing, f"cli.md does not document {command}'s {missing}"


def _exported_exceptions() -> list[str]:
    return [name for name in voigpt.__all__
            if isinstance(getattr(voigpt, name), type)
            and issubclass(getattr(voigpt, name), BaseException)]


def test_every_exported_error_is_in_the_errors_reference() -> None:
    names = _exported_exceptions()
    assert {"VoiGptError", "TimedOut", "UntrustedCertificate"} <= set(names)
    lines = ERRORS_PAGE.read_text().splitlines()
    missing = [
        name for name in names
        if not any(re.fullmatch(rf"#+ `?{name}`?", line)
                   or re.match(rf"\| `?{name}`? \|", line) for line in lines)
    ]
    assert not missing, f"errors.md has no heading or table row for {missing}"


def _literal_ints(node: ast.expr | None) -> set[int]:
    """The whole-number literals an expression can evaluate to: ``2``, ``0 if ok else 1``."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _literal_ints(node.body) | _literal_ints(node.orelse)
    return set()


def _exit_codes() -> set[int]:
    """What the command line's functions return as literals, and the ``code`` of each way
    ``Failure`` words an error (``code, line = 2, ...``)."""
    codes: set[int] = set()
    for module in EXIT_CODE_MODULES:
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Return):
                codes |= _literal_ints(node.value)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == "code":
                        codes |= _literal_ints(node.value)
                    elif (isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                          and target.elts and isinstance(target.elts[0], ast.Name)
                          and target.elts[0].id == "code"):
                        codes |= _literal_ints(node.value.elts[0])
    return codes


def test_every_exit_code_is_in_the_errors_reference() -> None:
    codes = _exit_codes()
    assert {0, 1, 2, 130, 141} <= codes  # the scan finds the codes main.py's docstring names
    table = _sections(ERRORS_PAGE).get("Exit codes", "")
    missing = [code for code in sorted(codes)
               if not re.search(rf"^\| `?{code}`? \|", table, re.M)]
    assert not missing, f"errors.md's Exit codes table has no row for {missing}"


def _api_error_keywords(keyword: str) -> set[str]:
    """The literal ``keyword=`` strings of every ``APIError(...)`` the server builds."""
    found: set[str] = set()
    for module in sorted(SERVER_CODE.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(
                node.func, "attr", "")
            if name != "APIError":
                continue
            for argument in node.keywords:
                if (argument.arg == keyword and isinstance(argument.value, ast.Constant)
                        and isinstance(argument.value.value, str)):
                    found.add(argument.value.value)
    return found


def _error_types() -> set[str]:
    """OpenAI's ``type``: APIError's default and every one given; Anthropic's, for every
    status the server can answer."""
    default = APIError(400, "").type
    anthropic = {anthropic_format.error(status, "")["error"]["type"]
                 for status in range(400, 600)}
    return {default, *_api_error_keywords("type"), *anthropic}


def _error_codes() -> set[str]:
    """Every ``code`` given literally, and the one each voigpt error class is answered with."""
    by_class = {
        str(from_voigpt(getattr(voigpt, name)("x")).code)
        for name in _exported_exceptions() if name != "VoiGptError"  # raised only as a subclass
    }
    return _api_error_keywords("code") | by_class


def test_the_server_errors_are_found() -> None:
    assert {"invalid_request_error", "server_error", "authentication_error",
            "overloaded_error"} <= _error_types()
    assert {"invalid_api_key", "upstream_timeout", "request_headers_too_large",
            "upstream_blocked"} <= _error_codes()


@pytest.mark.parametrize("kind", ["type", "code"])
def test_every_server_error_is_in_the_errors_reference(kind: str) -> None:
    section = _sections(ERRORS_PAGE).get("Server errors", "")
    words = _error_types() if kind == "type" else _error_codes()
    missing = sorted(word for word in words if not _in_backticks(word, section))
    assert not missing, f"errors.md's Server errors section does not name the {kind}s {missing}"
