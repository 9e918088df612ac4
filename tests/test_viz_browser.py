"""The exported page as a person sees it: opened in headless Chromium via Playwright.

Skips (with the reason) when Playwright or a Chromium binary is not available.
Set ``CHROMIUM`` to the browser executable if it is not on the PATH.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import diffusion
from diffusion.viz import to_html

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")

XSS_LABEL = '<img src=x onerror="window.__xss = 1">'
XSS_TITLE = "<script>window.__xss = 2</script>"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]


def _chromium() -> str | None:
    env = os.environ.get("CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    exe = _chromium()
    if exe is None:
        pytest.skip("no Chromium binary found (install Debian's 'chromium' package or set CHROMIUM)")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=exe, args=ARGS)
        except Exception as exc:  # pragma: no cover - depends on the machine
            pytest.skip(f"Chromium at {exe} does not start: {exc}")
        yield b
        b.close()


class Page:
    """A loaded page plus everything it tried to do."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)

        def route(r):
            url = r.request.url
            if url.startswith("file://"):
                r.continue_()
            else:
                self.requests.append(url)
                r.abort()

        self.page.route("**/*", route)
        self.page.on("request", lambda req: None if req.url.startswith(("file://", "data:")) else
                     self.requests.append(req.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_function("typeof network === 'object' && network !== null", timeout=30_000)

    def _dialog(self, d):
        self.dialogs.append(d.message)
        d.dismiss()

    def js(self, expr: str):
        return self.page.evaluate(expr)

    def colors(self) -> list[str]:
        return self.js("nodes.get().map(function (n) { return n.color.background || n.color; })")


@pytest.fixture(scope="module")
def cascade():
    n = 150
    rng = np.random.default_rng(8)
    net = diffusion.generators.watts_strogatz(n, 4, 0.1, seed=5)
    labels = np.array([f"firm {i}" for i in range(n)], dtype=object)
    labels[3] = XSS_LABEL
    net = net.with_attributes(size=rng.lognormal(2, 1, n), sector=rng.choice(["retail", XSS_LABEL], n),
                              label=labels.astype(str))
    res = diffusion.simulate(net, diffusion.LinearThreshold(0.26), initial=4, runs=2, seed=9)
    return net, res


def test_page_loads_offline_with_all_nodes(browser, cascade, tmp_path):
    net, res = cascade
    path = to_html(net, tmp_path / "net.html", res, scenario=XSS_TITLE, color_by="sector")
    p = Page(browser, path)
    p.page.wait_for_timeout(300)
    assert p.errors == []
    assert p.js("network.body.data.nodes.length") == net.n
    assert p.js("network.body.data.edges.length") == net.number_of_edges
    assert p.js("Object.keys(network.body.nodes).length") >= net.n  # actually drawn by vis.js
    assert p.requests == []
    # the hostile strings are on the page as text, and nothing ran
    assert p.page.inner_text("#page-title").startswith(XSS_TITLE)
    assert XSS_LABEL in p.page.inner_text("#legend")
    assert p.js("document.querySelectorAll('img').length") == 0
    assert p.js("window.__xss === undefined")
    assert p.dialogs == []
    p.page.close()


def test_tooltip_renders_hostile_label_as_text(browser, cascade, tmp_path):
    net, res = cascade
    p = Page(browser, to_html(net, tmp_path / "net.html", res))
    p.js("network.stopSimulation(); network.setOptions({physics: {enabled: false}}); network.fit()")
    p.page.wait_for_timeout(200)
    x, y = p.js("""(function () {
        var c = network.canvasToDOM(network.getPositions([3])[3]);
        var r = document.getElementById('mynetwork').getBoundingClientRect();
        return [r.left + c.x, r.top + c.y];
    })()""")
    p.page.mouse.move(x + 40, y + 40)
    p.page.mouse.move(x, y, steps=4)
    p.page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5_000)
    tip = p.page.inner_text("div.vis-tooltip")
    assert XSS_LABEL in tip and "adopted:" in tip and "degree:" in tip
    assert p.js("document.querySelector('div.vis-tooltip').getElementsByTagName('img').length") == 0
    p.page.wait_for_timeout(200)
    assert p.js("window.__xss === undefined") and p.dialogs == [] and p.errors == []
    p.page.close()


def test_timeline_slider_recolours_nodes(browser, cascade, tmp_path):
    net, res = cascade
    steps = res.adoption_step[0]
    p = Page(browser, to_html(net, tmp_path / "net.html", res))
    final = p.colors()
    tmax = int(p.js("Number(document.getElementById('timeline-slider').max)"))
    assert tmax == int(steps.max())
    slider = p.page.locator("#timeline-slider")
    slider.fill("0")  # fires the input event, as dragging does
    at0 = p.colors()
    assert at0 != final
    empty = diffusion.viz.style.EMPTY
    assert sum(c != empty for c in at0) == int((steps == 0).sum())  # only the initial adopters
    assert "step 0 of" in p.page.inner_text("#timeline-status")
    mid = tmax // 2
    slider.fill(str(mid))
    assert sum(c != empty for c in p.colors()) == int(((steps >= 0) & (steps <= mid)).sum())
    slider.fill(str(tmax))
    assert p.colors() == final
    # Play replays from the start and ends on the final state
    p.js("DIFFUSION_VIEWS.forEach(function (v) { if (v.timeline) { v.timeline.interval = 20; } })")
    p.page.click("#timeline-play")
    p.page.wait_for_function(f"document.getElementById('timeline-slider').value === '{tmax}' && "
                             "document.getElementById('timeline-play').textContent === 'Play'",
                             timeout=10_000)
    assert p.colors() == final
    assert p.errors == [] and p.requests == []
    p.page.close()


def test_large_precomputed_and_reduced_views(browser, tmp_path):
    n = 3000
    rng = np.random.default_rng(1)
    net = diffusion.generators.erdos_renyi(n, mean_degree=3, seed=2).with_attributes(
        size=rng.lognormal(size=n), sector=rng.choice(list("abc"), n), region=rng.choice(list("xy"), n))
    res = diffusion.simulate(net, diffusion.IndependentCascade(0.3), initial=10, runs=1, seed=4)
    with pytest.warns(diffusion.viz.ReducedViewWarning):
        path = to_html(net, tmp_path / "big.html", res, max_nodes=2500)
    p = Page(browser, path)
    assert p.js("network.body.data.nodes.length") == 2500
    assert p.js("network.physics.options.enabled") is False  # layout precomputed
    assert "2,500 largest firms" in p.page.inner_text("header")
    p.page.locator("#timeline-slider").fill("0")
    assert p.errors == [] and p.requests == []
    p.page.close()
    with pytest.warns(diffusion.viz.ReducedViewWarning):
        path = to_html(net, tmp_path / "groups.html", res, max_nodes=100, reduce="groups")
    p = Page(browser, path)
    assert p.js("network.body.data.nodes.length") == 6
    before = p.colors()
    p.page.locator("#timeline-slider").fill("0")
    assert p.colors() != before
    assert p.errors == [] and p.requests == []
    p.page.close()


def test_platform_history_slider(browser, tmp_path):
    net = diffusion.generators.erdos_renyi(200, mean_degree=6, seed=1)
    model = diffusion.PlatformCompetition(["A", "B"], global_effect=5.0, revision_rate=0.3, record_history=True)
    res = diffusion.simulate(net, model, runs=1, seed=3, max_steps=12)
    p = Page(browser, to_html(net, tmp_path / "plat.html", res))
    final = p.colors()
    p.page.locator("#timeline-slider").fill("0")
    at0 = p.colors()
    assert at0 != final and set(at0) == {diffusion.viz.style.EMPTY}  # nobody on a platform at step 0
    assert "step 0 of 12" in p.page.inner_text("#timeline-status")
    p.page.locator("#timeline-slider").fill("12")
    assert p.colors() == final
    assert p.errors == [] and p.requests == []
    p.page.close()


def test_colour_selector_switches_legend_and_timeline(browser, cascade, tmp_path):
    net, res = cascade
    rng = np.random.default_rng(2)
    failed = np.where(rng.random(net.n) < 0.3, rng.integers(0, 3, net.n), -1)
    shock = {"failed_round": failed, "loss": np.where(failed >= 0, 1.0, 0.0)}
    p = Page(browser, to_html(net, tmp_path / "net.html", res, shock=shock))
    adoption = p.colors()
    options = p.page.eval_on_selector_all("#color-select option", "els => els.map(e => e.textContent)")
    assert options[:3] == ["Adoption", "Adoption step", "Failure"] and "sector" in options
    p.page.select_option("#color-select", label="sector")
    by_sector = p.colors()
    assert by_sector != adoption
    sector_view = options.index("sector")
    assert p.page.is_visible(f".legend-block[data-view='{sector_view}']")
    assert not p.page.is_visible(".legend-block[data-view='0']")
    assert XSS_LABEL in p.page.inner_text("#legend")  # the hostile sector name, as text
    p.page.locator("#timeline-slider").fill("0")  # attribute colours fade until adoption
    assert p.colors() != by_sector
    p.page.select_option("#color-select", label="Failure")  # the shock replays by rounds
    assert p.js("Number(document.getElementById('timeline-slider').max)") == int(failed.max())
    assert "round 2 of 2" in p.page.inner_text("#timeline-status")
    p.page.locator("#timeline-slider").fill("0")
    assert sum(c != diffusion.viz.style.EMPTY for c in p.colors()) == int((failed == 0).sum())
    p.page.select_option("#color-select", label="Adoption")
    assert p.colors() == adoption
    assert p.errors == [] and p.requests == [] and p.dialogs == [] and p.js("window.__xss === undefined")
    p.page.close()
