"""The savings report's own words (English, German) and locale-aware number/date formatting.

Numbers, money and dates follow ``--locale`` through babel (``de-DE`` → ``1.234,56 €`` with a
no-break space); the report's sentences come from :data:`STRINGS` for the locale's language,
falling back to English.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import (
    format_compact_currency,
    format_currency,
    format_decimal,
    format_percent,
)

from ..errors import UsageError

#: What an absent figure prints as (no baseline, empty period): never "0 %" or "NaN".
DASH = "—"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Creative production savings",
        "subtitle": "In-house AI production measured against agency quotes",
        "period": "Period",
        "compare_period": "Compared with",
        "filters": "Filters",
        "brand": "Brand",
        "campaign": "Campaign",
        "all": "all",
        "all_time": "All time",
        "generated": "Generated",
        "as_of_label": "As of",
        "as_of": "entry #{entry} (recorded {at} UTC), ledger verified",
        "currency": "Currency",
        "headline": "Runs (AI generation and translation, excl. manual entries): {saving} saved against the rate card of {cards} for the same {n} deliverables ({pct} below the card), {hours} saved",
        "headline_over": "Runs (AI generation and translation, excl. manual entries): {saving} more than the rate card of {cards} for the same {n} deliverables ({pct} above the card), {hours} saved",
        "headline_cards": "{n} rate cards ({cards})",
        "headline_cards_none": "the recorded quotes",
        "headline_avoidance": "Cost avoidance: modelled against the card's prices, not measured agency spend.",
        "headline_manual_only": "No run in this period has a rate-card baseline — no saving from generation can be stated.",
        "headline_proofs": "{n} draft proofs (layout proofs, no model), not counted.",
        "headline_manual": "{n} manual entries ({saving}) are reported in their own section, not in this figure.",
        "headline_annual": "Annualised: about {annual} a year (this figure × 365 ÷ {days} days; manual entries excluded).",
        "headline_spend": "Measured agency spend: {spend} on {n} invoice(s) recorded in this period (no comparison period with invoices, so no spend change can be stated).",
        "headline_spend_change": "Measured agency spend change: {pct} ({spend} on {n} invoice(s), against {before} in {period}) — from recorded invoices, not from the rate card.",
        "cause_invoice": "Agency invoices (measured spend)",
        "compare_less_data": "The comparison period {period} holds {months} of entries, this one {current}: compare with care.",
        "months_one": "{n} month", "months_many": "{n} months",
        "method_rounding": "Amounts are stored exactly (integer millionths of the currency) and rounded half-even to the cent only when printed, so a table's rows may not foot to its total by a cent; hours are summed unrounded and printed to one decimal (two in CSV and JSON). Periods are calendar days in UTC.",
        "method_roles": "Each deliverable (campaign, concept, variant, format, locale) is booked once: re-running an unchanged brief or --force books nothing new, a changed output is a revision (the card's revision line, or nothing). On a card with adaptation lines the first visual of a concept is priced as a master and its other sizes, locales and variants at the resize, locale-version and variant lines; flat and per-format fees once per campaign. Translation is saved only for copy the brief marks as written in-house or by machine.",
        "method_proofs": "Draft proofs recorded but not counted (no model made them): {list}.",
        "runs_one": "{n} run",
        "runs_many": "{n} runs",
        "method_assets": "“Assets produced” counts every asset the period's runs made; the tables count only deliverables with a baseline ({n} of {total}); the others (draft proofs, runs without a valid quote) are listed apart.",
        "method_turnaround": "Turnaround is the median over the period's runs with a baseline ({runs}): in-house, the hours from a run's start to its finish plus its recorded human time; agency, the turnaround days of the quote lines that priced the run (the card's turnaround_days).",
        "method_applied": "Rates applied, as each entry recorded them when it was priced",
        "method_sensitivity": "Sensitivity of the saving to the human-time assumptions",
        "method_closed": "Period {period} was closed on {at} UTC by {who}, as of entry #{entry}; its figures do not change. Booked against it since, as restatements in open periods: {n} entries, saving {saving}.",
        "method_restated": "This period includes {n} restatement entries of the closed period {period} (saving {saving}), booked here because {period} is closed.",
        "col_minutes": "Estimated minutes per deliverable",
        "col_rate_factor": "internal rate {pct}",
        "minutes_factor": "{k}× ({minutes} min)",
        "method_breakeven": "Break-even: the saving would be zero at {minutes} estimated minutes of human time per deliverable (the settings give {now}).",
        "applied_card": "Rate card",
        "applied_lines": "Card lines (unit prices)",
        "applied_role": "Deliverable role",
        "applied_internal_hourly_rate": "Internal hourly rate",
        "applied_compute_rate_per_hour": "Compute rate per hour",
        "applied_human_minutes": "Human minutes per deliverable (estimated)",
        "applied_copy_source": "Copy written by",
        "applied_fx_pair": "FX rate (dated)",
        "applied_licence_exception": "Model-licence exception (allow_models)",
        "applied_hardware_rate_per_hour": "Hardware amortisation per compute hour (in the compute rate)",
        "applied_brief_copy_minutes": "Brief and copy writing, minutes once per campaign (estimated)",
        "method_licence_exceptions": "Assets made under a model-licence exception (declared in allow_models: with a reason; the model's licence alone does not allow this use), with their entries: {list}.",
        "headline_ai": "Of the whole saving (manual entries and translation included), {pct} comes from generating, adapting and reviewing assets; the headline also counts in-house or machine translation.",
        "headline_no_baseline": "No agency baseline for this period — no saving can be stated.",
        "headline_empty": "No ledger entries in this period.",
        "kpis": "Key figures",
        "kpi_cost_change": "Cost vs rate card, incl. manual",
        "kpi_saving": "Saving, incl. manual entries",
        "kpi_ai_share": "AI share of saving, incl. manual",
        "kpi_hours": "Hours saved, incl. manual entries",
        "kpi_assets": "Assets produced",
        "kpi_campaigns": "Campaigns",
        "kpi_turnaround": "Median turnaround",
        "turnaround_value": "{inhouse} in-house vs {agency} agency",
        "kpi_baseline": "Agency baseline, incl. manual",
        "kpi_actual": "In-house cost",
        "vs_compare": "{delta} vs {period}",
        "no_baseline": "no baseline",
        "days": "{n} d",
        "hours": "{n} h",
        "by_category": "By agency category",
        "by_campaign": "By campaign",
        "by_brand": "By brand",
        "by_month": "By month",
        "by_cause": "Saving by cause",
        "manual_section": "Manual entries",
        "manual_note": "Work booked by hand (assetkit ledger add) with its evidence: kept out of the generation headline and never annualised.",
        "col_description": "Description",
        "col_evidence": "Evidence",
        "cost_structure": "In-house cost structure",
        "col_name": "Name",
        "col_baseline": "Agency baseline",
        "col_actual": "In-house cost",
        "col_saving": "Saving",
        "col_saving_pct": "Saving %",
        "col_assets": "Deliverables",
        "col_entries": "Entries",
        "col_hours": "Hours saved",
        "col_share": "Share",
        "col_amount": "Amount",
        "col_month": "Month",
        "col_cause": "Cause",
        "col_item": "Item",
        "col_id": "Entry",
        "col_run": "Run",
        "col_date": "Date",
        "col_category": "Category",
        "col_rate_card": "Rate card",
        "col_valid_from": "Dated",
        "col_rate": "Rate",
        "col_value": "Value",
        "col_recorded": "Recorded review time (change vs estimate)",
        "col_review_app": ("Review app (assetkit review): {recorded} min measured in the browser vs {estimated} min "
                           "estimated for these deliverables; {rejected} rejected (not deliverables)"),
        "col_estimated": "Estimated from settings",
        "value_master": "master", "value_resize": "resize", "value_locale": "locale version",
        "value_variant": "variant", "value_translation": "translation", "value_revision": "revision",
        "value_in-house": "in-house", "value_machine": "machine", "value_agency": "agency",
        "col_hours_spent": "Hours",
        "col_manual_time": "Booked by hand (manual entries)",
        "col_void_time": "Voided entries",
        "human_not_counted": ("Not in this table or the in-house cost: {n} entries without a baseline (draft proofs, "
                              "runs without a valid quote), {hours}, {cost}; they are listed under “Runs without "
                              "a baseline”."),
        "kpi_assets_counted": "{n} counted, {apart} without a baseline (not counted)",
        "total": "Total",
        "compute": "Compute",
        "human": "Human time",
        "tools": "Tools",
        "other": "Other",
        "cause_ai_generation": "AI generation",
        "cause_translation": "Translation",
        "cause_manual": "Manual entries",
        "cause_other": "Other",
        "cat_production": "Production",
        "cat_social": "Social",
        "cat_crm": "CRM",
        "cat_photography": "Photography",
        "cat_translation": "Translation",
        "cat_other": "Other",
        "samples": "Sample assets from the top campaigns",
        "no_samples": "No asset files of this period were found on disk.",
        "methodology": "Methodology and assumptions",
        "method_intro": "The saving is the agency baseline (what the agency quote or rate card in force on the entry's date would have charged for the same work) minus the in-house cost (compute, human time and tools). Every figure is a sum over ledger entries; the appendix and the CSV list them with their ids.",
        "method_rate_cards": "Rate cards and quotes used",
        "method_compute": "Compute rates",
        "method_human": "Human time",
        "method_human_text": "Human time is the review time recorded in the review app (assetkit review: the focus time on each asset replaces that asset's estimated review minutes) or with assetkit ledger review, otherwise the estimate from settings, labelled “estimated”. A rejected asset is not a deliverable: its baseline leaves the saving, its cost stays. Brief and copy writing are booked once per campaign; an optional hardware amortisation per compute hour is part of the compute rate.",
        "method_fx": "Currency rates",
        "method_fx_none": "All entries are in {currency}; no conversion was needed.",
        "method_no_baseline": "Runs without a baseline (excluded from the saving)",
        "method_no_baseline_none": "Every run in this period has a baseline.",
        "method_annualised": "“A year” figures scale the period's run saving to 365 days, only for periods of a quarter (90 days) or more and never including manual entries; a period still running counts the days up to today (all time: the days from the first entry to the last).",
        "appendix": "Appendix: ledger entries",
        "appendix_truncated": "First {shown} of {total} entries; the CSV export lists all of them.",
        "chart_month_title": "Agency baseline vs in-house cost by month",
        "chart_month_x": "Month",
        "chart_cost_y": "Cost ({currency})",
        "chart_category_title": "Saving by agency category",
        "chart_saving_x": "Saving ({currency})",
        "chart_structure_title": "In-house cost structure",
        "chart_share_x": "Share of in-house cost (%)",
        "chart_campaign_title": "Saving by campaign (top 10)",
        "baseline_series": "Agency baseline",
        "actual_series": "In-house cost",
        "saving_series": "Saving",
        "empty_table": "No entries.",
        "voided_row": "voided (entries and their voids)",
        "empty_table_uncounted": "No entries with a baseline: the period's entries are listed under “Runs without a baseline” (not counted).",
        "empty_chart": "Nothing to chart: every amount here is zero (see the table).",
        "empty_chart_uncounted": "Nothing to chart: every amount here is zero (no entry has a baseline).",
        "page": "Page {n}",
    },
    "de": {
        "title": "Einsparungen in der Kreativproduktion",
        "subtitle": "KI-Produktion im Haus gemessen an Agenturangeboten",
        "period": "Zeitraum",
        "compare_period": "Verglichen mit",
        "filters": "Filter",
        "brand": "Marke",
        "campaign": "Kampagne",
        "all": "alle",
        "all_time": "Gesamter Zeitraum",
        "generated": "Erstellt",
        "as_of_label": "Stand",
        "as_of": "Eintrag #{entry} (erfasst {at} UTC), Ledger geprüft",
        "currency": "Währung",
        "headline": "Läufe (KI-Generierung und Übersetzung, ohne manuelle Einträge): {saving} eingespart gegenüber der Preisliste von {cards} für dieselben {n} Lieferungen ({pct} unter der Preisliste), {hours} eingespart",
        "headline_over": "Läufe (KI-Generierung und Übersetzung, ohne manuelle Einträge): {saving} mehr als die Preisliste von {cards} für dieselben {n} Lieferungen ({pct} über der Preisliste), {hours} eingespart",
        "headline_cards": "{n} Preislisten ({cards})",
        "headline_cards_none": "den erfassten Angeboten",
        "headline_avoidance": "Vermiedene Kosten: gerechnet mit den Preisen der Preisliste, keine gemessenen Agenturausgaben.",
        "headline_manual_only": "Kein Lauf in diesem Zeitraum hat eine Preislisten-Basis — keine Einsparung durch Generierung ausweisbar.",
        "headline_proofs": "{n} Entwurfs-Proofs (Layout-Proofs ohne Modell), nicht gezählt.",
        "headline_manual": "{n} manuelle Einträge ({saving}) stehen in einem eigenen Abschnitt, nicht in dieser Zahl.",
        "headline_annual": "Hochgerechnet: etwa {annual} pro Jahr (diese Zahl × 365 ÷ {days} Tage; ohne manuelle Einträge).",
        "headline_spend": "Gemessene Agenturausgaben: {spend} aus {n} in diesem Zeitraum erfassten Rechnung(en) (kein Vergleichszeitraum mit Rechnungen, daher keine Veränderung ausweisbar).",
        "headline_spend_change": "Veränderung der gemessenen Agenturausgaben: {pct} ({spend} aus {n} Rechnung(en), gegenüber {before} in {period}) — aus erfassten Rechnungen, nicht aus der Preisliste.",
        "cause_invoice": "Agenturrechnungen (gemessene Ausgaben)",
        "compare_less_data": "Der Vergleichszeitraum {period} enthält Einträge aus {months}, dieser aus {current}: mit Vorsicht vergleichen.",
        "months_one": "{n} Monat", "months_many": "{n} Monaten",
        "method_rounding": "Beträge werden exakt gespeichert (ganzzahlige Millionstel der Währung) und erst beim Drucken mathematisch (half-even, „Banker's Rounding“) auf den Cent gerundet; Zeilen einer Tabelle ergeben daher ggf. nicht centgenau die Summe. Stunden werden ungerundet summiert und mit einer Nachkommastelle gedruckt (zwei in CSV und JSON). Zeiträume sind Kalendertage in UTC.",
        "method_roles": "Jede Lieferung (Kampagne, Konzept, Variante, Format, Sprache) wird einmal gebucht: ein erneuter Lauf eines unveränderten Briefings oder --force bucht nichts Neues, eine geänderte Ausgabe ist eine Korrektur (Korrekturposition der Preisliste oder nichts). Bei einer Preisliste mit Adaptionspositionen gilt das erste Motiv eines Konzepts als Master, weitere Formate, Sprachen und Varianten zu den Positionen Formatadaption, Sprachversion und Variante; Pauschalen und Formatgebühren einmal je Kampagne. Übersetzung zählt nur für Texte, die laut Briefing intern oder maschinell entstanden.",
        "method_proofs": "Erfasste, nicht gezählte Entwurfs-Proofs (ohne Modell erstellt): {list}.",
        "runs_one": "{n} Lauf",
        "runs_many": "{n} Läufe",
        "method_assets": "„Erstellte Assets“ zählt jedes Asset der Läufe des Zeitraums; die Tabellen zählen nur Lieferungen mit Vergleichsbasis ({n} von {total}); die übrigen (Entwurfs-Proofs, Läufe ohne gültiges Angebot) stehen gesondert.",
        "method_turnaround": "Die Durchlaufzeit ist der Median über die Läufe des Zeitraums mit Vergleichsbasis ({runs}): intern die Stunden vom Start bis zum Ende eines Laufs plus seine erfasste Arbeitszeit; Agentur die Durchlauftage der Angebotspositionen, die den Lauf bepreisten (turnaround_days der Preisliste).",
        "method_applied": "Angewandte Sätze, wie jeder Eintrag sie bei der Bewertung gespeichert hat",
        "method_sensitivity": "Empfindlichkeit der Einsparung gegenüber den Annahmen zur Arbeitszeit",
        "method_closed": "Der Zeitraum {period} wurde am {at} UTC von {who} abgeschlossen (Stand Eintrag #{entry}); seine Zahlen ändern sich nicht. Seitdem als Nachbuchung in offenen Zeiträumen gebucht: {n} Einträge, Einsparung {saving}.",
        "method_restated": "Dieser Zeitraum enthält {n} Nachbuchungen zum abgeschlossenen Zeitraum {period} (Einsparung {saving}), hier gebucht, weil {period} abgeschlossen ist.",
        "col_minutes": "Geschätzte Minuten je Lieferung",
        "col_rate_factor": "Stundensatz {pct}",
        "minutes_factor": "{k}× ({minutes} Min.)",
        "method_breakeven": "Gewinnschwelle: Bei {minutes} geschätzten Arbeitsminuten je Lieferung wäre die Einsparung null (laut Einstellungen {now}).",
        "applied_card": "Preisliste",
        "applied_lines": "Positionen (Stückpreise)",
        "applied_role": "Art der Lieferung",
        "applied_internal_hourly_rate": "Interner Stundensatz",
        "applied_compute_rate_per_hour": "Rechenkosten pro Stunde",
        "applied_human_minutes": "Arbeitsminuten je Lieferung (geschätzt)",
        "applied_copy_source": "Text verfasst von",
        "applied_fx_pair": "Wechselkurs (datiert)",
        "applied_licence_exception": "Ausnahme von der Modelllizenz (allow_models)",
        "applied_hardware_rate_per_hour": "Hardware-Abschreibung je Rechenstunde (im Rechenkostensatz)",
        "applied_brief_copy_minutes": "Briefing und Texterstellung, Minuten einmal je Kampagne (geschätzt)",
        "method_licence_exceptions": "Unter einer Ausnahme von der Modelllizenz erstellte Assets (in allow_models: mit Begründung erklärt; die Lizenz des Modells allein erlaubt diese Nutzung nicht), mit ihren Einträgen: {list}.",
        "headline_ai": "Von der gesamten Einsparung (mit manuellen Einträgen und Übersetzung) stammen {pct} aus Erstellung, Anpassung und Prüfung der Motive; die Schlagzeile zählt auch interne oder maschinelle Übersetzung.",
        "headline_no_baseline": "Keine Agentur-Vergleichsbasis in diesem Zeitraum — keine Einsparung ausweisbar.",
        "headline_empty": "Keine Ledger-Einträge in diesem Zeitraum.",
        "kpis": "Kennzahlen",
        "kpi_cost_change": "Kosten ggü. Preisliste, inkl. manuell",
        "kpi_saving": "Einsparung, inkl. manuelle Einträge",
        "kpi_ai_share": "KI-Anteil der Einsparung, inkl. manuell",
        "kpi_hours": "Stunden eingespart, inkl. manuell",
        "kpi_assets": "Erstellte Assets",
        "kpi_campaigns": "Kampagnen",
        "kpi_turnaround": "Median der Durchlaufzeit",
        "turnaround_value": "{inhouse} intern ggü. {agency} Agentur",
        "kpi_baseline": "Agentur-Basis, inkl. manuell",
        "kpi_actual": "Interne Kosten",
        "vs_compare": "{delta} ggü. {period}",
        "no_baseline": "keine Basis",
        "days": "{n} Tage",
        "hours": "{n} Std.",
        "by_category": "Nach Agenturkategorie",
        "by_campaign": "Nach Kampagne",
        "by_brand": "Nach Marke",
        "by_month": "Nach Monat",
        "by_cause": "Einsparung nach Ursache",
        "manual_section": "Manuelle Einträge",
        "manual_note": "Von Hand gebuchte Arbeit (assetkit ledger add) mit ihrem Beleg: nicht in der Zahl zur Generierung enthalten und nie hochgerechnet.",
        "col_description": "Beschreibung",
        "col_evidence": "Beleg",
        "cost_structure": "Struktur der internen Kosten",
        "col_name": "Name",
        "col_baseline": "Agentur-Basis",
        "col_actual": "Interne Kosten",
        "col_saving": "Einsparung",
        "col_saving_pct": "Einsparung %",
        "col_assets": "Lieferobjekte",
        "col_entries": "Einträge",
        "col_hours": "Eingesparte Std.",
        "col_share": "Anteil",
        "col_amount": "Betrag",
        "col_month": "Monat",
        "col_cause": "Ursache",
        "col_item": "Posten",
        "col_id": "Eintrag",
        "col_run": "Lauf",
        "col_date": "Datum",
        "col_category": "Kategorie",
        "col_rate_card": "Preisliste",
        "col_valid_from": "Datiert",
        "col_rate": "Satz",
        "col_value": "Wert",
        "col_recorded": "Erfasste Prüfzeit (Änderung ggü. Schätzung)",
        "col_review_app": ("Prüf-App (assetkit review): {recorded} Min. im Browser gemessen statt {estimated} Min. "
                           "geschätzt für diese Lieferungen; {rejected} abgelehnt (keine Lieferungen)"),
        "col_estimated": "Geschätzt laut Einstellungen",
        "value_master": "Master", "value_resize": "Formatanpassung", "value_locale": "Sprachversion",
        "value_variant": "Variante", "value_translation": "Übersetzung", "value_revision": "Überarbeitung",
        "value_in-house": "intern", "value_machine": "maschinell", "value_agency": "Agentur",
        "col_hours_spent": "Stunden",
        "col_manual_time": "Von Hand gebucht (manuelle Einträge)",
        "col_void_time": "Stornierte Einträge",
        "human_not_counted": ("Nicht in dieser Tabelle und nicht in den internen Kosten: {n} Einträge ohne Basis "
                              "(Entwurfs-Proofs, Läufe ohne gültiges Angebot), {hours}, {cost}; sie stehen unter "
                              "„Läufe ohne Vergleichsbasis“."),
        "kpi_assets_counted": "{n} gezählt, {apart} ohne Basis (nicht gezählt)",
        "total": "Summe",
        "compute": "Rechenleistung",
        "human": "Arbeitszeit",
        "tools": "Werkzeuge",
        "other": "Sonstiges",
        "cause_ai_generation": "KI-Generierung",
        "cause_translation": "Übersetzung",
        "cause_manual": "Manuelle Einträge",
        "cause_other": "Sonstiges",
        "cat_production": "Produktion",
        "cat_social": "Social Media",
        "cat_crm": "CRM",
        "cat_photography": "Fotografie",
        "cat_translation": "Übersetzung",
        "cat_other": "Sonstiges",
        "samples": "Beispiel-Assets der stärksten Kampagnen",
        "no_samples": "Keine Asset-Dateien dieses Zeitraums auf der Festplatte gefunden.",
        "methodology": "Methodik und Annahmen",
        "method_intro": "Die Einsparung ist die Agentur-Basis (was das am Datum des Eintrags gültige Agenturangebot bzw. die Preisliste für dieselbe Arbeit berechnet hätte) abzüglich der internen Kosten (Rechenleistung, Arbeitszeit, Werkzeuge). Jede Zahl ist eine Summe über Ledger-Einträge; Anhang und CSV listen sie mit ihren IDs.",
        "method_rate_cards": "Verwendete Preislisten und Angebote",
        "method_compute": "Rechenkosten-Sätze",
        "method_human": "Arbeitszeit",
        "method_human_text": "Arbeitszeit ist die in der Prüf-App erfasste Zeit (assetkit review: die Fokuszeit je Asset ersetzt dessen geschätzte Prüfminuten) oder die mit assetkit ledger review erfasste, sonst die Schätzung aus den Einstellungen, als „geschätzt“ gekennzeichnet. Ein abgelehntes Asset ist keine Lieferung: seine Basis entfällt aus der Einsparung, seine Kosten bleiben. Briefing und Texterstellung werden einmal je Kampagne gebucht; eine optionale Hardware-Abschreibung je Rechenstunde ist Teil des Rechenkostensatzes.",
        "method_fx": "Wechselkurse",
        "method_fx_none": "Alle Einträge sind in {currency}; keine Umrechnung nötig.",
        "method_no_baseline": "Läufe ohne Vergleichsbasis (nicht in der Einsparung enthalten)",
        "method_no_baseline_none": "Jeder Lauf in diesem Zeitraum hat eine Vergleichsbasis.",
        "method_annualised": "„Pro Jahr“-Zahlen rechnen die Einsparung der Läufe auf 365 Tage hoch, nur für Zeiträume ab einem Quartal (90 Tage) und nie mit manuellen Einträgen; ein laufender Zeitraum zählt die Tage bis heute (gesamter Zeitraum: die Tage vom ersten bis zum letzten Eintrag).",
        "appendix": "Anhang: Ledger-Einträge",
        "appendix_truncated": "Erste {shown} von {total} Einträgen; der CSV-Export listet alle.",
        "chart_month_title": "Agentur-Basis und interne Kosten nach Monat",
        "chart_month_x": "Monat",
        "chart_cost_y": "Kosten ({currency})",
        "chart_category_title": "Einsparung nach Agenturkategorie",
        "chart_saving_x": "Einsparung ({currency})",
        "chart_structure_title": "Struktur der internen Kosten",
        "chart_share_x": "Anteil an den internen Kosten (%)",
        "chart_campaign_title": "Einsparung nach Kampagne (Top 10)",
        "baseline_series": "Agentur-Basis",
        "actual_series": "Interne Kosten",
        "saving_series": "Einsparung",
        "empty_table": "Keine Einträge.",
        "voided_row": "storniert (Einträge und ihre Stornos)",
        "empty_table_uncounted": "Keine Einträge mit Vergleichsbasis: die Einträge des Zeitraums stehen unter „Läufe ohne Vergleichsbasis“ (nicht gezählt).",
        "empty_chart": "Kein Diagramm: alle Beträge sind null (siehe Tabelle).",
        "empty_chart_uncounted": "Kein Diagramm: alle Beträge sind null (kein Eintrag hat eine Vergleichsbasis).",
        "page": "Seite {n}",
    },
}


@lru_cache(maxsize=64)
def parse_locale(value: str) -> Locale:
    """``de-DE``, ``de_DE`` or ``de`` → a babel Locale; UsageError naming the value otherwise."""
    try:
        return Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise UsageError(f"--locale: unknown locale {value!r} (expected e.g. en-US or de-DE)") from None


class Fmt:
    """Formats figures for one locale and report currency; ``None`` always prints :data:`DASH`."""

    def __init__(self, locale: str = "en-US", currency: str = "EUR"):
        self.locale = parse_locale(locale)
        self.currency = currency
        self.lang = self.locale.language if self.locale.language in STRINGS else "en"
        self.strings = STRINGS[self.lang]

    def t(self, key: str, **kw) -> str:
        """The report's own text for ``key`` in this language."""
        text = self.strings.get(key) or STRINGS["en"][key]
        return text.format(**kw) if kw else text

    def money(self, value: Decimal | None) -> str:
        if value is None:
            return DASH
        return format_currency(value, self.currency, locale=self.locale)

    def money_whole(self, value: Decimal | None) -> str:
        """Money rounded to whole units (``12.346 €``), for headline tiles."""
        if value is None:
            return DASH
        pattern = self.locale.currency_formats["standard"].pattern.split(";")[0]
        pattern = pattern.replace(".00", "")
        return format_currency(value.quantize(Decimal(1), ROUND_HALF_EVEN), self.currency,
                               format=pattern, locale=self.locale, currency_digits=False)

    def money_short(self, value: Decimal | None) -> str:
        """About-figures for a headline: ``4 Mio. €`` / ``$4.2M`` from a million up."""
        if value is None:
            return DASH
        if abs(value) >= 1_000_000:
            return format_compact_currency(value, self.currency, locale=self.locale,
                                           fraction_digits=1)
        return self.money_whole(value)

    def pct(self, ratio: Decimal | None, signed: bool = False, fixed: bool = False) -> str:
        """A ratio (0.246) as ``24.6%`` / ``24,6 %``; one decimal at most (exactly one with
        ``fixed``, so a table column lines up: ``89.0%`` under ``97.1%``)."""
        if ratio is None:
            return DASH
        r = Decimal(ratio).quantize(Decimal("0.001"), ROUND_HALF_EVEN)
        if r == 0 and ratio != 0:  # a real but tiny share: "<0.1%", never a misleading "0%"
            return "<" + format_percent(Decimal("0.001"), locale=self.locale, decimal_quantization=False)
        if r == 0:
            r = Decimal(0)  # no "-0 %"
        if fixed:
            import re

            pattern = self.locale.percent_formats[None].pattern
            pattern = re.sub(r"0(?=[^0#]*%)", "0.0", pattern.split(";")[0], count=1)
            text = format_percent(r, format=pattern, locale=self.locale)
        else:
            text = format_percent(r, locale=self.locale, decimal_quantization=False)
        if signed and r > 0:
            text = "+" + text
        return text

    def number(self, value: int | Decimal | None, digits: int | None = None) -> str:
        if value is None:
            return DASH
        if digits:
            return format_decimal(value, format="#,##0." + "0" * digits, locale=self.locale)
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def signed_int(self, value: int | None) -> str:
        if value is None:
            return DASH
        text = format_decimal(value, locale=self.locale)
        return "+" + text if value > 0 else text

    def date(self, value: dt.date | None) -> str:
        if value is None:
            return DASH
        return format_date(value, "medium", locale=self.locale)

    def month(self, value: dt.date) -> str:
        return format_date(value, "MMM y", locale=self.locale)

    def days(self, value: Decimal | None) -> str:
        return DASH if value is None else self.t("days", n=self.number(value, 1))

    def hours(self, value: Decimal | None) -> str:
        return DASH if value is None else self.t("hours", n=self.number(value, 1))
