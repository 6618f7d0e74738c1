"""The savings report: every figure equals the ledger's sums; empty/missing data; locales; escaping; formats."""
from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from report_fixtures import entry, random_ledger, write_ledger

from assetkit.cli import cli
from assetkit.errors import UsageError
from assetkit.ledger import Ledger
from assetkit.report import build_report, cause_of, iter_entry_lines
from assetkit.report.html import render_html
from assetkit.report.i18n import Fmt
from assetkit.report.model import ALL_TIME, compare_period, parse_period
from assetkit.report.pdf import render_pdf
from assetkit.report.tabular import render_csv, render_json, render_md
from assetkit.settings import Settings

EVIL = "<script>alert(1)</script> & co"
TODAY = dt.date(2026, 11, 25)


def visible(html: str) -> str:
    """The text a reader sees (no CSS, no chart markup, no tags)."""
    html = re.sub(r"<style.*?</style>|<svg.*?</svg>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


BARE_ZERO_PCT = re.compile(r"(?<![\d.,])0([.,]0+)?\s?%")


def build(path, period=ALL_TIME, **kw):
    kw.setdefault("settings", Settings())
    kw.setdefault("generated_on", TODAY)
    return build_report(path, period, **kw)


# -- every figure equals the ledger's sums ---------------------------------------------------

def reference(path, period, brand=None, campaign=None) -> dict:
    """Sums over Ledger.entries() in plain Python: what the report must print."""
    with Ledger(path, create=False) as led:
        entries = list(led.entries(since=period.start, until=period.end, brand=brand, campaign=campaign))
        kinds = {e.id: (e.kind, e.category) for e in led.entries()}
    ref = {"baseline": Decimal(0), "actual": Decimal(0), "ai": Decimal(0), "hours": Decimal(0), "assets": 0,
           "assets_counted": 0,
           "entries": len(entries), "unb": Decimal(0), "unb_n": 0, "by": {}}
    for e in entries:
        kind, category = kinds.get(e.voids_entry_id, ("manual", "")) if e.kind == "void" else (e.kind, e.category)
        if kind == "review" and category == "translation":  # a translation's review changes translation's cost
            kind = "translation"
        if kind == "asset":
            ref["assets"] += e.units
            ref["assets_counted"] += 0 if e.no_baseline else e.units
        for dim, key in (("category", e.category), ("month", e.month), ("campaign", e.campaign or ""),
                         ("brand", e.brand or ""), ("cause", cause_of(kind))):
            if not e.no_baseline:  # a table counts only what its money covers
                b = ref["by"].setdefault(dim, {}).setdefault(key, {"baseline": Decimal(0), "actual": Decimal(0),
                                                                    "n": 0, "units": 0})
                b["n"] += 1
                b["units"] += e.units
                b["baseline"] += e.baseline
                b["actual"] += e.actual
        if e.no_baseline:
            ref["unb"] += e.actual
            ref["unb_n"] += 1
            continue
        ref["baseline"] += e.baseline
        ref["actual"] += e.actual
        ref["hours"] += e.hours_saved
        if cause_of(kind) == "ai_generation":
            ref["ai"] += e.saving
        part = "manual" if cause_of(kind) == "manual" else "run"
        ref[part + "_saving"] = ref.get(part + "_saving", Decimal(0)) + e.saving
        ref[part + "_baseline"] = ref.get(part + "_baseline", Decimal(0)) + e.baseline
        ref[part + "_units"] = ref.get(part + "_units", 0) + e.units
    return ref


PERIODS = st.sampled_from(["all", "2026-Q1", "2026-Q2", "2026-03", "2026", "2026-02-10..2026-04-20", "2025-Q4"])


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(0, 50), period=PERIODS,
       brand=st.sampled_from([None, "Nordlicht", "Acme"]),
       campaign=st.sampled_from([None, "Spring launch", EVIL, "nope"]))
def test_every_figure_equals_the_ledger_sums(seed, n, period, brand, campaign):
    with tempfile.TemporaryDirectory() as tmp:
        path = random_ledger(Path(tmp) / "l.sqlite", seed, n=n)
        p = parse_period(period)
        data = build(path, p, brand=brand, campaign=campaign)
        ref = reference(path, p, brand, campaign)
        f = data.current
        assert f.entries == ref["entries"] == data.entries_total
        assert f.baseline == ref["baseline"]
        assert f.actual == ref["actual"]
        assert f.saving == ref["baseline"] - ref["actual"]
        assert f.ai_saving == ref["ai"]
        assert f.unbaselined_cost == ref["unb"] and f.unbaselined_entries == ref["unb_n"]
        assert f.assets == ref["assets"] and f.assets_counted == ref["assets_counted"]
        assert f.hours_saved == ref["hours"].quantize(Decimal("0.01"))  # exact ms, rounded once to print
        assert f.saving_pct == (f.saving / f.baseline if f.baseline > 0 else None)
        # the headline: runs only (manual entries apart), annualised only over a quarter or more
        assert (f.run_saving, f.run_deliverables) == (ref.get("run_saving", 0), ref.get("run_units", 0))
        assert (f.manual_saving, f.manual_entries) == (ref.get("manual_saving", 0), ref.get("manual_units", 0))
        assert f.run_saving + f.manual_saving == f.saving
        if f.sensitivity:  # at the settings' minutes and rate it is the headline figure
            assert dict(((k, r), s) for k, r, s in f.sensitivity)[(1, 1)] == f.run_saving
        if f.days is None or f.days < 90 or not ref.get("run_baseline"):
            assert f.annual_saving is None
        else:
            assert f.annual_saving == f.run_saving * 365 / f.days
        for dim, rows in (("category", data.by_category), ("month", data.by_month), ("campaign", data.by_campaign),
                          ("brand", data.by_brand), ("cause", data.by_cause)):
            got = {r.key: (r.baseline, r.actual, r.entries, r.assets) for r in rows}
            want = {k: (v["baseline"], v["actual"], v["n"], v["units"]) for k, v in ref["by"].get(dim, {}).items()}
            assert got == want, dim
            assert sum(r.saving for r in rows) == f.saving
        # the methodology's compute and human-time tables foot to the cost structure's lines
        m, parts = data.methodology, {c.key: c.amount for c in data.cost_structure}
        assert sum((c.cost for c in m.compute_rates), Decimal(0)) == parts.get("compute", 0)
        assert sum((h.cost for h in m.human_time), Decimal(0)) == parts.get("human", 0)
        assert sum(c.amount for c in data.cost_structure) == f.actual
        # The exports carry the same numbers (rounded to the cent), and every entry id.
        figures, entries_csv = render_csv(data, iter_entry_lines(path, data, Settings()))
        assert f"current,,saving,{f.saving.quantize(Decimal('0.01'))}" in figures
        with Ledger(path, create=False) as led:
            ids = [str(e.id) for e in led.entries(since=p.start, until=p.end, brand=brand, campaign=campaign)]
        assert sorted(line.split(",", 1)[0] for line in entries_csv.splitlines()[1:]) == sorted(ids)


def test_voids_net_out_and_count_as_the_original_cause(tmp_path):
    e1 = entry(kind="translation", category="translation", occurred_at="2026-05-02T10:00:00Z",
               baseline_micros=100_000_000, actual_human_micros=10_000_000)
    void = entry(kind="void", category="translation", occurred_at="2026-05-03T10:00:00Z", units=-1,
                 baseline_micros=-100_000_000, actual_human_micros=-10_000_000, voids_entry_id=1)
    keep = entry(kind="asset", occurred_at="2026-05-04T10:00:00Z", baseline_micros=300_000_000,
                 actual_compute_micros=1_500_000, campaign="Spring", brand="B")
    path = write_ledger(tmp_path / "l.sqlite", [e1, void, keep])
    data = build(path)
    assert data.current.saving == Decimal("298.5")
    assert data.current.ai_share == Decimal(1)
    assert {r.key: r.saving for r in data.by_cause} == {"ai_generation": Decimal("298.5"), "translation": 0}


# -- empty periods, missing baselines --------------------------------------------------------

def test_empty_period_renders_dashes_not_zero_percent_or_nan(tmp_path):
    path = random_ledger(tmp_path / "l.sqlite", 3, n=30)
    data = build(path, parse_period("2030-Q1"))
    assert data.current.entries == 0 and data.current.saving_pct is None and data.current.ai_share is None
    html = render_html(data)
    assert "No ledger entries in this period." in html
    md = render_md(data)
    for text in (visible(html), md):
        assert "NaN" not in text and "nan" not in text.lower()
        assert not BARE_ZERO_PCT.search(text)
    assert "| Cost vs rate card, incl. manual | **—** |" in md
    doc = json.loads(render_json(data, []))
    assert doc["current"]["saving_pct"] is None and doc["current"]["annual_saving"] is None
    assert render_pdf(data).startswith(b"%PDF")


def test_missing_baseline_is_listed_and_excluded(tmp_path):
    rows = [entry(kind="asset", occurred_at="2026-04-02T10:00:00Z", run_id=None, campaign="Print",
                  no_baseline=1, no_baseline_reason="quote print-studio-2026 was never imported",
                  actual_compute_micros=2_000_000, actual_human_micros=30_000_000)]
    path = write_ledger(tmp_path / "l.sqlite", rows)
    data = build(path, parse_period("2026-Q2"))
    f = data.current
    assert f.baseline == 0 and f.saving_pct is None and f.unbaselined_cost == Decimal(32)
    assert data.methodology.missing_baseline[0].reason == "quote print-studio-2026 was never imported"
    html = render_html(data)
    assert "No agency baseline for this period — no saving can be stated." in html
    assert "no baseline" in html and "quote print-studio-2026 was never imported" in html
    assert not BARE_ZERO_PCT.search(visible(html)) and "NaN" not in html
    de = render_md(build(path, parse_period("2026-Q2"), locale="de-DE"))
    assert "keine Basis" in de and "Keine Agentur-Vergleichsbasis" in de


# -- locales --------------------------------------------------------------------------------

def test_money_and_percent_formatting_per_locale():
    de, en = Fmt("de-DE", "EUR"), Fmt("en-US", "EUR")
    assert de.money(Decimal("1234.56")) == "1.234,56\xa0€"
    assert en.money(Decimal("1234.56")) == "€1,234.56"
    assert de.pct(Decimal("0.246")) == "24,6\xa0%"
    assert en.pct(Decimal("-0.25"), signed=True) == "-25%"
    assert de.money_short(Decimal("4012345")) == "4\xa0Mio.\xa0€"
    assert en.money_whole(Decimal("12345.67")) == "€12,346"
    assert de.pct(None) == en.money(None) == "—"
    assert Fmt("de-DE", "USD").money(Decimal("1234.56")) == "1.234,56\xa0$"


def test_report_text_and_numbers_follow_the_locale(tmp_path):
    rows = [entry(kind="asset", occurred_at="2026-05-02T10:00:00Z", baseline_micros=1_334_560_000,
                  actual_human_micros=100_000_000, campaign="Spring", brand="B")]
    path = write_ledger(tmp_path / "l.sqlite", rows)
    de = render_html(build(path, parse_period("2026-Q2"), locale="de-DE"))
    en = render_html(build(path, parse_period("2026-Q2"), locale="en-US"))
    assert "1.234,56\xa0€" in de and "Einsparung" in de and "Mai 2026" in de and "25.11.2026" in de
    assert "€1,234.56" in en and "Saving" in en and "May 2026" in en and "Nov 25, 2026" in en


# -- escaping ----------------------------------------------------------------------------------

def test_script_in_campaign_name_is_escaped_in_html_and_svg(tmp_path):
    rows = [entry(kind="asset", occurred_at="2026-05-02T10:00:00Z", baseline_micros=500_000_000,
                  actual_human_micros=10_000_000, campaign=EVIL, brand="<b>rand</b>", run_id=None)]
    path = write_ledger(tmp_path / "l.sqlite", rows)
    html = render_html(build(path, campaign=EVIL))
    assert "<script" not in html and "<b>rand" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) == 4
    assert any("&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; co" in s or "&lt;script&gt;alert(1)" in s
               for s in svgs)
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', "").split("<svg")[0]
    assert re.search(r'(src|href)="https?:', html) is None
    md = render_md(build(path))
    assert "<script>" not in md and "<b>" not in md and "&lt;script>alert(1)&lt;/script> & co" in md
    assert "<0.1%" in md or "<" not in md.replace("&lt;", "")  # a plain '<' stays as it reads


def test_csv_cells_cannot_become_spreadsheet_formulas(tmp_path):
    rows = [entry(kind="manual", occurred_at="2026-05-02T10:00:00Z", baseline_micros=5_000_000,
                  campaign="=HYPERLINK(\"http://x\")", brand="+cmd")]
    path = write_ledger(tmp_path / "l.sqlite", rows)
    data = build(path)
    _, entries = render_csv(data, iter_entry_lines(path, data, Settings()))
    assert "'=HYPERLINK" in entries and ",'+cmd," in entries


# -- PDF -------------------------------------------------------------------------------------

def _pdf_streams(pdf: bytes) -> list[bytes]:
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            out.append(m.group(1))
    return out


@pytest.fixture(scope="module")
def demo_pdf(tmp_path_factory):
    path = random_ledger(tmp_path_factory.mktemp("pdf") / "l.sqlite", 11, n=120)
    return render_pdf(build(path, parse_period("2026-Q2"), compare=parse_period("2026-Q1"), locale="de-DE"))


def test_pdf_has_pages_text_and_vector_charts(demo_pdf):
    assert demo_pdf.startswith(b"%PDF-") and demo_pdf.rstrip().endswith(b"%%EOF")
    pages = len(re.findall(rb"/Type /Page\b", demo_pdf))
    assert pages >= 4
    streams = b"\n".join(_pdf_streams(demo_pdf))
    # SVG charts are drawn as vector paths: many Bézier operators, no raster image.
    assert b"/Subtype /Image" not in demo_pdf
    assert len(re.findall(rb"[\d.]+ [\d.]+ [\d.]+ [\d.]+ [\d.]+ [\d.]+ c\b", streams)) > 500
    assert b"DejaVu" in demo_pdf  # the TTF that prints €


def test_pdf_renders_to_png(demo_pdf, tmp_path):
    pdfium = pytest.importorskip("pypdfium2")
    doc = pdfium.PdfDocument(demo_pdf)
    assert len(doc) >= 4
    text = doc[0].get_textpage().get_text_range()
    assert "Einsparungen in der Kreativproduktion" in text and "€" in text
    img = doc[0].render(scale=0.6).to_pil().convert("L")
    lo, hi = img.getextrema()
    assert hi - lo > 100  # not a blank page
    img.save(tmp_path / "page1.png")


def test_pdf_headings_are_kept_with_what_follows(demo_pdf):
    """A section heading never stands alone at a page foot: at least 60 mm of its chart or table
    follow it on its page (the footer takes the last 18 mm)."""
    pdfium = pytest.importorskip("pypdfium2")
    doc = pdfium.PdfDocument(demo_pdf)
    mm = 72 / 25.4
    seen = set()
    for i in range(len(doc)):
        text = doc[i].get_textpage()
        for heading in ("Nach Monat", "Nach Agenturkategorie", "Struktur der internen Kosten", "Nach Kampagne",
                        "Manuelle Einträge", "Nach Marke"):
            found = text.search(heading, match_case=True, match_whole_word=True).get_next()
            if found is None:
                continue
            _left, bottom, _right, _top = text.get_charbox(found[0])
            seen.add(heading)
            assert bottom > (18 + 60) * mm, f"{heading!r} is stranded at the foot of page {i + 1}"
    assert seen >= {"Nach Monat", "Nach Agenturkategorie", "Nach Kampagne", "Manuelle Einträge"}


# -- thumbnails --------------------------------------------------------------------------------

def test_thumbnails_from_the_run_manifest_and_missing_files_skipped(tmp_path):
    from PIL import Image

    out = tmp_path / "out" / "spring"
    (out / "en-US").mkdir(parents=True)
    Image.new("RGB", (1080, 1080), (200, 40, 40)).save(out / "en-US" / "a.png")
    (out / "manifest.json").write_text(json.dumps({"assets": [{"path": "en-US/a.png"}, {"path": "gone.png"}]}))
    runs = [{"run_id": "r1", "campaign": "Spring", "brand": "B", "started_at": "2026-05-02T10:00:00Z",
             "finished_at": "2026-05-02T10:05:00Z", "manifest_path": str(out / "manifest.json")},
            {"run_id": "r2", "campaign": "Gone", "brand": "B", "started_at": "2026-05-03T10:00:00Z",
             "finished_at": "2026-05-03T10:05:00Z", "manifest_path": str(tmp_path / "nope" / "manifest.json")}]
    rows = [entry(run_id="r1", campaign="Spring", brand="B", occurred_at="2026-05-02T10:05:00Z",
                  baseline_micros=200_000_000),
            entry(run_id="r2", campaign="Gone", brand="B", occurred_at="2026-05-03T10:05:00Z",
                  baseline_micros=300_000_000)]
    path = write_ledger(tmp_path / "l.sqlite", rows, runs)
    data = build(path)
    assert [(t.campaign, t.path) for t in data.thumbnails] == [("Spring", "a.png")]
    assert max(data.thumbnails[0].width, data.thumbnails[0].height) <= 360
    html = render_html(data)
    assert 'src="data:image/jpeg;base64,' in html
    assert render_pdf(data).count(b"/Subtype /Image") >= 1


# -- currency conversion -----------------------------------------------------------------------

def test_foreign_currency_entries_are_converted_with_dated_rates(tmp_path):
    rows = [entry(occurred_at="2026-05-02T10:00:00Z", currency="USD", baseline_micros=110_000_000),
            entry(occurred_at="2026-05-03T10:00:00Z", currency="EUR", baseline_micros=100_000_000)]
    path = write_ledger(tmp_path / "l.sqlite", rows)
    s = Settings.model_validate({"fx": [{"date": "2026-01-01", "from": "EUR", "to": "USD", "rate": "1.10"}]})
    data = build(path, settings=s)
    assert data.current.baseline == Decimal(200)
    assert [(x.currency, x.entries) for x in data.methodology.fx] == [("USD→EUR", 1)]
    with pytest.raises(UsageError, match="no USD→EUR exchange rate"):
        build(path, settings=Settings(fx=[]))


# -- periods and the command -------------------------------------------------------------------

def test_periods():
    q = parse_period("2026-Q2")
    assert (q.start, q.end, q.kind) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30), "quarter")
    assert compare_period("previous", q).label == "2026-Q1"
    assert compare_period("previous", parse_period("2026-Q1")).label == "2025-Q4"
    assert compare_period("previous-year", q).label == "2025-Q2"
    assert compare_period("previous", parse_period("2026-01")).label == "2025-12"
    assert compare_period("previous", parse_period("2026-03-01..2026-03-10")).label == "2026-02-19..2026-02-28"
    assert parse_period("2026").end == dt.date(2026, 12, 31)
    with pytest.raises(UsageError, match="'2026-13' is not a period"):
        parse_period("2026-13")
    with pytest.raises(UsageError, match="all time has no previous"):
        compare_period("previous", ALL_TIME)


@pytest.fixture(scope="module")
def cli_ledger(tmp_path_factory):
    return random_ledger(tmp_path_factory.mktemp("cli") / "l.sqlite", 5, n=80)


@pytest.mark.parametrize("args, message", [
    (["--period", "Q2"],
     "Error: --period: 'Q2' is not a period; use 2026-Q2, 2026-05, 2026, 2026-04-01..2026-06-30 or all\n"),
    (["--from", "2026-01-01"], "Error: --from and --to go together (both inclusive)\n"),
    (["--from", "2026-02-01", "--to", "2026-01-01"], "Error: --to 2026-01-01 is before --from 2026-02-01\n"),
    (["--period", "2026-09-01..2026-08-01"], "Error: --period: 2026-09-01..2026-08-01 ends before it starts; give "
                                              "the earlier day first (2026-08-01..2026-09-01)\n"),
    (["--period", "2026-Q1", "--from", "2026-01-01", "--to", "2026-01-02"],
     "Error: give either --period or --from/--to, not both\n"),
    (["--compare-to", "previous"],
     "Error: --compare-to previous needs a --period or --from/--to (all time has no previous)\n"),
    (["--locale", "xx-YY"], "Error: --locale: unknown locale 'xx-YY' (expected e.g. en-US or de-DE)\n"),
    (["--format", "pdf", "--out", "-"], "Error: --format pdf needs --out FILE (PDF is not written to a terminal)\n"),
    (["--currency", "EURO"], "Error: --currency: 'EURO' is not an ISO 4217 currency code like EUR, USD or GBP\n"),
])
def test_cli_errors_exit_2_with_a_clear_message(cli_ledger, args, message):
    r = CliRunner().invoke(cli, ["report", "--ledger", str(cli_ledger), *args])
    assert (r.exit_code, r.output) == (2, message)


def test_cli_missing_ledger(tmp_path):
    r = CliRunner().invoke(cli, ["report", "--ledger", str(tmp_path / "none.sqlite")])
    assert r.exit_code == 2 and "no ledger yet" in r.output


def test_cli_writes_every_format(cli_ledger, tmp_path):
    runner = CliRunner()
    for name in ("r.html", "r.pdf", "r.md", "r.json", "r.csv"):
        r = runner.invoke(cli, ["report", "--ledger", str(cli_ledger), "--period", "2026-Q2", "--compare-to",
                                "previous", "--locale", "de-DE", "--out", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
        assert f"wrote {tmp_path / name}" in r.output
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["period"]["label"] == "2026-Q2" and doc["compare"]["label"] == "2026-Q1"
    assert len(doc["entries"]) == doc["current"]["entries"]
    assert (tmp_path / "r-entries.csv").read_text().startswith("entry_id,run_id,date,")
    r = runner.invoke(cli, ["report", "--ledger", str(cli_ledger), "--format", "md"])
    assert r.exit_code == 0 and r.output.startswith("# Creative production savings · All time")


# -- small rules -----------------------------------------------------------------------------

def test_short_periods_are_not_annualised_and_tiny_shares_are_not_zero(tmp_path):
    rows = [entry(occurred_at="2026-05-02T10:00:00Z", baseline_micros=1_000_000_000,
                  actual_compute_micros=100, actual_human_micros=100_000_000)]
    path = write_ledger(tmp_path / "l.sqlite", rows)
    one_day = build(path)
    assert one_day.current.days == 1 and one_day.current.annual_saving is None
    md = render_md(one_day)
    assert ("## Runs (AI generation and translation, excl. manual entries): €900 saved against the rate card of the "
            "recorded quotes for the same 1 deliverables (90% below the card), 0.0 h saved") in md
    assert "Cost avoidance: modelled against the card's prices, not measured agency spend." in md
    assert "All time (May 2, 2026)" in md
    assert "| Compute | €0.00 | <0.1% |" in md  # "<" before a digit starts no HTML tag: it stays
    month = build(path, parse_period("2026-05"))  # a month is no basis for a year either
    assert month.current.days == 31 and month.current.annual_saving is None
    assert "a year" not in render_md(month)
    quarter = build(path, parse_period("2026-Q2"))
    assert quarter.current.days == 91 and quarter.current.annual_saving == quarter.current.run_saving * 365 / 91
    assert "Annualised: about €3,610 a year (this figure × 365 ÷ 91 days; manual entries excluded)." in \
        render_md(quarter)


def test_render_dispatch(tmp_path):
    from assetkit.report import render

    path = random_ledger(tmp_path / "l.sqlite", 2, n=20)
    data = build(path)
    assert render(data, "csv", path, Settings()).decode().startswith("section,key,metric,value\n")
    assert json.loads(render(data, "json", path, Settings()))["entries_total"] == data.entries_total
    with pytest.raises(UsageError, match="unknown report format 'docx'"):
        render(data, "docx")


def test_table_percentages_have_one_fixed_decimal():
    from decimal import Decimal

    from assetkit.report.i18n import Fmt

    en, de = Fmt("en-US", "EUR"), Fmt("de-DE", "EUR")
    assert [en.pct(Decimal(x), fixed=True) for x in ("0.89", "0.9712", "1")] == ["89.0%", "97.1%", "100.0%"]
    assert de.pct(Decimal("0.89"), fixed=True) == "89,0\xa0%"
    assert en.pct(Decimal("0.0004"), fixed=True) == "<0.1%"


def test_manual_entries_have_their_own_section(ledger_project):
    """`ledger add` entries (and their voids) are listed with their evidence in a section of their
    own whose total is the headline's manual figure; the run headline does not include them."""
    runner = CliRunner()
    common = ["--source", "Invoice HF-114", "--approved-by", "M. Keller", "--date", "2026-05-04"]
    for desc, baseline, actual in (("Newsletter banners", "900", "120"), ("Packshots", "1800", "350")):
        r = runner.invoke(cli, ["ledger", "add", "--category", "crm", "--description", desc, "--baseline", baseline,
                                "--actual", actual, "--hours", "3", *common])
        assert r.exit_code == 0, r.output
    assert runner.invoke(cli, ["ledger", "void", "2", "--reason", "booked twice"]).exit_code == 0
    r = runner.invoke(cli, ["report", "--format", "md", "--period", "2026-Q2"])
    assert r.exit_code == 0, r.output
    assert "No run in this period has a rate-card baseline" in r.output
    section = r.output.split("## Manual entries\n", 1)[1].split("\n## ", 1)[0]
    assert "| Entry | Date | Category | Description | Evidence | Agency baseline | In-house cost | Saving | " \
        "Hours saved |" in section
    assert "| 1 | May 4, 2026 | CRM | Newsletter banners | source: Invoice HF-114; approved by: M. Keller | " \
        "€900.00 | €300.00 | €600.00 | -3.0 |" in section
    assert "| 3 | May 4, 2026 | CRM | Packshots | void of #2: booked twice | -€1,800.00 | -€530.00 | -€1,270.00 | " \
        "3.0 |" in section
    assert "| **Total** |  |  |  |  | **€900.00** | **€300.00** | **€600.00** | **-3.0** |" in section
    r = runner.invoke(cli, ["report", "--format", "md", "--period", "2026-Q2", "--locale", "de-DE"])
    assert "## Manuelle Einträge\n" in r.output and "| **Summe** |" in r.output.split("## Manuelle Einträge")[1]


def test_every_report_string_has_a_german_text():
    from assetkit.report.i18n import STRINGS

    assert set(STRINGS["de"]) == set(STRINGS["en"])
    assert all(STRINGS["de"][k].strip() for k in STRINGS["de"])


def test_a_thinner_comparison_period_is_flagged(tmp_path):
    rows = [entry(occurred_at=f"2026-0{m}-10T10:00:00Z", baseline_micros=500_000_000, actual_human_micros=10_000_000)
            for m in (2, 4, 5, 6)]
    data = build(write_ledger(tmp_path / "l.sqlite", rows), parse_period("2026-Q2"),
                 compare=parse_period("2026-Q1"))
    assert "The comparison period 2026-Q1 holds 1 month of entries, this one 3 months: compare with care." in \
        render_md(data)


def test_absurd_rates_are_refused_before_anything_is_made(tmp_path, monkeypatch):
    """`internal_hourly_rate: 1e20` would overflow the ledger's integer micros: a validation error
    at its position, exit 2, before a single asset exists."""
    import shutil

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "examples" / "spring-launch", tmp_path / "examples" / "spring-launch")
    shutil.copytree(root / "brand", tmp_path / "brand")
    (tmp_path / "assetkit.yaml").write_text("currency: EUR\ninternal_hourly_rate: 1e20\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSETKIT_SETTINGS", raising=False)
    monkeypatch.delenv("ASSETKIT_LEDGER", raising=False)
    r = CliRunner().invoke(cli, ["run", "examples/spring-launch/brief.yaml", "--out", "out", "--progress", "none"])
    assert r.exit_code == 2, r.output
    assert r.output == ("assetkit.yaml:2:23: internal_hourly_rate: must be at most 1,000,000 (a rate per hour or "
                        "per asset), got 1e+20\nError: 1 problem found; nothing was run.\n")
    assert "Traceback" not in r.output and not (tmp_path / "out").exists()
    assert not (tmp_path / ".assetkit" / "ledger.sqlite").exists()


def test_page_one_figures_name_their_scope():
    """The headline counts the runs only (generation and translation; manual entries excluded); every key figure that
    sums all entries says it includes the manual ones, so 186.8 h and 211.8 h or −85.8 % and
    89.1 % below the card never stand side by side as if they measured the same thing."""
    from assetkit.report.i18n import STRINGS

    for lang, incl, excl in (("en", "incl. manual", "excl. manual entries)"),
                             ("de", "inkl. manuell", "ohne manuelle Einträge)")):
        t = STRINGS[lang]
        for key in ("headline", "headline_over"):
            assert excl in t[key], (lang, key)
        for key in ("kpi_cost_change", "kpi_saving", "kpi_ai_share", "kpi_hours", "kpi_baseline"):
            assert incl in t[key], (lang, key)
            assert len(t[key]) <= 40, (lang, key)  # two lines in a PDF tile, not three over the value


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_the_entries_csv_sums_to_the_report(tmp_path, seed):
    """An auditor's check: the entries CSV's amounts and hours (to the millionth, as stored) sum,
    over the entries with a baseline, to the report's totals exactly — per-entry cents would not."""
    import csv
    import io

    path = random_ledger(tmp_path / "l.sqlite", seed, n=120)
    data = build(path)
    _, lines = render_csv(data, iter_entry_lines(path, data, Settings()))
    rows = [r for r in csv.DictReader(io.StringIO(lines)) if r["baseline"] != "" and r["cause"] != "invoice"]
    total = {col: sum((Decimal(r[col]) for r in rows), Decimal(0)) for col in
             ("baseline", "actual", "compute", "human", "tools", "saving", "hours_saved")}
    f, parts = data.current, {c.key: c.amount for c in data.cost_structure}
    assert (total["baseline"], total["actual"], total["saving"]) == (f.baseline, f.actual, f.saving)
    assert (total["compute"], total["human"], total["tools"]) == (parts["compute"], parts["human"], parts["tools"])
    assert total["hours_saved"].quantize(Decimal("0.01")) == f.hours_saved


def test_german_methodology_reads_as_german(tmp_path):
    path = random_ledger(tmp_path / "l.sqlite", 3, n=80)
    data = build(path, locale="de-DE")
    md = render_md(data)
    compute = md.split("### Rechenkosten-Sätze", 1)[1].split("###", 1)[0]
    human = md.split("### Arbeitszeit", 1)[1].split("###", 1)[0]
    for table in (compute, human):
        header = next(line for line in table.splitlines() if line.startswith("| "))
        assert "| Stunden |" in header and "Eingesparte" not in header, header
    assert "mathematisch (half-even, „Banker's Rounding“)" in md and "kaufmännisch" not in md
    assert "mit einer Nachkommastelle gedruckt (zwei in CSV und JSON)" in md
    assert re.search(r"Eintrag #\d+ \(erfasst \d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d UTC\)", md), md[:600]


def test_rates_applied_read_in_the_report_language(tmp_path):
    from assetkit.report.i18n import Fmt
    from assetkit.report.view import _applied_value

    de, en = Fmt("de-DE", "EUR"), Fmt("en-US", "EUR")
    assert (_applied_value(de, "compute_rate_per_hour", "2.50"), _applied_value(en, "compute_rate_per_hour", "2.50")) \
        == ("2,5", "2.5")
    assert _applied_value(de, "role", "locale") == "Sprachversion" and _applied_value(en, "role", "locale") == \
        "locale version"
    assert _applied_value(de, "copy_source", "machine") == "maschinell"
    assert _applied_value(de, "lines", "resize=55/per_asset") == "resize=55/per_asset"  # card lines as recorded
