"""Opening a ledger file: location, identity and schema checks, migration, locking, transactions."""
from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import AssetkitError
from ..yamlfile import display_path
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, _statements

DEFAULT_LEDGER = Path(".assetkit") / "ledger.sqlite"
LEDGER_ENV = "ASSETKIT_LEDGER"
BUSY_TIMEOUT_MS = 60_000


@contextmanager
def _setup_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the ledger's folder while a connection checks, creates or
    migrates the schema (milliseconds): SQLite's own locks do not cover switching a new file to
    WAL, and a half-created ledger must not be read as another application's database. No file
    is made for it; where the folder cannot be locked (no ``fcntl``) it is skipped."""
    try:
        import fcntl

        fd = os.open(path.parent, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock

class LedgerError(AssetkitError):
    """The ledger file cannot be used (foreign, damaged, newer) or a ledger command is invalid."""

    exit_code = 2


# -- small helpers --------------------------------------------------------------------------

def ledger_path(path: str | Path | None = None) -> Path:
    """The ledger to use: ``path``, else $ASSETKIT_LEDGER, else ./.assetkit/ledger.sqlite."""
    if path is not None:
        return Path(path)
    env = os.environ.get(LEDGER_ENV)
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_LEDGER


_WHO_OVERRIDE: str | None = None  # seed_demo pins identity and clock for reproducible files
_NOW_OVERRIDE: str | None = None


def who() -> str:
    """``user@host`` of whoever records an entry ($ASSETKIT_USER overrides the user part)."""
    if _WHO_OVERRIDE:
        return _WHO_OVERRIDE
    user = os.environ.get("ASSETKIT_USER")
    if not user:
        try:
            user = getpass.getuser()
        except Exception:  # pragma: no cover - no passwd entry in some containers
            user = "unknown"
    return f"{user}@{socket.gethostname()}"


def utc_iso(value: str | dt.datetime | None = None) -> str:
    """A timestamp (ISO text or datetime; now when None) as UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
    if value is None:
        if _NOW_OVERRIDE:
            return _NOW_OVERRIDE
        t = dt.datetime.now(dt.timezone.utc)
    elif isinstance(value, dt.datetime):
        t = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        t = dt.datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day_bounds(since: dt.date | str | None, until: dt.date | str | None) -> tuple[str | None, str | None]:
    """Inclusive dates → [since, until+1day) ISO text bounds for ``occurred_at``."""
    lo = hi = None
    if since is not None:
        lo = (since if isinstance(since, dt.date) else dt.date.fromisoformat(str(since))).isoformat()
    if until is not None:
        d = until if isinstance(until, dt.date) else dt.date.fromisoformat(str(until))
        hi = (d + dt.timedelta(days=1)).isoformat()
    return lo, hi



class Store:
    """An open ledger file (connection, schema, transactions); :class:`~assetkit.ledger.Ledger`
    adds the records. Use as a context manager; ``create=False`` to read.

    Raises LedgerError for a file that is not an assetkit ledger, is damaged, or was written by
    a newer assetkit — the file is never touched in those cases.
    """

    def __init__(self, path: str | Path | None = None, create: bool = True):
        self.path = ledger_path(path)
        self.name = display_path(self.path)
        self.conn = self._connect(create)

    # .. opening ..................................................................................
    def _connect(self, create: bool) -> sqlite3.Connection:
        p = self.path
        if p.is_dir():
            raise LedgerError(f"{self.name}: is a folder, expected the ledger file (.sqlite)")
        if p.exists() and p.stat().st_size > 0:
            with open(p, "rb") as fh:
                header = fh.read(16)
            if header != b"SQLite format 3\x00":
                raise LedgerError(f"{self.name}: not an assetkit ledger (not an SQLite database); "
                                  "refusing to touch it — move it away or choose another --ledger")
        elif not p.exists():
            if not create:
                raise LedgerError(f"{self.name}: no ledger yet (it is created by the first recorded run "
                                  "or `assetkit ledger add`)")
            p.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(p, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise LedgerError(f"{self.name}: cannot open ledger ({exc})") from None
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            with _setup_lock(p):  # two processes creating one ledger: one creates, the other waits
                self._check_identity(conn)
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a killed process never half-commits
                conn.execute("PRAGMA cache_size = -65536")  # up to 64 MiB: a big run's pages stay in memory
                conn.execute("PRAGMA foreign_keys = ON")
                self._migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise LedgerError(f"{self.name}: the ledger file is damaged ({exc}); it was not changed — "
                              "restore it from a backup or move it away") from None
        except LedgerError:
            conn.close()
            raise
        return conn

    def _check_identity(self, conn: sqlite3.Connection) -> None:
        own = not conn.in_transaction  # one snapshot: another process may be creating the ledger meanwhile
        if own:
            conn.execute("BEGIN")
        try:
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            if own:
                conn.execute("COMMIT")
        if app == APPLICATION_ID:
            if version > SCHEMA_VERSION:
                raise LedgerError(f"{self.name}: ledger schema version {version} was written by a newer "
                                  f"assetkit (this one reads up to {SCHEMA_VERSION}); upgrade assetkit")
            return
        if app != 0 or tables or version:
            raise LedgerError(f"{self.name}: an SQLite database of another application, not an assetkit "
                              "ledger; refusing to touch it — choose another --ledger")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._check_identity(conn)  # another process may have migrated meanwhile
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for stmt in _statements(MIGRATIONS[version]):
                    conn.execute(stmt)
                if version == 1:
                    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                                     [("created_at", utc_iso()), ("created_by", who())])
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: all or nothing, writers queue on busy_timeout."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise LedgerError(f"{self.name}: ledger is locked by another writer ({exc})") from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # .. reading ..................................................................................
