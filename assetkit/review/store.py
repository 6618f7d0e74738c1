"""Review decisions and deliveries, kept in the savings ledger's SQLite file.

Two append-only tables (triggers abort every UPDATE and DELETE, as for the ledger's entries):

``review_decisions`` — one row per decision a reviewer made:
    id (PK; the order decisions were made in — the latest covering an asset wins), campaign,
    scope (``asset`` | ``master``), target (the asset or master id), concept, variant, locale
    and format (NULL for a master), action (``approve`` | ``reject`` | ``change``: a change
    request), comment, assets (JSON ``{asset id: sha256}``: every file the decision covers, as
    the reviewer saw it — a decision never applies to other bytes), reviewer, decided_at (UTC
    ISO with milliseconds), focus_ms (time the reviewer spent on the asset or master in the page,
    measured in the browser), manifest_sha256, who (user@host of the review server),
    prev_hash, hash.

``review_deliveries`` — one row per ``assetkit deliver``:
    id, campaign, target (folder or zip), assets (JSON ``{asset id: sha256}`` delivered), files,
    bytes, index_sha256, allow_pending, who, delivered_at, prev_hash, hash.

Tamper evidence: every row's ``hash`` is the sha256 of the previous row's hash (``''`` for the
first) and the row's own fields as canonical JSON; :func:`verify_chain` recomputes the chain, so
an edited, deleted or inserted row is found even when the triggers were dropped.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AssetkitError

ACTIONS = ("approve", "reject", "change")
SCOPES = ("asset", "master")

DECISION_FIELDS = ("campaign", "scope", "target", "concept", "variant", "locale", "format", "action", "comment",
                   "assets", "reviewer", "decided_at", "focus_ms", "manifest_sha256", "who")
DELIVERY_FIELDS = ("campaign", "target", "assets", "files", "bytes", "index_sha256", "allow_pending", "who",
                   "delivered_at")

_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t}
BEGIN SELECT RAISE(ABORT, 'the assetkit ledger is append-only: {t} cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS {t}_no_delete BEFORE DELETE ON {t}
BEGIN SELECT RAISE(ABORT, 'the assetkit ledger is append-only: {t} cannot be deleted'); END;
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS review_decisions (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope = 'asset' OR scope = 'master'),
    target TEXT NOT NULL,
    concept TEXT NOT NULL,
    variant INTEGER NOT NULL,
    locale TEXT,
    format TEXT,
    action TEXT NOT NULL CHECK (action = 'approve' OR action = 'reject' OR action = 'change'),
    comment TEXT,
    assets TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    focus_ms INTEGER NOT NULL CHECK (focus_ms >= 0),
    manifest_sha256 TEXT,
    who TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
) STRICT;
CREATE INDEX IF NOT EXISTS review_decisions_campaign ON review_decisions (campaign, id);
CREATE TABLE IF NOT EXISTS review_deliveries (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    target TEXT NOT NULL,
    assets TEXT NOT NULL,
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    index_sha256 TEXT NOT NULL,
    allow_pending INTEGER NOT NULL CHECK (allow_pending = 0 OR allow_pending = 1),
    who TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
) STRICT;
""" + _TRIGGERS.format(t="review_decisions") + _TRIGGERS.format(t="review_deliveries")


class ReviewStoreError(AssetkitError):
    exit_code = 2


def row_hash(prev_hash: str, fields: tuple[str, ...], row: dict[str, Any]) -> str:
    """sha256 over the previous hash and the row's fields (canonical JSON): one chain link."""
    body = json.dumps([prev_hash] + [[k, row.get(k)] for k in fields], ensure_ascii=False,
                      separators=(",", ":"), sort_keys=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def now_iso_ms() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Decision:
    id: int
    campaign: str
    scope: str
    target: str
    concept: str
    variant: int
    locale: str | None
    format: str | None
    action: str
    comment: str | None
    assets: dict[str, str]
    reviewer: str
    decided_at: str
    focus_ms: int
    manifest_sha256: str | None
    who: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Decision:
        d = {k: row[k] for k in ("id",) + DECISION_FIELDS}
        d["assets"] = json.loads(d["assets"])
        return cls(**d)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("id",) + DECISION_FIELDS}


@dataclass(frozen=True)
class Delivery:
    id: int
    campaign: str
    target: str
    assets: dict[str, str]
    files: int
    bytes: int
    index_sha256: str
    allow_pending: bool
    who: str
    delivered_at: str


def _append(conn: sqlite3.Connection, table: str, fields: tuple[str, ...], row: dict[str, Any]) -> int:
    """Insert one chained row; the caller holds a BEGIN IMMEDIATE transaction (chain order = id order)."""
    last = conn.execute(f"SELECT hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
    prev = last[0] if last else ""
    values = dict(row, prev_hash=prev, hash=row_hash(prev, fields, row))
    cols = list(fields) + ["prev_hash", "hash"]
    cur = conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                       [values[c] for c in cols])
    return int(cur.lastrowid or 0)


class ReviewStore:
    """Decisions and deliveries in the ledger file at ``path`` (created with the ledger's schema)."""

    def __init__(self, path: str | Path | None = None, create: bool = True):
        from ..ledger import Ledger

        self.ledger = Ledger(path, create=create)
        self.conn = self.ledger.conn
        self.name = self.ledger.name
        with self.ledger.transaction() as conn:
            for stmt in _statements(SCHEMA):
                conn.execute(stmt)

    def close(self) -> None:
        self.ledger.close()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # .. writing ...............................................................................
    def add_decision(self, row: dict[str, Any], check=None) -> Decision:
        """Append a decision. ``check(conn)`` runs inside the write transaction first (the stale
        test), so nothing is written when it raises."""
        row = dict(row)
        row["assets"] = json.dumps(row["assets"], sort_keys=True, separators=(",", ":"))
        row.setdefault("decided_at", now_iso_ms())
        with self.ledger.transaction() as conn:
            if check is not None:
                check(conn)
            new_id = _append(conn, "review_decisions", DECISION_FIELDS, row)
        got = self.conn.execute("SELECT * FROM review_decisions WHERE id = ?", (new_id,)).fetchone()
        return Decision.from_row(got)

    def add_delivery(self, row: dict[str, Any]) -> int:
        row = dict(row)
        row["assets"] = json.dumps(row["assets"], sort_keys=True, separators=(",", ":"))
        row["allow_pending"] = int(bool(row["allow_pending"]))
        row.setdefault("delivered_at", now_iso_ms())
        with self.ledger.transaction() as conn:
            return _append(conn, "review_deliveries", DELIVERY_FIELDS, row)

    # .. reading ...............................................................................
    def decisions(self, campaign: str | None = None, after_id: int = 0) -> list[Decision]:
        sql = "SELECT * FROM review_decisions WHERE id > ?"
        args: list[Any] = [after_id]
        if campaign is not None:
            sql += " AND campaign = ?"
            args.append(campaign)
        return [Decision.from_row(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def deliveries(self, campaign: str | None = None) -> list[Delivery]:
        sql = "SELECT * FROM review_deliveries" + (" WHERE campaign = ?" if campaign else "") + " ORDER BY id"
        out = []
        for r in self.conn.execute(sql, (campaign,) if campaign else ()):
            d = {k: r[k] for k in ("id",) + DELIVERY_FIELDS}
            d["assets"] = json.loads(d["assets"])
            d["allow_pending"] = bool(d["allow_pending"])
            out.append(Delivery(**d))
        return out

    def verify(self) -> list[str]:
        return verify_chain(self.conn)


def verify_chain(conn: sqlite3.Connection) -> list[str]:
    """Recompute both tables' hash chains; one message per broken link (empty list: intact)."""
    problems = []
    for table, fields in (("review_decisions", DECISION_FIELDS), ("review_deliveries", DELIVERY_FIELDS)):
        try:
            rows = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        except sqlite3.OperationalError:
            continue
        prev = ""
        for r in rows:
            row = {k: r[k] for k in fields}
            if r["prev_hash"] != prev:
                problems.append(f"{table} row {r['id']}: previous hash does not match (a row was removed or "
                                "inserted before it)")
            if row_hash(r["prev_hash"], fields, row) != r["hash"]:
                problems.append(f"{table} row {r['id']}: contents do not match its hash (the row was changed)")
            prev = r["hash"]
    return problems


def _statements(script: str) -> Iterator[str]:
    buf: list[str] = []
    for line in script.strip().splitlines():
        buf.append(line)
        joined = "\n".join(buf)
        if line.rstrip().endswith(";") and sqlite3.complete_statement(joined):
            yield joined
            buf = []
