"""The savings method: proofs apart, one baseline per deliverable, adaptation lines, valid cards."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from ledger_fixtures import EXAMPLE_YAML, QUOTE_YAML, SETTINGS_YAML, manifest

from assetkit.ledger import Ledger, record_run
from assetkit.quotes import load_quotes
from assetkit.report import build_report
from assetkit.report.model import ALL_TIME
from assetkit.report.tabular import render_md
from assetkit.settings import load_settings

USD = Decimal("0.80")  # the settings' USD→EUR rate from 2026-07-01
SOCIAL = (("meta-square", "social"),)


def card(path=EXAMPLE_YAML):
    with Ledger() as lg:
        lg.import_quote(load_quotes(path)[0], path)


def record(m):
    return record_run(m, Path("out/manifest.json"), None, None, None)


def assets(run_id):
    with Ledger(readonly=True) as lg:
        return [e for e in lg.entries(run_id=run_id) if e.kind == "asset"]


def usd(*amounts) -> Decimal:
    return sum((Decimal(a) for a in amounts), Decimal(0)) * USD


def test_draft_proofs_are_recorded_not_counted(ledger_project):
    card()
    rec = record(manifest(generator="draft"))
    assert rec.no_baseline and rec.baseline == 0 and rec.actual > 0
    assert "draft proof (draft generator, no model): recorded, not counted as agency work" in rec.no_baseline_reason
    assert [(e.kind, e.no_baseline) for e in record_and_list(rec)] == [("asset", True)] * 4 + [
        ("overhead", True), ("translation", True)]
    # the same deliverables made by a model afterwards are booked: a proof books no identity
    model = record(manifest(run_id="model", finished="2026-11-26T08:31:00+00:00"))
    assert not model.no_baseline and model.baseline > 0
    data = build_report(None, ALL_TIME, settings=load_settings(), generated_on=dt.date(2026, 12, 1),
                        thumbnails=False)
    assert data.current.run_deliverables == 5  # 4 assets + 1 translation, the proofs not
    md = render_md(data)
    assert "4 draft proofs (layout proofs, no model), not counted." in md
    assert "Draft proofs recorded but not counted (no model made them): spring-launch: 4 (draft, 1 run)." in md


def record_and_list(rec):
    with Ledger(readonly=True) as lg:
        return list(lg.entries(run_id=rec.run_id))


def test_force_and_reruns_book_a_deliverable_once_a_changed_output_is_a_revision(ledger_project):
    card()
    first = record(manifest(formats=SOCIAL, locales=("en-US",)))
    again = record(manifest(run_id="forced", formats=SOCIAL, locales=("en-US",), finished="2026-11-25T09:00:00Z"))
    assert first.baseline > 0 and again.baseline == 0 and not again.no_baseline
    assert [e.kind for e in record_and_list(again)] == ["overhead"]  # its compute is still a cost
    changed = manifest(run_id="changed", formats=SOCIAL, locales=("en-US",), finished="2026-11-25T10:00:00Z")
    changed["assets"][0]["sha256"] = "1" * 64
    rev = record(changed)
    (e,) = assets("changed")
    assert (e.units, e.description, e.quote_lines) == (0, "revision of a delivered asset", "revision")
    assert e.baseline == usd(60) and rev.baseline == usd(60)


def test_a_card_without_a_revision_line_prices_no_revision(ledger_project):
    card(QUOTE_YAML)
    record(manifest(formats=SOCIAL, locales=("en-US",)))
    changed = manifest(run_id="changed", formats=SOCIAL, locales=("en-US",), finished="2026-11-25T10:00:00Z")
    changed["assets"][0]["sha256"] = "1" * 64
    rec = record(changed)
    (e,) = assets("changed")
    assert e.no_baseline and e.units == 0 and e.baseline == 0
    assert "the card prices no revision" in e.no_baseline_reason and rec.baseline == 0


def test_adaptations_are_priced_by_their_lines_and_fees_once_per_campaign(ledger_project):
    card()
    m = manifest(formats=(("meta-square", "social"), ("meta-feed-landscape", "social")), locales=("en-US", "de-DE"),
                 copy_source="agency")
    m["assets"].append(dict(m["assets"][0], variant=2, path="en-US/meta-square/morning-v2.png", sha256="2" * 64))
    record(m)
    by = {(e.locale, e.format, e.variant): e for e in assets(m["run_id"])}
    master = by[("en-US", "meta-square", 1)]
    # master: social-static 220 + format-template share + art direction 0.25 h × 155 + project management share
    assert master.quote_lines == "social-static,format-template,art-direction,project-management"
    resize = by[("en-US", "meta-feed-landscape", 1)]
    assert resize.quote_lines == "resize,format-template,project-management"
    locale = by[("de-DE", "meta-square", 1)]
    assert locale.quote_lines == "locale-version,project-management"
    variant = by[("en-US", "meta-square", 2)]
    assert variant.quote_lines.startswith("extra-variant,")
    total = sum((e.baseline for e in by.values()), Decimal(0))
    # 220 + 55 + 45 + 45 + 150, art direction 0.25 h × 155 for master and variant, two format
    # templates (180 each), one project-management fee (450); no translation: the agency wrote de-DE
    assert total == usd(220, 55, 45, 45, 150, Decimal("38.75") * 2, 180 * 2, 450)
    with Ledger(readonly=True) as lg:
        assert not list(lg.entries(kind="translation"))
    # a second wave of the campaign: new concept, same formats — no second template or PM fee
    m2 = manifest(run_id="wave2", concepts=("evening",), formats=SOCIAL, locales=("en-US",),
                  finished="2026-11-27T08:00:00Z")
    m2["assets"][0]["sha256"] = "3" * 64
    record(m2)
    (e,) = assets("wave2")
    assert e.quote_lines == "social-static,format-template,art-direction,project-management"
    assert e.baseline == usd(220, Decimal("38.75"))


def test_translation_saving_only_for_in_house_or_machine_copy(ledger_project):
    card()
    record(manifest(copy_source="agency"))
    record(manifest(run_id="b", campaign="other", copy_source="machine", finished="2026-11-26T08:00:00Z"))
    with Ledger(readonly=True) as lg:
        tr = list(lg.entries(kind="translation"))
    assert [(e.campaign, e.locale) for e in tr] == [("other", "de-DE")]
    assert "(machine)" in tr[0].description and tr[0].baseline > 0


def test_an_expired_named_card_gives_no_baseline(ledger_project):
    card()
    rec = record(manifest(quote="agency-2026", finished="2028-02-01T10:00:00Z"))
    assert rec.no_baseline and rec.baseline == 0
    assert "no valid quote on 2028-02-01: 'agency-2026' is valid 2026-01-01 to 2027-12-31" in rec.no_baseline_reason


def test_a_review_of_a_run_without_baseline_credits_nothing(ledger_project):
    card()
    rec = record(manifest(generator="draft"))
    with Ledger() as lg:
        lg.record_review(rec.run_id, 45, load_settings())
        reviews = list(lg.entries(kind="review"))
    assert reviews and all(e.no_baseline for e in reviews)
    data = build_report(None, ALL_TIME, settings=load_settings(), thumbnails=False)
    assert data.current.saving == 0 and data.current.baseline == 0 and data.current.hours_saved == 0


def test_applied_rates_are_stored_per_entry_and_printed_with_counts(ledger_project):
    card()
    record(manifest())
    (ledger_project / "assetkit.yaml").write_text(
        SETTINGS_YAML.replace("internal_hourly_rate: 60", "internal_hourly_rate: 80"))
    m = manifest(run_id="later", concepts=("evening",), finished="2026-11-27T08:00:00Z")
    for a in m["assets"]:
        a["sha256"] = "4" * 64
    record(m)
    data = build_report(None, ALL_TIME, settings=load_settings(), thumbnails=False)
    rates = {(a.item, a.value): a.entries for a in data.methodology.applied}
    # 4 assets + 1 translation at 60; the later wave's 4 assets at 80 (its copy was already translated)
    assert rates[("internal_hourly_rate", "60")] == 5 and rates[("internal_hourly_rate", "80")] == 4
    assert {a.currency for a in data.methodology.applied if a.item == "internal_hourly_rate"} == {"EUR"}
    assert [(c.agency, c.quote_id, c.version, str(c.valid_from), str(c.valid_to)) for c in data.methodology.cards] \
        == [("Harbour & Finch Creative", "agency-2026", 1, "2026-01-01", "2027-12-31")]
    md = render_md(data)
    assert "| Internal hourly rate | €60.00 / h | 5 |" in md and "| Internal hourly rate | €80.00 / h | 4 |" in md
    assert "Harbour & Finch Creative, agency-2026 v1, Jan 1, 2026 – Dec 31, 2027" in md


def test_sensitivity_table_and_break_even(ledger_project):
    card()
    record(manifest(formats=SOCIAL, locales=("en-US",)))  # one master: 6 estimated minutes at €60/h
    data = build_report(None, ALL_TIME, settings=load_settings(), thumbnails=False)
    f = data.current
    table = {(k, r): s for k, r, s in f.sensitivity}
    human = Decimal(6) / 60 * 60  # €6.00
    assert table[(1, 1)] == f.run_saving
    assert table[(4, Decimal("1.25"))] == f.run_saving + human - human * 4 * Decimal("1.25")
    assert f.minutes_per_deliverable == Decimal("6.0")
    # break-even: the minutes at which baseline − compute − tools − human = 0
    assert f.breakeven_minutes == (Decimal(6) * (f.run_saving + human) / human).quantize(Decimal("0.1"))
    md = render_md(data)
    assert "### Sensitivity of the saving to the human-time assumptions" in md
    assert f"Break-even: the saving would be zero at {f.breakeven_minutes:,} estimated minutes" in md



def test_a_closed_period_stays_closed_and_later_entries_are_restatements(ledger_project, monkeypatch):
    from click.testing import CliRunner

    from assetkit.cli import cli
    from assetkit.ledger import store
    from assetkit.report.model import parse_period

    card()
    record(manifest(finished="2026-09-20T10:00:00Z"))
    q3 = parse_period("2026-Q3")

    def figures(period):
        return build_report(None, period, settings=load_settings(), generated_on=dt.date(2026, 11, 3),
                            thumbnails=False)

    before = figures(q3).current
    r = CliRunner().invoke(cli, ["ledger", "close", "2026-Q3"])
    assert r.exit_code == 0 and r.output.startswith("Closed 2026-Q3 (2026-07-01 to 2026-09-30) as of entry #6, ")
    r = CliRunner().invoke(cli, ["ledger", "close", "2026-09"])
    assert (r.exit_code, r.output) == (2, "Error: period 2026-09 overlaps 2026-Q3, closed already (2026-07-01 to "
                                          "2026-09-30)\n")
    r = CliRunner().invoke(cli, ["ledger", "close", "2099-Q1"])
    assert r.exit_code == 2 and "has not ended yet" in r.output
    # a review recorded on 3 Nov for the September run: the closed Q3 figures do not move
    monkeypatch.setattr(store, "_NOW_OVERRIDE", "2026-11-03T09:00:00Z")
    with Ledger() as lg:
        lg.record_review(lg.runs()[0]["run_id"], 90, load_settings())
        reviews = list(lg.entries(kind="review"))
        assert lg.verify().entries == 6 + len(reviews)  # one review entry per category of the run
    assert {(e.occurred_at, e.reason) for e in reviews} == {("2026-11-03T09:00:00Z",
                                                            "restates 2026-Q3 (dated 2026-09-20)")}
    closed = figures(q3)
    assert closed.current.saving == before.saving and closed.current.entries == before.entries
    q4 = figures(parse_period("2026-Q4"))
    assert q4.current.saving == sum(e.saving for e in reviews) != 0
    md_q3, md_q4 = render_md(closed), render_md(q4)
    assert "Period 2026-Q3 was closed on " in md_q3 and "Booked against it since, as restatements in open " \
        f"periods: {len(reviews)} entries" in md_q3
    assert f"This period includes {len(reviews)} restatement entries of the closed period 2026-Q3" in md_q4


def test_reprice_books_the_baseline_of_a_run_made_before_the_quote(ledger_project):
    from click.testing import CliRunner

    from assetkit.cli import cli

    early = record(manifest(formats=SOCIAL, locales=("en-US",)))
    assert early.no_baseline and early.baseline == 0
    card()
    r = CliRunner().invoke(cli, ["ledger", "reprice", early.run_id])
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"Repriced run {early.run_id}: saved ")
    with Ledger(readonly=True) as lg:
        kinds = [(e.kind, e.no_baseline, e.reason) for e in lg.entries(run_id=early.run_id)]
    assert ("void", True, "repriced on " + kinds[-1][2].rsplit("(", 1)[1][:10]) in kinds
    assert kinds[-1][:2] == ("asset", False) and kinds[-1][2].startswith(f"reprice of run {early.run_id}")
    data = build_report(None, ALL_TIME, settings=load_settings(), thumbnails=False)
    assert data.current.baseline == usd(220, 180, Decimal("38.75"), 450) and data.current.run_deliverables == 1
    r = CliRunner().invoke(cli, ["ledger", "reprice", early.run_id])
    assert (r.exit_code, r.output) == (2, f"Error: run {early.run_id} has no asset entries without a baseline; "
                                          "nothing to reprice\n")
    proof = record(manifest(run_id="proof", generator="draft", finished="2026-11-26T08:00:00Z"))
    r = CliRunner().invoke(cli, ["ledger", "reprice", proof.run_id])
    assert (r.exit_code, r.output) == (2, "Error: run proof made draft proofs (draft); proofs are never priced\n")


def _decide(action, focus_ms, locale, fmt, decision_row=None):
    from assetkit.review.catalog import asset_id
    from assetkit.review.store import ReviewStore

    aid = asset_id("spring-launch", locale, fmt, "morning", 1)
    row = {"campaign": "spring-launch", "scope": "asset", "target": aid, "concept": "morning", "variant": 1,
           "locale": locale, "format": fmt, "action": action, "comment": None, "assets": {aid: "0" * 64},
           "reviewer": "Rita", "focus_ms": focus_ms, "manifest_sha256": None, "who": "tester"}
    with ReviewStore() as store:
        store.add_decision(row, members=[(aid, "spring-launch", locale, fmt, "morning", 1)], settings=load_settings())


def test_review_app_time_replaces_the_estimate_and_rejected_assets_are_not_deliverables(ledger_project):
    """Issue 14 in the books: the browser-measured review minutes replace the estimated review
    minutes of a deliverable; a rejected asset leaves the savings (its cost stays); approved
    again it counts again. Every step is entries, so the report is still plain sums."""
    card(QUOTE_YAML)
    record(manifest())

    def figures():
        data = build_report(None, ALL_TIME, settings=load_settings(), generated_on=dt.date(2026, 12, 1),
                            thumbnails=False)
        return data.current.run_saving, data.current.run_deliverables, data

    s0, n0, _ = figures()
    assert n0 == 5  # 4 assets + 1 translation
    _decide("approve", 90_000, "en-US", "meta-square")  # 1.5 min measured; the settings estimate 2 (social)
    s1, n1, d1 = figures()
    assert (s1 - s0, n1) == (Decimal("0.50"), 5)  # 0.5 min less at 60/h
    with Ledger(readonly=True) as lg:
        (leader,) = [e for e in lg.entries(kind="asset") if (e.locale, e.format) == ("de-DE", "iab-leaderboard")]
        review = [e for e in lg.entries(kind="review")]
    assert [(e.review_minutes_recorded, e.actual_hours * 60, e.description) for e in review] == [
        (Decimal("1.5"), Decimal("-0.5"), "review app decision #1 (approve, Rita): 1.50 min recorded, replacing 2 "
                                          "min estimated")]
    _decide("reject", 60_000, "de-DE", "iab-leaderboard")  # display: 1 min estimated, 1 measured
    s2, n2, data = figures()
    assert (s2, n2) == (s1 - leader.baseline, 4)  # not a deliverable: its baseline is gone, its cost stays
    assert data.current.actual == d1.current.actual
    _decide("approve", 30_000, "de-DE", "iab-leaderboard")  # a later decision adds its own time
    s3, n3, _ = figures()
    assert (s3, n3) == (s1 - Decimal("0.50"), 5)
    with Ledger(readonly=True) as lg:
        lg.verify(full=True)
        kinds = [(e.kind, e.units, e.deliverable_key.split(":")[0]) for e in lg.entries(kind="review")]
    assert kinds == [("review", 0, "review"), ("review", 0, "review"), ("review", -1, "reject"),
                     ("review", 0, "review"), ("review", 1, "reject")]


def test_invoices_are_measured_spend_and_give_a_labelled_spend_change(ledger_project):
    """`ledger invoice` records real agency spend: never a saving, never in the rate-card figure;
    with invoices in the comparison period too, the headline states the measured spend change."""
    from click.testing import CliRunner

    from assetkit.cli import cli

    runner = CliRunner()
    for amount, day, ref in (("20000", "2026-06-30", "INV-0630"), ("12000", "2026-09-30", "INV-0930"),
                             ("3000", "2026-09-15", "INV-0915")):
        r = runner.invoke(cli, ["ledger", "invoice", "--agency", "Harbour & Finch", "--amount", amount, "--date", day,
                                "--source", ref, "--approved-by", "M. Keller"])
        assert r.exit_code == 0, r.output
    assert r.output == ("Added invoice #3 (production): €3,000.00 measured agency spend on 2026-09-15 "
                        "(Harbour & Finch, INV-0915)\n")
    card(QUOTE_YAML)
    record(manifest(finished="2026-09-20T08:31:00+00:00"))
    r = runner.invoke(cli, ["report", "--format", "md", "--period", "2026-Q3", "--compare-to", "previous"])
    assert r.exit_code == 0, r.output
    assert ("Measured agency spend change: -25% (€15,000 on 2 invoice(s), against €20,000 in 2026-Q2) — from "
            "recorded invoices, not from the rate card.") in r.output
    assert "against the rate card of" in r.output  # the cost avoidance headline is unchanged …
    causes = r.output.split("## Saving by cause", 1)[1].split("\n## ", 1)[0]
    assert "invoice" not in causes.lower()  # … and invoices are no cause of saving
    alone = runner.invoke(cli, ["report", "--format", "md", "--period", "2026-Q3"]).output
    assert "Measured agency spend: €15,000 on 2 invoice(s) recorded in this period (no comparison period" in alone
    de = runner.invoke(cli, ["report", "--format", "md", "--period", "2026-Q3", "--locale", "de-DE"]).output
    assert "Gemessene Agenturausgaben: 15.000\xa0€ aus 2 in diesem Zeitraum erfassten Rechnung(en)" in de
    # bad input: one clear line, exit 2, nothing written
    bad = runner.invoke(cli, ["ledger", "invoice", "--agency", "X", "--amount", "nan", "--date", "2026-09-01",
                              "--source", "s", "--approved-by", "a"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    huge = runner.invoke(cli, ["ledger", "invoice", "--agency", "X", "--amount", "900000", "--date", "2026-09-01",
                               "--source", "s", "--approved-by", "a"])
    assert huge.exit_code == 2 and "above the manual-entry limit of 25000 EUR" in huge.output
    with Ledger(readonly=True) as lg:
        assert sum(1 for e in lg.entries(kind="invoice")) == 3
    listed = runner.invoke(cli, ["ledger", "list", "--since", "2026-09-15", "--until", "2026-09-15"]).output
    assert "invoice: €3,000.00 measured spend" in listed


def test_brief_and_copy_time_once_per_campaign_and_hardware_amortisation(ledger_project):
    from ledger_fixtures import SETTINGS_YAML

    (ledger_project / "assetkit.yaml").write_text(
        SETTINGS_YAML.replace("compute: {gpu_hour: 2.40, cpu_hour: 0.36}",
                              "compute: {gpu_hour: 2.40, cpu_hour: 0.36, hardware_per_hour: 1.64}")
        .replace("  translation_review_per_locale: 12", "  translation_review_per_locale: 12\n"
                                                          "  per_campaign: {brief: 30, copy: 15}"))
    card(QUOTE_YAML)
    record(manifest(compute=3.6))
    record(manifest(run_id="second", finished="2026-11-26T08:31:00+00:00", concepts=("evening",), compute=3.6))
    with Ledger(readonly=True) as lg:
        briefs = [e for e in lg.entries(kind="overhead") if (e.description or "").startswith("brief and copy")]
        assets = [e for e in lg.entries(kind="asset")]
    assert [(e.run_id, e.actual_human, e.actual_hours) for e in briefs] == [
        ("20261125T083000Z-ab12cd", Decimal(45), Decimal("0.75"))]  # 45 min at 60/h, once per campaign
    assert {e.actual_compute for e in assets} == {Decimal("0.002")}  # 3.6 s at (0.36 + 1.64)/h
    md = render_md(build_report(None, ALL_TIME, settings=load_settings(), generated_on=dt.date(2026, 12, 1),
                                thumbnails=False))
    rows = [line for line in md.splitlines() if line.startswith(("| Hardware amortisation", "| Brief and copy"))]
    assert rows == ["| Hardware amortisation per compute hour (in the compute rate) | €1.64 / h | 10 |",
                    "| Brief and copy writing, minutes once per campaign (estimated) | 45 | 1 |"]


def test_a_masters_whole_milliseconds_are_split_exactly_no_rounding_residue_is_overhead(ledger_project):
    # three deliverables share a 100 ms master: 33.3333 s-rounded shares would leave 1 ms "overhead"
    m = manifest(formats=(("meta-square", "social"), ("iab-leaderboard", "display"), ("meta-story", "social")),
                 locales=("en-US",), compute=0.0333)
    m["compute_seconds"] = 0.1
    for a, ms in zip(m["assets"], (34, 33, 33)):
        a["compute_ms"] = ms
    m["compute_ms"] = 100
    entries = record_and_list(record(m))
    assert [e.kind for e in entries] == ["asset"] * 3
    # booked as the manifest split them, whole milliseconds in the ledger's own column
    with Ledger(readonly=True) as lg:
        booked = [r[0] for r in lg.conn.execute("SELECT compute_ms FROM entries WHERE run_id = ? AND kind = 'asset' "
                                                "ORDER BY id", (m["run_id"],))]
    assert booked == [a["compute_ms"] for a in m["assets"]] and sum(booked) == m["compute_ms"]
    # a manifest written before compute_ms: the rounded seconds, and the remainder is overhead
    old = manifest(run_id="old", finished="2026-11-26T08:31:00+00:00", locales=("en-US",), compute=0.25)
    assert [e.kind for e in record_and_list(record(old))] == ["asset"] * 2 + ["overhead"]


def test_a_report_of_drafts_only_says_there_is_nothing_to_chart(ledger_project):
    from assetkit.report.html import render_html
    from assetkit.report.pdf import render_pdf

    card()
    record(manifest(generator="draft"))
    data = build_report(None, ALL_TIME, settings=load_settings(), generated_on=dt.date(2026, 12, 1),
                        thumbnails=False)
    html = render_html(data)
    # proofs are not counted, their cost neither: all four charts would be empty frames
    assert html.count("Nothing to chart: every amount here is zero") == 4 and "<svg" not in html
    assert render_pdf(data)[:5] == b"%PDF-"
    record(manifest(run_id="model", finished="2026-11-26T08:31:00+00:00"))  # a model run: a baseline
    data = build_report(None, ALL_TIME, settings=load_settings(), generated_on=dt.date(2026, 12, 1),
                        thumbnails=False)
    html = render_html(data)
    assert "Nothing to chart" not in html and html.count("<svg") == 4


def test_what_has_no_baseline_is_in_no_table_and_said_so(ledger_project):
    """Draft proofs (and runs without a valid quote) are counted in no table, key figure or
    methodology table: the tables' deliverables are those priced, the human-time and compute
    tables foot to the cost structure, and what was left out is stated with its time and cost."""
    card()
    record(manifest(generator="draft"))
    record(manifest(run_id="model", finished="2026-11-26T08:31:00+00:00"))
    data = build_report(None, ALL_TIME, settings=load_settings(), generated_on=dt.date(2026, 12, 1),
                        thumbnails=False)
    f, m = data.current, data.methodology
    assert (f.assets, f.assets_counted) == (8, 4)
    assert sum(r.assets for r in data.by_cause) == f.run_deliverables == 5
    assert sum(r.entries for r in data.by_category) == f.entries - f.unbaselined_entries
    parts = {c.key: c.amount for c in data.cost_structure}
    assert sum((h.cost for h in m.human_time), Decimal(0)) == parts["human"] > 0
    assert sum((c.cost for c in m.compute_rates), Decimal(0)) == parts["compute"] > 0
    assert m.not_counted_entries == f.unbaselined_entries == 6 and m.not_counted_hours > 0
    assert f.turnaround_runs == 1  # the model run only: a proof is not compared with the agency
    # the rates applied are those of the counted entries: the proofs' (no card) are not among them
    counted = f.entries - f.unbaselined_entries
    assert 0 < max(a.entries for a in m.applied) <= counted
    assert sum(a.entries for a in m.applied if a.item == "internal_hourly_rate") <= counted
    md = render_md(data)
    assert "| Assets produced | **8** | 4 counted, 4 without a baseline (not counted) |" in md
    assert "Not in this table or the in-house cost: 6 entries without a baseline (draft proofs, runs without " \
           f"a valid quote), {m.not_counted_hours:.1f} h, €{f.unbaselined_cost:.2f}" in md
    assert "“Assets produced” counts every asset the period's runs made; the tables count only deliverables " \
           "with a baseline (4 of 8)" in md
    assert "Turnaround is the median over the period's runs with a baseline (1)" in md
    assert "&amp;" not in md and "&lt;" not in md


def test_a_run_without_any_baseline_is_apart_with_its_overhead(ledger_project):
    """A run whose brief names a card that is not imported: every entry of it, its run overhead
    (model load, setup) included, has no baseline, so no table counts any of its cost."""
    card()
    rec = record(manifest(quote="not-imported"))
    kinds = [(e.kind, e.no_baseline) for e in record_and_list(rec)]
    assert ("overhead", True) in kinds and all(nb for _, nb in kinds), kinds
    data = build_report(None, ALL_TIME, settings=load_settings(), generated_on=dt.date(2026, 12, 1),
                        thumbnails=False)
    assert data.current.actual == 0 and data.current.entries == data.current.unbaselined_entries


def test_turnaround_counts_the_review_time_recorded_for_the_run(ledger_project):
    """In-house turnaround is a run's start to finish plus its human time: the estimate it was
    booked with, changed by the review time recorded for it later (the report's method says so)."""
    card()
    rec = record(manifest())
    settings = load_settings()

    def turnaround():
        data = build_report(None, ALL_TIME, settings=settings, generated_on=dt.date(2026, 12, 1), thumbnails=False)
        return Decimal(data.current.turnaround_inhouse_hours)

    before = turnaround()
    with Ledger() as lg:
        lg.record_review(rec.run_id, 6, settings)  # 6 minutes in all instead of the estimate
        change = sum(e.actual_hours for e in lg.entries(kind="review"))
    assert change < 0
    assert turnaround() == (before + change).quantize(Decimal("0.1"))


def test_a_report_of_proofs_only_says_why_its_tables_are_empty(ledger_project):
    card()
    record(manifest(generator="draft"))
    md = render_md(build_report(None, ALL_TIME, settings=load_settings(), generated_on=dt.date(2026, 12, 1),
                                thumbnails=False))
    assert "_No entries with a baseline: the period's entries are listed under “Runs without a baseline” " \
           "(not counted)._" in md and "_No entries._" not in md
    from assetkit.report.html import render_html

    html = render_html(build_report(None, ALL_TIME, settings=load_settings(), generated_on=dt.date(2026, 12, 1),
                                    thumbnails=False))
    assert "No entries with a baseline" in html and "(see the table)" not in html  # there is no table to see


def test_a_category_left_with_only_a_voided_entry_says_voided(ledger_project):
    card()
    record(manifest())
    with Ledger() as lg:
        dup = lg.add_manual("crm", "banners (entered twice)", Decimal(900), Decimal(90), source="PO-7",
                            approved_by="cfo", settings=load_settings())
        lg.void(dup, "entered twice")
    data = build_report(None, ALL_TIME, settings=load_settings(), generated_on=dt.date(2026, 12, 1),
                        thumbnails=False)
    crm = next(r for r in data.by_category if r.key == "crm")
    assert crm.voided and (crm.entries, crm.baseline, crm.actual) == (2, 0, 0)
    assert not any(r.voided for r in data.by_category if r.key != "crm")
    assert "| CRM | voided (entries and their voids) | €0.00 |" in render_md(data)
