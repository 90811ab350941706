"""The server's error mapping, without a server: ``from_voigpt`` gives each voigpt error the
status that makes OpenAI clients do the right thing (and passes Retry-After on), and
``from_validation`` names the parameter of the first problem pydantic found, using the real
request model's errors. Every body is ``{"error": {message, type, param, code}}``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from voigpt.domain import errors
from voigpt.entrypoints.server.errors import APIError, from_validation, from_voigpt
from voigpt.entrypoints.server.protocol import ChatCompletionRequest

HELLO = [{"role": "user", "content": "Hello"}]


def problems(body: Any) -> list[Any]:
    """What FastAPI hands the handler: pydantic's errors, located under "body"."""
    with pytest.raises(ValidationError) as info:
        ChatCompletionRequest.model_validate(body)
    return [{**problem, "loc": ("body", *problem["loc"])} for problem in info.value.errors()]


def shape(error: APIError) -> dict[str, Any]:
    body = json.loads(error.body())
    assert list(body) == ["error"]
    assert list(body["error"]) == ["message", "type", "param", "code"]
    return dict(body["error"])


# --- from_voigpt ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "status", "type_", "code"),
    [
        (errors.RateLimited("slow down"), 429, "requests", "rate_limit_exceeded"),
        (errors.TimedOut("too slow"), 504, "server_error", "upstream_timeout"),
        (errors.ServiceUnavailable("HTTP 503", status=503), 503, "server_error",
         "upstream_unavailable"),
        (errors.ConnectionFailed("refused"), 502, "server_error", "upstream_connection_failed"),
        (errors.UntrustedCertificate("bad cert"), 502, "server_error",
         "upstream_untrusted_certificate"),
        (errors.MalformedReply("not JSON"), 502, "server_error", "upstream_malformed_reply"),
        (errors.ReplyTooLarge("too big"), 502, "server_error", "upstream_reply_too_large"),
        (errors.Blocked("challenge"), 502, "server_error", "upstream_blocked"),
        (errors.AccessRejected("403"), 502, "server_error", "upstream_access_rejected"),
        (errors.TokenUnavailable("no cookie"), 502, "server_error", "upstream_token_unavailable"),
        (errors.UnexpectedStatus("HTTP 418", status=418), 502, "server_error",
         "upstream_unexpected_status"),
        (errors.InvalidMessages("messages[1]: 'role' must be one of ..."), 400,
         "invalid_request_error", "invalid_value"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_each_voigpt_error_gets_its_status_type_and_code(
    exc: errors.VoiGptError, status: int, type_: str, code: str
) -> None:
    error = from_voigpt(exc)
    assert error.status == status
    body = shape(error)
    assert (body["type"], body["code"]) == (type_, code)
    assert str(exc) in body["message"]


@pytest.mark.parametrize(
    ("retry_after", "header"), [(7.0, "7"), (2.2, "3"), (0.0, "1"), (0.4, "1"), (None, None)]
)
def test_the_sites_retry_after_is_passed_on_in_whole_seconds_of_at_least_one(
    retry_after: float | None, header: str | None
) -> None:
    error = from_voigpt(errors.RateLimited("slow down", retry_after=retry_after))
    assert (error.headers or {}).get("Retry-After") == header


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ("messages[1]: 'role' must be one of 'system', 'user'", "messages[1].role"),
        ("messages[0] is missing 'content'", "messages[0].content"),
        ("messages[12]: 'content' has a lone surrogate", "messages[12].content"),
        ("messages[0].content[2]: a part with type 'image_url'", "messages[0].content[2]"),
        ("messages[3] must be a dict with 'role' and 'content'", "messages[3]"),
        ("messages must not be empty", "messages"),
        ("timeout must be positive", None),
    ],
)
def test_invalid_input_names_the_parameter_from_its_message(
    message: str, param: str | None
) -> None:
    assert from_voigpt(errors.InvalidMessages(message)).param == param


def test_the_body_keeps_non_ascii_text_as_it_is() -> None:
    error = APIError(400, "the role 'r\u00f4le' \u2014 is unknown", param="messages[0].role")
    assert "r\u00f4le' \u2014" in error.body().decode()


# --- from_validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({}, "messages", "missing_required_parameter"),
        ({"messages": []}, "messages", "invalid_value"),
        ({"messages": [{"role": "bot", "content": "x"}]}, "messages[0].role", "invalid_value"),
        ({"messages": [*HELLO, {"role": "user"}]}, "messages[1].content", "invalid_value"),
        ({"messages": HELLO, "n": 2}, "n", "unsupported_parameter"),
        ({"messages": HELLO, "n": "two"}, "n", "unsupported_parameter"),
        ({"messages": HELLO, "functions": [{}]}, "functions", "unsupported_parameter"),
        ({"messages": HELLO, "function_call": {"name": "f"}}, "function_call",
         "unsupported_parameter"),
        ({"messages": HELLO, "logprobs": True}, "logprobs", "unsupported_parameter"),
        ({"messages": HELLO, "top_logprobs": 5}, "top_logprobs", "unsupported_parameter"),
        ({"messages": HELLO, "temperature": 2.5}, "temperature", "invalid_value"),
        ({"messages": HELLO, "top_p": -0.1}, "top_p", "invalid_value"),
        ({"messages": HELLO, "max_tokens": 0}, "max_tokens", "invalid_value"),
        ({"messages": HELLO, "stream_options": {"include_usage": "x"}},
         "stream_options.include_usage", "invalid_value"),
        ({"messages": HELLO, "metadata": {"k": 1}}, "metadata.k", "invalid_value"),
    ],
)
def test_the_first_validation_problem_names_its_parameter(
    body: dict[str, Any], param: str, code: str
) -> None:
    error = from_validation(problems(body))
    assert error.status == 400
    assert (error.param, error.code, error.type) == (param, code, "invalid_request_error")
    assert shape(error)["message"]


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"tools": {}}, "tools"),
        ({"tools": [{}]}, "tools[0].name"),
        ({"tools": [{"type": "function", "function": {}}]}, "tools[0].function.name"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": 1}}}]},
         "tools[0].function.parameters"),
        ({"tools": [{"type": "file_search"}]}, "tools[0]"),
        ({"tools": [{"type": "funktion"}]}, "tools[0].type"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tool_choice": {"type": "function"}}, "tool_choice"),
        ({"response_format": {"type": "yaml"}}, "response_format.type"),
        ({"response_format": {"type": "json_schema"}}, "response_format.json_schema"),
        ({"response_format": {"type": "json_schema", "json_schema": {"schema": {"type": 1}}}},
         "response_format.json_schema.schema"),
    ],
)
def test_a_bad_tool_or_format_is_a_400_naming_where_it_is(
    options: dict[str, Any], param: str
) -> None:
    request = ChatCompletionRequest.model_validate({"messages": HELLO, **options})
    with pytest.raises(errors.InvalidInput) as info:
        request.output_spec()
    error = from_voigpt(info.value)
    assert (error.status, error.param, error.code) == (400, param, "invalid_value")
    assert shape(error)["message"].startswith(param.partition(".")[0].partition("[")[0])


def test_nothing_asked_is_no_spec_and_a_tool_asked_is_one() -> None:
    plain = ChatCompletionRequest.model_validate(
        {"messages": HELLO, "tools": [], "tool_choice": "none",
         "response_format": {"type": "text"}})
    assert plain.output_spec() is None
    asked = ChatCompletionRequest.model_validate(
        {"messages": HELLO, "tools": [{"type": "function", "function": {"name": "f"}}],
         "tool_choice": "required", "parallel_tool_calls": False})
    spec = asked.output_spec()
    assert spec is not None and spec.choice.mode == "required" and not spec.parallel
    assert [tool.name for tool in spec.tools] == ["f"]


def test_an_unsupported_parameter_that_is_valid_passes() -> None:
    request = ChatCompletionRequest.model_validate(
        {"messages": HELLO, "n": 1, "tools": [], "response_format": {"type": "text"},
         "logprobs": False, "tool_choice": "none", "temperature": 0.7, "vendor_x": 1}
    )
    assert len(request.messages.messages) == 1
    assert (request.n, request.temperature) == (1, 0.7)


def test_a_message_problem_drops_pydantics_value_error_prefix() -> None:
    error = from_validation(problems({"messages": [{"role": "bot", "content": "x"}]}))
    assert error.message.startswith("messages[0]: 'role' must be one of")


@pytest.mark.parametrize(
    ("problem", "code", "message"),
    [
        ({"type": "json_invalid", "loc": ("body", 1), "msg": "JSON decode error"},
         "invalid_json", "the body is not valid JSON"),
        ({"type": "model_attributes_type", "loc": ("body",), "input": []}, "invalid_value",
         "the body must be a JSON object"),
        ({"type": "model_attributes_type", "loc": ("body",), "input": "text"}, "invalid_value",
         "the body must be a JSON object sent as "
         "Content-Type: application/json"),
    ],
    ids=["bad-json", "not-an-object", "not-json-content-type"],
)
def test_a_body_that_is_not_a_json_object_has_no_param(
    problem: dict[str, Any], code: str, message: str
) -> None:
    error = from_validation([problem])
    assert (error.status, error.param, error.code, error.message) == (400, None, code, message)


def test_no_problem_at_all_is_still_a_400_in_the_shape() -> None:
    error = from_validation([])
    assert error.status == 400
    assert shape(error)["param"] is None
