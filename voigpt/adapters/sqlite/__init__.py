"""SQLite adapters: shared state in one file (``--state sqlite:///PATH``) for any number
of processes on one machine, on the standard library's ``sqlite3``."""

from voigpt.adapters.sqlite.pace import SqlitePace
from voigpt.adapters.sqlite.state import SqliteState
from voigpt.adapters.sqlite.stores import SqliteReplyCache, SqliteResponseStore
from voigpt.adapters.sqlite.tokens import SqliteTokenCache

__all__ = [
    "SqlitePace",
    "SqliteReplyCache",
    "SqliteResponseStore",
    "SqliteState",
    "SqliteTokenCache",
]
