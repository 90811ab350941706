"""JSON Schema checks, by ``jsonschema`` (a well-kept validator, not a hand-written one):
whether a schema is one, and whether a value fits it. ``jsonschema`` is imported on first
use, so a completion that asks for no tool and no format never loads it.

A schema is read in the dialect it names with ``$schema`` (Draft 2020-12 when it names
none, as OpenAI's and Anthropic's tool schemas are written). References to other
documents are not fetched: a schema that needs one cannot be applied, and says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from voigpt.domain.errors import InvalidConfig

MAX_MESSAGE = 300


def schema_problem_of(schema: object) -> str | None:
    """What makes ``schema`` unusable as a JSON Schema (an object), or None."""
    if not isinstance(schema, Mapping):
        return f"it must be a JSON object, got {type(schema).__name__}"
    try:
        json.dumps(schema, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return f"it is not plain JSON ({type(exc).__name__}: {_bounded(str(exc))})"
    _require_jsonschema()
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(dict(schema))
    except SchemaError as exc:
        return _bounded(f"{_where(exc.absolute_path)}{exc.message}")
    except Exception as exc:  # an unknown $schema, say: named, not a traceback
        return _bounded(f"{type(exc).__name__}: {exc}")
    return None


def instance_problem(instance: object, schema: Mapping[str, Any]) -> str | None:
    """Why ``instance`` does not fit ``schema`` (the most relevant error, with where it
    is: ``at $.city: 3 is not of type 'string'``), or None if it fits."""
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    try:
        error = best_match(validator_for(schema)(schema).iter_errors(instance))  # type: ignore[arg-type]
    except Exception as exc:  # an unresolvable $ref: the schema cannot be applied
        return _bounded(f"the schema could not be applied ({type(exc).__name__})")
    if error is None:
        return None
    return _bounded(f"{_where(error.absolute_path)}{error.message}")


def _require_jsonschema() -> None:
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        raise InvalidConfig("tools and JSON formats need jsonschema, which is not installed: "
                            "pip install 'voigpt[tools]'") from None


def _where(path: Any) -> str:
    parts = list(path)
    if not parts:
        return ""
    text = "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}"
                         for part in parts)
    return f"at {text}: "


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 3] + "..."
