"""The review's library object: a campaign folder, its decisions, and the rules for a new one.

The web app and the CLI only call this: load the catalog (reloaded when the manifest changes),
compute every asset's state, validate and record a decision (refusing stale ones).
"""
from __future__ import annotations

import getpass
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AssetkitError
from .catalog import Catalog, load_catalog, looks_like_id
from .states import AssetState, asset_states
from .store import ACTIONS, Decision, ReviewStore

MAX_COMMENT = 2000
MAX_REVIEWER = 80
MAX_FOCUS_MS = 24 * 3600 * 1000
_SHA = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class DecisionRefused(AssetkitError):
    """A decision that cannot be recorded; ``status`` is the HTTP status the app answers with."""

    exit_code = 2

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def default_reviewer(explicit: str | None = None, settings=None) -> str:
    """``--reviewer``, else the settings' ``review.reviewer``, else the OS user."""
    if explicit:
        return explicit
    review = getattr(settings, "review", None)
    if review is not None and getattr(review, "reviewer", None):
        return str(review.reviewer)
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no passwd entry in some containers
        return "unknown"


def clean_text(value: Any, field: str, limit: int, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise DecisionRefused(400, f"{field}: required")
        return None
    if not isinstance(value, str):
        raise DecisionRefused(400, f"{field}: must be text")
    value = value.strip()
    if len(value) > limit:
        raise DecisionRefused(400, f"{field}: at most {limit} characters (got {len(value)})")
    if _CONTROL.search(value):
        raise DecisionRefused(400, f"{field}: control characters are not allowed")
    if required and not value:
        raise DecisionRefused(400, f"{field}: required")
    return value or None


@dataclass
class ReviewService:
    """One campaign under review, with the ledger file its decisions go to."""

    folder: Path
    ledger: Path | None = None
    reviewer: str = "unknown"
    settings: Any = None  # the rates a decision's ledger corrections use (assetkit.yaml when None)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self._cat_lock = threading.Lock()
        self._db_lock = threading.Lock()  # one connection, used from the server's worker threads
        self._catalog = load_catalog(self.folder)
        self._stamp = self._manifest_stamp()
        self.store = ReviewStore(self.ledger)
        if self.settings is None:
            from ..settings import load_settings

            self.settings = load_settings()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> ReviewService:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _manifest_stamp(self) -> tuple:
        st = (self.folder / "manifest.json").stat()
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    @property
    def catalog(self) -> Catalog:
        """The campaign as its manifest says now (a re-run while the review is open is picked up)."""
        with self._cat_lock:
            try:
                stamp = self._manifest_stamp()
            except OSError:
                return self._catalog
            if stamp != self._stamp:
                try:
                    self._catalog = load_catalog(self.folder)
                    self._stamp = stamp
                except AssetkitError:
                    pass  # a manifest being rewritten: keep the last good one
            return self._catalog

    def decisions(self) -> list[Decision]:
        campaign = self.catalog.campaign
        with self._db_lock:
            return self.store.decisions(campaign)

    def states(self) -> dict[str, AssetState]:
        return asset_states(self.catalog, self.decisions())

    def decide(self, body: Any) -> tuple[Decision, dict[str, AssetState]]:
        """Validate and record one decision; DecisionRefused (nothing written) when it cannot be."""
        if not isinstance(body, dict):
            raise DecisionRefused(400, "the request body must be a JSON object")
        unknown = sorted(set(body) - {"scope", "id", "action", "comment", "sha256", "assets", "focus_ms",
                                      "reviewer"})
        if unknown:
            raise DecisionRefused(400, f"unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
        scope = body.get("scope", "asset")
        if scope not in ("asset", "master"):
            raise DecisionRefused(400, f"scope: must be 'asset' or 'master', got {scope!r}")
        action = body.get("action")
        if action not in ACTIONS:
            raise DecisionRefused(400, f"action: must be one of {', '.join(ACTIONS)}, got {action!r}")
        comment = clean_text(body.get("comment"), "comment", MAX_COMMENT, required=action == "change")
        reviewer = clean_text(body.get("reviewer"), "reviewer", MAX_REVIEWER) or self.reviewer
        focus = body.get("focus_ms", 0)
        if isinstance(focus, bool) or not isinstance(focus, (int, float)) or not 0 <= focus <= MAX_FOCUS_MS:
            raise DecisionRefused(400, f"focus_ms: a number of milliseconds from 0 to {MAX_FOCUS_MS}")
        ident = body.get("id")
        if not isinstance(ident, str) or not looks_like_id(ident):
            raise DecisionRefused(400, f"id: not an asset or master id: {str(ident)[:80]!r}")
        cat = self.catalog
        if scope == "asset":
            asset = cat.asset(ident)
            if asset is None:
                raise DecisionRefused(404, f"unknown asset id {ident} (not in campaign {cat.campaign})")
            seen = body.get("sha256")
            if not isinstance(seen, str) or not _SHA.match(seen):
                raise DecisionRefused(400, "sha256: the 64-hex sha256 of the file as the page showed it")
            members = {ident: seen}
            master = cat.masters[asset.master]
            where = {"concept": asset.concept, "variant": asset.variant, "locale": asset.locale,
                     "format": asset.format}
        else:
            m = cat.masters.get(ident)
            if m is None:
                raise DecisionRefused(404, f"unknown master id {ident} (not in campaign {cat.campaign})")
            seen_map = body.get("assets")
            if not isinstance(seen_map, dict) or not all(
                    isinstance(v, str) and _SHA.match(v) for v in seen_map.values()):
                raise DecisionRefused(400, "assets: an object {asset id: sha256} of the master's files as shown")
            if set(seen_map) != set(m.assets):
                raise DecisionRefused(409, f"{m.concept} v{m.variant}: its assets changed since the page loaded "
                                      "(reload the page)")
            members = {aid: seen_map[aid] for aid in m.assets}
            master = m
            where = {"concept": m.concept, "variant": m.variant, "locale": None, "format": None}
        stale = []
        for aid, sha in members.items():
            now = cat.current_sha256(cat.assets[aid])
            if now != sha:
                stale.append(f"{cat.assets[aid].label} (sha256 {sha[:12]}… shown, "
                             f"{now[:12] + '…' if now else 'file missing'} now)")
        if stale:
            raise DecisionRefused(409, "stale: the file changed since the page loaded, nothing was recorded: "
                                  + "; ".join(stale) + " — reload the page to review the new version")
        from ..ledger import who

        row = {"campaign": cat.campaign, "scope": scope, "target": ident, **where, "action": action,
               "comment": comment, "assets": members, "reviewer": reviewer, "focus_ms": int(focus),
               "manifest_sha256": cat.manifest_sha256, "who": who()}
        books = [(aid, cat.campaign, cat.assets[aid].locale, cat.assets[aid].format, cat.assets[aid].concept,
                  cat.assets[aid].variant) for aid in members]
        with self._db_lock:
            decision = self.store.add_decision(row, members=books, settings=self.settings)
        states = asset_states(cat, self.decisions())
        return decision, {aid: states[aid] for aid in master.assets}
