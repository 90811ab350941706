"""Which model a call asks for."""

from __future__ import annotations

from voigpt.domain.errors import InvalidInput

DEFAULT_MODEL = "gpt-3.5-turbo"


def resolve_model(model: object) -> str:
    """g4f's rule: an empty or missing model means ``gpt-3.5-turbo``."""
    if model is None or model == "":
        return DEFAULT_MODEL
    if not isinstance(model, str):
        raise InvalidInput(f"model must be a string, got {type(model).__name__}")
    return model
