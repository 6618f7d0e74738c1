"""Where every asset stands: the latest decision that covers it, checked against its bytes now.

A decision covers the files it lists with their sha256 (a master decision lists every format and
locale of the master). For each asset the latest covering decision wins, so a master approval
followed by one asset's rejection leaves the others approved and that one rejected. A decision
about other bytes than the file has now no longer applies: an approved asset whose file changed
is *changed since approval* (pending again); a rejected or change-requested one whose file
changed is pending (a new version to look at).
"""
from __future__ import annotations

from dataclasses import dataclass

from .catalog import Catalog, ReviewAsset
from .store import Decision

STATES = ("approved", "rejected", "changes", "pending", "changed")
STATE_LABELS = {"approved": "approved", "rejected": "rejected", "changes": "changes requested",
                "pending": "pending", "changed": "changed since approval"}
#: The states that block a delivery (refused without --allow-pending).
OPEN_STATES = ("pending", "changed", "changes")
_ACTION_STATE = {"approve": "approved", "reject": "rejected", "change": "changes"}


@dataclass(frozen=True)
class AssetState:
    """An asset's status now and the decision it comes from (None: never decided)."""

    asset: ReviewAsset
    state: str
    sha256: str | None  # the file's sha256 now (None: missing)
    decision: Decision | None

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    def to_dict(self) -> dict:
        d = self.decision
        return {"id": self.asset.id, "state": self.state, "sha256": self.sha256,
                "decision": None if d is None else {
                    "id": d.id, "action": d.action, "scope": d.scope, "reviewer": d.reviewer,
                    "decided_at": d.decided_at, "comment": d.comment}}


def latest_decisions(decisions: list[Decision]) -> dict[str, tuple[Decision, str]]:
    """asset id → (the latest decision covering it, the sha256 it was made about)."""
    latest: dict[str, tuple[Decision, str]] = {}
    for d in sorted(decisions, key=lambda d: d.id):
        for aid, sha in d.assets.items():
            latest[aid] = (d, sha)
    return latest


def asset_states(catalog: Catalog, decisions: list[Decision]) -> dict[str, AssetState]:
    """Every asset of the catalog with its status now (files are hashed: the truth is on disk)."""
    latest = latest_decisions([d for d in decisions if d.campaign == catalog.campaign])
    out = {}
    for aid, asset in catalog.assets.items():
        sha = catalog.current_sha256(asset)
        hit = latest.get(aid)
        if hit is None:
            out[aid] = AssetState(asset, "pending", sha, None)
            continue
        decision, seen = hit
        if sha is None or seen != sha:
            out[aid] = AssetState(asset, "changed" if decision.action == "approve" else "pending", sha, decision)
        else:
            out[aid] = AssetState(asset, _ACTION_STATE[decision.action], sha, decision)
    return out


def status_counts(catalog: Catalog, states: dict[str, AssetState]) -> dict:
    """Counts per state: in total, per locale, per format, and per locale × format."""
    def zero() -> dict[str, int]:
        return {s: 0 for s in STATES}

    total = zero()
    per_locale = {loc: zero() for loc in catalog.locales}
    per_format = {f: zero() for f in catalog.formats}
    per_cell: dict[str, dict[str, dict[str, int]]] = {loc: {} for loc in catalog.locales}
    for st in states.values():
        a = st.asset
        total[st.state] += 1
        per_locale.setdefault(a.locale, zero())[st.state] += 1
        per_format.setdefault(a.format, zero())[st.state] += 1
        per_cell.setdefault(a.locale, {}).setdefault(a.format, zero())[st.state] += 1
    return {"campaign": catalog.campaign, "assets": len(states), "total": total, "per_locale": per_locale,
            "per_format": per_format, "per_locale_format": per_cell}
