"""Opening a ledger file: location, identity and schema checks, migration, locking, transactions."""
from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AssetkitError
from ..yamlfile import display_path
from . import chain
from .schema import (
    _TOTALS_MEASURES,
    APPLICATION_ID,
    HASHED_V7,
    MIGRATIONS,
    RATE_COLUMNS,
    RATE_DIMENSIONS,
    RATE_MEASURES,
    SCHEMA_VERSION,
    TOTALS_DIMENSIONS,
    TRIGGERS,
    _statements,
)

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

#: The files SQLite keeps beside a ledger (WAL mode: -wal and -shm; a rollback journal).
SIDE_FILES = ("-wal", "-shm", "-journal")


def _refuse_links(path: Path, name: str) -> None:
    """A ledger (or a file SQLite keeps beside it) that is a symbolic link is refused: SQLite
    would read and write the link's target — and make its -wal/-shm there, even to read —
    outside the folder named."""
    for p, what in [(path, "the ledger")] + [(Path(f"{path}{s}"), f"its {s[1:]} file") for s in SIDE_FILES]:
        if p.is_symlink():
            target = os.readlink(p)
            hint = (f"name the ledger itself (--ledger {display_path(path.resolve())})" if p == path
                    else f"remove the link {display_path(p)}")
            raise LedgerError(f"{name}: {what} is a symbolic link (to {target}); SQLite would write through it, "
                              f"outside the folder named, so nothing was opened — {hint}")


class LedgerError(AssetkitError):
    """The ledger file cannot be used (foreign, damaged, newer) or a ledger command is invalid."""

    exit_code = 2


# -- small helpers --------------------------------------------------------------------------

def ledger_path(path: str | Path | None = None) -> Path:
    """The ledger to use: ``path``, else $ASSETKIT_LEDGER, else the project's
    ``.assetkit/ledger.sqlite`` — the project is the nearest folder up from here with an
    ``assetkit.yaml`` or ``.assetkit/`` (as git finds ``.git``), or this folder outside one."""
    from ..settings import find_project_root

    if path is not None:
        return Path(path)
    env = os.environ.get(LEDGER_ENV)
    if env:
        return Path(env)
    root = find_project_root()
    if root is None or root == Path.cwd().resolve():
        return Path.cwd() / DEFAULT_LEDGER
    return root / DEFAULT_LEDGER


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
        t = dt.datetime.now(dt.UTC)
    elif isinstance(value, dt.datetime):
        t = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        t = dt.datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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

    def __init__(self, path: str | Path | None = None, create: bool = True, readonly: bool = False,
                 timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = ledger_path(path)
        self.name = display_path(self.path)
        self.readonly = readonly
        self.timeout_ms = timeout_ms
        self.conn = self._connect(create and not readonly)

    # .. opening ..................................................................................
    def _connect(self, create: bool) -> sqlite3.Connection:
        p = self.path
        _refuse_links(p, self.name)
        if p.is_dir():
            raise LedgerError(f"{self.name}: is a folder, expected the ledger file (.sqlite)")
        if p.exists() and not p.is_file():
            raise LedgerError(f"{self.name}: not a regular file (a device, FIFO or socket); refusing to open it")
        if p.exists() and p.stat().st_size > 0:
            try:
                with open(p, "rb") as fh:
                    header = fh.read(16)
            except PermissionError:
                raise LedgerError(f"{self.name}: cannot read the ledger (permission denied)") from None
            if header != b"SQLite format 3\x00":
                raise LedgerError(f"{self.name}: not an assetkit ledger (not an SQLite database); "
                                  "refusing to touch it — move it away or choose another --ledger")
        elif p.exists():
            if self.readonly or not create:
                raise LedgerError(f"{self.name}: empty file (0 bytes), not a ledger yet; it was not changed "
                                  "(a run, `assetkit quotes import` or `assetkit ledger add` makes the ledger)")
        elif not p.exists():
            if not create:
                raise LedgerError(f"{self.name}: no ledger yet (it is created by the first recorded run, "
                                  "`assetkit quotes import` or `assetkit ledger add`)")
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LedgerError(f"{self.name}: cannot create the ledger's folder ({exc.strerror})") from None
        if self.readonly:
            return self._connect_readonly()
        if p.exists() and not os.access(p, os.W_OK):
            raise LedgerError(f"{self.name}: the ledger is read-only; nothing was written (reading it works: "
                              "`assetkit ledger list`, `assetkit report`)")
        if not os.access(p.parent, os.W_OK):
            raise LedgerError(f"{self.name}: the ledger's folder {display_path(p.parent)} is read-only; SQLite "
                              "needs to write its journal there, so nothing was written")
        try:
            conn = sqlite3.connect(p, isolation_level=None, timeout=self.timeout_ms / 1000,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise LedgerError(f"{self.name}: cannot open ledger ({exc})") from None
        conn.row_factory = sqlite3.Row
        with self._closed_on_error(conn):
            conn.execute(f"PRAGMA busy_timeout = {self.timeout_ms}")
            with _setup_lock(p):  # two processes creating one ledger: one creates, the other waits
                self._check_identity(conn)
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a killed process never half-commits
                conn.execute("PRAGMA cache_size = -65536")  # up to 64 MiB: a big run's pages stay in memory
                conn.execute("PRAGMA foreign_keys = ON")
                self._migrate(conn)
        return conn

    @contextmanager
    def _closed_on_error(self, conn: sqlite3.Connection) -> Iterator[None]:
        """Close ``conn`` when opening fails; SQLite's error becomes one precise LedgerError."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise self._database_error(exc) from None
        except LedgerError:
            conn.close()
            raise

    def _connect_readonly(self) -> sqlite3.Connection:
        """A connection that cannot write: ``mode=ro``; where SQLite could not even make its
        shared-memory file (a read-only file or folder), ``immutable=1`` (nobody can write it
        either). An older schema is upgraded first, in its own write connection, when the file
        is writable — the only change a reader ever makes."""
        from urllib.parse import quote

        p = self.path
        uri = "file:" + quote(str(p.resolve()))
        writable = os.access(p, os.W_OK) and os.access(p.parent, os.W_OK)
        conn = None
        last: sqlite3.DatabaseError | None = None
        for suffix in (("?mode=ro",) if writable else ("?mode=ro", "?immutable=1")):
            try:
                conn = sqlite3.connect(uri + suffix, uri=True, isolation_level=None,
                                       timeout=self.timeout_ms / 1000, check_same_thread=False)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                break
            except sqlite3.DatabaseError as exc:
                if conn is not None:
                    conn.close()
                conn = None
                last = exc
        if conn is None:
            assert last is not None
            raise self._database_error(last)
        conn.row_factory = sqlite3.Row
        with self._closed_on_error(conn):
            conn.execute(f"PRAGMA busy_timeout = {self.timeout_ms}")
            self._check_identity(conn)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            conn.close()
            raise LedgerError(f"{self.name}: an empty SQLite database, not a ledger yet; it was not changed")
        if version < SCHEMA_VERSION:
            conn.close()
            if not writable:
                raise LedgerError(f"{self.name}: ledger schema {version} is older than this assetkit's "
                                  f"{SCHEMA_VERSION} and the file is read-only, so it cannot be upgraded; "
                                  "make it writable once (any assetkit command upgrades it)")
            Store(p, create=False, timeout_ms=self.timeout_ms).close()
            return self._connect_readonly()
        return conn

    def _database_error(self, exc: sqlite3.DatabaseError) -> LedgerError:
        """One precise line for SQLite's failures on this file."""
        text = str(exc)
        if "locked" in text or "busy" in text:
            return LedgerError(f"{self.name}: the ledger is locked by another process (waited "
                               f"{self.timeout_ms / 1000:g} s); nothing was written — retry when it has finished")
        if "readonly" in text or "read-only" in text:
            return LedgerError(f"{self.name}: the ledger is read-only; nothing was written")
        if "unable to open" in text:
            return LedgerError(f"{self.name}: cannot open the ledger ({text})")
        return LedgerError(f"{self.name}: the ledger file is damaged ({text}); it was not changed — "
                           "restore it from a backup or move it away")

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
        # schema 8 rebuilds tables that entries reference: foreign keys off (it cannot change in a transaction)
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._check_identity(conn)  # another process may have migrated meanwhile
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            before_v8 = {**chain.HASHED, **HASHED_V7}  # what the chain hashed up to schema 7
            for version in range(current + 1, SCHEMA_VERSION + 1):
                if version in (8, 9) and not (version == 9 and current < 8):
                    try:  # the chain as it was must hold before every link is re-hashed
                        chain.verify_legacy(conn, before_v8 if version == 8 else chain.HASHED)
                    except chain.ChainBreak as brk:
                        raise LedgerError(f"{self.name}: does not verify ({brk.table} row {brk.row_id}: "
                                          f"{brk.problem}); it was not upgraded — restore it from a backup") from None
                for stmt in _statements(MIGRATIONS[version]):
                    conn.execute(stmt)
                if version == 1:
                    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                                     [("created_at", utc_iso()), ("created_by", who())])
                if version == 4:
                    chain.backfill(conn, ("quotes", "runs", "entries"), before_v8)  # the tables schema 4 had
                if version == 9:  # once for schemas 8 and 9: the links are re-hashed from today's rows
                    self._rehash(conn, "schema 9: rows hashed as SQLite serialises them (json_array)"
                                 + ("; schema 8: durations as integer milliseconds" if current < 8 else ""))
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            bad = conn.execute("PRAGMA foreign_key_check").fetchone()
            if bad is not None:
                raise LedgerError(f"{self.name}: the upgrade would break a reference ({tuple(bad)}); "
                                  "it was not upgraded")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute("PRAGMA foreign_keys = ON")

    @staticmethod
    def _rehash(conn: sqlite3.Connection, why: str) -> None:
        """Schemas 8 (hashed columns of runs and entries) and 9 (the canonical row) changed what is
        hashed: every link is re-hashed, and the old chain's head (verified just before) is kept
        in meta."""
        conn.execute("DROP TRIGGER chain_no_update")
        conn.execute("DROP TRIGGER chain_no_delete")
        old = chain.rehash(conn)
        for stmt in _statements(chain.append_only_triggers("chain")):
            conn.execute(stmt)
        conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         [("rechained_at", utc_iso()), ("rechained_from", old.hex()),
                          ("rechained_why", why)])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
            raise self._database_error(exc) from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: all or nothing, writers queue on busy_timeout."""
        if self.readonly:
            raise LedgerError(f"{self.name}: opened for reading; nothing can be written through it")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise self._database_error(exc) from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # .. reading ..................................................................................
    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: everything read inside sees the same commit (WAL readers never
        block writers); nested use is the outer one's."""
        c = self.conn
        if c.in_transaction:
            yield c
            return
        try:
            c.execute("BEGIN")
            c.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts at the first read
        except sqlite3.DatabaseError as exc:
            raise self._database_error(exc) from None
        try:
            yield c
        finally:
            if c.in_transaction:
                c.execute("COMMIT")

    # .. verifying ................................................................................
    def verify(self, full: bool = True) -> VerifyResult:
        """Check the ledger: triggers present, every row chained and its hash matching, the
        running totals equal to the entries, and (``full``) SQLite's ``PRAGMA quick_check``.

        ``full=False`` is the cheap part the report runs: the chain's last links, link counts
        and the grand totals. Raises LedgerError naming the first problem (quick_check's first,
        then the triggers, the chain's first bad link, the totals).

        Every check reads one snapshot (one read transaction). A full verify of a big ledger
        starts a :class:`~assetkit.ledger.chain.Worker` process on the same snapshot for the
        later links of the chain and quick_check, and meanwhile checks the triggers, the totals
        and the first links here (:data:`VERIFY_HERE_SHARE`) (SQLite serialising rows is most of the cost: two cores).
        """
        c = self.conn
        own = not c.in_transaction
        try:
            if own:
                c.execute(f"PRAGMA mmap_size = {VERIFY_MMAP}")
                c.execute("BEGIN")
            try:
                return self._verify(c, full)
            finally:
                if own:
                    c.execute("COMMIT")
                    c.execute("PRAGMA mmap_size = 0")
        except sqlite3.DatabaseError as exc:
            raise self._database_error(exc) from None

    def verify_alongside(self) -> Callable[[], VerifyResult]:
        """The cheap verify (``verify(full=False)``) on a second read connection, in a thread,
        while this connection reads; returns what waits for it (raising its LedgerError).

        This connection must be in a read transaction that has read (a reader's one snapshot); the
        second one checks that it sees the same one (the same chain head and totals, as a verify's
        worker does). Python's sqlite3 lets go of the GIL while SQLite works, so the checks and
        the reader's queries take a core each. Where the snapshots differ (a commit came between
        the two starts) or the second connection cannot open, the verify runs here, at once."""
        import threading

        assert self.conn.in_transaction, "verify_alongside needs this connection's read transaction"
        mine = [list(r) for r in self.conn.execute(_SNAPSHOT)]
        other: Store | None = None
        try:
            other = Store(self.path, readonly=True, timeout_ms=self.timeout_ms)
            other.conn.execute(f"PRAGMA mmap_size = {VERIFY_MMAP}")
            other.conn.execute("BEGIN")
            if [list(r) for r in other.conn.execute(_SNAPSHOT)] != mine:
                raise LedgerError("another snapshot")
        except (LedgerError, sqlite3.Error):
            if other is not None:
                other.close()
            result = self.verify(full=False)
            return lambda: result
        box: dict[str, Any] = {}
        second = other

        def check() -> None:
            try:
                box["result"] = second._verify(second.conn, False)
            except BaseException as exc:  # handed to the caller
                box["error"] = exc
            finally:
                try:
                    second.conn.execute("COMMIT")
                except sqlite3.DatabaseError as exc:  # a damaged file: named by the check, else here
                    box.setdefault("error", exc)
                finally:
                    second.close()

        worker = threading.Thread(target=check, name="assetkit-verify", daemon=True)
        worker.start()

        def wait() -> VerifyResult:
            worker.join()
            err = box.get("error")
            if isinstance(err, sqlite3.DatabaseError):
                raise self._database_error(err) from None
            if err is not None:
                raise err
            return box["result"]
        return wait

    def _verify(self, c: sqlite3.Connection, full: bool) -> VerifyResult:
        last = chain.head(c)[0]
        worker = None
        if full and last >= chain.PARALLEL_MIN_LINKS:
            from urllib.parse import quote

            worker = chain.Worker(c, "file:" + quote(str(self.path.resolve())) + "?mode=ro",
                                  1 + int(last * VERIFY_HERE_SHARE), last,
                                  _SNAPSHOT, (QUICK_CHECK, _LAST_ENTRY), VERIFY_MMAP)
        with worker or nullcontext():
            if full and worker is None:
                self._quick_check(c, None)
            try:
                have = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
                missing = [t for t in TRIGGERS if t not in have]
                if missing:
                    raise LedgerError(f"{self.name}: does not verify: trigger {missing[0]} is missing (the "
                                      "append-only guard was removed outside assetkit)")
                totals: LedgerError | None = None
                try:  # while the worker walks: named after the chain's problems
                    entries = _check_totals(c, self.name, full)
                except LedgerError as exc:
                    totals = exc
                try:
                    links = chain.verify(c, tail=None if full else VERIFY_TAIL, worker=worker)
                except chain.ChainBreak as brk:
                    what = {"entries": "entry", "runs": "run row", "quotes": "quote row", "decisions": "decision",
                            "deliveries": "delivery"}.get(brk.table, brk.table)
                    where = f"first bad {what} {brk.row_id}: " if brk.row_id is not None else ""
                    raise LedgerError(f"{self.name}: does not verify: {where}{brk.problem}") from None
                if totals is not None:
                    raise totals
            except LedgerError:
                if worker is not None:
                    self._quick_check(c, worker)  # a damaged file is named first
                raise
            if worker is not None:
                self._quick_check(c, worker)
                extra = worker.extra()
                entries = tuple(extra[1][0]) if extra is not None else None
        if entries is None:
            entries = c.execute(_LAST_ENTRY).fetchone()
        return VerifyResult(links=links, entries=entries[0], last_entry=entries[1], last_recorded=entries[2],
                            full=full)

    def _quick_check(self, c: sqlite3.Connection, worker: chain.Worker | None) -> None:
        """SQLite's ``PRAGMA quick_check``, as the worker ran it (or here)."""
        rows = worker.extra() if worker is not None else None
        bad = [r[0] for r in (rows[0] if rows is not None else c.execute(QUICK_CHECK))]
        if bad != ["ok"]:
            raise LedgerError(f"{self.name}: the ledger file is damaged (quick_check: {'; '.join(bad)})")


QUICK_CHECK = "PRAGMA quick_check(5)"
#: The share of the chain's links a full verify with a worker walks here, besides re-deriving the
#: totals (the worker walks the rest and runs quick_check): the two take about as long at 1M
#: entries (bench/ledger.py).
VERIFY_HERE_SHARE = 0.4
#: A verify reads the file through a memory map (SQLite's cap is 2 GB): scanning every page costs
#: ~20 % less than through SQLite's page cache. Only for the verify's read transaction.
VERIFY_MMAP = 0x7FFF0000
_LAST_ENTRY = "SELECT COUNT(*), MAX(id), MAX(recorded_at) FROM entries"

#: What a verify's worker must read as this connection does (the same snapshot): the schema, the
#: chain's head and the totals (the tables a commit changes).
_SNAPSHOT = ("SELECT (SELECT schema_version FROM pragma_schema_version), (SELECT seq FROM chain ORDER BY seq DESC "
             "LIMIT 1), (SELECT hex(hash) FROM chain ORDER BY seq DESC LIMIT 1), COUNT(*), "
             + ", ".join(f"TOTAL({m})" for m in _TOTALS_MEASURES) + " FROM totals")


#: Links the report's cheap verification re-hashes (the most recent; ``ledger verify`` does all).
VERIFY_TAIL = 1000


@dataclass(frozen=True)
class VerifyResult:
    links: int
    entries: int
    last_entry: int | None
    last_recorded: str | None
    full: bool


def _check_totals(conn: sqlite3.Connection, name: str, full: bool) -> tuple | None:
    """``totals`` must equal the sums over ``entries``, exactly (money in micros, time in ms).
    Not ``full``: returns the entries' (count, last id, last recorded_at), read in the same scan."""
    measures = _TOTALS_MEASURES
    if full:
        totals, rates = _derived(conn)
        _check_groups(conn, name, "totals", "totals", totals, TOTALS_DIMENSIONS, measures)
        _check_groups(conn, name, "rate totals", "rate_totals", rates, RATE_DIMENSIONS, RATE_MEASURES)
        return None
    sums = ", ".join(f"SUM({m})" for m in measures)
    derived_total = conn.execute(_CHEAP_SUMS).fetchone()
    stored_total = conn.execute(f"SELECT {sums} FROM totals").fetchone()
    problem = _measure_diff(measures, tuple(derived_total)[:len(measures)], tuple(stored_total))
    if not problem:
        rates = conn.execute(f"SELECT {', '.join(f'SUM({m})' for m in RATE_MEASURES)} FROM rate_totals").fetchone()
        problem = _measure_diff(tuple(f"rate_totals.{m}" for m in RATE_MEASURES),
                                tuple(derived_total[_CHEAP_INDEX[m]] for m in RATE_MEASURES), tuple(rates))
    if problem:
        raise LedgerError(f"{name}: does not verify: the running totals differ from the entries ({problem}); "
                          "run `assetkit ledger verify` for the group")
    return derived_total[0], derived_total[-2], derived_total[-1]


#: The grand sums of every entry (and its count, last id and recorded_at) that the report's cheap
#: verify compares with totals and rate_totals: read from the covering index entries_sums (schema 10).
_CHEAP_SUMS = ("SELECT COUNT(*), SUM(units), SUM(baseline_micros), SUM(actual_compute_micros), "
               "SUM(actual_human_micros), SUM(actual_tool_micros), SUM(baseline_ms), SUM(actual_ms), SUM(compute_ms), "
               "SUM(CASE WHEN no_baseline = 1 THEN units ELSE 0 END), SUM(human_estimated_ms), MAX(id), "
               "MAX(recorded_at) FROM entries")
#: Where each rate_totals measure is among _CHEAP_SUMS' columns.
_CHEAP_INDEX = {"entries": 0, "units": 1, "actual_compute_micros": 3, "actual_human_micros": 4, "actual_ms": 7,
                "compute_ms": 8, "human_ms": 10}


def _check_groups(conn: sqlite3.Connection, name: str, label: str, table: str, derived_rows: list[tuple],
                  dimensions: tuple[str, ...], measures: tuple[str, ...]) -> None:
    """Each group of a running-totals ``table`` must equal its sums re-derived from the entries."""
    d = len(dimensions)
    derived = {tuple(r[:d]): tuple(r[d:]) for r in derived_rows}
    stored = {tuple(r[:d]): tuple(r[d:])
              for r in conn.execute(f"SELECT {', '.join(dimensions + measures)} FROM {table}")}
    for key in sorted(set(derived) | set(stored), key=repr):
        problem = _measure_diff(measures, derived.get(key), stored.get(key))
        if problem:
            group = ", ".join(f"{d}={v!r}" for d, v in zip(dimensions, key))
            raise LedgerError(f"{name}: does not verify: the running {label} for {group} differ from the "
                              f"entries ({problem}); the {table} table was changed outside assetkit")


#: The dimensions of both running-totals tables (totals' and rate_totals'), and the measures of both.
_BOTH_DIMENSIONS = TOTALS_DIMENSIONS + tuple(d for d in RATE_DIMENSIONS if d not in TOTALS_DIMENSIONS)
_BOTH_MEASURES = _TOTALS_MEASURES + tuple(m for m in RATE_MEASURES if m not in _TOTALS_MEASURES)
#: One entry's share of each: its totals dimensions and measures, and rate_totals' (RATE_COLUMNS).
_PER_ENTRY = {**RATE_COLUMNS, "category": "category", "baseline_micros": "baseline_micros",
              "actual_tool_micros": "actual_tool_micros", "baseline_ms": "baseline_ms",
              "no_baseline_units": "CASE WHEN no_baseline = 1 THEN units ELSE 0 END"}


def _derived(conn: sqlite3.Connection) -> tuple[list[tuple], list[tuple]]:
    """``totals`` and ``rate_totals`` re-derived from every entry, in one scan: each entry added to
    its group of both (a lookup among the groups per entry is cheaper than sorting a million
    entries for GROUP BY), then each table's groups summed from those; as (dimensions…, measures…)."""
    conn.execute("DROP TABLE IF EXISTS temp.derived_totals")
    conn.execute(f"CREATE TEMP TABLE derived_totals ({', '.join(_BOTH_DIMENSIONS + _BOTH_MEASURES)}, "
                 f"PRIMARY KEY ({', '.join(_BOTH_DIMENSIONS)})) WITHOUT ROWID")
    try:
        conn.execute(_PER_ENTRY_TOTALS)
        cur = conn.cursor()
        cur.row_factory = None
        group = "SELECT {dims}, {sums} FROM temp.derived_totals GROUP BY {dims}"
        totals = cur.execute(group.format(dims=", ".join(TOTALS_DIMENSIONS),
                                          sums=", ".join(f"SUM({m})" for m in _TOTALS_MEASURES))).fetchall()
        rates = cur.execute(group.format(dims=", ".join(RATE_DIMENSIONS),
                                         sums=", ".join(f"SUM({m})" for m in RATE_MEASURES))).fetchall()
        return totals, rates
    finally:
        conn.execute("DROP TABLE temp.derived_totals")


#: Each entry into its group of ``temp.derived_totals`` (the measures of one entry, then summed);
#: the rate_totals dimensions as rate_totals_upsert writes them.
_PER_ENTRY_TOTALS = f"""
INSERT INTO temp.derived_totals ({', '.join(_BOTH_DIMENSIONS + _BOTH_MEASURES)})
SELECT {', '.join(_PER_ENTRY[c] for c in _BOTH_DIMENSIONS + _BOTH_MEASURES)}
FROM entries WHERE true
ON CONFLICT ({', '.join(_BOTH_DIMENSIONS)}) DO UPDATE SET
    {', '.join(f"{m} = {m} + excluded.{m}" for m in _BOTH_MEASURES)}
"""


def _measure_diff(measures, a: tuple | None, b: tuple | None) -> str | None:
    if a is None or b is None:
        return "a group is missing from the totals" if b is None else "the totals hold a group no entry has"
    n = max(abs(a[0] or 0), 1)
    for m, x, y in zip(measures, a, b):
        x, y = x or 0, y or 0
        if isinstance(x, float) or isinstance(y, float):
            if abs(x - y) > 1e-6 * n:
                return f"{m}: entries {x:g}, totals {y:g}"
        elif x != y:
            return f"{m}: entries {x}, totals {y}"
    return None
