"""Pricing a run's deliverables against the imported rate cards (pure: no SQL here)."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..money import from_micros
from ..yamlfile import display_path
from .schema import _ENTRY_DEFAULTS, ENTRY_COLUMNS
from .store import utc_iso, who

if TYPE_CHECKING:
    from .records import StoredQuote


def _micros_of(amount: Decimal) -> int:
    from ..money import to_micros

    return to_micros(amount)


def _split(total: int, n: int) -> list[int]:
    """Split integer micros into n parts that add up exactly (remainder on the first parts)."""
    base, rem = divmod(total, n)
    return [base + (1 if i < rem else 0) for i in range(n)]


def _copy_words(copy: dict | None) -> int:
    return sum(len(str(v or "").split()) for v in (copy or {}).values())



def _price_run(manifest: dict, manifest_path, settings, brief, stored: list[StoredQuote],
               has_key) -> tuple[dict, list[tuple[dict | None, list[dict]]]]:
    """(runs row, entry batches) for one manifest. Pure apart from ``has_key`` (dedup lookup).

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
    named = manifest.get("quote") or (getattr(brief, "quote", None) if brief is not None else None)
    common = dict(run_id=manifest["run_id"], campaign=campaign, brand=brand, occurred_at=finished,
                  month=finished[:7], currency=cur,
                  manifest_path=display_path(manifest_path) if manifest_path else None,
                  brief_sha256=manifest.get("brief_sha256"), who=me, recorded_at=now)

    quote_reason = None
    if named:
        candidates = [s for s in stored if s.quote_id == named]
        if not candidates:
            quote_reason = f"quote {named!r} named by the brief is not in the ledger (assetkit quotes import FILE)"
    else:
        candidates = [s for s in stored if s.quote.valid_on(day)]
        if not candidates:
            quote_reason = (f"no imported quote is valid on {day.isoformat()} (assetkit quotes list; "
                            "assetkit quotes import FILE)")

    def choose(fmt, fclass, locale, words: bool):
        """Best (stored quote, [lines]) for one deliverable, or (None, [])."""
        best, best_key = (None, []), None
        for s in candidates:
            by_service: dict[str, Any] = {}
            for line in s.quote.lines:
                if (line.unit == "per_word") != words:
                    continue
                ok = (line.match.locales is None or locale in line.match.locales) if words else \
                    line.match.matches(fmt, fclass, locale)
                if not ok:
                    continue
                prev = by_service.get(line.service_key)
                if prev is None or line.match.specificity > prev.match.specificity:
                    by_service[line.service_key] = line
            if not by_service:
                continue
            key = (max(l.match.specificity for l in by_service.values()), s.quote.valid_from, s.quote_id)
            if best_key is None or key > best_key:
                best, best_key = (s, list(by_service.values())), key
        return best

    def convert(source_micros: int, s: StoredQuote) -> tuple[int | None, str | None, str | None]:
        try:
            rate = fx.rate(s.currency, cur, day)
        except FxError as exc:
            return None, None, str(exc)
        return _micros_of(from_micros(source_micros) * rate), (str(rate) if s.currency != cur else None), None

    assets = manifest.get("assets") or []
    new = [a for a in assets if not a.get("cached")]
    rows: list[dict] = []
    # Asset entries: the run's values once, every other column in each row (complete rows take
    # the insert's fast path; see Ledger._insert_entries).
    asset_shared = dict(common, kind="asset", device=manifest.get("device"), description=None, words=None,
                        deliverable_key=None, review_minutes_recorded=None, voids_entry_id=None, reason=None)
    asset_template = {c: _ENTRY_DEFAULTS.get(c) for c in ENTRY_COLUMNS if c not in asset_shared}
    missing: dict[str, int] = {}

    # assets: first choose lines, then share per_format / flat prices within the run
    chosen = [choose(a.get("format"), a.get("format_class"), a.get("locale"), False) for a in new]
    groups: dict[tuple, list[int]] = {}
    for i, (s, lines) in enumerate(chosen):
        for line in lines:
            if line.unit == "per_format":
                groups.setdefault((s.quote_id, line.id, new[i].get("format")), []).append(i)
            elif line.unit == "flat":
                groups.setdefault((s.quote_id, line.id), []).append(i)
    shares: dict[tuple, dict[int, tuple[int, float]]] = {}
    for key, members in groups.items():
        s = next(chosen[i][0] for i in members)
        line = next(l for l in s.quote.lines if l.id == key[1])
        parts = _split(_micros_of(line.unit_price), len(members))
        shares[key] = {i: (parts[j], float(line.hours_per_unit) / len(members)) for j, i in enumerate(members)}

    run_secs = float(manifest.get("compute_seconds") or 0)
    device = manifest.get("device")
    compute_rate = settings.compute.per_hour(device)
    internal = settings.internal_hourly_rate
    asset_secs = 0.0
    for i, a in enumerate(new):
        s, lines = chosen[i]
        fclass = a.get("format_class") or "social"
        secs = float(a.get("compute_seconds") or 0)
        asset_secs += secs
        minutes = settings.human_minutes.for_class(fclass).total
        row = dict(asset_template, locale=a.get("locale"), format=a.get("format"), format_class=fclass,
                   concept=a.get("concept"), variant=a.get("variant"), asset_path=a.get("path"), units=1,
                   compute_seconds=secs,
                   actual_compute_micros=_micros_of(Decimal(str(secs)) / 3600 * compute_rate),
                   actual_human_micros=_micros_of(minutes / 60 * internal),
                   actual_tool_micros=_micros_of(settings.tool_cost_per_asset),
                   human_minutes_estimated=float(minutes), actual_hours=float(minutes) / 60)
        if s is None:
            row.update(category="social" if fclass == "social" else "production", no_baseline=1,
                       no_baseline_reason=quote_reason or f"no quote line matches format {a.get('format')} "
                                                          f"({fclass}), locale {a.get('locale')}")
            missing[f"{a.get('format')} ({fclass})"] = missing.get(f"{a.get('format')} ({fclass})", 0) + 1
        else:
            src, hours, days = 0, 0.0, 0.0
            for line in lines:
                if line.unit == "per_asset":
                    src += _micros_of(line.unit_price)
                    hours += float(line.hours_per_unit)
                elif line.unit == "per_hour":
                    src += _micros_of(line.unit_price * line.hours_per_unit)
                    hours += float(line.hours_per_unit)
                else:
                    key = (s.quote_id, line.id, a.get("format")) if line.unit == "per_format" else (s.quote_id, line.id)
                    m, h = shares[key][i]
                    src += m
                    hours += h
                days = max(days, float(line.turnaround_days))
            baseline, fx_rate, err = convert(src, s)
            main = max(lines, key=lambda l: (l.unit in ("per_asset", "per_hour"), l.match.specificity))
            row.update(category=s.quote.line_category(main), quote_id=s.quote_id, quote_version=s.version,
                       quote_lines=",".join(l.id for l in lines), baseline_currency=s.currency,
                       baseline_source_micros=src, baseline_hours=hours, baseline_days=days)
            if err:
                row.update(no_baseline=1, no_baseline_reason=err)
                missing[f"{a.get('format')} (FX)"] = missing.get(f"{a.get('format')} (FX)", 0) + 1
            else:
                row.update(baseline_micros=baseline, fx_rate=fx_rate)
        rows.append(row)

    n_assets = len(rows)
    overhead = run_secs - asset_secs
    if new and overhead > 0.0005:
        rows.append(dict(common, kind="overhead", category="production", units=0, compute_seconds=overhead,
                         device=device, description="run compute not attributable to one asset (model load, setup)",
                         actual_compute_micros=_micros_of(Decimal(str(overhead)) / 3600 * compute_rate)))

    # translation: once per campaign, locale and copy text
    copies = manifest.get("copy") or {}
    source = manifest.get("source_locale") or (brief.source if brief is not None else None) or next(iter(copies), None)
    new_locales = {a.get("locale") for a in new}
    for locale, copy in copies.items():
        if locale == source or locale not in new_locales:
            continue
        text = json.dumps({"campaign": campaign, "locale": locale, "copy": copy}, sort_keys=True)
        key = "translation:" + hashlib.sha256(text.encode()).hexdigest()
        if has_key(key):
            continue
        words = brief.copy[locale].words() if brief is not None and locale in getattr(brief, "copy", {}) \
            else _copy_words(copy)
        minutes = settings.human_minutes.translation_review_per_locale
        row = dict(common, kind="translation", category="translation", locale=locale, deliverable_key=key,
                   units=1, words=words, description=f"copy {source} → {locale}, {words} words",
                   actual_human_micros=_micros_of(minutes / 60 * internal),
                   human_minutes_estimated=float(minutes), actual_hours=float(minutes) / 60)
        s, lines = choose(None, None, locale, True)
        if s is None:
            row.update(no_baseline=1, no_baseline_reason=quote_reason or f"no per_word quote line matches locale {locale}")
            missing[f"translation {locale}"] = 1
        else:
            src = sum(_micros_of(max(l.unit_price * words, l.minimum)) for l in lines)
            baseline, fx_rate, err = convert(src, s)
            row.update(category=s.quote.line_category(lines[0]), quote_id=s.quote_id, quote_version=s.version,
                       quote_lines=",".join(l.id for l in lines), baseline_currency=s.currency,
                       baseline_source_micros=src, baseline_hours=sum(float(l.hours_per_unit) * words for l in lines),
                       baseline_days=max(float(l.turnaround_days) for l in lines))
            if err:
                row.update(no_baseline=1, no_baseline_reason=err)
                missing[f"translation {locale} (FX)"] = 1
            else:
                row.update(baseline_micros=baseline, fx_rate=fx_rate)
        rows.append(row)

    deliverables = [r for r in rows if r["units"]]
    n_missing = sum(1 for r in deliverables if r.get("no_baseline"))
    reason = None
    if n_missing:
        detail = quote_reason or "; ".join(f"{k} ×{v}" if v > 1 else k for k, v in sorted(missing.items()))
        if not quote_reason:
            fx_errors = sorted({r["no_baseline_reason"] for r in deliverables
                                if r.get("no_baseline") and "rate" in (r["no_baseline_reason"] or "")})
            if fx_errors:
                detail += " — " + "; ".join(fx_errors)
        reason = f"{n_missing} of {len(deliverables)} new deliverables have no agency baseline: {detail}"
    settings_sha = None
    if getattr(settings, "path", None):
        try:
            settings_sha = hashlib.sha256(Path(settings.path).read_bytes()).hexdigest()
        except OSError:
            pass
    days = [r.get("baseline_days") for r in rows if r.get("baseline_days") is not None]
    run_row = dict(
        run_id=manifest["run_id"], campaign=campaign, brand=brand, brand_slug=manifest.get("brand_slug"),
        pipeline=manifest.get("pipeline"), generator=generator.get("name"), model=generator.get("model"),
        device=device, started_at=utc_iso(manifest["started_at"]) if manifest.get("started_at") else None,
        finished_at=finished, month=finished[:7], source_locale=source, quote_requested=named,
        quotes_used=",".join(sorted({r["quote_id"] for r in rows if r.get("quote_id")})) or None,
        assets_total=len(assets), assets_new=len(new), assets_cached=len(assets) - len(new),
        compute_seconds=run_secs or asset_secs, currency=cur,
        baseline_micros=sum(r.get("baseline_micros", 0) for r in rows),
        actual_micros=sum(r.get("actual_compute_micros", 0) + r.get("actual_human_micros", 0)
                          + r.get("actual_tool_micros", 0) for r in rows),
        baseline_hours=sum(r.get("baseline_hours", 0.0) for r in rows),
        actual_hours=sum(r.get("actual_hours", 0.0) for r in rows),
        baseline_days=max(days) if days else None, no_baseline=1 if n_missing else 0,
        no_baseline_reason=reason, manifest_path=common["manifest_path"],
        brief_path=manifest.get("brief"), brief_sha256=manifest.get("brief_sha256"),
        assetkit_version=manifest.get("assetkit_version"), settings_sha256=settings_sha, who=me, recorded_at=now)
    return run_row, [(asset_shared, rows[:n_assets]), (None, rows[n_assets:])]
