"""The state file's tables, how it is created (owner-only permissions), and what a
``sqlite3`` error means for a person reading it.

- ``token``: the site token (``value`` until ``expires``) and the fetch lock (``owner``
  until ``lease``);
- ``pace``: the pause after a 429 (``paused_until``, the next ``backoff``) and the next
  start the rate allows (``next_start``); ``slots``: one lease per completion in flight;
- ``responses``: stored responses (``size`` for the byte budget, oldest first by ``seq``),
  and ``response_totals``, their count and bytes, kept by triggers;
- ``replies``: the reply cache.

Times are wall-clock seconds (``time.time()``): every process on the machine reads the
same clock, and a lease written before a reboot is not mistaken for a fresh one (a
monotonic clock starts over at boot).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3

from voigpt.adapters.sqlite.transaction import immediate
from voigpt.domain.errors import InvalidConfig

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS token (name TEXT PRIMARY KEY, value TEXT, "
    "expires REAL NOT NULL DEFAULT 0, owner TEXT, lease REAL NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS pace (name TEXT PRIMARY KEY, "
    "paused_until REAL NOT NULL DEFAULT 0, backoff REAL NOT NULL DEFAULT 1, "
    "next_start REAL NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS slots (id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
    "expires REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS slots_owner ON slots (owner)",
    "CREATE TABLE IF NOT EXISTS responses (seq INTEGER PRIMARY KEY, key TEXT NOT NULL "
    "UNIQUE, record BLOB NOT NULL, size INTEGER NOT NULL, created REAL NOT NULL, "
    "expires REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS responses_expires ON responses (expires)",
    # The count and bytes of the stored responses, kept by triggers, so a put reads one row
    # rather than counting every record (a scan of up to --responses-max rows per put).
    # Triggers live in the file: every writer keeps the totals, whatever its version.
    "CREATE TABLE IF NOT EXISTS response_totals (id INTEGER PRIMARY KEY CHECK (id = 0), "
    "records INTEGER NOT NULL, bytes INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO response_totals "
    "SELECT 0, count(*), coalesce(sum(size), 0) FROM responses",
    "CREATE TRIGGER IF NOT EXISTS responses_added AFTER INSERT ON responses BEGIN "
    "UPDATE response_totals SET records = records + 1, bytes = bytes + NEW.size "
    "WHERE id = 0; END",
    "CREATE TRIGGER IF NOT EXISTS responses_removed AFTER DELETE ON responses BEGIN "
    "UPDATE response_totals SET records = records - 1, bytes = bytes - OLD.size "
    "WHERE id = 0; END",
    "DROP INDEX IF EXISTS responses_size",  # what the totals replace
    "CREATE TABLE IF NOT EXISTS replies (seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, "
    "value BLOB NOT NULL, expires REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS replies_expires ON replies (expires)",
)


def connect(path: str, busy_timeout: float) -> sqlite3.Connection:
    """The state's connection to ``path``, made (``create_file``) or checked now: WAL mode,
    the schema, owner-only files; ``InvalidConfig`` or ``sqlite3.Error`` if it can't be."""
    create_file(path)  # InvalidConfig (a directory, ...) before sqlite3 sees it
    # check_same_thread off: the state's thread and the loop take turns (Database._using).
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None,
                           check_same_thread=False,
                           cached_statements=512)  # the default 128 < puts' 200 shapes
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise InvalidConfig(f"state sqlite:///{path}: SQLite cannot use WAL mode on it "
                                f"(journal mode stays {mode!r}); put it on a local disk")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: safe against crashes
        # A put's statement journal (pages kept to undo it) stays off /var/tmp's files.
        conn.execute("PRAGMA temp_store = MEMORY")
        with immediate(conn):  # proves it is writable, and not locked for too long
            for statement in SCHEMA:
                conn.execute(statement)
        restrict(path)
    except BaseException:
        conn.close()
        raise
    return conn


def create_file(path: str) -> None:
    """Make ``path`` (and any directory on the way, 0700) as an empty 0600 file if it is
    not there; ``InvalidConfig`` if it is there but is no file, or cannot be written."""
    shown = f"state sqlite:///{path}"
    if os.path.isdir(path):
        raise InvalidConfig(f"{shown}: is a directory, not a file")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        _make_dirs(directory)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            os.fchmod(fd, 0o600)  # whatever the umask took away or left
        except FileExistsError:
            fd = os.open(path, os.O_RDWR)
    except OSError as exc:
        what = "is read-only for this user" if os.path.exists(path) else "cannot be created"
        raise InvalidConfig(f"{shown}: {what} ({exc.strerror or exc}); voigpt writes to "
                            "it") from None
    os.close(fd)


def _make_dirs(directory: str) -> None:
    if os.path.isdir(directory):
        return
    _make_dirs(os.path.dirname(directory))
    with contextlib.suppress(FileExistsError):
        os.mkdir(directory, 0o700)
    os.chmod(directory, 0o700)  # whatever the umask: the user's state, the user's only


def restrict(path: str) -> None:
    """The WAL and shared-memory files SQLite made beside ``path``: owner-only too (SQLite
    copies the database's mode, this makes sure whatever the umask)."""
    for extra in (path + "-wal", path + "-shm"):
        with contextlib.suppress(OSError):
            if os.stat(extra).st_mode & 0o077 and os.stat(extra).st_uid == os.getuid():
                os.chmod(extra, 0o600)


def problem(exc: sqlite3.Error, busy_timeout: float) -> str:
    """What ``exc`` means for the file, in words (never sqlite3's traceback)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return (f"is locked by another process (waited {busy_timeout:g} s); is another "
                "program holding a transaction open on it?")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return "is not a SQLite database (corrupt, or some other kind of file)"
    if "readonly" in text or "read-only" in text:
        return "is read-only (voigpt writes to it: check its and its directory's permissions)"
    if "unable to open" in text:
        return "cannot be opened (check the path and its directory's permissions)"
    if "disk i/o" in text or "full" in text:
        return f"cannot be written ({exc})"
    return f"cannot be used ({type(exc).__name__}: {exc})"
