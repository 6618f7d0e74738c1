"""A full verify with a chain.Worker process: one snapshot for both, the first bad link over both ranges."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from test_ledger_integrity import _edit, booked, raw

from assetkit.ledger import Ledger, chain, store


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(chain, "WALK_BATCH", 3)


def uri(p: Path) -> str:
    return "file:" + quote(str(p.resolve())) + "?mode=ro"


def entry_seq(p: Path, entry_id: int) -> int:
    c = raw(p)
    seq = c.execute("SELECT seq FROM chain WHERE tbl = 'entries' AND row_id = ?", (entry_id,)).fetchone()[0]
    c.close()
    return seq


def max_entry(p: Path) -> int:
    c = raw(p)
    n = c.execute("SELECT MAX(id) FROM entries").fetchone()[0]
    c.close()
    return n


def walk_both(p: Path, lo: int):
    """chain.verify with a Worker walking links ``lo``… (the worker's result, or the ChainBreak)."""
    with Ledger(p, readonly=True) as lg:
        c = lg.conn
        c.execute("BEGIN")
        n = chain.head(c)[0]
        with chain.Worker(c, uri(p), lo, n, store._SNAPSHOT, (store.QUICK_CHECK,)) as w:
            try:
                links = chain.verify(c, worker=w)
            except chain.ChainBreak as brk:
                assert w.walked() is not None  # the worker's part counted
                return brk
            assert w.walked() is not None and w.walked()["count"] == n - lo + 1
            assert w.extra() == [[["ok"]]]
            return links


def walk_alone(p: Path):
    with Ledger(p, readonly=True) as lg:
        try:
            return chain.verify(lg.conn)
        except chain.ChainBreak as brk:
            return brk


def same(a, b) -> bool:
    if isinstance(a, chain.ChainBreak):
        return isinstance(b, chain.ChainBreak) and (a.table, a.row_id, a.problem) == (b.table, b.row_id, b.problem)
    return a == b


def test_worker_walks_the_later_links_on_the_same_snapshot(ledger_project):
    p = booked(ledger_project)
    n = walk_alone(p)
    assert n > 6
    for lo in (2, n // 2, n):
        assert walk_both(p, lo) == n


def test_a_worker_on_another_snapshot_is_not_used(ledger_project):
    """A commit between this connection's snapshot and the worker's (here: an entry edited with
    the triggers dropped and put back): the worker's part is walked here, on this snapshot."""
    p = booked(ledger_project)
    last_entry = max_entry(p)
    with Ledger(p, readonly=True) as lg:
        c = lg.conn
        c.execute("BEGIN")
        n = chain.head(c)[0]
        _edit(p, "entries", "UPDATE entries SET units = units + 1 WHERE id = ?", (last_entry,))
        with chain.Worker(c, uri(p), 2, n, store._SNAPSHOT, (store.QUICK_CHECK,)) as w:
            assert chain.verify(c, worker=w) == n  # this snapshot is the one before the edit
            assert w.walked() is None and w.extra() is None
        c.execute("COMMIT")
    brk = walk_alone(p)
    assert isinstance(brk, chain.ChainBreak) and brk.row_id == last_entry


def test_the_first_bad_link_of_both_ranges_is_named(ledger_project):
    p = booked(ledger_project)
    last_entry = max_entry(p)
    lo = entry_seq(p, last_entry - 1)
    backup = p.read_bytes()
    for bad in ([last_entry], [2, last_entry], [2]):  # the worker's range only, both, ours only
        p.write_bytes(backup)
        for suffix in ("-wal", "-shm"):
            Path(f"{p}{suffix}").unlink(missing_ok=True)
        for entry_id in bad:
            _edit(p, "entries", "UPDATE entries SET units = units + 1 WHERE id = ?", (entry_id,))
        alone, both = walk_alone(p), walk_both(p, lo)
        assert isinstance(both, chain.ChainBreak) and both.row_id == bad[0], bad
        assert same(alone, both), (alone, both)


def test_a_table_out_of_order_across_the_ranges_is_named(ledger_project):
    """Entries 1 and 2 swapped with their links' row ids (each hash matches its row), the worker's
    range starting at entry 2's link: the row order is joined across the ranges."""
    from test_ledger_integrity import swap_entries_1_and_2

    p = booked(ledger_project)
    swap_entries_1_and_2(p)
    alone = walk_alone(p)
    assert isinstance(alone, chain.ChainBreak) and "out of its table's order" in alone.problem
    for lo in (entry_seq(p, 2), entry_seq(p, 1), entry_seq(p, 1) + 1):
        assert same(alone, walk_both(p, lo)), lo


def test_an_intact_chain_never_needs_the_link_by_link_walk(ledger_project, monkeypatch):
    """Batches of every table mix (quotes, runs, entries; hashes with NUL bytes, a description with
    a newline and a NUL) pass the batched check itself; the slow walk is only for a batch with a problem."""
    from decimal import Decimal

    from assetkit.settings import load_settings

    p = booked(ledger_project)
    with Ledger(p) as lg:
        lg.add_manual("crm", "Banner\nset\x00 two lines", Decimal(900), Decimal(90), settings=load_settings())
    c = raw(p)
    for i in range(300):  # hashes are as random as their rows' ids and times: add rows until one holds a NUL
        if c.execute("SELECT COUNT(*) FROM chain WHERE instr(hash, x'00') > 0").fetchone()[0]:
            break
        with Ledger(p) as lg:
            lg.add_manual("crm", f"more {i}", Decimal(1), Decimal(1), settings=load_settings())
    assert c.execute("SELECT COUNT(*) FROM chain WHERE instr(hash, x'00') > 0").fetchone()[0] > 0
    assert c.execute("SELECT COUNT(*) FROM entries WHERE instr(description, char(10)) > 0").fetchone()[0] == 1
    c.close()

    def slow(*args):
        raise AssertionError("walked link by link")

    monkeypatch.setattr(chain, "_walk_slowly", slow)
    n = walk_alone(p)
    assert isinstance(n, int) and n > 6
    for lo in (2, n // 2):
        assert walk_both(p, lo) == n
