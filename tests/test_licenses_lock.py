"""The model-licence gate on tiny models whose cards declare various licences, and the campaign
lockfile: written on every run, `--locked` refusal, `diff-lock`, byte-identical re-runs."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from tinymodels import build_tiny_lora, build_tiny_sd

from assetkit.cli import cli

ROOT = Path(__file__).resolve().parent.parent
BRIEF = """version: 1
campaign: lic
brand: ../brand/nordlicht
pipeline: {pipeline}
seed: {seed}
variants: 1
formats: [meta-square]
copy:
  en-US: {{headline: Fresh roast, subline: Small batches., cta: Order now}}
concepts:
  - {{id: cup, prompt: a cup of coffee}}
"""
TINY = ("version: 1\nsteps:\n  - generate: {generator: diffusers, steps: 2, width: 64, height: 64, dtype: float32, "
        "device: cpu}\n  - reframe: {}\n  - compose: {}\n  - check: {}\n  - export: {contact_sheet: false}\n")


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("lic")
    model = build_tiny_sd(root / "tiny-sd")
    lora = root / "style-lora" / "style.safetensors"
    lora.parent.mkdir()
    build_tiny_lora(model, lora)
    return model, lora


@pytest.fixture
def proj(tmp_path, monkeypatch, tiny):
    model, lora = tiny
    shutil.copytree(ROOT / "brand" / "nordlicht", tmp_path / "brand" / "nordlicht")
    (tmp_path / "camp").mkdir()
    (tmp_path / "camp" / "tiny.yaml").write_text(TINY)
    (tmp_path / "camp" / "brief.yaml").write_text(BRIEF.format(pipeline="tiny.yaml", seed=3))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("ASSETKIT_SETTINGS", raising=False)
    monkeypatch.delenv("ASSETKIT_C2PA_KEY", raising=False)
    (model / "README.md").unlink(missing_ok=True)
    (lora.parent / "README.md").unlink(missing_ok=True)
    return tmp_path, model, lora


def card(folder: Path, front: str) -> None:
    (folder / "README.md").write_text(f"---\n{front}\ntags: [test]\n---\n# a tiny model\n")


def run(*extra):
    return invoke("run", "camp/brief.yaml", "--out", "out", "--no-ledger", "--progress", "none", *extra)


def test_an_allowed_licence_is_recorded_with_the_weights_hash(proj):
    root, model, _ = proj
    card(model, "license: creativeml-openrail-m")
    keys = root / "keys"
    assert invoke("keys", "init", str(keys)).exit_code == 0
    (root / "assetkit.yaml").write_text("provenance: {cert: keys/chain.pem, key: keys/signer.key, "
                                        "trust_anchors: keys/ca.pem}\n")
    r = run("--model", str(model))
    assert r.exit_code == 0, r.output
    m = json.loads((root / "out" / "lic" / "manifest.json").read_text())
    (use,) = m["provenance"]["models"]
    assert use == {"role": "model", "name": "tiny-sd", "weights_sha256": m["generator"]["weights_sha256"],
                   "license": "creativeml-openrail-m"}
    assert m["provenance"]["usage"] == "commercial" and m["provenance"]["license_exceptions"] == []
    v = json.loads(invoke("verify", "out/lic", "--json").output)[0]
    assert v["status"] == "valid" and v["source_type"] == "compositeWithTrainedAlgorithmicMedia"
    assert v["ingredients"][0]["source_type"] == "trainedAlgorithmicMedia"
    assert v["assetkit"]["models"] == [use]
    lock = (root / "out" / "lic" / "assetkit.lock").read_text()
    assert "license: creativeml-openrail-m" in lock and f"weights_sha256: {use['weights_sha256']}" in lock


def test_a_non_commercial_model_stops_a_commercial_campaign_before_generation(proj):
    root, model, _ = proj
    card(model, "license: other\nlicense_name: flux-1-dev-non-commercial-license")
    r = run("--model", str(model))
    assert r.exit_code == 2
    assert r.output == (
        "Error: campaign 'lic' is for commercial use, which these models' licences do not allow:\n"
        "  model 'tiny-sd' (licence: flux-1-dev-non-commercial-license): FLUX.1 [dev] Non-Commercial Licence is "
        "non-commercial\n"
        "  hint: use a model whose licence allows commercial use, set `usage:` in the brief if the campaign is not "
        "commercial, or declare an exception in assetkit.yaml:\n"
        "    allow_models:\n"
        "      - {model: 'tiny-sd', reason: \"cleared by legal, ticket #123\"}\n")
    assert not (root / "out" / "lic").exists()  # nothing generated, nothing written
    # the same model for a research campaign is fine
    brief = root / "camp" / "brief.yaml"
    brief.write_text(brief.read_text().replace("seed: 3", "seed: 3\nusage: research"))
    ok = run("--model", str(model))
    assert ok.exit_code == 0, ok.output


def test_unknown_licence_needs_a_recorded_exception(proj):
    root, model, _ = proj  # no model card at all
    r = run("--model", str(model))
    assert r.exit_code == 2
    assert "model 'tiny-sd' (licence: unknown): its model card (README.md front matter `license:`) names no " \
           "licence" in r.output
    (root / "assetkit.yaml").write_text(
        "allow_models:\n  - {model: tiny-sd, reason: \"internal test model, ticket LEGAL-42\"}\n")
    ok = run("--model", str(model))
    assert ok.exit_code == 0, ok.output
    m = json.loads((root / "out" / "lic" / "manifest.json").read_text())
    assert m["provenance"]["license_exceptions"] == [{
        "model": "tiny-sd", "role": "model", "license": None, "usage": "commercial",
        "reason": "internal test model, ticket LEGAL-42", "weights_sha256": m["generator"]["weights_sha256"]}]
    assert "reason: internal test model, ticket LEGAL-42" in (root / "out" / "lic" / "assetkit.lock").read_text()
    # the exception reaches the books: each entry records it, the report's methodology lists it
    assert invoke("ledger", "reconcile", "out").exit_code == 0
    md = invoke("report", "--format", "md").output
    assert ("Assets made under a model-licence exception (declared in allow_models: with a reason; the model's "
            "licence alone does not allow this use), with their entries: model tiny-sd (licence unknown): internal "
            "test model, ticket LEGAL-42 — 1.") in md
    # the run has no card, so its entries are in no table (rates applied included): the note discloses it
    assert "| Model-licence exception (allow_models) |" not in md
    de = invoke("report", "--format", "md", "--locale", "de-DE").output
    assert "Unter einer Ausnahme von der Modelllizenz erstellte Assets" in de


def test_revenue_threshold_licence_and_a_non_commercial_lora(proj):
    root, model, lora = proj
    card(model, "license: other\nlicense_name: stabilityai-ai-community")
    r = run("--model", str(model))
    assert r.exit_code == 2
    assert ("commercial use only for organisations under USD 1,000,000 annual revenue; declare "
            "`annual_revenue_usd:` in assetkit.yaml") in r.output
    (root / "assetkit.yaml").write_text("annual_revenue_usd: 400000\n")
    brand = root / "brand" / "nordlicht" / "brand.yaml"
    brand.write_text(brand.read_text().replace("style:\n", f"style:\n  lora: {lora}\n"))
    card(lora.parent, "license: cc-by-nc-4.0")
    r2 = run("--model", str(model))
    assert r2.exit_code == 2
    assert "lora 'style.safetensors' (licence: cc-by-nc-4.0): CC BY-NC 4.0 is non-commercial" in r2.output
    assert "model 'tiny-sd'" not in r2.output  # under the threshold: the base model is fine


def test_an_unknown_licence_id_in_settings_points_into_the_file(proj):
    root, _, _ = proj
    (root / "assetkit.yaml").write_text("licenses:\n  commercial: [apache-2.0, openrail+]\n")
    r = run("--draft")
    assert r.exit_code == 2
    assert r.output.startswith("assetkit.yaml:2:28: licenses.commercial[1]: unknown licence id 'openrail+'; "
                               "did you mean 'openrail++'?")


# ------------------------------------------------------------------------------------------ lock
def _assets(root: Path) -> dict[str, bytes]:
    m = json.loads((root / "out" / "lic" / "manifest.json").read_text())
    return {a["path"]: (root / "out" / "lic" / a["path"]).read_bytes() for a in m["assets"]}


def test_lock_round_trip_locked_refusal_and_diff(proj):
    root, _, _ = proj
    assert run("--draft").exit_code == 0
    lock = root / "out" / "lic" / "assetkit.lock"
    first_lock, first = lock.read_bytes(), _assets(root)
    again = run("--draft", "--locked", "--force")
    assert again.exit_code == 0, again.output
    assert _assets(root) == first and lock.read_bytes() == first_lock  # byte-identical assets and lock
    shutil.copytree(root / "out" / "lic", root / "june")
    brief = root / "camp" / "brief.yaml"
    brief.write_text(BRIEF.format(pipeline="tiny.yaml", seed=4))
    r = run("--draft", "--locked")
    assert r.exit_code == 2
    lines = r.output.splitlines()
    assert lines[0] == ("Error: --locked: this run would differ from out/lic/assetkit.lock in 2 place(s); "
                        "nothing was made:")
    assert lines[1].startswith("  brief.sha256: locked ")
    assert lines[2].startswith("  masters.cup-v1-square: locked ") and _assets(root) == first
    assert run("--draft").exit_code == 0  # accepted: the lock is rewritten
    d = invoke("diff-lock", "june", "out/lic")
    assert d.exit_code == 1
    a_seed = int(lines[2].split("locked ")[1].split(",")[0])
    assert d.output.splitlines()[0] == "2 difference(s) between A=june/assetkit.lock and B=out/lic/assetkit.lock:"
    assert d.output.splitlines()[2] == f"  masters.cup-v1-square: A {a_seed}, B {a_seed + 1}"
    same = invoke("diff-lock", "june", "june/assetkit.lock")
    assert same.exit_code == 0 and same.output == "june/assetkit.lock and june/assetkit.lock: no differences\n"


def test_a_hand_broken_lock_is_a_clear_error(proj):
    root, _, _ = proj
    assert run("--draft").exit_code == 0
    lock = root / "out" / "lic" / "assetkit.lock"
    lock.write_text(lock.read_text().replace("lock_version: 1", "lock_version: [1"))
    r = run("--draft", "--locked")
    assert r.exit_code == 2
    assert r.output.startswith("out/lic/assetkit.lock:")
    assert "Traceback" not in r.output
    lock.write_text("- just a list\n")
    d = invoke("diff-lock", "out/lic", "out/lic")
    assert d.exit_code == 2
    assert d.output.startswith("out/lic/assetkit.lock:1:1: not an assetkit lock file")


def test_a_locked_tiny_model_run_is_byte_identical(proj):
    root, model, _ = proj
    card(model, "license: openrail++")
    assert run("--model", str(model)).exit_code == 0
    first = _assets(root)
    again = run("--model", str(model), "--locked", "--force")
    assert again.exit_code == 0, again.output
    assert _assets(root) == first
    lock = (root / "out" / "lic" / "assetkit.lock").read_text()
    for needle in ("torch: ", "diffusers: ", "device: cpu", "dtype: float32", "\nscheduler: dpmpp_2m_karras",
                   "\npreset: quality"):
        assert needle in lock


def test_a_draft_run_does_not_import_torch_or_c2pa_without_keys(proj):
    code = ("import sys; from click.testing import CliRunner; from assetkit.cli import cli; "
            "r = CliRunner().invoke(cli, ['run', 'camp/brief.yaml', '--draft', '--out', 'out', '--no-ledger', "
            "'--progress', 'none']); assert r.exit_code == 0, r.output; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'diffusers', 'c2pa', 'cryptography'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_internal_usage_has_its_own_list_between_commercial_and_research():
    """internal = inside the organisation, never published: the commercial licences, plus the
    non-commercial ones that allow an organisation's non-production use; not CC BY-NC."""
    from assetkit.provenance.config import LicensePolicy
    from assetkit.provenance.licenses import LicenseError, ModelUse, check_licenses, default_allowed

    commercial, internal, research = (set(default_allowed(u)) for u in ("commercial", "internal", "research"))
    assert commercial < internal < research
    assert internal - commercial == {"flux-1-dev-non-commercial-license", "sai-nc-community",
                                     "stabilityai-nc-research-community"}
    assert {"cc-by-nc-4.0", "cc-by-nc-sa-4.0"} <= research - internal

    def use(lic):
        return [ModelUse("model", "m", "/m", "ab" * 32, lic)]

    policy = LicensePolicy()
    assert check_licenses(use("flux-1-dev-non-commercial-license"), "internal", policy, "c", "assetkit.yaml") == []
    with pytest.raises(LicenseError, match="FLUX.1 \\[dev\\] Non-Commercial Licence is non-commercial"):
        check_licenses(use("flux-1-dev-non-commercial-license"), "commercial", policy, "c", "assetkit.yaml")
    with pytest.raises(LicenseError, match="CC BY-NC 4.0 is non-commercial and does not allow an organisation's "
                                           "internal use"):
        check_licenses(use("cc-by-nc-4.0"), "internal", policy, "c", "assetkit.yaml")
    assert check_licenses(use("cc-by-nc-4.0"), "research", policy, "c", "assetkit.yaml") == []
    with pytest.raises(LicenseError, match="annual_revenue_usd"):  # the revenue threshold holds inside too
        check_licenses(use("stabilityai-ai-community"), "internal", policy, "c", "assetkit.yaml")
