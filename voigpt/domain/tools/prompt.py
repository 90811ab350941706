"""What the model is told: the instructions added to a conversation that asks for tools or
a JSON format, and the short corrections sent when its reply does not fit.

The instructions are one system message at the end of the conversation, where a chat
model weighs them most. They list each tool with its description and the JSON Schema of
its arguments, give the one JSON shape a call is written in (the shape earlier calls in
the history are written in, ``history.py``), and say what the tool choice demands; a
format adds its schema. Corrections name what was wrong, never anything of the caller's
but the tools and schemas it sent.
"""

from __future__ import annotations

import json

from voigpt.domain.tools.values import OutputSpec

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
CALL_SHAPE = '{"tool_calls": [{"name": "<tool name>", "arguments": {<the arguments>}}]}'
AGAIN = "Reply again with only the corrected JSON object, and no other text."


def instructions(spec: OutputSpec) -> str:
    """The system message for ``spec`` ("" when it asks for nothing)."""
    parts: list[str] = []
    tools = spec.offered
    if tools:
        parts.append("You can call the tools below. Each is listed with what it does and "
                     "the JSON Schema of its arguments.")
        parts.extend(f"- {tool.name}: {tool.description.strip() or '(no description)'}\n"
                     f"  arguments schema: {_encode(tool.parameters)}" for tool in tools)
        many = ("Put one item in the list for each call; you may call several tools at once."
                if spec.parallel else "Call one tool at a time: put one item in the list.")
        parts.append("To call tools, reply with only this JSON object, and no other text "
                     f"before or after it:\n{CALL_SHAPE}\n{many}")
        parts.append(_choice(spec))
        parts.append('The result of a call comes back in a message that starts with "Result '
                     'of tool call". Use it to answer, or call more tools.')
    if spec.format is not None and not spec.choice.calls_required:
        fit = ("" if spec.format.schema is None
               else f" that fits this JSON Schema:\n{_encode(spec.format.schema)}")
        lead = "When you answer without calling a tool, your" if tools else "Your"
        parts.append(f"{lead} answer must be only a JSON object{fit}\nWrite no other text "
                     "before or after the JSON object.")
    return "\n\n".join(parts)


def _choice(spec: OutputSpec) -> str:
    if spec.choice.mode == "named":
        return f'You must call the tool "{spec.choice.name}" now. Do not answer in text.'
    if spec.choice.mode == "required":
        return "You must call at least one of these tools now. Do not answer in text."
    return "If no tool is needed, answer the user directly instead."


def must_call(spec: OutputSpec) -> str:
    which = (f'the tool "{spec.choice.name}"' if spec.choice.mode == "named"
             else "one of the tools")
    return (f"You must call {which} now. Reply with only the JSON object {CALL_SHAPE}, "
            "and no other text.")


def unknown_tool(name: str, spec: OutputSpec) -> str:
    names = ", ".join(f'"{tool.name}"' for tool in spec.offered)
    return f'There is no tool named "{name[:80]}". The tools are: {names}. {AGAIN}'


def wrong_tool(name: str, spec: OutputSpec) -> str:
    return f'You must call the tool "{spec.choice.name}", not "{name[:80]}". {AGAIN}'


def bad_arguments(name: str, problem: str) -> str:
    return f'The arguments of your call to "{name}" do not fit its schema: {problem}. {AGAIN}'


def one_call() -> str:
    return f'Call one tool at a time: put only one item in "tool_calls". {AGAIN}'


def malformed_call() -> str:
    return ('Each item of "tool_calls" must be an object with a "name" (a string) and '
            f'"arguments" (a JSON object). {AGAIN}')


def no_json(spec: OutputSpec) -> str:
    fit = "" if spec.format is None or spec.format.schema is None else \
        " that fits the JSON Schema given above"
    return f"Your answer must be only a JSON object{fit}. {AGAIN}"


def bad_json(problem: str) -> str:
    return f"Your JSON object does not fit the schema: {problem}. {AGAIN}"
