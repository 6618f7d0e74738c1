"""The driver's bookkeeping at scale (bench/scale.py measures it): the faster job keys, manifest
writer, findings summary and pricing give exactly what the straightforward code gave."""
from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _old_keys(campaign, ctx) -> list[str]:
    """Job keys as plan_run computed them before: one json.dumps(sort_keys) of the whole dict."""
    from assetkit import __version__
    from assetkit.campaign import effective_copy
    from assetkit.files import sha256_file
    from assetkit.runner import _hash, _scale_key, job_seed

    brief, brand, pipe, options = campaign.brief, campaign.brand, campaign.pipeline, ctx.options
    common = _hash({"assetkit": __version__, "brand": brand.fingerprint(),
                    "steps": [s.fingerprint(ctx) for s in pipe.steps], "model": options.model,
                    "generator": options.generator, "signing": None})
    files: dict[str, str] = {}
    keys = []
    scale = {fmt.name: _scale_key(campaign, fmt) for fmt in brief.ad_formats()}
    for concept in brief.concepts:
        cdump = concept.model_dump(mode="json")
        for ref in (concept.image, concept.product):
            if ref:
                files[ref] = files.get(ref) or sha256_file(brief.concept_path(ref))
        for variant in range(1, brief.variants_of(concept) + 1):
            seed = job_seed(brief.seed, concept.id, variant)
            for fmt in brief.ad_formats():
                for locale in brief.locales:
                    copy = effective_copy(brand, brief.copy[locale], locale).for_format(fmt).model_dump(
                        mode="json", exclude={"source"})
                    copy["type_scale_of"] = scale[fmt.name]
                    keys.append(_hash({"common": common, "concept": cdump, "files": files, "variant": variant,
                                       "seed": seed, "format": fmt.to_dict(), "locale": locale,
                                       "copy": copy})[:32])
    return keys


@pytest.mark.parametrize("brief", ["examples/spring-launch/brief.yaml", "examples/packshot/brief.yaml"])
def test_job_keys_are_the_hash_of_the_whole_job(tmp_path, brief):
    from assetkit import runner
    from assetkit.campaign import load_campaign
    from assetkit.context import RunOptions

    campaign = load_campaign(ROOT / brief)
    ctx = runner.make_context(campaign, RunOptions(out=tmp_path / "out"))
    plan = runner.plan_run(ctx, campaign)
    assert [j.key for j in plan.jobs] == _old_keys(campaign, ctx)
    assert len({j.key for j in plan.jobs}) == len(plan.jobs)
    if "packshot" in brief:  # a product image: the keys cover the files part too
        assert any(c.product for c in campaign.brief.concepts)


def _manifest() -> dict:
    asset = {"path": "de-DE/meta-square/c1-v1.png", "sha256": "ab" * 32, "width": 1080, "cached": False,
             "compose": {"lines": {"headline": ["Der Frühling", "schmeckt – „gut“"]}, "dropped": [], "scrim": True,
                         "contrast": {"cta": 4.73}, "nested": {"empty": {}}},
             "boxes": {"cta": [54, 926, 301, 985]}, "checks": [{"check": "dropped", "level": "warning",
                                                                  "message": "a\nb \"quoted\" \\ tab\t"}],
             "seed": 2**40, "ratio": 0.1 + 0.2, "none": None, "日本": "ja"}
    return {"assetkit_version": "0.1.0", "run_id": "r1", "locales": ["en-US", "de-DE"], "formats": [],
            "timings": {"total": 1.5}, "copy": {"de-DE": {"headline": "Grüße"}}, "provenance": {},
            "assets": [dict(asset, path=f"x/{i}.png") for i in range(5)],
            "checks": [{"asset": "x/1.png", "check": "dropped", "level": "warning", "message": "m"}],
            "check_summary": [{"rule": "dropped", "assets": ["x/1.png"], "count": 1}], "contact_sheets": {}}


def test_manifest_text_is_the_same_json_one_asset_a_line():
    from assetkit.steps.export import manifest_text

    m = _manifest()
    text = manifest_text(m)
    assert json.loads(text) == m == json.loads(json.dumps(m, indent=2, ensure_ascii=False))
    assert list(json.loads(text)) == list(m)  # key order kept
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and text.endswith("}\n")
    assert lines[1] == '  "assetkit_version": "0.1.0",'
    assert sum(ln.startswith('    {"path": "x/') for ln in lines) == 5  # each asset one line
    assert "Frühling" in text and "日本" in text  # UTF-8 as before, not \u escapes
    assert '  "formats": [],' in lines and '  "provenance": {},' in lines
    empty = dict(m, assets=[], checks=[])
    assert json.loads(manifest_text(empty)) == empty and '  "assets": [],' in manifest_text(empty).splitlines()
    assert manifest_text({}) == "{}\n"


def test_a_run_writes_the_manifest_it_returns(tmp_path, monkeypatch):
    """A real (draft) run: manifest.json parses to the manifest the run returned, one asset a line."""
    from assetkit.context import RunOptions
    from assetkit.runner import run_brief

    shutil.copytree(ROOT / "examples" / "spring-launch", tmp_path / "examples" / "spring-launch")
    shutil.copytree(ROOT / "brand" / "nordlicht", tmp_path / "brand" / "nordlicht")
    brief = tmp_path / "examples" / "spring-launch" / "brief.yaml"
    text = brief.read_text().replace("variants: 2", "variants: 1").split("  - id: roastery")[0]
    keep = ("- meta-square", "- iab-leaderboard")
    brief.write_text("\n".join(ln for ln in text.splitlines()
                               if not ln.strip().startswith(("- meta-", "- iab-")) or ln.strip() in keep) + "\n")
    monkeypatch.chdir(tmp_path)
    res = run_brief(brief, RunOptions(out=tmp_path / "out", record=False))
    text = res.manifest_path.read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(json.dumps(res.manifest))
    assert sum(ln.startswith('    {"path": ') for ln in text.splitlines()) == len(res.manifest["assets"]) == 4


def _old_summarise(findings):
    from assetkit.rules import RULES

    groups: dict = {}
    for f in findings:
        g = groups.setdefault((f["check"], f["level"]), {"rule": f["check"], "level": f["level"], "count": 0,
                                                         "assets": [], "example": f["message"]})
        g["count"] += 1
        if f["asset"] not in g["assets"]:
            g["assets"].append(f["asset"])
    out = sorted(groups.values(), key=lambda g: (g["level"] != "error", g["rule"]))
    for g in out:
        g["fix"] = RULES[g["rule"]].fix if g["rule"] in RULES else ""
    return out


def test_summarise_is_unchanged():
    from assetkit.rules import summarise

    rng = random.Random(3)
    findings = [{"asset": f"a/{rng.randint(0, 40)}.png", "check": rng.choice(["dropped", "palette", "contrast"]),
                 "level": rng.choice(["warning", "error"]), "message": f"m{i}"} for i in range(500)]
    assert summarise(findings) == _old_summarise(findings)
    assert summarise([]) == []


def test_bench_scale_driver_books_every_record(tmp_path):
    """The bench's driver part on 64 records (no timings asserted): every record booked once."""
    sys.path.insert(0, str(ROOT / "bench"))
    import scale

    m = json.loads(json.dumps(_manifest()["assets"][0]))
    templates = {(f, loc): dict(m, format=f, locale=loc, format_class="social", compute_seconds=0.5)
                 for f in scale.FORMATS for loc in scale.LOCALES}
    r = scale.driver(tmp_path / "drv", 64, templates)
    assert r["assets"] == r["booked"] == 64
    manifest = json.loads((tmp_path / "drv" / "out" / "scale" / "manifest.json").read_text())
    assert len({a["key"] for a in manifest["assets"]}) == 64
    assert set(r["phases"]) >= {"plan", "receive", "manifest", "write manifest.json", "ledger"}


def test_pricing_caches_change_nothing(ledger_project, monkeypatch):
    """_price_run with its per-run caches gives the rows it gives with every cache turned off:
    two cards (one with adaptation lines, one in USD through fx), masters, resizes, locale
    versions, variants, translations."""
    sys.path.insert(0, str(ROOT / "tests"))
    from ledger_fixtures import EXAMPLE_YAML, QUOTE_YAML, manifest

    from assetkit.ledger import Ledger, pricing
    from assetkit.quotes import load_quotes
    from assetkit.settings import load_settings

    settings = load_settings(None)
    m = manifest(formats=(("meta-square", "social"), ("meta-story", "social"), ("iab-leaderboard", "display"),
                          ("no-such-format", "ooh")), locales=("en-US", "de-DE", "fr-FR"),
                 concepts=("morning", "evening"))
    m["assets"] += [dict(a, variant=2, path=a["path"].replace("-v1", "-v2"), sha256="2" * 64)
                    for a in m["assets"][:6]]
    for i, a in enumerate(m["assets"]):
        a["compute_seconds"] = 0.25 + i / 7
    usd = load_quotes(QUOTE_YAML)[0].model_copy(update={"id": "usd-card", "currency": "USD"})
    with Ledger() as lg:
        lg.import_quote(load_quotes(EXAMPLE_YAML)[0])
        lg.import_quote(usd)
        quotes = lg.quotes()
        monkeypatch.setattr(pricing, "utc_iso", lambda value=None: "2026-11-25T09:00:00Z")
        cached = pricing._price_run(m, "out/manifest.json", settings, None, quotes, lg)
        monkeypatch.setattr(pricing, "_once", lambda fn, key: fn)
        plain = pricing._price_run(m, "out/manifest.json", settings, None, quotes, lg)
    assert cached == plain
    rows = cached[1][0][1]
    assert len(rows) == len(m["assets"]) and len({r["applied"] for r in rows}) > 4
    assert {json.loads(r["applied"])["role"] for r in rows} == {"master", "resize", "locale", "variant"}


def test_identities_of_many_keys_are_those_of_each_key(ledger_project):
    """Ledger.identities (one query per 500 keys) answers as Ledger.identity does key by key:
    booked, revised (the latest content wins), voided (back to the earlier one) and unknown keys."""
    sys.path.insert(0, str(ROOT / "tests"))
    from ledger_fixtures import EXAMPLE_YAML, manifest

    from assetkit.ledger import Ledger, pricing
    from assetkit.quotes import load_quotes
    from assetkit.settings import load_settings

    settings = load_settings(None)
    with Ledger() as lg:
        lg.import_quote(load_quotes(EXAMPLE_YAML)[0])  # with a revision line: revisions are baselined
        lg.record_run(manifest(run_id="r1", concepts=("a", "b", "c")), "out/m.json", settings)
        second = manifest(run_id="r2", concepts=("a", "b"))
        for a in second["assets"]:
            a["sha256"] = "9" * 64  # changed outputs: revisions
        lg.record_run(second, "out/m2.json", settings)
        revision = lg.conn.execute("SELECT MAX(id) FROM entries WHERE run_id = 'r2' AND kind = 'asset'").fetchone()[0]
        lg.void(revision, "wrong file")
        lg.record_run(manifest(run_id="r3", generator="draft", concepts=("d",)), "out/m3.json", settings)
        keys = [r[0] for r in lg.conn.execute("SELECT DISTINCT deliverable_key FROM entries "
                                              "WHERE deliverable_key IS NOT NULL")]
        keys += [pricing.identity_key("spring-launch", "zzz", 1, "meta-square", "en-US")] * 2
        keys = keys * 300  # over one chunk of 500
        want = {k: v for k in keys if (v := lg.identity(k)) is not None}
        assert lg.identities(keys) == want
        assert set(want.values()) == {"0" * 64, "9" * 64}  # revisions and voided revisions both seen
        plan = " ".join(str(tuple(r)) for r in lg.conn.execute(
            "EXPLAIN QUERY PLAN SELECT 1 FROM entries WHERE deliverable_key IN (?, ?)", ("x", "y")))
        assert "entries_deliverable" in plan
        assert lg.identities([]) == {}
