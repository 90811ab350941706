"""Tool calls and structured output over a site that takes text and returns text.

``values``: what may be asked (``Tool``, ``ToolChoice``, ``ResponseFormat``, together an
``OutputSpec``) and what a reply holds (``ToolCall``); ``openai``: OpenAI's shapes read
into those; ``history``: earlier calls and results as text; ``prompt``: the instructions
and corrections; ``replies``: the reply read back and checked (``checks``: JSON Schema,
by ``jsonschema``); ``flow``: the rules, with one repair. No I/O anywhere.
"""

from voigpt.domain.tools.values import (
    OutputSpec,
    ResponseFormat,
    Tool,
    ToolCall,
    ToolChoice,
)

__all__ = ["OutputSpec", "ResponseFormat", "Tool", "ToolCall", "ToolChoice"]
