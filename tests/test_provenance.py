"""C2PA signing and verify: keys init, every export format signed, tamper → invalid, ingredients,
a second reader in a separate process, and the bad-key errors (file:line:col, exit 2)."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from assetkit.cli import cli

ROOT = Path(__file__).resolve().parent.parent

BRIEF = """version: 1
campaign: prov
brand: ../brand/nordlicht
pipeline: {pipeline}
seed: 3
variants: 1
formats: [meta-square]
copy:
  en-US: {{headline: Fresh roast, subline: Small batches., cta: Order now}}
concepts:
  - {{id: bag, prompt: a coffee bag on a table, product: product.png}}
"""
PIPELINE = """version: 1
steps:
  - generate: {{generator: draft}}
  - reframe: {{}}
  - compose: {{}}
  - check: {{}}
  - export: {{format: {fmt}, contact_sheet: false}}
"""
SETTINGS = "provenance:\n  cert: keys/chain.pem\n  key: keys/signer.key\n  trust_anchors: keys/ca.pem\n"


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def make_project(root: Path, fmt: str = "png", settings: str | None = SETTINGS) -> Path:
    shutil.copytree(ROOT / "brand" / "nordlicht", root / "brand" / "nordlicht", dirs_exist_ok=True)
    camp = root / "camp"
    camp.mkdir(exist_ok=True)
    shutil.copy(ROOT / "examples" / "packshot" / "product.png", camp / "product.png")
    (camp / f"{fmt}.yaml").write_text(PIPELINE.format(fmt=fmt))
    (camp / "brief.yaml").write_text(BRIEF.format(pipeline=f"{fmt}.yaml"))
    if settings is not None:
        (root / "assetkit.yaml").write_text(settings)
    return camp / "brief.yaml"


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("k") / "keys"
    r = invoke("keys", "init", str(d))
    assert r.exit_code == 0, r.output
    return d


@pytest.fixture
def project(tmp_path, monkeypatch, keys_dir) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSETKIT_SETTINGS", raising=False)
    monkeypatch.delenv("ASSETKIT_C2PA_KEY", raising=False)
    shutil.copytree(keys_dir, tmp_path / "keys")
    return tmp_path


def run(brief: Path, *extra: str):
    return invoke("run", str(brief), "--out", "out", "--no-ledger", "--progress", "none", *extra)


def test_keys_init_makes_a_c2pa_ready_chain(tmp_path):
    from cryptography import x509

    r = invoke("keys", "init", str(tmp_path / "k"))
    assert r.exit_code == 0
    assert "verify as 'untrusted' everywhere outside your team" in r.output
    assert oct((tmp_path / "k" / "signer.key").stat().st_mode & 0o777) == "0o600"
    leaf, ca = x509.load_pem_x509_certificates((tmp_path / "k" / "chain.pem").read_bytes())
    assert leaf.issuer == ca.subject != leaf.subject
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert [o.dotted_string for o in leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value] == [
        "1.3.6.1.5.5.7.3.4"]
    again = invoke("keys", "init", str(tmp_path / "k"))
    assert again.exit_code == 2 and "never overwrites keys" in again.output


@pytest.mark.parametrize("fmt,ext", [("png", "png"), ("jpeg", "jpg"), ("webp", "webp")])
def test_every_format_is_signed_and_verifies(project, fmt, ext):
    brief = make_project(project, fmt)
    r = run(brief)
    assert r.exit_code == 0, r.output
    manifest = json.loads((project / "out" / "prov" / "manifest.json").read_text())
    asset = manifest["assets"][0]
    assert asset["c2pa"]["signed"] and asset["c2pa"]["ingredients"] == ["master", "logo", "product"]
    assert 2_000 < asset["c2pa"]["manifest_bytes"] < 20_000  # no thumbnail by default
    assert manifest["provenance"]["signing"]["signer"] == "O=assetkit local development,CN=assetkit dev signer"
    path = project / "out" / "prov" / asset["path"]
    assert path.suffix == f".{ext}"
    v = invoke("verify", str(path), "--json")
    assert v.exit_code == 0, v.output
    (verdict,) = json.loads(v.output)
    assert verdict["status"] == "valid"
    assert verdict["source_type"] == "compositeSynthetic"
    assert verdict["ingredients"] == [
        {"title": "master.png", "relationship": "parentOf", "source_type": "algorithmicMedia"},
        {"title": "logo.png", "relationship": "componentOf"},
        {"title": "product.png", "relationship": "componentOf"}]
    a = verdict["assetkit"]
    assert a["run_id"] == manifest["run_id"] and a["brief_sha256"] == manifest["brief_sha256"]
    assert a["content_sha256"] == asset["content_sha256"] and a["generator"] == "draft" and a["models"] == []


def test_verify_prints_exactly_and_a_pixel_tamper_is_invalid(project):
    brief = make_project(project, "png")
    assert run(brief).exit_code == 0
    manifest = json.loads((project / "out" / "prov" / "manifest.json").read_text())
    rel = manifest["assets"][0]["path"]
    path = project / "out" / "prov" / rel
    v = invoke("verify", "out/prov")
    when = json.loads(invoke("verify", str(path), "--json").output)[0]["signed_at"]
    assert v.exit_code == 0
    assert v.output == (
        f"out/prov/{rel}: VALID — signature, content hash and certificate chain check out\n"
        "  signed by: assetkit dev signer (issuer: assetkit local development)\n"
        f"  when:      {when} (signer's clock; no timestamp authority)\n"
        "  source:    compositeSynthetic\n"
        "  ingredients: master.png (parentOf, algorithmicMedia), logo.png (componentOf), product.png (componentOf)\n"
        f"  run: {manifest['run_id']} · campaign prov · brief sha256 {manifest['brief_sha256'][:16]}…\n"
        "1 file(s): 1 valid\n")
    tamper_png_pixel(path)
    from PIL import Image

    with Image.open(path) as im:
        im.load()  # still a well-formed PNG: only a pixel changed
    bad = invoke("verify", str(path))
    assert bad.exit_code == 1
    assert bad.output.startswith(f"{path}: INVALID — assertion.dataHash.mismatch")


def tamper_png_pixel(path: Path) -> None:
    """Change one byte of the decompressed pixel data and write the PNG back chunk by chunk
    (CRCs fixed, every other chunk — the C2PA one included — kept byte for byte)."""
    data = path.read_bytes()
    pos, chunks = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        chunks.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]))
        pos += 12 + n
    idat = b"".join(body for kind, body in chunks if kind == b"IDAT")
    raw = bytearray(zlib.decompress(idat))
    raw[1000] ^= 0x01
    out, done = [data[:8]], False
    for kind, body in chunks:
        if kind == b"IDAT":
            if done:
                continue
            body, done = zlib.compress(bytes(raw)), True
        out.append(struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body)))
    path.write_bytes(b"".join(out))


def test_an_outside_reader_in_another_process_sees_the_same_manifest(project):
    """c2pa-python's Reader in a separate interpreter (no assetkit imported) reads what we wrote."""
    brief = make_project(project, "jpeg")
    assert run(brief).exit_code == 0
    manifest = json.loads((project / "out" / "prov" / "manifest.json").read_text())
    path = project / "out" / "prov" / manifest["assets"][0]["path"]
    code = ("import c2pa, json, sys\n"
            "ctx = c2pa.Context.from_dict({'verify': {'verify_trust': True}, "
            "'trust': {'trust_anchors': open(sys.argv[2]).read()}})\n"
            "r = c2pa.Reader('image/jpeg', open(sys.argv[1], 'rb'), None, ctx)\n"
            "s = json.loads(r.json()); m = s['manifests'][s['active_manifest']]\n"
            "print(json.dumps({'state': s['validation_state'], 'ingredients': [i['title'] for i in m['ingredients']],"
            " 'run': [a['data']['run_id'] for a in m['assertions'] if a['label'] == 'dev.assetkit.provenance'],"
            " 'assetkit_loaded': 'assetkit' in sys.modules}))\n")
    out = subprocess.run([sys.executable, "-c", code, str(path), str(project / "keys" / "ca.pem")],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": ""},
                         cwd="/").stdout
    assert json.loads(out) == {"state": "Trusted", "ingredients": ["master.png", "logo.png", "product.png"],
                               "run": [manifest["run_id"]], "assetkit_loaded": False}


def test_without_trust_anchors_a_signed_file_is_untrusted_and_unsigned_runs_say_so(project):
    brief = make_project(project, "png", settings=SETTINGS.replace("  trust_anchors: keys/ca.pem\n", ""))
    assert run(brief).exit_code == 0
    v = invoke("verify", "out/prov")
    assert v.exit_code == 0
    assert "UNTRUSTED — no trust anchors configured" in v.output
    (project / "assetkit.yaml").write_text("currency: EUR\n")
    assert run(brief).exit_code == 0  # the signing identity is part of every asset's key: remade unsigned
    manifest = json.loads((project / "out" / "prov" / "manifest.json").read_text())
    assert manifest["provenance"]["signing"] == {
        "signed": False, "reason": "no signing keys configured (provenance.cert / provenance.key in assetkit.yaml)"}
    assert manifest["assets"][0]["c2pa"] == {"signed": False}
    u = invoke("verify", "out/prov")
    assert u.exit_code == 1 and "UNSIGNED — no Content Credentials" in u.output


def test_required_signing_without_keys_writes_nothing(project):
    brief = make_project(project, "png", settings="provenance:\n  required: true\n")
    r = run(brief)
    assert r.exit_code == 2
    assert r.output.startswith("assetkit.yaml:2:13: provenance.required: signing is required but no signing keys "
                               "configured")
    assert not (project / "out" / "prov").exists()


def test_key_from_the_environment(project, monkeypatch):
    brief = make_project(project, "png", settings="provenance:\n  cert: keys/chain.pem\n")
    monkeypatch.setenv("ASSETKIT_C2PA_KEY", (project / "keys" / "signer.key").read_text())
    assert run(brief).exit_code == 0
    assert json.loads((project / "out" / "prov" / "manifest.json").read_text())["assets"][0]["c2pa"]["signed"]


def _expired_chain(keys: Path, out: Path, self_signed: bool = False) -> None:
    """A chain like keys init's, but expired (or a self-signed leaf), reusing the signer key."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = serialization.load_pem_private_key((keys / "signer.key").read_bytes(), None)
    ca_key = serialization.load_pem_private_key((keys / "ca.key").read_bytes(), None)
    _, ca = x509.load_pem_x509_certificates((keys / "chain.pem").read_bytes())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old signer")])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(name if self_signed else ca.subject)
         .public_key(key.public_key()).serial_number(7)
         .not_valid_before(now - dt.timedelta(days=30))
         .not_valid_after(now + dt.timedelta(days=30) if self_signed else now - dt.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False))
    leaf = b.sign(key if self_signed else ca_key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    out.write_bytes(leaf.public_bytes(pem) + (b"" if self_signed else ca.public_bytes(pem)))


def test_bad_keys_are_clear_errors_pointing_into_the_settings(project):
    brief = make_project(project, "png")
    other = project / "other"
    assert invoke("keys", "init", str(other)).exit_code == 0
    cases = {
        "mismatch": ("provenance:\n  cert: other/chain.pem\n  key: keys/signer.key\n",
                     "assetkit.yaml:3:8: provenance.key: the private key does not match the certificate"),
        "expired": ("provenance:\n  cert: old.pem\n  key: keys/signer.key\n",
                    "assetkit.yaml:2:9: provenance.cert: the signer certificate expired on"),
        "self-signed": ("provenance:\n  cert: self.pem\n  key: keys/signer.key\n",
                        "assetkit.yaml:2:9: provenance.cert: the signer certificate is self-signed"),
        "missing": ("provenance:\n  cert: keys/nope.pem\n  key: keys/signer.key\n",
                    "assetkit.yaml:2:9: provenance.cert: file not found: keys/nope.pem"),
    }
    _expired_chain(project / "keys", project / "old.pem")
    _expired_chain(project / "keys", project / "self.pem", self_signed=True)
    for name, (settings, expected) in cases.items():
        (project / "assetkit.yaml").write_text(settings)
        r = run(brief)
        assert r.exit_code == 2, name
        assert r.output.startswith(expected), (name, r.output)
        assert "Traceback" not in r.output
    os.chmod(project / "keys" / "signer.key", 0o644)
    (project / "assetkit.yaml").write_text(SETTINGS)
    r = run(brief)
    assert r.exit_code == 2
    assert r.output.startswith("assetkit.yaml:3:8: provenance.key: keys/signer.key is readable by others (mode 0644)")
    assert not (project / "out" / "prov").exists()


def test_the_thumbnail_setting_embeds_one(project):
    brief = make_project(project, "jpeg", settings=SETTINGS + "  thumbnail: true\n")
    assert run(brief).exit_code == 0
    asset = json.loads((project / "out" / "prov" / "manifest.json").read_text())["assets"][0]
    assert asset["c2pa"]["manifest_bytes"] > 20_000  # ~3 KB of claims + the embedded JPEG thumbnail
    (verdict,) = json.loads(invoke("verify", str(project / "out" / "prov" / asset["path"]), "--json").output)
    assert verdict["status"] == "valid"


def test_verify_holds_a_campaign_folder_to_its_manifest(project, tmp_path_factory):
    """A campaign folder is verified against its manifest: a file whose bytes differ from the
    recorded sha256 (the manifest edited), a file the run did not make, an asset replaced by a
    symbolic link and a manifest path outside the folder are each named INVALID, exit 1, and
    nothing outside the folder is read."""
    brief = make_project(project, "png")
    assert run(brief).exit_code == 0
    folder = project / "out" / "prov"
    assert invoke("verify", "out/prov").exit_code == 0
    mpath = folder / "manifest.json"
    manifest = json.loads(mpath.read_text())
    rel = manifest["assets"][0]["path"]
    (folder / rel).with_name("stray.png").write_bytes((folder / rel).read_bytes())  # a copy, validly signed
    (folder / "notes.txt").write_text("hi")
    r = invoke("verify", "out/prov")
    assert r.exit_code == 1
    stray = str(Path("out/prov") / Path(rel).with_name("stray.png"))
    assert f"{stray}: INVALID — not in the campaign's manifest: added after the run" in r.output
    assert "out/prov/notes.txt: INVALID — not in the campaign's manifest" in r.output
    (folder / Path(rel).with_name("stray.png")).unlink()
    (folder / "notes.txt").unlink()
    edited = dict(manifest, assets=[dict(manifest["assets"][0], sha256="0" * 64)] + manifest["assets"][1:])
    mpath.write_text(json.dumps(edited))
    r = invoke("verify", "out/prov")
    assert r.exit_code == 1 and f"out/prov/{rel}: INVALID — its sha256 differs from the one the campaign's " \
                                "manifest recorded" in r.output
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "o.png"
    (folder / rel).rename(elsewhere)
    (folder / rel).symlink_to(elsewhere)
    mpath.write_text(json.dumps(dict(manifest, assets=manifest["assets"] + [dict(manifest["assets"][0],
                                                                             path="../../../../etc/passwd")])))
    r = invoke("verify", "out/prov")
    assert r.exit_code == 1
    assert f"out/prov/{rel}: INVALID — {rel} is a symbolic link (to {elsewhere})" in r.output
    assert "INVALID — manifest assets[1].path '../../../../etc/passwd' is not a path inside the campaign folder" \
        in r.output and "root:" not in r.output
