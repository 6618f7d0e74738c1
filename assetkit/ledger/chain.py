"""Tamper evidence: every row of an append-only table is a link in one sha256 hash chain.

The pattern, for any table a feature adds (the review app's tables use it the same way):

1. declare the table and ``append_only_triggers(name)`` in a migration, and list the columns
   that are hashed in :data:`HASHED` (never change a shipped list: old links would stop
   matching; a later column is added to the hash under a new table version instead);
2. insert rows inside the writer's transaction, then call ``link(conn, name, after_rowid)``
   with the table's largest rowid before the insert: each new row gets a ``chain`` row whose
   ``hash`` is ``sha256(previous link's hash ‖ table ‖ canonical row)``.

The canonical row (schema 9) is built by SQLite itself: ``json_array`` of the hashed columns
(integers as digits, text escaped byte for byte — an embedded NUL included — NULL as ``null``;
a REAL column through ``quote``, which round-trips the double exactly), as UTF-8 bytes. Python
only hashes: ``verify`` reads the chain in ``seq`` order, a batch of links and their rows
serialised per SQLite step (:func:`walk`), and compares ``sha256(previous link's hash ‖ table ‖
0 ‖ row)`` with the stored hash — each link against the previous link's *stored* hash, so ranges
of links can be checked apart: a full verify of a big ledger has a :class:`Worker` process walk
the later links on the same snapshot. It names the first row whose hash does not match — an edit made with
plain ``sqlite3`` (after dropping the triggers) breaks the chain at that row, and re-hashing
every later link needs this code and leaves ``chain`` disagreeing with a copy of the file or a
printed report's "as of" marker. Each table's links must also follow its rowid order and every
row must have exactly one link. Up to schema 8 the canonical row was ``repr`` of the tuple of
the columns as Python read them (:func:`verify_legacy`, used only to check an older file before
its migration re-hashes it).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import subprocess
import sys
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


#: REAL columns of the chained tables: ``json_array`` prints a double with 15 digits (two values
#: could print alike), ``quote`` prints it so that it reads back exactly.
REAL_COLUMNS: dict[str, tuple[str, ...]] = {"runs": ("baseline_days",), "entries": ("baseline_days",)}

#: Rows serialised and hashed per batch (one ``fetchmany``).
BATCH = 50_000
#: Links :func:`walk` checks per SQLite step (a few MB of rows: they stay in the CPU's cache).
WALK_BATCH = 8000


def canonical_sql(table: str, alias: str = "r") -> str:
    """SQL: the canonical bytes of a row of ``table`` (``alias``): ``json_array`` of the hashed columns."""
    real = REAL_COLUMNS.get(table, ())
    cols = ", ".join(f'quote({alias}."{c}")' if c in real else f'{alias}."{c}"' for c in HASHED[table])
    return f"CAST(json_array({cols}) AS BLOB)"


def _linked_rows_sql(where: str) -> str:
    """SQL: (seq, tbl, row_id, hash, canonical row or NULL) of the links ``where``, in seq order;
    the row is NULL when it is missing or the table is not chained."""
    return f"SELECT seq, tbl, row_id, hash, {_linked_row_sql(HASHED)} FROM chain c WHERE {where} ORDER BY seq"


def _linked_row_sql(tables) -> str:
    """SQL: the canonical row of chain link ``c`` (NULL when it is missing or its table is not one of ``tables``)."""
    cases = " ".join(f"WHEN '{t}' THEN (SELECT {canonical_sql(t)} FROM \"{t}\" r WHERE r.rowid = c.row_id)"
                     for t in tables)
    return f"CASE tbl {cases} END"


def _prefixes() -> dict[str, bytes]:
    return {t: t.encode() + b"\x00" for t in HASHED}


def head(conn: sqlite3.Connection) -> tuple[int, bytes]:
    """(last link's seq, its hash); (0, GENESIS) for an empty chain."""
    row = conn.execute("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def last_rowid(conn: sqlite3.Connection, table: str) -> int:
    return conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}").fetchone()[0]


def _plain(conn: sqlite3.Connection) -> sqlite3.Cursor:
    cur = conn.cursor()
    cur.row_factory = None
    return cur


def link(conn: sqlite3.Connection, table: str, after: int) -> None:
    """Chain every row of ``table`` with rowid > ``after`` (the caller holds the transaction)."""
    _, prev = head(conn)
    prefix, sha = _prefixes()[table], hashlib.sha256
    cur = _plain(conn)
    cur.execute(f'SELECT rowid, {canonical_sql(table)} FROM "{table}" r WHERE rowid > ? ORDER BY rowid', (after,))
    while batch := cur.fetchmany(BATCH):
        links = []
        for row_id, canon in batch:
            prev = sha(prev + prefix + canon).digest()
            links.append((table, row_id, prev))
        conn.executemany("INSERT INTO chain (tbl, row_id, hash) VALUES (?, ?, ?)", links)


def rehash(conn: sqlite3.Connection) -> bytes:
    """Re-hash every link, in the chain's own order, with today's canonical rows (a migration
    that changed how rows are hashed calls it after the old chain verified); returns the old
    head's hash. The caller holds the transaction and has dropped the chain's triggers."""
    _, old_head = head(conn)
    conn.execute("CREATE TEMP TABLE chain_rehash (seq INTEGER PRIMARY KEY, tbl TEXT, row_id INTEGER, hash BLOB)")
    prefixes, sha, prev = _prefixes(), hashlib.sha256, GENESIS
    cur = _plain(conn)
    cur.execute(_linked_rows_sql("1"))
    while batch := cur.fetchmany(BATCH):
        out = []
        for seq, table, row_id, _, canon in batch:
            if canon is None:
                raise ChainBreak(table, row_id, f"chain link {seq}: {table} row {row_id} is missing")
            prev = sha(prev + prefixes[table] + canon).digest()
            out.append((seq, table, row_id, prev))
        conn.executemany("INSERT INTO chain_rehash VALUES (?, ?, ?, ?)", out)
    conn.execute("DELETE FROM chain")
    conn.execute("INSERT INTO chain (seq, tbl, row_id, hash) SELECT seq, tbl, row_id, hash FROM chain_rehash")
    conn.execute("DROP TABLE temp.chain_rehash")
    return old_head


class ChainBreak(Exception):
    """The first link that does not match: ``table``, ``row_id`` and what is wrong."""

    def __init__(self, table: str, row_id: int | None, problem: str, seq: int | None = None):
        super().__init__(problem)
        self.table, self.row_id, self.problem, self.seq = table, row_id, problem, seq
        self.first: dict[str, list[int]] = {}
        self.hash_mismatch = False  # a row that does not match (checked after its order)


def _check_counts(conn: sqlite3.Connection, tables) -> None:
    """Every row of each chained table has a link (and no link outlives its row)."""
    for table in tables:
        rows = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        links = conn.execute("SELECT COUNT(*) FROM chain WHERE tbl = ?", (table,)).fetchone()[0]
        if rows != links:
            first = conn.execute(f"SELECT MIN(rowid) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM chain c "
                                 f"WHERE c.tbl = ? AND c.row_id = t.rowid)", (table,)).fetchone()[0]
            raise ChainBreak(table, first, f"{rows} {table} rows but {links} chain links"
                             + (f" (row {first} has none: added outside assetkit)" if first else
                                " (rows were deleted)"))


def _hash_at(conn: sqlite3.Connection, seq: int) -> bytes:
    """The stored hash of link ``seq`` (GENESIS before the first)."""
    row = conn.execute("SELECT hash FROM chain WHERE seq = ?", (seq,)).fetchone() if seq else None
    return row[0] if row else GENESIS


def _tail_start(conn: sqlite3.Connection, tail: int | None) -> tuple[int, bytes]:
    """The seq to check after and the hash before it (all links when ``tail`` is None)."""
    if tail is None:
        return 0, GENESIS
    last, _ = head(conn)
    start = max(last - tail, 0)
    return start, _hash_at(conn, start)


def verify(conn: sqlite3.Connection, tail: int | None = None, worker: Worker | None = None) -> int:
    """Re-hash the chain; returns the links checked. Raises ChainBreak at the first bad one.

    Each table's links must follow its rowid order, every row has exactly one link, links are
    numbered 1…n without a gap; then the links are walked in seq order (:func:`walk`).

    ``tail``: check only the last ``tail`` links (from the stored hash before them) and that
    every chained table has exactly one link per row — the cheap check the report runs.
    ``worker``: a :class:`Worker` walks the links from its ``lo`` on meanwhile (in another
    process, on the same snapshot); this walks those before, and the first bad link of the two
    ranges — the one with the lower seq — is raised.
    """
    _check_counts(conn, HASHED)
    _check_numbering(conn)
    start, prev = _tail_start(conn, tail)
    last, spec = head(conn)[0], walk_spec()
    if worker is None:
        return walk(conn, spec, start + 1, last, prev)["count"]
    mine = walk(conn, spec, start + 1, worker.lo - 1, prev)
    theirs = worker.walked()
    if theirs is None:  # no usable worker (it could not start, or saw another snapshot): walk its part here
        theirs = walk(conn, spec, worker.lo, last, _hash_at(conn, worker.lo - 1))
    # the worker began each table's row order at 0: its first link of a table must follow ours (at one
    # link, an unknown table or a missing row is named before the order, the order before the hash)
    breaks = [(seq, 0, _bad_link(seq, t, row_id, b"", spec["tables"])) for t, (seq, row_id) in theirs["first"].items()
              if t in mine["last"] and row_id <= mine["last"][t]]
    if theirs.get("break"):
        brk = theirs["break"]
        rank = 1 if brk["hash"] else -1
        breaks.append((brk["seq"], rank, ChainBreak(brk["table"], brk["row_id"], brk["problem"], brk["seq"])))
    if breaks:
        raise min(breaks, key=lambda b: b[:2])[2]
    return mine["count"] + theirs["count"]


#: Links below which a full verify walks the chain in one process (a worker costs a process start).
PARALLEL_MIN_LINKS = 200_000


class Worker:
    """A second process that walks the links ``lo``…``hi`` of the ledger at ``uri`` (read-only)
    and runs the ``extra`` statements (``PRAGMA quick_check``), in one read transaction (the file
    memory-mapped up to ``mmap`` bytes); its
    results count only when its ``snapshot`` query reads what this connection's does (no commit
    came between the two transactions' starts), else :meth:`walked` and :meth:`extra` are None and
    the caller does that part itself. The process runs this file as a script (no assetkit import)."""

    def __init__(self, conn: sqlite3.Connection, uri: str, lo: int, hi: int, snapshot: str,
                 extra: tuple[str, ...] = (), mmap: int = 0):
        self.lo, self.hi, self._snapshot = lo, hi, snapshot
        self._mine = [list(r) for r in conn.execute(snapshot)]
        job = {"uri": uri, "spec": walk_spec(), "lo": lo, "hi": hi, "prev": _hash_at(conn, lo - 1).hex(),
               "snapshot": snapshot, "extra": list(extra), "mmap": mmap}
        self._result: dict | None = None
        try:
            self._proc: subprocess.Popen | None = subprocess.Popen(
                [sys.executable, "-I", __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL)
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps(job).encode())
            self._proc.stdin.close()
        except (OSError, ValueError):
            self._proc = None

    def _finish(self) -> dict | None:
        if self._proc is not None:
            assert self._proc.stdout is not None
            out = self._proc.stdout.read()
            self._proc.stdout.close()
            self._proc.wait()
            self._proc = None
            try:
                result = json.loads(out)
            except ValueError:
                result = {}
            self._result = result if result.get("snapshot") == self._mine and "error" not in result else {}
        return self._result or None

    def walked(self) -> dict | None:
        """The worker's walk: ``count``, ``first``, ``last`` and the ``break`` it met (or None)."""
        result = self._finish()
        return result["walk"] if result else None

    def extra(self) -> list[list[list]] | None:
        """The rows of each ``extra`` statement, as the worker read them."""
        result = self._finish()
        return result["extra"] if result else None

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _work(job: dict) -> dict:
    """A worker's job (:class:`Worker`), in one read transaction of its own connection."""
    try:
        conn = sqlite3.connect(job["uri"], uri=True, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute(f"PRAGMA mmap_size = {int(job.get('mmap', 0))}")
        conn.execute("BEGIN")
        out: dict = {"snapshot": [list(r) for r in conn.execute(job["snapshot"])]}
        try:
            out["walk"] = walk(conn, job["spec"], job["lo"], job["hi"], bytes.fromhex(job["prev"]))
        except ChainBreak as brk:
            out["walk"] = {"count": 0, "first": brk.first, "last": {},
                           "break": {"seq": brk.seq, "table": brk.table, "row_id": brk.row_id, "problem": brk.problem,
                                     "hash": brk.hash_mismatch}}
        out["extra"] = [[list(r) for r in conn.execute(q)] for q in job["extra"]]
        conn.execute("COMMIT")
        conn.close()
        return out
    except sqlite3.Error as exc:
        return {"error": str(exc)}


def walk_spec() -> dict:
    """What :func:`walk` needs, as plain data (a worker process has no :data:`HASHED`)."""
    tables = list(HASHED)
    known = ", ".join(f"'{t}'" for t in tables)
    links = ("SELECT count(*), count(*) FILTER (WHERE tbl NOT IN (" + known + ") OR length(hash) != 32), "
             "min(tbl), max(tbl), CAST(group_concat(hash, '') AS BLOB), group_concat(row_id), "
             "group_concat(tbl, char(10)) "
             "FROM (SELECT tbl, row_id, hash FROM chain WHERE seq >= ? AND seq <= ? ORDER BY seq)")
    rows = {t: f"SELECT count(*), group_concat(rowid), CAST(group_concat(canon, char(10)) AS BLOB) FROM (SELECT "
               f'rowid, {canonical_sql(t)} AS canon FROM "{t}" r WHERE rowid >= ? AND rowid <= ? ORDER BY rowid)'
            for t in tables}
    return {"tables": tables, "links": links, "rows": rows, "slow": _linked_rows_sql("seq >= ? AND seq <= ?")}


def walk(conn: sqlite3.Connection, spec: dict, lo: int, hi: int, prev: bytes,
         last: dict[str, int] | None = None) -> dict:
    """Check links ``lo``…``hi`` (seq), ``prev`` being the stored hash before ``lo``: each link's
    ``sha256(previous link's stored hash ‖ table ‖ 0 ‖ canonical row)`` must equal its own, and
    each table's row ids must rise (``last``: each table's row id before ``lo``; 0 when None).
    Raises ChainBreak at the first bad link. Returns ``count``, and per table the ``first``
    link [seq, row_id] and the ``last`` row id in the range (to join ranges walked apart).

    A batch of WALK_BATCH links is one SQLite step for the links (their stored hashes
    concatenated, their row ids and tables listed) and one per table among them: that table's
    rows from the batch's first to its last row id, read as one rowid range, serialised and
    joined by newlines (a ``json_array`` never holds a raw newline), with their row ids listed —
    which must be exactly the batch's links to that table, so the rows are the linked ones, in
    order. Python splits, puts the rows in link order, hashes and compares the batch at once.
    A batch with anything unusual (an unknown table, a missing row, a hash of another length, a
    row id out of order, a row without a link, a mismatch) is walked again link by link, which
    names the first bad one.
    """
    prefixes = {t: t.encode() + b"\x00" for t in spec["tables"]}
    last = dict.fromkeys(prefixes, 0) if last is None else dict(last)
    first: dict[str, list[int]] = {}
    count = 0
    cur = _plain(conn)
    for a in range(lo, hi + 1, WALK_BATCH):
        b, before = min(a + WALK_BATCH - 1, hi), dict(last)
        n, odd, low, high, hashes, ids_text, tbls = cur.execute(spec["links"], (a, b)).fetchone()
        if not n:
            continue
        batch = _batch_rows(cur, spec, n, odd, low, high, ids_text, tbls, last) if not odd else None
        ok = False
        if batch is not None:
            names, rows, heads = batch
            pres = itertools.repeat(prefixes[low], n) if names is None else map(prefixes.__getitem__, names)
            ok = _hashes_match(prev, hashes, pres, rows)
        if ok:
            for t, (offset, row_id, top) in heads.items():
                first.setdefault(t, [a + offset, row_id])
                last[t] = top
        else:
            try:
                last = _walk_slowly(cur, spec, a, b, prev, before, prefixes, first)
            except ChainBreak as brk:
                brk.first = first  # the ranges' first links, up to the bad one (Worker joins ranges)
                raise
        prev = hashes[-32:]
        count += n
    return {"count": count, "first": first, "last": last}


def _batch_rows(cur: sqlite3.Cursor, spec: dict, n: int, odd: int, low: str, high: str, ids_text: str, tbls: str,
                last: dict[str, int]):
    """The canonical rows of a batch's ``n`` links, in link order, read as one rowid range per
    table: (the links' tables, or None when all are ``low``; the rows; per table (offset of its
    first link, its first row id, its last row id)); None when the batch is not plain (a row
    missing or without a link, row ids not rising) — the caller walks it link by link."""
    ids = ids_text.split(",")
    groups: dict[str, tuple[int, list[str], str | None]]
    if low == high:
        names, groups = None, {low: (0, ids, ids_text)}
    else:
        names = tbls.split("\n")
        if len(names) != n or len(ids) != n:
            return None
        groups = {}
        for i, (t, row_id) in enumerate(zip(names, ids)):
            group = groups.get(t)
            if group is None:
                groups[t] = (i, [row_id], None)
            else:
                group[1].append(row_id)
    parts, heads = {}, {}
    for t, (offset, mine, text) in groups.items():
        id_lo, id_hi = int(mine[0]), int(mine[-1])
        if id_lo <= last[t]:
            return None
        found, rowids, canon = cur.execute(spec["rows"][t], (id_lo, id_hi)).fetchone()
        if found != len(mine) or rowids != (text or ",".join(mine)):  # exactly the linked rows, rising
            return None
        part = canon.split(b"\n")
        if len(part) != found:
            return None
        parts[t], heads[t] = part, (offset, id_lo, id_hi)
    if names is None:
        return None, parts[low], heads
    its = {t: iter(p) for t, p in parts.items()}
    return names, [next(its[t]) for t in names], heads


def _hashes_match(prev: bytes, hashes: bytes, prefixes, rows: list[bytes]) -> bool:
    """Whether ``hashes`` (the stored hashes of a batch of links, concatenated) are the chain of
    ``sha256(previous stored hash ‖ table prefix ‖ row)`` from ``prev``."""
    sha = hashlib.sha256
    prevs = itertools.chain([prev], [hashes[i:i + 32] for i in range(0, len(hashes) - 32, 32)])
    return b"".join([sha(p + x + r).digest() for p, x, r in zip(prevs, prefixes, rows)]) == hashes


def _walk_slowly(cur: sqlite3.Cursor, spec: dict, a: int, b: int, prev: bytes, last: dict[str, int],
                 prefixes: dict[str, bytes], first: dict[str, list[int]]) -> dict[str, int]:
    """Links ``a``…``b`` one by one (what :func:`walk` falls back to): raises at the first bad one."""
    sha, last = hashlib.sha256, dict(last)
    for seq, table, row_id, stored, canon in cur.execute(spec["slow"], (a, b)).fetchall():
        first.setdefault(table, [seq, row_id])
        if canon is None or table not in prefixes or row_id <= last[table]:
            raise _bad_link(seq, table, row_id, canon, prefixes)
        last[table] = row_id
        if sha(prev + prefixes[table] + canon).digest() != stored:
            brk = ChainBreak(table, row_id, f"{table} row {row_id} does not match its hash (changed after it "
                                            "was recorded)", seq)
            brk.hash_mismatch = True
            raise brk
        prev = stored
    return last


def _bad_link(seq: int, table: str, row_id: int, canon: bytes | None, known) -> ChainBreak:
    if table not in known:
        return ChainBreak(table, row_id, f"chain link {seq} names an unknown table {table!r}", seq)
    if canon is None:
        return ChainBreak(table, row_id, f"chain link {seq}: {table} row {row_id} is missing", seq)
    return ChainBreak(table, row_id, f"chain link {seq}: {table} row {row_id} is out of its table's order", seq)


def _check_numbering(conn: sqlite3.Connection) -> None:
    """Links are numbered 1…n without a gap (a row deleted together with its link is named)."""
    n, low, high = conn.execute("SELECT COUNT(*), MIN(seq), MAX(seq) FROM chain").fetchone()
    if n and (low != 1 or high != n):
        seq, table, row_id = conn.execute(
            "SELECT seq, tbl, row_id FROM chain c WHERE seq > 1 AND NOT EXISTS (SELECT 1 FROM chain p WHERE "
            "p.seq = c.seq - 1) ORDER BY seq LIMIT 1").fetchone()
        raise ChainBreak(table, row_id, f"chain link {seq - 1} is missing (links were deleted)")


# -- up to schema 8: the canonical row was repr() of the Python tuple --------------------------

def _legacy_digest(prev: bytes, table: str, row: tuple) -> bytes:
    return hashlib.sha256(prev + table.encode() + b"\x00" + repr(row).encode()).digest()


def _rows(conn: sqlite3.Connection, table: str, after: int, hashed: dict[str, tuple[str, ...]]) -> Iterator[tuple]:
    """(rowid, hashed columns…) of ``table`` after ``after``, in rowid order, as plain tuples."""
    cur = _plain(conn)
    cur.execute(f"SELECT rowid, {', '.join(hashed[table])} FROM {table} WHERE rowid > ? ORDER BY rowid", (after,))
    while batch := cur.fetchmany(BATCH):
        yield from batch


def link_legacy(conn: sqlite3.Connection, table: str, after: int, hashed: dict[str, tuple[str, ...]]) -> None:
    """:func:`link` as schemas 4–8 hashed rows (``repr`` of the ``hashed`` columns)."""
    _, prev = head(conn)
    links = []
    for row in _rows(conn, table, after, hashed):
        prev = _legacy_digest(prev, table, row[1:])
        links.append((table, row[0], prev))
    conn.executemany("INSERT INTO chain (tbl, row_id, hash) VALUES (?, ?, ?)", links)


def backfill(conn: sqlite3.Connection, tables: tuple[str, ...], hashed: dict[str, tuple[str, ...]]) -> None:
    """Chain the rows a ledger held before the chain existed (schema 4, the tables in this order)."""
    for table in tables:
        link_legacy(conn, table, 0, hashed)


def rehash_legacy(conn: sqlite3.Connection, hashed: dict[str, tuple[str, ...]]) -> bytes:
    """:func:`rehash` as schema 8 re-hashed (``repr`` of the ``hashed`` columns)."""
    _, old_head = head(conn)
    conn.execute("CREATE TEMP TABLE chain_rehash (seq INTEGER PRIMARY KEY, tbl TEXT, row_id INTEGER, hash BLOB)")
    cursors: dict[str, Iterator[tuple]] = {}
    prev, batch = GENESIS, []
    for seq, table, row_id in _plain(conn).execute("SELECT seq, tbl, row_id FROM chain ORDER BY seq").fetchall():
        it = cursors.get(table)
        if it is None:
            it = cursors[table] = _rows(conn, table, 0, hashed)
        row = next(it)
        prev = _legacy_digest(prev, table, row[1:])
        batch.append((seq, table, row_id, prev))
        if len(batch) >= BATCH:
            conn.executemany("INSERT INTO chain_rehash VALUES (?, ?, ?, ?)", batch)
            batch = []
    conn.executemany("INSERT INTO chain_rehash VALUES (?, ?, ?, ?)", batch)
    conn.execute("DELETE FROM chain")
    conn.execute("INSERT INTO chain (seq, tbl, row_id, hash) SELECT seq, tbl, row_id, hash FROM chain_rehash")
    conn.execute("DROP TABLE temp.chain_rehash")
    return old_head


def verify_legacy(conn: sqlite3.Connection, hashed: dict[str, tuple[str, ...]]) -> int:
    """:func:`verify` (every link) as schemas 4–8 hashed rows: what a migration checks before it
    re-hashes. Only the tables in ``hashed`` are checked (an older file has no others)."""
    _check_counts(conn, hashed)
    prev, checked = GENESIS, 0
    cursors: dict[str, Iterator[tuple]] = {}
    cur = _plain(conn)
    cur.execute("SELECT seq, tbl, row_id, hash FROM chain ORDER BY seq")
    for seq, table, row_id, stored in cur:
        if table not in hashed:
            raise ChainBreak(table, row_id, f"chain link {seq} names an unknown table {table!r}")
        it = cursors.get(table)
        if it is None:
            it = cursors[table] = _rows(conn, table, 0, hashed)
        row = next(it, None)
        if row is None or row[0] != row_id:
            raise ChainBreak(table, row_id, f"chain link {seq}: {table} row {row_id} is missing")
        prev = _legacy_digest(prev, table, row[1:])
        if prev != stored:
            raise ChainBreak(table, row_id, f"{table} row {row_id} does not match its hash (changed after it "
                                            "was recorded)")
        checked += 1
    return checked


if __name__ == "__main__":  # a Worker's process
    sys.stdout.write(json.dumps(_work(json.loads(sys.stdin.buffer.read()))))
