"""The public surface is exactly what ``__all__`` says, for ``voigpt`` and ``voigpt.testing``."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys

import pytest

import voigpt
import voigpt.testing

PUBLIC = [
    "AccessRejected", "AccessToken", "AsyncClient", "Blocked", "Client", "CompleteChat",
    "Completion", "ConnectionFailed", "Container", "Conversation", "InvalidConfig", "InvalidInput",
    "InvalidMessages", "InvalidModelReply", "InvalidProxy", "MalformedReply", "Message",
    "RateLimited", "ReplyTooLarge", "ResponseFormat", "Role", "ServiceUnavailable", "Settings",
    "TimedOut", "TokenUnavailable", "Tool", "ToolCall", "ToolChoice", "UnexpectedStatus",
    "UntrustedCertificate", "VoiGpt", "VoiGptError", "__version__", "build_container",
]
TEST_KIT = [
    "AsyncFakeChatTransport", "AsyncFakeClock", "AsyncFakeTokenSource", "AsyncInMemoryTokenCache",
    "FakeChatTransport", "FakeClock", "FakeTokenSource", "Fakes", "Handler",
    "InMemoryTokenCache", "SentRequest", "echo_reply", "wired_with_fakes",
]


def test_all_is_exactly_the_public_names() -> None:
    assert voigpt.__all__ == PUBLIC


@pytest.mark.parametrize("name", [n for n in PUBLIC if n != "__version__"])
def test_each_public_name_is_the_object_its_home_module_defines(name: str) -> None:
    value = getattr(voigpt, name)
    home = importlib.import_module(voigpt._EXPORTS[name])
    assert value is getattr(home, name)
    assert inspect.getmodule(value) is home


def test_the_type_checking_imports_name_exactly_the_exported_table() -> None:
    tree = ast.parse(inspect.getsource(voigpt))
    [block] = [node for node in tree.body if isinstance(node, ast.If)]
    imported = {
        alias.asname: (node.module, alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == {name: (module, name) for name, module in voigpt._EXPORTS.items()}


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        voigpt.nope  # noqa: B018


def test_dir_lists_the_public_names_and_nothing_else() -> None:
    voigpt.Client  # noqa: B018 (a name loaded lazily does not make dir() longer)
    assert dir(voigpt) == sorted(PUBLIC)


def test_the_version_has_one_source() -> None:
    """pyproject.toml reads it from voigpt.__version__; ``voigpt --version`` prints it."""
    import importlib.metadata

    assert importlib.metadata.version("voigpt") == voigpt.__version__
    done = subprocess.run([sys.executable, "-m", "voigpt", "--version"], capture_output=True,
                          text=True, timeout=30, check=True)
    assert done.stdout.strip() == f"voigpt {voigpt.__version__}"


def test_import_voigpt_loads_no_http_library_and_no_wiring() -> None:
    code = (
        "import sys, voigpt, voigpt.config\n"
        "print(sorted(m for m in ('requests', 'urllib3', 'dependency_injector', "
        "'voigpt.container', 'voigpt.adapters') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_test_kit_exports_exactly_its_names() -> None:
    assert voigpt.testing.__all__ == TEST_KIT
    public = {n for n in vars(voigpt.testing) if not n.startswith("_")}
    assert public - {"wiring", "pytest_plugin"} == set(TEST_KIT)
