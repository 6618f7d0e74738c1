"""Pricing a run's deliverables against the imported rate cards (pure: no SQL here)."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..money import from_micros, split_exact
from ..yamlfile import display_path
from .schema import _ENTRY_DEFAULTS, ENTRY_COLUMNS
from .store import utc_iso, who
from .units import MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND, to_ms

if TYPE_CHECKING:
    from .records import StoredQuote


def _micros_of(amount: Decimal) -> int:
    from ..money import to_micros

    return to_micros(amount)


def _asset_ms(asset: dict) -> int:
    """An asset's compute in whole ms: the manifest's exact share (``compute_ms``) or, in a manifest
    written before it existed, its rounded seconds."""
    ms = asset.get("compute_ms")
    return ms if isinstance(ms, int) else to_ms(asset.get("compute_seconds") or 0, MS_PER_SECOND)


def _copy_words(copy: dict | None) -> int:
    return sum(len(str(v or "").split()) for k, v in (copy or {}).items() if k != "source")


#: Generators whose output is a layout proof, not a deliverable an agency would have made.
PROOF_GENERATORS = ("draft",)
#: Copy sources that make a translation saving (``agency``: the translation was bought).
SAVING_COPY_SOURCES = ("in-house", "machine")


class Booked(Protocol):
    """What the ledger already holds, for booking each deliverable once (records.Ledger's lookups)."""

    def identity(self, key: str) -> str | None:
        """The content hash of the live, baselined entry of a deliverable identity ('' if none
        was recorded); None when the identity was never booked."""

    def identities(self, keys: list[str]) -> dict[str, str]:
        """``identity`` of each of ``keys`` that was ever booked (the others are left out)."""

    def visual(self, campaign: str, concept: str | None, variant: int | None) -> bool:
        """Whether a concept's variant already has a booked deliverable (its master exists)."""

    def fee(self, campaign: str, quote_id: str, line_id: str, fmt: str | None) -> bool:
        """Whether a flat (fmt None) or per-format fee of a card line is booked for the campaign."""

    def has_key(self, key: str) -> bool:
        """Whether a live baselined entry carries ``deliverable_key`` (translations)."""


def identity_key(campaign: str, concept, variant, fmt, locale) -> str:
    """One deliverable to the agency: the same campaign, concept, variant, format and locale."""
    import hashlib

    text = json.dumps([campaign, concept, variant, fmt, locale], separators=(",", ":"))
    return "asset:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _once(fn: Callable, key: Callable) -> Callable:
    """``fn`` computed once per ``key(*args)`` (a cache for the length of one pricing)."""
    cache: dict = {}

    def call(*args):
        k = key(*args)
        if k not in cache:
            cache[k] = fn(*args)
        return cache[k]

    return call


def _applied(**kw) -> str:
    """What an entry was priced with, as canonical JSON (decimal text, no floats)."""
    return json.dumps({k: (str(v) if isinstance(v, Decimal) else v) for k, v in kw.items() if v is not None},
                      sort_keys=True, separators=(",", ":"))



def _price_run(manifest: dict, manifest_path, settings, brief, stored: list[StoredQuote],
               booked: Booked) -> tuple[dict, list[tuple[dict | None, list[dict]]]]:
    """(runs row, entry batches) for one manifest. Pure apart from ``booked`` (what the ledger holds).

    The method (printed in the report's methodology):

    * a run of a proof generator (``draft``) is recorded with its cost, every deliverable
      flagged as a proof without baseline: it is not counted as agency work;
    * a deliverable (campaign, concept, variant, format, locale) is booked once: a re-made
      identical output books nothing new (its compute goes to the run's overhead), a changed
      output is a ``revision`` (priced by the card's revision line, or not at all);
    * on a card with roles (``applies_to``), the first visual of a concept is the ``master``,
      the same visual in another format a ``resize``, in another locale a ``locale`` version, a
      later variant a ``variant``; flat and per-format fees are booked once per campaign;
    * translation is saved only for copy the brief marks ``source: in-house`` or ``machine``;
    * the quote must be valid on the run's day (a named quote too), else no baseline.

    A batch is ``(shared, rows)`` for ``Ledger._insert_entries``: the asset entries carry only their
    own values (every column except the run's ``shared`` ones), the others whole rows.
    """
    import hashlib

    from ..money import FxError

    cur = settings.currency
    fx = settings.fx_table
    finished = utc_iso(manifest.get("finished_at") or manifest.get("started_at"))
    day = dt.date.fromisoformat(finished[:10])
    now, me = utc_iso(), who()
    campaign, brand = manifest.get("campaign") or "", manifest.get("brand") or ""
    generator = manifest.get("generator") or {}
    proof = generator.get("name") in PROOF_GENERATORS
    named = manifest.get("quote") or (getattr(brief, "quote", None) if brief is not None else None)
    common = dict(run_id=manifest["run_id"], campaign=campaign, brand=brand, occurred_at=finished,
                  month=finished[:7], currency=cur,
                  manifest_path=display_path(manifest_path) if manifest_path else None,
                  brief_sha256=manifest.get("brief_sha256"), who=me, recorded_at=now)

    quote_reason: str | None = None
    if proof:
        quote_reason = (f"draft proof ({generator.get('name')} generator, no model): recorded, not counted as "
                        "agency work")
        candidates: list[StoredQuote] = []
    elif named:
        named_versions = [s for s in stored if s.quote_id == named]
        candidates = [s for s in named_versions if s.quote.valid_on(day)]
        if not named_versions:
            quote_reason = f"quote {named!r} named by the brief is not in the ledger (assetkit quotes import FILE)"
        elif not candidates:
            q = named_versions[-1]
            quote_reason = (f"no valid quote on {day.isoformat()}: {named!r} is valid {q.valid_from} to "
                            f"{q.valid_to}")
    else:
        candidates = [s for s in stored if s.quote.valid_on(day)]
        if not candidates:
            quote_reason = (f"no valid quote on {day.isoformat()} (assetkit quotes list; "
                            "assetkit quotes import FILE)")

    def choose(fmt, fclass, locale, words: bool, role: str | None = None):
        """Best (stored quote, [lines]) for one deliverable in ``role``, or (None, [])."""
        best: tuple[Any, list[Any]] = (None, [])
        best_key: tuple | None = None
        for s in candidates:
            roles = s.quote.has_roles
            if role == "revision" and not roles:
                continue  # a card without a revision line prices no revision
            by_service: dict[str, Any] = {}
            for line in s.quote.lines:
                if (line.unit == "per_word") != words:
                    continue
                if roles and role is not None and line.applies_to and role not in line.applies_to:
                    continue
                if role == "revision" and not line.applies_to:
                    continue  # only lines that name revisions price one
                ok = (line.match.locales is None or locale in line.match.locales) if words else \
                    line.match.matches(fmt, fclass, locale)
                if not ok:
                    continue
                prev = by_service.get(line.service_key)
                rank = (bool(line.applies_to), line.match.specificity)
                if prev is None or rank > (bool(prev.applies_to), prev.match.specificity):
                    by_service[line.service_key] = line
            if not by_service:
                continue
            key = (max(ql.match.specificity for ql in by_service.values()), s.quote.valid_from, s.quote_id)
            if best_key is None or key > best_key:
                best, best_key = (s, list(by_service.values())), key
        return best

    def convert(source_micros: int, s: StoredQuote) -> tuple[int | None, str | None, str | None]:
        try:
            rate = fx.rate(s.currency, cur, day)
        except FxError as exc:
            return None, None, str(exc)
        return _micros_of(from_micros(source_micros) * rate), (str(rate) if s.currency != cur else None), None

    def fx_note(s: StoredQuote) -> dict:
        if s.currency == cur:
            return {}
        dated = max((r.date for r in fx.rates if {r.base, r.quote} == {s.currency, cur} and r.date <= day),
                    default=None)
        return {"fx_pair": f"{s.currency}->{cur}", "fx_date": dated.isoformat() if dated else None,
                "fx_source": "assetkit.yaml fx"}

    assets = manifest.get("assets") or []
    new = [a for a in assets if not a.get("cached")]
    source_locale = manifest.get("source_locale") or (brief.source if brief is not None else None) \
        or next(iter(manifest.get("copy") or {}), None)
    rows: list[dict] = []
    # Asset entries: the run's values once, every other column in each row (complete rows take
    # the insert's fast path; see Ledger._insert_entries).
    asset_shared = dict(common, kind="asset", device=manifest.get("device"), words=None,
                        review_recorded_ms=None, voids_entry_id=None, reason=None)
    asset_template = {c: _ENTRY_DEFAULTS.get(c) for c in ENTRY_COLUMNS if c not in asset_shared}
    missing: dict[str, int] = {}

    # each new asset: its identity, whether it is new, a revision or a re-make, and its role
    remade_ms = 0
    priced: list[tuple[dict, str, str]] = []  # (asset, identity key, role)
    seen_visuals: set[tuple] = set()
    visual_booked: dict[tuple, bool] = {}
    keys = [identity_key(campaign, a.get("concept"), a.get("variant"), a.get("format"), a.get("locale")) for a in new]
    known = {} if proof else booked.identities(keys)  # one query per 500 assets, not one per asset
    for a, key in zip(new, keys):
        content = a.get("sha256") or ""
        prev = known.get(key)
        if prev is not None and (prev == content or not content or not prev):
            remade_ms += _asset_ms(a)  # already booked: its cost is overhead
            continue
        if prev is not None:
            role = "revision"
        else:
            vis = (a.get("concept"), a.get("variant"))
            if vis not in visual_booked:
                visual_booked[vis] = False if proof else booked.visual(campaign, *vis)
            if a.get("locale") not in (source_locale, None):
                role = "locale"
            elif visual_booked[vis] or vis in seen_visuals:
                role = "resize"
            else:
                role = "master" if (a.get("variant") or 1) == 1 else "variant"
            if a.get("locale") in (source_locale, None):
                seen_visuals.add(vis)
        priced.append((a, key, role))
    # a visual whose source-locale asset was not in this run: its first asset is the master
    for i, (a, key, role) in enumerate(priced):
        vis = (a.get("concept"), a.get("variant"))
        if role == "locale" and vis not in seen_visuals and not visual_booked.get(vis):
            priced[i] = (a, key, "master" if (a.get("variant") or 1) == 1 else "variant")
            seen_visuals.add(vis)

    # first choose lines, then share per_format / flat prices within the run (once per campaign)
    # choose, convert, fx_note, _applied and the fixed amounts are pure in their arguments, and a
    # big run has a few dozen distinct ones among 100k assets: each is worked out once (cached)
    pick = _once(choose, lambda *args: args)
    chosen = [pick(a.get("format"), a.get("format_class"), a.get("locale"), False, role) for a, _, role in priced]
    convert_once = _once(convert, lambda src, s: (src, id(s)))  # quotes are not hashable: by identity
    note_once = _once(fx_note, id)
    micros_once = _once(_micros_of, lambda amount: amount)
    applied_once = _once(lambda items: _applied(**dict(items)),  # 1 and 1.0 are one key, not one text: typed
                         lambda items: tuple((k, type(v), str(v)) for k, v in items))

    groups: dict[tuple, list[int]] = {}
    for i, (s, lines) in enumerate(chosen):
        for line in lines:
            if line.unit == "per_format":
                groups.setdefault((s.quote_id, line.id, priced[i][0].get("format")), []).append(i)
            elif line.unit == "flat":
                groups.setdefault((s.quote_id, line.id), []).append(i)
    shares: dict[tuple, dict[int, tuple[int, int]]] = {}
    for gkey, members in groups.items():
        s = next(chosen[i][0] for i in members)
        line = next(ql for ql in s.quote.lines if ql.id == gkey[1])
        if booked.fee(campaign, gkey[0], gkey[1], gkey[2] if len(gkey) > 2 else None):
            shares[gkey] = {i: (0, 0) for i in members}  # booked by an earlier run of the campaign
            continue
        parts = split_exact(_micros_of(line.unit_price), len(members))
        ms_parts = split_exact(to_ms(line.hours_per_unit, MS_PER_HOUR), len(members))
        shares[gkey] = {i: (parts[j], ms_parts[j]) for j, i in enumerate(members)}

    run_ms = manifest["compute_ms"] if isinstance(manifest.get("compute_ms"), int) \
        else to_ms(manifest.get("compute_seconds") or 0, MS_PER_SECOND)
    device = manifest.get("device")
    compute_rate = settings.compute.per_hour(device)
    internal = settings.internal_hourly_rate
    # the licence gate's exceptions (``allow_models:``): every asset of the run was made under them
    exceptions = [e for e in ((manifest.get("provenance") or {}).get("license_exceptions") or [])
                  if isinstance(e, dict)]
    licence_exception = "; ".join(f"{e.get('role', 'model')} {e.get('model')} (licence {e.get('license') or 'unknown'})"
                                  f": {e.get('reason')}" for e in exceptions) or None
    asset_ms = 0
    for i, (a, key, role) in enumerate(priced):
        s, lines = chosen[i]
        fclass = a.get("format_class") or "social"
        ms = _asset_ms(a)
        asset_ms += ms
        minutes = settings.human_minutes.for_class(fclass).total
        applied = dict(role=role, internal_hourly_rate=internal, compute_rate_per_hour=compute_rate,
                       hardware_rate_per_hour=settings.compute.hardware_per_hour or None,
                       human_minutes=minutes, generator=generator.get("name"), licence_exception=licence_exception)
        row = dict(asset_template, locale=a.get("locale"), format=a.get("format"), format_class=fclass,
                   concept=a.get("concept"), variant=a.get("variant"), asset_path=a.get("path"),
                   units=0 if role == "revision" else 1, deliverable_key=key, content_sha256=a.get("sha256"),
                   description=("revision of a delivered asset" if role == "revision" else None),
                   compute_ms=ms,
                   actual_compute_micros=_micros_of(Decimal(ms) / MS_PER_HOUR * compute_rate),
                   actual_human_micros=micros_once(minutes / 60 * internal),
                   actual_tool_micros=micros_once(settings.tool_cost_per_asset),
                   human_estimated_ms=to_ms(minutes, MS_PER_MINUTE), actual_ms=to_ms(minutes, MS_PER_MINUTE))
        if s is None:
            reason = quote_reason or ("the card prices no revision (no line applies_to: revision)"
                                      if role == "revision" else
                                      f"no quote line matches format {a.get('format')} ({fclass}), "
                                      f"locale {a.get('locale')}")
            row.update(category="social" if fclass == "social" else "production", no_baseline=1,
                       no_baseline_reason=reason, applied=applied_once(tuple(applied.items())))
            label = "draft proofs" if proof else f"{a.get('format')} ({fclass})"
            missing[label] = missing.get(label, 0) + 1
        else:
            src, hours, days = 0, 0, 0.0
            prices = []
            for line in lines:
                if line.unit == "per_asset":
                    src += micros_once(line.unit_price)
                    hours += to_ms(line.hours_per_unit, MS_PER_HOUR)
                elif line.unit == "per_hour":
                    src += micros_once(line.unit_price * line.hours_per_unit)
                    hours += to_ms(line.hours_per_unit, MS_PER_HOUR)
                else:
                    gk = (s.quote_id, line.id, a.get("format")) if line.unit == "per_format" else (s.quote_id, line.id)
                    m, h = shares[gk][i]
                    src += m
                    hours += h
                prices.append(f"{line.id}={line.unit_price}/{line.unit}")
                days = max(days, float(line.turnaround_days))
            baseline, fx_rate, err = convert_once(src, s)
            main = max(lines, key=lambda ql: (ql.unit in ("per_asset", "per_hour"), ql.match.specificity))
            applied.update(card=f"{s.quote_id} v{s.version}", lines=" ".join(prices), **note_once(s))
            row.update(category=s.quote.line_category(main), quote_id=s.quote_id, quote_version=s.version,
                       quote_lines=",".join(ql.id for ql in lines), baseline_currency=s.currency,
                       baseline_source_micros=src, baseline_ms=hours, baseline_days=days,
                       applied=applied_once(tuple(applied.items())))
            if err:
                row.update(no_baseline=1, no_baseline_reason=err)
                missing[f"{a.get('format')} (FX)"] = missing.get(f"{a.get('format')} (FX)", 0) + 1
            else:
                row.update(baseline_micros=baseline, fx_rate=fx_rate)
        rows.append(row)

    n_assets = len(rows)
    overhead = run_ms - asset_ms
    if new and overhead > 0:
        what = "run compute not attributable to one asset (model load, setup" + \
            (", re-made assets already booked)" if remade_ms else ")")
        rows.append(dict(common, kind="overhead", category="production", units=0, compute_ms=overhead,
                         device=device, description=what, no_baseline=1 if proof else 0,
                         no_baseline_reason=quote_reason if proof else None,
                         actual_compute_micros=_micros_of(Decimal(overhead) / MS_PER_HOUR * compute_rate),
                         applied=_applied(compute_rate_per_hour=compute_rate,
                                          hardware_rate_per_hour=settings.compute.hardware_per_hour or None)))

    # translation: once per campaign, locale and copy text, only for copy written in-house or by machine
    copies = manifest.get("copy") or {}
    source = source_locale
    new_locales = {r["locale"] for r in rows[:n_assets] if r["units"]}
    for locale, copy in copies.items():
        if locale == source or locale not in new_locales:
            continue
        copy_source = (copy or {}).get("source") or (
            brief.copy[locale].source if brief is not None and locale in getattr(brief, "copy", {}) else "agency")
        if copy_source not in SAVING_COPY_SOURCES:
            continue
        text = json.dumps({"campaign": campaign, "locale": locale,
                           "copy": {k: v for k, v in (copy or {}).items() if k != "source"}}, sort_keys=True)
        key = "translation:" + hashlib.sha256(text.encode()).hexdigest()
        if booked.has_key(key):
            continue
        words = brief.copy[locale].words() if brief is not None and locale in getattr(brief, "copy", {}) \
            else _copy_words(copy)
        minutes = settings.human_minutes.translation_review_per_locale
        applied = dict(role="translation", copy_source=copy_source, internal_hourly_rate=internal,
                       human_minutes=minutes, words=words)
        row = dict(common, kind="translation", category="translation", locale=locale, deliverable_key=key,
                   units=1, words=words, description=f"copy {source} → {locale} ({copy_source}), {words} words",
                   actual_human_micros=_micros_of(minutes / 60 * internal),
                   human_estimated_ms=to_ms(minutes, MS_PER_MINUTE), actual_ms=to_ms(minutes, MS_PER_MINUTE))
        s, lines = (None, []) if proof else choose(None, None, locale, True)
        if s is None:
            row.update(no_baseline=1, no_baseline_reason=quote_reason or f"no per_word quote line matches locale "
                                                                         f"{locale}", applied=_applied(**applied))
            missing[f"translation {locale}"] = 1
        else:
            src = sum(_micros_of(max(ql.unit_price * words, ql.minimum)) for ql in lines)
            baseline, fx_rate, err = convert(src, s)
            applied.update(card=f"{s.quote_id} v{s.version}", **fx_note(s),
                           lines=" ".join(f"{ql.id}={ql.unit_price}/word min {ql.minimum}" for ql in lines))
            row.update(category=s.quote.line_category(lines[0]), quote_id=s.quote_id, quote_version=s.version,
                       quote_lines=",".join(ql.id for ql in lines), baseline_currency=s.currency,
                       baseline_source_micros=src,
                       baseline_ms=sum(to_ms(ql.hours_per_unit * words, MS_PER_HOUR) for ql in lines),
                       baseline_days=max(float(ql.turnaround_days) for ql in lines), applied=_applied(**applied))
            if err:
                row.update(no_baseline=1, no_baseline_reason=err)
                missing[f"translation {locale} (FX)"] = 1
            else:
                row.update(baseline_micros=baseline, fx_rate=fx_rate)
        rows.append(row)

    # a run none of whose deliverables has a baseline is listed apart as a whole: its overhead too
    made = [r for r in rows if r["units"]]
    if made and all(r.get("no_baseline") for r in made):
        for r in rows:
            if r.get("kind") == "overhead" and not r.get("no_baseline"):
                r.update(no_baseline=1, no_baseline_reason=quote_reason or "no deliverable of this run has a baseline")

    # brief and copy writing: human time once per campaign, with its first run that books a baseline
    per_campaign = settings.human_minutes.per_campaign
    campaign_key = "campaign:" + hashlib.sha256(json.dumps(["brief+copy", campaign]).encode()).hexdigest()[:32]
    if (per_campaign.total > 0 and not proof and any(r.get("baseline_micros") for r in rows)
            and not booked.has_key(campaign_key)):
        minutes = per_campaign.total
        rows.append(dict(common, kind="overhead", category="production", units=0, deliverable_key=campaign_key,
                         description=f"brief and copy writing, once per campaign ({per_campaign.brief} + "
                                     f"{per_campaign.copy_writing} min)",
                         actual_human_micros=_micros_of(minutes / 60 * internal),
                         human_estimated_ms=to_ms(minutes, MS_PER_MINUTE), actual_ms=to_ms(minutes, MS_PER_MINUTE),
                         applied=_applied(internal_hourly_rate=internal, brief_copy_minutes=minutes)))

    deliverables = [r for r in rows if r["units"] or (r.get("description") or "").startswith("revision")]
    n_missing = sum(1 for r in deliverables if r.get("no_baseline"))
    run_reason = None
    if n_missing:
        detail = quote_reason or "; ".join(f"{k} ×{v}" if v > 1 else k for k, v in sorted(missing.items()))
        if not quote_reason:
            fx_errors = sorted({r["no_baseline_reason"] for r in deliverables
                                if r.get("no_baseline") and "rate" in (r["no_baseline_reason"] or "")})
            if fx_errors:
                detail += " — " + "; ".join(fx_errors)
        run_reason = f"{n_missing} of {len(deliverables)} new deliverables have no agency baseline: {detail}"
    settings_sha = None
    if getattr(settings, "path", None):
        with contextlib.suppress(OSError):
            settings_sha = hashlib.sha256(Path(settings.path).read_bytes()).hexdigest()
    run_days = [r["baseline_days"] for r in rows if r.get("baseline_days") is not None]
    run_row = dict(
        run_id=manifest["run_id"], campaign=campaign, brand=brand, brand_slug=manifest.get("brand_slug"),
        pipeline=manifest.get("pipeline"), generator=generator.get("name"), model=generator.get("model"),
        device=device, started_at=utc_iso(manifest["started_at"]) if manifest.get("started_at") else None,
        finished_at=finished, month=finished[:7], source_locale=source, quote_requested=named,
        quotes_used=",".join(sorted({r["quote_id"] for r in rows if r.get("quote_id")})) or None,
        assets_total=len(assets), assets_new=len(new), assets_cached=len(assets) - len(new),
        compute_ms=run_ms or asset_ms, currency=cur,
        baseline_micros=sum(r.get("baseline_micros", 0) for r in rows),
        actual_micros=sum(r.get("actual_compute_micros", 0) + r.get("actual_human_micros", 0)
                          + r.get("actual_tool_micros", 0) for r in rows),
        baseline_ms=sum(r.get("baseline_ms", 0) for r in rows),
        actual_ms=sum(r.get("actual_ms", 0) for r in rows),
        baseline_days=max(run_days) if run_days else None, no_baseline=1 if n_missing else 0,
        no_baseline_reason=run_reason, manifest_path=common["manifest_path"],
        brief_path=manifest.get("brief"), brief_sha256=manifest.get("brief_sha256"),
        assetkit_version=manifest.get("assetkit_version"), settings_sha256=settings_sha, who=me, recorded_at=now)
    return run_row, [(asset_shared, rows[:n_assets]), (None, rows[n_assets:])]
