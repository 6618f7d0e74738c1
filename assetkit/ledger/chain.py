"""Tamper evidence: every row of an append-only table is a link in one sha256 hash chain.

The pattern, for any table a feature adds (the review app's tables use it the same way):

1. declare the table and ``append_only_triggers(name)`` in a migration, and list the columns
   that are hashed in :data:`HASHED` (never change a shipped list: old links would stop
   matching; a later column is added to the hash under a new table version instead);
2. insert rows inside the writer's transaction, then call ``link(conn, name, after_rowid)``
   with the table's largest rowid before the insert: each new row gets a ``chain`` row whose
   ``hash`` is ``sha256(previous link's hash ‖ table ‖ canonical row)``.

The canonical row is ``repr`` of the tuple of the hashed columns as SQLite returns them
(integers, text, NULL, and the few REAL estimates): exact, and the same on every read.
``verify`` walks the chain from the first link, re-hashing every row, and names the first row
whose stored hash does not match — an edit made with plain ``sqlite3`` (after dropping the
triggers) breaks the chain at that row, and re-hashing every later link needs this code and
leaves ``chain`` disagreeing with a copy of the file or a printed report's "as of" marker.
"""
from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator

#: The hashed columns of each chained table, in hash order. Never edit a shipped entry.
HASHED: dict[str, tuple[str, ...]] = {}

GENESIS = b"\x00" * 32

CHAIN_TABLE = """
CREATE TABLE chain (
    seq INTEGER PRIMARY KEY,
    tbl TEXT NOT NULL,
    row_id INTEGER NOT NULL,
    hash BLOB NOT NULL,
    UNIQUE (tbl, row_id)
) STRICT;
"""


def append_only_triggers(table: str) -> str:
    """SQL: triggers that abort every UPDATE and DELETE of ``table``."""
    return f"""
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, 'the assetkit ledger is append-only: {table} cannot be changed (void an entry instead)'); END;
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, 'the assetkit ledger is append-only: {table} cannot be deleted (void an entry instead)'); END;
"""


def _digest(prev: bytes, table: str, row: tuple) -> bytes:
    return hashlib.sha256(prev + table.encode() + b"\x00" + repr(row).encode()).digest()


def _rows(conn: sqlite3.Connection, table: str, after: int = 0,
          hashed: dict[str, tuple[str, ...]] | None = None) -> Iterator[tuple]:
    """(rowid, hashed columns…) of ``table`` after ``after``, in rowid order, as plain tuples."""
    cur = conn.cursor()
    cur.row_factory = None
    cols = (hashed or HASHED)[table]
    cur.execute(f"SELECT rowid, {', '.join(cols)} FROM {table} WHERE rowid > ? ORDER BY rowid", (after,))
    while True:
        batch = cur.fetchmany(20_000)
        if not batch:
            return
        yield from batch


def head(conn: sqlite3.Connection) -> tuple[int, bytes]:
    """(last link's seq, its hash); (0, GENESIS) for an empty chain."""
    row = conn.execute("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def last_rowid(conn: sqlite3.Connection, table: str) -> int:
    return conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}").fetchone()[0]


def link(conn: sqlite3.Connection, table: str, after: int, hashed: dict[str, tuple[str, ...]] | None = None) -> None:
    """Chain every row of ``table`` with rowid > ``after`` (the caller holds the transaction)."""
    _, prev = head(conn)
    links = []
    for row in _rows(conn, table, after, hashed):
        prev = _digest(prev, table, row[1:])
        links.append((table, row[0], prev))
    conn.executemany("INSERT INTO chain (tbl, row_id, hash) VALUES (?, ?, ?)", links)


def backfill(conn: sqlite3.Connection, tables: tuple[str, ...],
             hashed: dict[str, tuple[str, ...]] | None = None) -> None:
    """Chain the rows a ledger held before the chain existed (the tables in this order)."""
    for table in tables:
        link(conn, table, 0, hashed)


def rehash(conn: sqlite3.Connection) -> bytes:
    """Re-hash every link, in the chain's own order, with today's :data:`HASHED` columns (a
    migration that changed hashed columns calls it after :func:`verify` passed with the old
    ones); returns the old head's hash. The caller holds the transaction and has dropped the
    chain's triggers."""
    _, old_head = head(conn)
    conn.execute("CREATE TEMP TABLE chain_rehash (seq INTEGER PRIMARY KEY, tbl TEXT, row_id INTEGER, hash BLOB)")
    cursors: dict[str, Iterator[tuple]] = {}
    prev, batch = GENESIS, []
    cur = conn.cursor()
    cur.row_factory = None
    for seq, table, row_id in cur.execute("SELECT seq, tbl, row_id FROM chain ORDER BY seq").fetchall():
        it = cursors.get(table)
        if it is None:
            it = cursors[table] = _rows(conn, table, 0)
        row = next(it)
        prev = _digest(prev, table, row[1:])
        batch.append((seq, table, row_id, prev))
        if len(batch) >= 20_000:
            conn.executemany("INSERT INTO chain_rehash VALUES (?, ?, ?, ?)", batch)
            batch = []
    conn.executemany("INSERT INTO chain_rehash VALUES (?, ?, ?, ?)", batch)
    conn.execute("DELETE FROM chain")
    conn.execute("INSERT INTO chain (seq, tbl, row_id, hash) SELECT seq, tbl, row_id, hash FROM chain_rehash")
    conn.execute("DROP TABLE temp.chain_rehash")
    return old_head


class ChainBreak(Exception):
    """The first link that does not match: ``table``, ``row_id`` and what is wrong."""

    def __init__(self, table: str, row_id: int | None, problem: str):
        super().__init__(problem)
        self.table, self.row_id, self.problem = table, row_id, problem


def verify(conn: sqlite3.Connection, tail: int | None = None, hashed: dict[str, tuple[str, ...]] | None = None) -> int:
    """Re-hash the chain; returns the links checked. Raises ChainBreak at the first bad one.

    ``tail``: check only the last ``tail`` links (from the stored hash before them) and that
    every chained table has exactly one link per row — the cheap check the report runs.
    """
    for table in HASHED:
        rows = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        links = conn.execute("SELECT COUNT(*) FROM chain WHERE tbl = ?", (table,)).fetchone()[0]
        if rows != links:
            first = conn.execute(f"SELECT MIN(rowid) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM chain c "
                                 f"WHERE c.tbl = ? AND c.row_id = t.rowid)", (table,)).fetchone()[0]
            raise ChainBreak(table, first, f"{rows} {table} rows but {links} chain links"
                             + (f" (row {first} has none: added outside assetkit)" if first else
                                " (rows were deleted)"))
    start, prev = 0, GENESIS
    if tail is not None:
        last, _ = head(conn)
        start = max(last - tail, 0)
        if start:
            prev = conn.execute("SELECT hash FROM chain WHERE seq = ?", (start,)).fetchone()[0]
    cursors: dict[str, Iterator[tuple]] = {}
    checked = 0
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute("SELECT seq, tbl, row_id, hash FROM chain WHERE seq > ? ORDER BY seq", (start,))
    for seq, table, row_id, stored in cur:
        if table not in HASHED:
            raise ChainBreak(table, row_id, f"chain link {seq} names an unknown table {table!r}")
        it = cursors.get(table)
        if it is None:
            after = 0 if start == 0 else (row_id - 1)
            it = cursors[table] = _rows(conn, table, after, hashed)
        row = next(it, None)
        if row is None or row[0] != row_id:
            raise ChainBreak(table, row_id, f"chain link {seq}: {table} row {row_id} is missing")
        prev = _digest(prev, table, row[1:])
        if prev != stored:
            raise ChainBreak(table, row_id, f"{table} row {row_id} does not match its hash (changed after it "
                                            "was recorded)")
        checked += 1
    return checked
