"""Review decisions and deliveries, kept in the savings ledger's SQLite file.

The tables are the ledger's (schema 6, see :mod:`assetkit.ledger.schema`): ``decisions`` (one
row per decision; the latest covering an asset wins; each lists the sha256 of every file it is
about) and ``deliveries`` (one row per ``assetkit deliver``). Both are append-only (triggers
abort UPDATE and DELETE) and every row is a link of the ledger's sha256 hash chain
(:mod:`assetkit.ledger.chain`), exactly like entries: ``assetkit ledger verify`` finds an edited,
deleted or inserted decision.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AssetkitError
from ..ledger import chain
from ..ledger.schema import DECISION_COLUMNS, DELIVERY_COLUMNS

ACTIONS = ("approve", "reject", "change")
SCOPES = ("asset", "master")
DECISION_FIELDS = DECISION_COLUMNS
DELIVERY_FIELDS = DELIVERY_COLUMNS


class ReviewStoreError(AssetkitError):
    exit_code = 2


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
    """Insert one row and chain it; the caller holds the BEGIN IMMEDIATE transaction."""
    after = chain.last_rowid(conn, table)
    cur = conn.execute(f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({', '.join('?' * len(fields))})",
                       [row.get(c) for c in fields])
    chain.link(conn, table, after)
    return int(cur.lastrowid or 0)


class ReviewStore:
    """Decisions and deliveries in the ledger file at ``path`` (created with the ledger's schema)."""

    def __init__(self, path: str | Path | None = None, create: bool = True):
        from ..ledger import Ledger

        self.ledger = Ledger(path, create=create)  # migrates an older ledger to schema 6
        self.conn = self.ledger.conn
        self.name = self.ledger.name

    def close(self) -> None:
        self.ledger.close()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # .. writing ...............................................................................
    def add_decision(self, row: dict[str, Any], check=None, members=None, settings=None) -> Decision:
        """Append a decision. ``check(conn)`` runs inside the write transaction first (the stale
        test), so nothing is written when it raises. ``members`` (asset id, campaign, locale,
        format, concept, variant): the decision's assets, whose ledger entries it corrects in the
        same transaction (recorded review time, rejections; :meth:`Ledger.book_decision`)."""
        row = dict(row)
        row["assets"] = json.dumps(row["assets"], sort_keys=True, separators=(",", ":"))
        row.setdefault("decided_at", now_iso_ms())
        with self.ledger.transaction() as conn:
            if check is not None:
                check(conn)
            new_id = _append(conn, "decisions", DECISION_FIELDS, row)
            if members:
                self.ledger.book_decision(new_id, row["action"], row["reviewer"], row["focus_ms"], members, settings)
        got = self.conn.execute("SELECT * FROM decisions WHERE id = ?", (new_id,)).fetchone()
        return Decision.from_row(got)

    def add_delivery(self, row: dict[str, Any]) -> int:
        row = dict(row)
        row["assets"] = json.dumps(row["assets"], sort_keys=True, separators=(",", ":"))
        row["allow_pending"] = int(bool(row["allow_pending"]))
        row.setdefault("delivered_at", now_iso_ms())
        with self.ledger.transaction() as conn:
            return _append(conn, "deliveries", DELIVERY_FIELDS, row)

    # .. reading ...............................................................................
    def decisions(self, campaign: str | None = None, after_id: int = 0) -> list[Decision]:
        sql = "SELECT * FROM decisions WHERE id > ?"
        args: list[Any] = [after_id]
        if campaign is not None:
            sql += " AND campaign = ?"
            args.append(campaign)
        return [Decision.from_row(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def deliveries(self, campaign: str | None = None) -> list[Delivery]:
        sql = "SELECT * FROM deliveries" + (" WHERE campaign = ?" if campaign else "") + " ORDER BY id"
        out = []
        for r in self.conn.execute(sql, (campaign,) if campaign else ()):
            d = {k: r[k] for k in ("id",) + DELIVERY_FIELDS}
            d["assets"] = json.loads(d["assets"])
            d["allow_pending"] = bool(d["allow_pending"])
            out.append(Delivery(**d))
        return out

    def verify(self):
        """The ledger's own verification (triggers, the whole hash chain, totals)."""
        return self.ledger.verify()
