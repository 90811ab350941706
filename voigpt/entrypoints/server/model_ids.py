"""Which model ids the server accepts, and the model that serves them: one rule for every
API the server speaks (chat completions, legacy completions, and the APIs to come).

voigpt.com has one model, ``gpt-3.5-turbo``, and ignores the name it is sent. The server
accepts that id, an empty or missing one (g4f's rule: the default model), and the ids
``--model-alias PATTERN`` (or ``VOIGPT_MODEL_ALIASES``) adds: an exact id, or an
``fnmatch`` glob (``gpt-4o*``, ``*``, matched case-sensitively). Every accepted id is
served by the site's model, and every answer names that model, as OpenAI names the
snapshot behind an alias. Any other id is ``UnknownModel`` (a 404 whose message names
the id, the model served and the flag that would accept it).

``ModelIds.require`` is on every completion's path: an exact id is one dict lookup; the
globs are tried only on a miss, and their verdicts are cached (a bounded cache, cleared
when full, and only for ids of a plausible length).
"""

from __future__ import annotations

import shlex
from fnmatch import fnmatchcase

from voigpt.domain.errors import InvalidConfig
from voigpt.domain.models import DEFAULT_MODEL

FLAG = "--model-alias"
VARIABLE = "VOIGPT_MODEL_ALIASES"
GLOB_CHARACTERS = frozenset("*?[")
MAX_PATTERN_LENGTH = 200
MAX_PATTERNS = 1000
CACHE_SIZE = 4096  # verdicts on globbed ids kept, then the cache starts over
CACHED_ID_LENGTH = 256  # longer ids are globbed each time, never kept


class UnknownModel(Exception):
    """An id no rule accepts; the server answers it with a 404 ``model_not_found``."""

    def __init__(self, message: str, *, param: str) -> None:
        super().__init__(message)
        self.message, self.param = message, param


class ModelIds:
    """The rule: ``resolve(id)`` is the model that serves ``id``, or None; ``listed()``
    the ids ``/v1/models`` lists (the served model, then the literal aliases)."""

    __slots__ = ("_cache", "_exact", "_globs", "_listed", "served")

    def __init__(self, aliases: tuple[str, ...] = (), served: str = DEFAULT_MODEL) -> None:
        self.served = served
        literal = [alias for alias in aliases if not is_glob(alias)]
        self._listed = tuple(dict.fromkeys([served, *literal]))
        self._exact = dict.fromkeys(self._listed, served)
        self._globs = tuple(dict.fromkeys(alias for alias in aliases if is_glob(alias)))
        self._cache: dict[str, str | None] = {}

    def resolve(self, requested: str | None) -> str | None:
        """The model that serves ``requested`` (an empty or missing id: the default)."""
        if not requested:
            return self.served
        served = self._exact.get(requested)
        if served is not None or not self._globs:
            return served
        try:
            return self._cache[requested]
        except KeyError:
            pass
        verdict = (self.served if any(fnmatchcase(requested, glob) for glob in self._globs)
                   else None)
        if len(requested) <= CACHED_ID_LENGTH:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[requested] = verdict
        return verdict

    def require(self, requested: str | None, *, param: str = "model") -> str:
        """``resolve(requested)``, or ``UnknownModel`` naming ``param``."""
        served = self.resolve(requested)
        if served is None:
            raise UnknownModel(self.unknown(str(requested)), param=param)
        return served

    def listed(self) -> tuple[str, ...]:
        return self._listed

    def unknown(self, requested: str) -> str:
        """The 404's message. The id is shown escaped (``repr``), and offered to the flag
        only if the flag would take it."""
        shown = requested if len(requested) <= 100 else requested[:97] + "..."
        takes = shown == requested and _well_formed(requested)
        pattern = shlex.quote(requested) if takes else "PATTERN"
        return (
            f"the model {shown!r} does not exist: this server serves {self.served} "
            f"(GET /v1/models lists the ids it accepts); start it with "
            f"{FLAG} {pattern} (or {VARIABLE}) to have {self.served} answer this id"
        )


def is_glob(pattern: str) -> bool:
    return not GLOB_CHARACTERS.isdisjoint(pattern)


def parse_aliases(value: object, where: str) -> tuple[str, ...]:
    """Patterns from repeated flags (a list) or a comma-separated variable, checked: each
    is 1 to 200 printable ASCII characters, with no space or comma, and not only commas or
    blanks. ``where`` (the flag or the variable) is named in every error."""
    if isinstance(value, (list, tuple)):
        items = [str(item).strip() for item in value]
    else:
        items = [item.strip() for item in str(value).split(",")]
        items = [item for item in items if item] or [""]
    if len(items) > MAX_PATTERNS:
        raise InvalidConfig(f"{where}: more than {MAX_PATTERNS} model aliases")
    for index, pattern in enumerate(items):
        what = f"{where}: model alias #{index + 1}"
        if not pattern:
            raise InvalidConfig(f"{what} is empty; give a model id or a glob like 'gpt-4o*'")
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise InvalidConfig(f"{what} is longer than {MAX_PATTERN_LENGTH} characters")
        if not _well_formed(pattern):
            raise InvalidConfig(
                f"{what} ({pattern!r}) must be printable ASCII without spaces or commas"
            )
    return tuple(dict.fromkeys(items))


def _well_formed(pattern: str) -> bool:
    return pattern.isascii() and pattern.isprintable() and " " not in pattern and "," not in pattern
