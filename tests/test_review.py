"""The review app (Starlette TestClient), decisions in the ledger, status, static gallery, deliver."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from review_fixtures import make_campaign

from assetkit.cli import cli
from assetkit.ledger import Ledger, LedgerError
from assetkit.review.catalog import asset_id, load_catalog
from assetkit.review.deliver import index_csv, neutralise_cell
from assetkit.review.rollup import campaign_status, review_rollup
from assetkit.review.service import ReviewService
from assetkit.review.store import ReviewStore

starlette = pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from assetkit.review.app import create_app  # noqa: E402

TOKEN = "test-token-123"


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("review-campaign")
    make_campaign(work)
    return work


@pytest.fixture
def work(template, tmp_path, monkeypatch) -> Path:
    dst = tmp_path / "w"
    shutil.copytree(template, dst)
    monkeypatch.chdir(dst)
    monkeypatch.setenv("ASSETKIT_LEDGER", str(dst / "ledger.sqlite"))
    return dst


@pytest.fixture
def folder(work) -> Path:
    return work / "out" / "spring-launch"


@pytest.fixture
def service(folder, work):
    svc = ReviewService(folder, work / "ledger.sqlite", "Rita")
    yield svc
    svc.close()


@pytest.fixture
def logs():
    return []


@pytest.fixture
def client(service, logs):
    return TestClient(create_app(service, token=TOKEN, access_log=logs.append))


def get(client, path, **kw):
    sep = "&" if "?" in path else "?"
    return client.get(f"{path}{sep}t={TOKEN}", **kw)


def post(client, body, raw=None, headers=None):
    h = {"X-Assetkit-Token": TOKEN}
    h.update(headers or {})
    if raw is not None:
        return client.post("/api/decisions", content=raw, headers=h)
    return client.post("/api/decisions", json=body, headers=h)


def shas(service, ids):
    cat = service.catalog
    return {a: cat.current_sha256(cat.assets[a]) for a in ids}


def first(service):
    cat = service.catalog
    aid = next(iter(cat.assets))
    return cat.assets[aid], cat.current_sha256(cat.assets[aid])


def decisions_count(work) -> int:
    conn = sqlite3.connect(work / "ledger.sqlite")
    try:
        return conn.execute("SELECT count(*) FROM decisions").fetchone()[0]
    finally:
        conn.close()


# -- catalog ---------------------------------------------------------------------------------

def test_catalog_ids_masters_and_groups(folder):
    cat = load_catalog(folder)
    assert len(cat.assets) == 12 and len(cat.masters) == 2
    a = next(iter(cat.assets.values()))
    assert a.id == asset_id("spring-launch", a.locale, a.format, a.concept, a.variant)
    assert "/" not in a.id and a.path not in a.id
    for m in cat.masters.values():
        assert len(m.assets) == 6  # 3 formats × 2 locales
        assert {cat.assets[x].concept for x in m.assets} == {m.concept}
    assert {x.platform for x in cat.assets.values()} == {"IAB", "custom"}


@pytest.mark.parametrize("make, message", [
    (lambda f: shutil.rmtree(f), "no such campaign folder"),
    (lambda f: (f / "manifest.json").unlink(), "no manifest.json: not a campaign folder"),
    (lambda f: (f / "manifest.json").write_text('{"campaign": "x",\n "assets": [}'),
     "manifest.json:2:13: not valid JSON"),
    (lambda f: (f / "manifest.json").write_text('{"campaign": "x", "assets": [{"path": "../../etc/passwd", '
                                                '"sha256": "0", "format": "f", "locale": "l", "concept": "c", '
                                                '"variant": 1}]}'), "is not a path inside the campaign folder"),
])
def test_bad_campaign_folders_are_clear_errors(folder, work, make, message):
    make(folder)
    for args in (["status", str(folder)], ["deliver", str(folder), "--to", str(work / "d.zip")],
                 ["review", "--static", str(folder)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
    assert not (work / "d.zip").exists() and not (work / "ledger.sqlite").exists()


def test_campaign_parent_folder_names_the_campaigns_inside(work):
    result = CliRunner().invoke(cli, ["status", str(work / "out")])
    assert result.exit_code == 2
    assert "campaigns inside it: spring-launch" in result.output


# -- the app: token, routes, path tricks -------------------------------------------------------

def test_every_route_refuses_without_or_with_a_wrong_token(client, service):
    a, sha = first(service)
    paths = ["/", f"/asset/{a.id}", f"/img/{a.id}/thumb", f"/img/{a.id}/full", "/api/state", "/nope"]
    for path in paths:
        assert client.get(path).status_code == 403
        assert client.get(path + "?t=wrong").status_code == 403
        assert client.get(path, headers={"X-Assetkit-Token": TOKEN + "x"}).status_code == 403
    r = client.post("/api/decisions", json={"scope": "asset", "id": a.id, "action": "approve", "sha256": sha})
    assert r.status_code == 403 and "needs its token" in r.text


def test_gallery_lists_every_asset_by_id_grouped(client, service):
    r = get(client, "/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    cat = service.catalog
    for a in cat.assets.values():
        assert f'id="{a.id}"' in html
        assert a.path not in html  # URLs are ids, never paths
    for m in cat.masters.values():
        assert f'data-kind="master" data-id="{m.id}"' in html
    assert html.count('loading="lazy"') == 12
    assert "script-src 'nonce-" in r.headers["content-security-policy"]
    assert html.index('data-platform="IAB"') < html.index('data-platform="custom"')
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_full_view_thumbnail_and_file(client, service):
    a, sha = first(service)
    r = get(client, f"/asset/{a.id}")
    assert r.status_code == 200 and "check overlay" in r.text and 'viewBox="0 0 300 250"' in r.text
    assert "safe zone" in r.text and "headline" in r.text
    t = get(client, f"/img/{a.id}/thumb")
    assert t.status_code == 200 and t.headers["content-type"] == "image/jpeg" and t.content[:3] == b"\xff\xd8\xff"
    f = get(client, f"/img/{a.id}/full")
    assert f.status_code == 200 and hashlib.sha256(f.content).hexdigest() == sha
    assert f.headers["content-type"] == "image/png"
    again = client.get(f"/img/{a.id}/full?t={TOKEN}", headers={"If-None-Match": f.headers["etag"]})
    assert again.status_code == 304


def test_thumbnails_are_warmed_in_memory(service, folder):
    from assetkit.review.thumbs import ThumbCache

    before = sorted(p.name for p in folder.rglob("*"))
    cache = ThumbCache()
    assert cache.warm(service) == 12
    a, sha = first(service)
    assert cache.get(service, a, sha) is cache.get(service, a, sha)
    assert sorted(p.name for p in folder.rglob("*")) == before  # nothing written


def test_path_tricks_are_refused(client, folder):
    manifest = (folder / "manifest.json").read_text()
    tricks = ["/img/../manifest.json", "/img/..%2Fmanifest.json/full", "/img/%2e%2e%2fmanifest.json/full",
              "/img/a-000000000000%2F..%2F..%2Fmanifest.json/full", "/asset/..%2F..%2Fmanifest.json",
              "//etc/passwd", "/img//etc/passwd/full", "/img/%2Fetc%2Fpasswd/full", "/en-US/iab-leaderboard/x.png",
              "/manifest.json", "/img/a-000000000000/full", "/asset/a-000000000000", "/img/x/full/../../manifest.json"]
    for path in tricks:
        r = get(client, path)
        assert r.status_code == 404, (path, r.status_code)
        assert "campaign" not in r.text or manifest not in r.text
        assert "root:" not in r.text


def test_a_symlinked_asset_file_is_never_served(client, service, folder):
    a, _ = first(service)
    path = service.catalog.file(a)
    path.unlink()
    path.symlink_to(folder / "manifest.json")
    for kind in ("full", "thumb"):
        r = get(client, f"/img/{a.id}/{kind}")
        assert r.status_code == 404 and "its file is missing" in r.text
    assert service.states()[a.id].sha256 is None


def test_state_route(client, service):
    r = get(client, "/api/state")
    data = r.json()
    assert data["total"]["pending"] == 12 and len(data["states"]) == 12
    assert set(data["masters"]) == set(service.catalog.masters)


def test_logs_never_show_the_token(client, service, logs):
    a, sha = first(service)
    get(client, "/")
    get(client, f"/img/{a.id}/thumb")
    post(client, {"scope": "asset", "id": a.id, "action": "approve", "sha256": sha})
    client.get("/?t=wrong-guess")
    assert len(logs) == 4
    assert all(TOKEN not in line and "wrong-guess" not in line for line in logs)
    assert f'"GET /img/{a.id}/thumb" 200' in logs[1] and '"POST /api/decisions" 201' in logs[2]
    assert '"GET /" 403' in logs[3]


# -- decisions ---------------------------------------------------------------------------------

def test_master_decision_applies_to_all_and_one_asset_overrides(client, service, work):
    cat = service.catalog
    m = next(iter(cat.masters.values()))
    r = post(client, {"scope": "master", "id": m.id, "action": "approve", "assets": shas(service, m.assets),
                      "focus_ms": 42000, "reviewer": "Maria K."})
    assert r.status_code == 201
    assert {s["state"] for s in r.json()["states"].values()} == {"approved"}
    one = m.assets[1]
    r = post(client, {"scope": "asset", "id": one, "action": "reject", "sha256": shas(service, [one])[one],
                      "comment": "logo too small", "focus_ms": 9000})
    assert r.status_code == 201 and r.json()["decision"]["reviewer"] == "Rita"
    states = service.states()
    assert states[one].state == "rejected" and states[one].decision.comment == "logo too small"
    assert [states[x].state for x in m.assets if x != one] == ["approved"] * 5
    counts = campaign_status(service.folder)
    assert counts["total"] == {"approved": 5, "rejected": 1, "changes": 0, "pending": 6, "changed": 0}
    d = service.decisions()
    assert [(x.scope, x.action, x.focus_ms, x.reviewer) for x in d] == [
        ("master", "approve", 42000, "Maria K."), ("asset", "reject", 9000, "Rita")]
    assert d[0].decided_at.endswith("Z") and len(d[0].assets) == 6
    view = get(client, f"/asset/{one}").text
    assert "logo too small" in view and "approve (master)" in view


@pytest.mark.parametrize("body, status, message", [
    ({"scope": "asset", "id": "a-000000000000", "action": "approve", "sha256": "0" * 64}, 404, "unknown asset id"),
    ({"scope": "master", "id": "m-000000000000", "action": "approve", "assets": {}}, 404, "unknown master id"),
    ({"scope": "asset", "id": "../manifest.json", "action": "approve", "sha256": "0" * 64}, 400, "not an asset"),
    ({"scope": "asset", "id": "FIRST", "action": "delete", "sha256": "SHA"}, 400, "action: must be one of"),
    ({"scope": "asset", "id": "FIRST", "action": "change", "sha256": "SHA"}, 400, "comment: required"),
    ({"scope": "asset", "id": "FIRST", "action": "approve", "sha256": "SHA", "focus_ms": -1}, 400, "focus_ms"),
    ({"scope": "asset", "id": "FIRST", "action": "approve", "sha256": "SHA", "focus_ms": True}, 400, "focus_ms"),
    ({"scope": "asset", "id": "FIRST", "action": "approve", "sha256": "SHA", "comment": "x" * 2001}, 400,
     "at most 2000"),
    ({"scope": "asset", "id": "FIRST", "action": "approve", "sha256": "SHA", "reviewer": "a\x00b"}, 400,
     "control characters"),
    ({"scope": "asset", "id": "FIRST", "action": "approve", "sha256": "SHA", "extra": 1}, 400, "unknown field"),
    ({"scope": "asset", "id": "FIRST", "action": "approve"}, 400, "sha256:"),
    ({"scope": "planet", "id": "FIRST", "action": "approve"}, 400, "scope:"),
    (["not", "an", "object"], 400, "must be a JSON object"),
])
def test_bad_decisions_are_refused_and_nothing_is_written(client, service, work, body, status, message):
    a, sha = first(service)
    if isinstance(body, dict):
        body = {k: (a.id if v == "FIRST" else sha if v == "SHA" else v) for k, v in body.items()}
    r = post(client, body)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]
    assert decisions_count(work) == 0


def test_malformed_oversized_and_wrong_type_bodies(client, service, work):
    assert post(client, None, raw=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert post(client, None, raw=b"\xff\xfe", headers={"Content-Type": "application/json"}).status_code == 400
    big = json.dumps({"comment": "x" * 70000}).encode()
    r = post(client, None, raw=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "over 65536 bytes" in r.json()["error"]
    r = post(client, None, raw=b"scope=asset", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    assert client.get(f"/api/decisions?t={TOKEN}").status_code == 405
    assert decisions_count(work) == 0


def test_decision_for_an_asset_of_another_campaign_is_refused(client, service, work):
    other = asset_id("other-campaign", "en-US", "iab-leaderboard", "roastery", 1)
    r = post(client, {"scope": "asset", "id": other, "action": "approve", "sha256": "0" * 64})
    assert r.status_code == 404 and "not in campaign spring-launch" in r.json()["error"]
    assert decisions_count(work) == 0


def test_stale_asset_and_master_are_refused(client, service, work):
    cat = service.catalog
    m = next(iter(cat.masters.values()))
    seen = shas(service, m.assets)
    page = get(client, "/").text  # the page shows these sha256s
    assert seen[m.assets[0]] in page
    path = cat.file(cat.assets[m.assets[0]])
    path.write_bytes(path.read_bytes() + b"changed")
    r = post(client, {"scope": "asset", "id": m.assets[0], "action": "approve", "sha256": seen[m.assets[0]]})
    assert r.status_code == 409 and "stale: the file changed since the page loaded" in r.json()["error"]
    r = post(client, {"scope": "master", "id": m.id, "action": "approve", "assets": seen})
    assert r.status_code == 409 and cat.assets[m.assets[0]].label in r.json()["error"]
    fewer = dict(list(seen.items())[1:])
    r = post(client, {"scope": "master", "id": m.id, "action": "approve", "assets": fewer})
    assert r.status_code == 409 and "its assets changed" in r.json()["error"]
    path.unlink()
    r = post(client, {"scope": "asset", "id": m.assets[0], "action": "approve", "sha256": seen[m.assets[0]]})
    assert r.status_code == 409 and "file missing" in r.json()["error"]
    assert decisions_count(work) == 0


def test_concurrent_reviewers_lose_no_decision(service, folder, work):
    """Two servers (two processes' worth of connections) and many threads write at once."""
    other = ReviewService(folder, work / "ledger.sqlite", "Ben")
    try:
        clients = [TestClient(create_app(service, token=TOKEN)), TestClient(create_app(other, token=TOKEN))]
        ids = list(service.catalog.assets)
        sha = shas(service, ids)
        errors: list = []

        def worker(n: int) -> None:
            c = clients[n % 2]
            for i in range(6):
                aid = ids[(n * 6 + i) % len(ids)]
                r = post(c, {"scope": "asset", "id": aid, "action": "approve" if i % 2 else "change",
                             "sha256": sha[aid], "comment": f"w{n} i{i}", "focus_ms": 1000 + n})
                if r.status_code != 201:
                    errors.append(r.text)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        got = service.decisions()
        assert len(got) == 48
        assert sorted(d.comment for d in got) == sorted(f"w{n} i{i}" for n in range(8) for i in range(6))
        assert service.store.verify().links >= 48
    finally:
        other.close()


def test_rerun_that_changes_an_approved_asset_marks_it_changed(client, service, work, folder):
    ids = list(service.catalog.assets)
    for aid, sha in shas(service, ids).items():
        assert post(client, {"scope": "asset", "id": aid, "action": "approve", "sha256": sha}).status_code == 201
    assert campaign_status(folder)["total"]["approved"] == 12
    make_campaign(work, headline_de="Frühling im Becher")  # the de-DE copy changed: its assets are remade
    counts = campaign_status(folder)
    # en-US assets change too where the shorter German headline moved the format's shared type scale
    en_changed = counts["per_locale"]["en-US"]["changed"]
    assert counts["total"] == {"approved": 6 - en_changed, "rejected": 0, "changes": 0, "pending": 0,
                               "changed": 6 + en_changed}
    assert counts["per_locale"]["de-DE"]["changed"] == 6
    assert counts["per_locale"]["en-US"]["approved"] == 6 - en_changed
    assert counts["per_locale_format"]["de-DE"]["iab-leaderboard"]["changed"] == 2
    result = CliRunner().invoke(cli, ["status", str(folder)])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (f"spring-launch: 12 assets · {6 - en_changed} approved · 0 rejected · "
                                             f"0 changes req. · 0 pending · {6 + en_changed} changed since appr.")
    as_json = json.loads(CliRunner().invoke(cli, ["status", str(folder), "--json"]).output)
    assert as_json["per_format"]["400x400"]["changed"] >= 2


# -- the ledger tables ---------------------------------------------------------------------------

def test_decisions_are_append_only_and_chained(client, service, work):
    a, sha = first(service)
    for action in ("approve", "reject"):
        post(client, {"scope": "asset", "id": a.id, "action": action, "sha256": sha})
    ledger = work / "ledger.sqlite"
    with Ledger(ledger) as lg:
        assert lg.verify().links == 2
    conn = sqlite3.connect(ledger)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE decisions SET action = 'approve'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM decisions")
    conn.execute("DROP TRIGGER decisions_no_update")
    conn.commit()
    with Ledger(ledger) as lg, pytest.raises(LedgerError, match="trigger decisions_no_update is missing"):
        lg.verify()
    conn.execute("UPDATE decisions SET action = 'approve' WHERE id = 2")
    conn.execute("CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions "
                 "BEGIN SELECT RAISE(ABORT, 'x'); END")
    conn.commit()
    conn.close()
    with Ledger(ledger) as lg, pytest.raises(LedgerError, match="first bad decision 2: decisions row 2 does not "
                                                                 "match its hash"):
        lg.verify()
    result = CliRunner().invoke(cli, ["ledger", "verify", "--ledger", str(ledger)])
    assert result.exit_code != 0 and "decisions row 2" in result.output


def test_rollup_recorded_minutes_and_rejections(client, service, work):
    cat = service.catalog
    m = next(iter(cat.masters.values()))
    post(client, {"scope": "master", "id": m.id, "action": "approve", "assets": shas(service, m.assets),
                  "focus_ms": 60000})
    one = cat.assets[m.assets[0]]
    post(client, {"scope": "asset", "id": one.id, "action": "reject", "sha256": shas(service, [one.id])[one.id],
                  "focus_ms": 30000})
    roll = review_rollup(service.store.conn, "spring-launch")
    assert roll.reviewed_assets == 6 and roll.rejected_assets == 1
    assert str(roll.recorded_minutes) == "1.500"
    assert str(roll.minutes("spring-launch", one.locale, one.format, one.concept, one.variant)) == "0.667"
    assert roll.rejected("spring-launch", one.locale, one.format, one.concept, one.variant)
    other = cat.assets[m.assets[1]]
    assert not roll.rejected("spring-launch", other.locale, other.format, other.concept, other.variant)
    assert roll.minutes("spring-launch", "xx-XX", other.format, other.concept, other.variant) is None


def test_report_shows_recorded_review_minutes_and_rejections(tmp_path, monkeypatch):
    from decimal import Decimal

    from review_fixtures import write_brief

    from assetkit.pipeline import RunOptions
    from assetkit.report import build_report
    from assetkit.report.html import render_html
    from assetkit.runner import run_brief
    from assetkit.settings import Settings

    work = tmp_path / "rep"
    work.mkdir()
    monkeypatch.chdir(work)
    ledger = work / "ledger.sqlite"
    result = run_brief(write_brief(work), RunOptions(out=work / "out", ledger=ledger, jobs=1))
    with ReviewService(Path(result.out_dir), ledger, "Rita") as svc:
        client = TestClient(create_app(svc, token=TOKEN))
        m = next(iter(svc.catalog.masters.values()))
        post(client, {"scope": "master", "id": m.id, "action": "approve", "assets": shas(svc, m.assets),
                      "focus_ms": 120000})
        one = m.assets[0]
        post(client, {"scope": "asset", "id": one, "action": "reject", "sha256": shas(svc, [one])[one],
                      "focus_ms": 60000})
    data = build_report(ledger, settings=Settings(), thumbnails=False)
    meth = data.methodology
    assert (meth.review_assets, meth.review_rejected) == (6, 1)
    assert meth.review_minutes_recorded == Decimal("3.0")
    assert meth.review_minutes_estimated == Decimal(12)  # 6 deliverables × 2 review minutes (settings)
    html = render_html(data)
    assert "3 min measured in the browser vs 12 min estimated for these deliverables; 1 rejected" in html


# -- static gallery --------------------------------------------------------------------------------

def test_static_gallery_is_self_contained(client, service, folder, work):
    a, sha = first(service)
    post(client, {"scope": "asset", "id": a.id, "action": "reject", "sha256": sha, "comment": "too dark"})
    out = work / "share" / "gallery.html"
    out.parent.mkdir()
    result = CliRunner().invoke(cli, ["review", "--static", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert html.count("data:image/jpeg;base64,") == 24  # a thumbnail and a preview per asset
    assert "too dark" in html and 'data-static="1"' in html
    for attr in ('src="http', "src='http", 'href="http', "url(http", "@import"):
        assert attr not in html
    assert all(f'id="{x}"' in html for x in service.catalog.assets)


# -- deliver -----------------------------------------------------------------------------------------

def approve_all_but_reject_one(client, service) -> str:
    cat = service.catalog
    for m in cat.masters.values():
        post(client, {"scope": "master", "id": m.id, "action": "approve", "assets": shas(service, m.assets)})
    rejected = list(cat.assets)[3]
    post(client, {"scope": "asset", "id": rejected, "action": "reject", "sha256": shas(service, [rejected])[rejected]})
    return rejected


def test_deliver_refuses_pending_listing_them_and_writes_nothing(client, service, folder, work):
    a, sha = first(service)
    post(client, {"scope": "asset", "id": a.id, "action": "approve", "sha256": sha})
    result = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(work / "handoff.zip")])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == "Error: 11 of 12 assets are not approved yet, nothing was delivered:"
    assert len([x for x in lines if x.endswith(": pending")]) == 11
    assert not (work / "handoff.zip").exists()
    assert ReviewStore(work / "ledger.sqlite").deliveries() == []


def test_deliver_zip_is_deterministic_and_recorded(client, service, folder, work):
    rejected = approve_all_but_reject_one(client, service)
    r1 = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(work / "a.zip")])
    r2 = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(work / "b.zip")])
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output
    assert "delivered 11 approved assets" in r1.output and "1 rejected" in r1.output
    a, b = (work / "a.zip").read_bytes(), (work / "b.zip").read_bytes()
    assert a == b
    with zipfile.ZipFile(work / "a.zip") as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert "index.csv" in names and "index.json" in names
        assert "iab/en-US/spring-launch_iab_iab-leaderboard_en-US_morning-ritual-v1.png" in names
        assert "custom/de-DE/spring-launch_custom_400x400_de-DE_roastery-v1.png" in names
        assert len([n for n in names if n.endswith(".png")]) == 11
        index = json.loads(zf.read("index.json"))
        rows = {r["file"]: r for r in index["files"]}
        for name in names:
            if name.endswith(".png"):
                assert hashlib.sha256(zf.read(name)).hexdigest() == rows[name]["sha256"]
                assert rows[name]["bytes"] == len(zf.read(name))
        csv_text = zf.read("index.csv").decode()
        assert csv_text.splitlines()[0] == ("file,size,bytes,platform,placement,format,locale,concept,variant,"
                                            "headline,cta,alt_text,sha256")
        row = rows["iab/de-DE/spring-launch_iab_iab-medium-rectangle_de-DE_morning-ritual-v1.png"]
        assert row["headline"] == "Der Frühling schmeckt nach Kaffee" and row["cta"] == "Jetzt entdecken"
        assert row["size"] == "300x250" and row["placement"] == "Medium rectangle" and row["platform"] == "IAB"
        assert row["alt_text"].startswith("Eine Keramiktasse heller Röstung auf einem Holztisch an einem sonnigen "
                                          "Fenster. Der Frühling schmeckt nach Kaffee.")  # alt, then the words
        infos = zf.infolist()
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    cat = service.catalog
    assert not any(cat.assets[rejected].format in n and cat.assets[rejected].locale in n and
                   cat.assets[rejected].concept in n for n in names)
    deliveries = ReviewStore(work / "ledger.sqlite").deliveries("spring-launch")
    assert [d.files for d in deliveries] == [11, 11] and rejected not in deliveries[0].assets


def test_deliver_to_a_folder_with_a_naming_template(client, service, folder, work):
    approve_all_but_reject_one(client, service)
    (work / "assetkit.yaml").write_text("version: 1\ndelivery:\n  naming: '{concept}_{variant}_{size}.{ext}'\n")
    result = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(work / "handoff")])
    assert result.exit_code == 0, result.output
    files = sorted(str(p.relative_to(work / "handoff")) for p in (work / "handoff").rglob("*") if p.is_file())
    assert "iab/en-US/morning-ritual_1_728x90.png" in files and "index.csv" in files
    assert {f.split("/")[0] for f in files if "/" in f} == {"iab", "custom"}
    again = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(work / "handoff")])
    assert again.exit_code == 2 and "the folder is not empty" in again.output


def test_bad_naming_template_is_a_settings_error(work, folder):
    (work / "assetkit.yaml").write_text("version: 1\ndelivery:\n  naming: '{campaign}/{brand}.png'\n")
    result = CliRunner().invoke(cli, ["validate", "assetkit.yaml"])
    assert result.exit_code == 2
    assert result.output.startswith("assetkit.yaml:3:11: delivery.naming: naming template '{campaign}/{brand}.png': "
                                    "unknown field {brand}")


def test_deliver_allow_pending_and_nothing_approved(client, service, folder, work):
    a, sha = first(service)
    result = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(work / "x.zip"), "--allow-pending"])
    assert result.exit_code == 2 and "no approved assets to deliver" in result.output
    post(client, {"scope": "asset", "id": a.id, "action": "approve", "sha256": sha})
    result = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(work / "x.zip"), "--allow-pending"])
    assert result.exit_code == 0 and "not delivered: 11 not approved yet, 0 rejected" in result.output
    with zipfile.ZipFile(work / "x.zip") as zf:
        assert len([n for n in zf.namelist() if n.endswith(".png")]) == 1
    assert ReviewStore(work / "ledger.sqlite").deliveries()[0].allow_pending is True


def test_deliver_without_any_review_writes_nothing(folder, work):
    result = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(work / "x.zip")])
    assert result.exit_code == 2 and "no review decisions yet" in result.output
    assert not (work / "x.zip").exists() and not (work / "ledger.sqlite").exists()


def test_deliver_refuses_an_approved_file_whose_credentials_fail(template, tmp_path, monkeypatch):
    from test_provenance import tamper_png_pixel

    work = tmp_path / "signed"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("ASSETKIT_SETTINGS", raising=False)
    monkeypatch.delenv("ASSETKIT_C2PA_KEY", raising=False)
    assert CliRunner().invoke(cli, ["keys", "init", "keys"]).exit_code == 0
    (work / "assetkit.yaml").write_text("provenance:\n  cert: keys/chain.pem\n  key: keys/signer.key\n"
                                        "  trust_anchors: keys/ca.pem\n")
    folder = make_campaign(work)
    cat = load_catalog(folder)
    assert all(a.signed for a in cat.assets.values())
    victim = cat.assets[list(cat.assets)[2]]
    tamper_png_pixel(cat.file(victim))  # changed after signing, then approved as it is now
    with ReviewService(folder, work / "ledger.sqlite", "Rita") as svc:
        client = TestClient(create_app(svc, token=TOKEN))
        for m in svc.catalog.masters.values():
            assert post(client, {"scope": "master", "id": m.id, "action": "approve",
                                 "assets": shas(svc, m.assets)}).status_code == 201
    result = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(work / "h.zip"), "--ledger",
                                      str(work / "ledger.sqlite")])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[:2] == [
        "Error: 1 approved asset fails Content Credentials (C2PA) verification, nothing was delivered:",
        f"  {victim.label}: invalid — " + result.output.splitlines()[1].split(" — ", 1)[1]]
    assert not (work / "h.zip").exists()


def test_index_csv_neutralises_formulas():
    assert neutralise_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert [neutralise_cell(v) for v in ("+cmd", "-1+2", "@a", "\tx", "ok", None)] == [
        "'+cmd", "'-1+2", "'@a", "'\tx", "ok", ""]
    assert [neutralise_cell(v) for v in ("-1", "+1.5")] == ["-1", "+1.5"]  # numbers stay numbers (csvout)
    row = dict.fromkeys(("file", "size", "bytes", "platform", "placement", "format", "locale", "concept", "variant",
                         "cta", "alt_text", "sha256"), "x")
    row["headline"] = "=1+1"
    assert "'=1+1" in index_csv([row]).decode()


# -- the real server ---------------------------------------------------------------------------------

def test_review_command_serves_on_localhost_with_a_token(folder, work):
    import httpx

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "assetkit", "review", str(folder), "--no-browser",
                             "--reviewer", "Sam"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=work)
    try:
        header = proc.stdout.readline()
        url_line = proc.stdout.readline().strip()
        assert header.startswith("review of Spring Roast Launch 2027: 12 assets · reviewer Sam")
        assert url_line.startswith("open http://127.0.0.1:")
        url = url_line.split()[1]
        token = url.split("?t=")[1]
        base = url.split("/?")[0]
        import time

        for _ in range(100):
            try:
                r = httpx.get(url, timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert r.status_code == 200 and "Spring Roast Launch 2027" in r.text
        assert httpx.get(base + "/", timeout=5).status_code == 403
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert '"GET /" 200' in err and '"GET /" 403' in err and token not in err


def test_deliver_refuses_a_campaign_made_for_internal_use(folder, work):
    import json

    manifest = folder / "manifest.json"
    data = json.loads(manifest.read_text())
    data.setdefault("provenance", {})["usage"] = "internal"
    manifest.write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(work / "x.zip")])
    assert result.exit_code == 2
    assert result.output.startswith("Error: spring-launch was made for internal use (usage: internal), which "
                                    "the licence gate allows only for work that is not published or delivered")
    assert not (work / "x.zip").exists()


def test_a_concepts_alt_text_describes_the_picture_in_each_locale_of_the_delivery(workdir):
    """The brief's ``alt`` (per locale) leads the delivery's alt text; a concept without one
    falls back to the brand, the concept's name and the ad's words."""
    from assetkit.context import RunOptions
    from assetkit.review.deliver import alt_text
    from assetkit.runner import run_brief

    result = run_brief(workdir / "examples" / "spring-launch" / "brief.yaml",
                       RunOptions(out=workdir / "out", record=False, generator="draft", jobs=1))
    manifest = json.loads((Path(result.out_dir) / "manifest.json").read_text())
    assert manifest["alt_text"] == {"morning-ritual": {
        "en-US": "A ceramic cup of light roast coffee on a wooden table by a sunny window",
        "de-DE": "Eine Keramiktasse heller Röstung auf einem Holztisch an einem sonnigen Fenster"}}
    cat = load_catalog(result.out_dir)
    texts = {(a.concept, a.locale): alt_text(cat, a) for a in cat.assets.values() if a.format == "meta-square"}
    assert texts["morning-ritual", "de-DE"] == ("Eine Keramiktasse heller Röstung auf einem Holztisch an einem "
                                                "sonnigen Fenster. Der Frühling schmeckt nach Kaffee. Unsere neue "
                                                "Frühlingsröstung: kaffeevollautomatenfreundlich und fair gehandelt. "
                                                "Angebot gültig bis 30.04. Solange der Vorrat reicht. "
                                                "Button: Jetzt entdecken.")
    # the words each asset shows: the leaderboard dropped the subline, and its alt text does too
    board = next(a for a in cat.assets.values() if a.format == "iab-leaderboard" and a.locale == "en-US")
    assert "subline" in board.compose["dropped"]
    text = alt_text(cat, board)
    assert cat.copy_for("en-US")["subline"].rstrip(".") not in text and "Offer valid until April 30" in text
    assert texts["morning-ritual", "en-US"].startswith("A ceramic cup of light roast coffee on a wooden table by a "
                                                       "sunny window. Spring tastes like fresh coffee.")
    assert texts["roastery", "de-DE"].startswith("Nordlicht Coffee ad (roastery): Der Frühling schmeckt nach Kaffee.")


def test_alt_text_in_a_locale_without_copy_or_too_long_is_an_error_at_its_key(workdir):
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    text = brief.read_text(encoding="utf-8")

    def validate(yaml_text: str, marker: str) -> tuple[str, int]:
        brief.write_text(yaml_text, encoding="utf-8")
        r = CliRunner().invoke(cli, ["validate", str(brief)])
        assert r.exit_code == 2, r.output
        return r.output, next(i for i, line in enumerate(yaml_text.splitlines()) if marker in line) + 1

    out, line = validate(text.replace("  - id: roastery\n", "  - id: roastery\n    alt: " + "x" * 251 + "\n", 1),
                         "alt: xxx")
    assert f"brief.yaml:{line}:10: concepts[1].alt: alt text is 251 characters; keep it to 250" in out, out
    out, line = validate(text.replace("      de-DE: Eine Keramiktasse", "      fr-FR: Une tasse\n      de-DE: Eine "
                                      "Keramiktasse", 1), "fr-FR: Une tasse")
    assert f"brief.yaml:{line}:14: concepts[0].alt.fr-FR: 'fr-FR' is not a locale of this brief" in out, out


def test_deliver_refuses_a_target_inside_the_campaign_or_a_link(client, service, folder, work):
    for to in (folder / "handoff.zip", folder / "en-US" / "handoff"):
        r = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(to), "--allow-pending"])
        assert r.exit_code == 2 and "is inside the campaign folder" in r.output, r.output
        assert not to.exists()
    precious = work / "precious.txt"
    precious.write_text("keep")
    (work / "link.zip").symlink_to(precious)
    r = CliRunner().invoke(cli, ["deliver", str(folder), "--to", str(work / "link.zip"), "--allow-pending"])
    assert r.exit_code == 2 and "is a symbolic link (to " in r.output and "--follow-symlinks" not in r.output
    assert precious.read_text() == "keep"
