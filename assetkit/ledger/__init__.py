"""The savings ledger: what every run saved against the agency quote, in one SQLite file.

A package of nouns: :mod:`.schema` (tables, triggers, migrations), :mod:`.store` (finding and
opening the file, identity, locking, transactions), :mod:`.pricing` (a run's deliverables
against the rate cards), :mod:`.records` (the :class:`Ledger`: entries, runs and quotes read
and appended), :mod:`.rollups` (sums: the only SQL the report reads through) and :mod:`.demo`.
The schema's columns are described in :mod:`assetkit.ledger.schema`.
"""
from .demo import seed_demo
from .records import Entry, Ledger, RunRecord, StoredQuote, check_ready, find_manifests, reconcile, record_run
from .schema import (
                     APPLICATION_ID,
                     CATEGORIES,
                     ENTRY_COLUMNS,
                     KINDS,
                     MIGRATIONS,
                     SCHEMA_V1,
                     SCHEMA_V2,
                     SCHEMA_V3,
                     SCHEMA_VERSION,
                     TOTALS_DIMENSIONS,
)
from .store import DEFAULT_LEDGER, LEDGER_ENV, LedgerError, ledger_path, utc_iso, who

__all__ = ["APPLICATION_ID", "CATEGORIES", "DEFAULT_LEDGER", "ENTRY_COLUMNS", "KINDS", "LEDGER_ENV", "MIGRATIONS",
           "SCHEMA_V1", "SCHEMA_V2", "SCHEMA_V3", "SCHEMA_VERSION", "TOTALS_DIMENSIONS", "Entry", "Ledger",
           "LedgerError", "RunRecord", "StoredQuote", "check_ready", "find_manifests", "ledger_path", "reconcile",
           "record_run", "seed_demo",
           "utc_iso", "who"]
