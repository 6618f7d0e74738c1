"""The review app in a real browser: Playwright driving the system's headless Chromium.

Without a browser these tests skip with one line; with ASSETKIT_REQUIRE_BROWSER=1 (set by
.ci/run, which installs Debian's chromium) they fail instead.
"""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest
from review_fixtures import make_campaign

CANDIDATES = [os.environ.get("ASSETKIT_CHROMIUM", ""), "/usr/bin/chromium", "/usr/bin/chromium-browser",
              shutil.which("chromium") or "", shutil.which("chromium-browser") or ""]


def _browser() -> str | None:
    for path in CANDIDATES:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _need_browser():
    required = os.environ.get("ASSETKIT_REQUIRE_BROWSER") == "1"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if required:
            pytest.fail("ASSETKIT_REQUIRE_BROWSER=1 but the playwright package is not installed")
        pytest.skip("playwright is not installed")
    path = _browser()
    if path is None:
        if required:
            pytest.fail("ASSETKIT_REQUIRE_BROWSER=1 but no Chromium found (apt-get install chromium)")
        pytest.skip("no Chromium (/usr/bin/chromium) on this machine; apt-get install chromium to run")
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    path = _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def served(tmp_path, monkeypatch):
    from assetkit.review.server import BackgroundServer
    from assetkit.review.service import ReviewService

    _need_browser()
    folder = make_campaign(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSETKIT_LEDGER", str(tmp_path / "ledger.sqlite"))
    service = ReviewService(folder, tmp_path / "ledger.sqlite", "Rita")
    with BackgroundServer(service) as srv:
        yield srv, service, tmp_path
    service.close()


APPROVED_IN_MASTER = ("(mid) => document.querySelectorAll(`[data-master=\"${mid}\"][data-state=approved]`)"
                      ".length === 6")


def _states(page) -> dict:
    return page.eval_on_selector_all("figure[data-kind=asset]", "els => Object.fromEntries(els.map(e => "
                                     "[e.dataset.id, e.dataset.state]))")


def test_keyboard_review_reload_and_deliver(browser, served):
    srv, service, work = served
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(srv.url)
    cat = service.catalog
    masters = list(cat.masters.values())
    # the first item selected is the first master's header: "a" approves the whole master
    page.wait_for_selector(f"#{masters[0].id}.selected")
    page.wait_for_timeout(300)  # some focus time to measure
    page.keyboard.press("a")
    page.wait_for_function(APPROVED_IN_MASTER, arg=masters[0].id)
    # → its first asset: reject with a comment
    page.keyboard.press("ArrowRight")
    first = masters[0].assets[0]
    page.wait_for_selector(f"#{first}.selected")
    page.keyboard.press("r")
    page.wait_for_selector("#dlg[open]")
    page.keyboard.type("Logo too close to the edge")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#{first}[data-state=rejected]")
    # the second master from one of its assets: Shift+A
    page.evaluate(f"document.getElementById('{masters[1].assets[2]}').scrollIntoView()")
    page.locator(f"#{masters[1].assets[2]} figcaption").click()
    page.keyboard.press("Shift+A")
    page.wait_for_function(APPROVED_IN_MASTER, arg=masters[1].id)
    page.reload()
    page.wait_for_selector(f"#{first}")
    states = _states(page)
    assert states[first] == "rejected"
    assert sorted(states.values()).count("approved") == 11
    assert "Logo too close to the edge" in page.inner_text(f"#{first} .comment")
    assert page.inner_text("[data-count=approved]") == "11"
    assert errors == []
    decisions = service.decisions()
    assert [(d.scope, d.action) for d in decisions] == [("master", "approve"), ("asset", "reject"),
                                                        ("master", "approve")]
    assert decisions[0].focus_ms >= 200  # measured in the browser while the master was selected
    assert decisions[1].comment == "Logo too close to the edge" and decisions[1].reviewer == "Rita"
    from assetkit.review.deliver import deliver

    result = deliver(service.folder, work / "handoff.zip", work / "ledger.sqlite")
    assert result.files == 11 and result.rejected == 1
    with zipfile.ZipFile(work / "handoff.zip") as zf:
        pngs = [n for n in zf.namelist() if n.endswith(".png")]
    assert len(pngs) == 11
    rejected = cat.assets[first]
    assert f"{rejected.locale}_{rejected.concept}-v{rejected.variant}" not in " ".join(
        n for n in pngs if rejected.format in n)


def test_full_size_overlay_toggles_and_screenshots(browser, served):
    srv, _, work = served
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.goto(srv.url)
    shots = Path(os.environ.get("ASSETKIT_SCREENSHOTS", work))
    shots.mkdir(parents=True, exist_ok=True)
    page.wait_for_selector("img")
    page.screenshot(path=str(shots / "review-gallery.png"))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_url("**/asset/**")
    svg = page.locator(".stage svg")
    assert not svg.is_visible()
    page.keyboard.press("o")
    assert svg.is_visible()
    assert "headline" in page.inner_html(".stage svg") and "safe zone" in page.inner_html(".stage svg")
    page.screenshot(path=str(shots / "review-overlay.png"))
    page.keyboard.press("o")
    assert not svg.is_visible()
    page.keyboard.press("Escape")
    page.wait_for_selector("section.master")
    for name in ("review-gallery.png", "review-overlay.png"):
        assert (shots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
