"""What review means for the books: recorded review minutes and rejected assets, per deliverable.

The savings report calls :func:`review_rollup`: for a deliverable that was reviewed, the minutes
recorded in the browser replace the per-asset estimate, and a deliverable whose latest decision
is a rejection is not a deliverable. Deliverables are matched by :func:`catalog.asset_id` of
(campaign, locale, format, concept, variant), the same identity ledger entries carry.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from .catalog import asset_id, load_catalog
from .states import asset_states, status_counts
from .store import Decision


@dataclass
class ReviewRollup:
    """Recorded review time (milliseconds) and the latest action, per asset id."""

    focus_ms: dict[str, int] = field(default_factory=dict)
    latest_action: dict[str, str] = field(default_factory=dict)

    def minutes(self, campaign: str, locale: str, fmt: str, concept: str, variant: int) -> Decimal | None:
        """Recorded review minutes of one deliverable (None: never reviewed, keep the estimate)."""
        ms = self.focus_ms.get(asset_id(campaign, locale, fmt, concept, variant))
        return None if ms is None else (Decimal(ms) / Decimal(60_000)).quantize(Decimal("0.001"))

    def rejected(self, campaign: str, locale: str, fmt: str, concept: str, variant: int) -> bool:
        """True when the deliverable's latest decision rejects it (it is not a deliverable)."""
        return self.latest_action.get(asset_id(campaign, locale, fmt, concept, variant)) == "reject"

    @property
    def reviewed_assets(self) -> int:
        return len(self.focus_ms)

    @property
    def recorded_minutes(self) -> Decimal:
        return (Decimal(sum(self.focus_ms.values())) / Decimal(60_000)).quantize(Decimal("0.001"))

    @property
    def rejected_assets(self) -> int:
        return sum(1 for a in self.latest_action.values() if a == "reject")


def rollup_decisions(decisions: list[Decision]) -> ReviewRollup:
    """Every decision's focus time counts (a master's is split evenly over its assets, to the
    millisecond, remainder to the first); the latest decision per asset gives its action."""
    out = ReviewRollup()
    for d in sorted(decisions, key=lambda d: d.id):
        ids = sorted(d.assets)
        if not ids:
            continue
        share, rest = divmod(d.focus_ms, len(ids))
        for i, aid in enumerate(ids):
            out.focus_ms[aid] = out.focus_ms.get(aid, 0) + share + (rest if i == 0 else 0)
            out.latest_action[aid] = d.action
    return out


def review_rollup(conn: sqlite3.Connection, campaign: str | None = None) -> ReviewRollup:
    """The rollup of a ledger connection's decisions (empty when the ledger has none yet)."""
    from ..ledger import rollups

    return rollup_decisions([Decision.from_row(r) for r in rollups.review_decisions(conn, campaign)])


def campaign_status(folder: str | Path, ledger: str | Path | None = None) -> dict:
    """``assetkit status``: counts per state, per locale, per format and per locale × format."""
    from ..ledger import ledger_path
    from .store import ReviewStore

    cat = load_catalog(folder)
    decisions: list[Decision] = []
    if ledger_path(ledger).exists():
        with ReviewStore(ledger, create=False) as store:
            decisions = store.decisions(cat.campaign)
    return status_counts(cat, asset_states(cat, decisions))
