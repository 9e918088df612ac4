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
    assert tmax == int(res.steps[0]) >= int(steps.max())  # until the replicate stopped changing
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


def _shock_run(runs: int = 3):
    """A platform scenario with an outage, kept replicate 1, as ``diffusion run --html`` runs it."""
    sc = diffusion.parse_scenario({
        "scenario": {"name": "outage", "seed": 7, "runs": runs, "max_steps": 25},
        "network": {"generator": "smb", "n": 400, "mean_degree": 6.0, "sectors": 4, "regions": 3},
        "cascade": {"model": "platform_competition", "platforms": ["A", "B", "C"], "global_effect": 4.0,
                    "revision_rate": 0.3},
        "shock": {"type": "platform_outage", "platform": "dominant", "severity": 1.0, "propagation": "threshold",
                  "capacity": 1.0, "value": "size", "exposure": {"loss_given_default": 0.25}},
    })
    return diffusion.run_scenario(sc, keep=[1])


def test_loss_and_failure_views_count_the_same_failed_firms(browser, tmp_path):
    from diffusion.viz.report import write_network_html

    res = _shock_run()
    view = res.simulation.replicate(1)
    decl = res.simulation.declarations
    rounds = np.asarray(view.outputs[decl.role("failed_round").name])
    failed, hit = int((rounds >= 0).sum()), int((rounds == 0).sum())
    n = res.network.n
    assert 0 < failed < n  # some firms survive: they must not be counted as failed
    p = Page(browser, write_network_html(res, tmp_path / "o.html", replicate=1))
    keys = p.js("window.diffusionTimeline.views.map(function (v, i) { return [i, v.timeline && v.timeline.unit]; })")
    captions = p.page.eval_on_selector_all("#color-select option", "os => os.map(o => o.textContent)")
    i_fail, i_loss = captions.index("Failure"), captions.index("Loss (share of each firm's value)")
    for i in (i_fail, i_loss):
        assert keys[i][1] == "round"
        p.js(f"window.diffusionTimeline.setView({i})")
        status = p.page.inner_text("#timeline-status")
        tmax = int(rounds.max())
        assert status == f"round {tmax} of {max(tmax, 1)}: {failed:,} of {n:,} firms failed ({100 * failed / n:.1f} %)"
        p.js("window.diffusionTimeline.render(0)")
        assert f"round 0 of {max(tmax, 1)}: {hit:,} of {n:,} firms failed" in p.page.inner_text("#timeline-status")
        assert p.page.inner_text("#curve-readout") == f"round 0: {100 * hit / n:.1f} %"
    # the failure colours are the colour-blind-safe pair, and the shock's first victims are told apart
    p.js(f"window.diffusionTimeline.setView({i_fail})")
    cols = p.colors()
    from diffusion.viz.html import FAILED, FIRST_FAILED

    assert sum(c == FIRST_FAILED for c in cols) == hit and sum(c == FAILED for c in cols) == failed - hit
    assert p.errors == [] and p.requests == []
    p.page.close()


def test_platform_history_replays_every_step_with_switching(browser, tmp_path):
    from diffusion.viz.report import write_network_html

    res = _shock_run()
    sim = res.simulation
    hist_out = sim.declarations.role("holding_history")
    assert hist_out is not None  # recorded because a replicate was named in keep
    assert sim.kept_values[hist_out.name].shape == (len(sim.counts), 1, res.network.n)  # that one only
    hist = sim.replicate(1).series[hist_out.name]
    steps = len(sim.counts) - 1
    switched = int(((hist[1:] != hist[:-1]) & (hist[:-1] > 0)).any(axis=0).sum())
    assert switched > 0  # firms changed platform during the run
    p = Page(browser, write_network_html(res, tmp_path / "h.html", replicate=1, color_by="platform"))
    assert int(p.js("Number(document.getElementById('timeline-slider').max)")) == steps
    tl = p.js("window.diffusionTimeline.current()")
    frames = np.array(tl["frames"])
    assert frames.shape == (steps + 1, res.network.n)
    np.testing.assert_array_equal(frames != frames[-1], hist != hist[-1])  # the colours follow the holdings
    # a firm that switched shows another platform's colour before the switch
    i = int(np.flatnonzero(((hist[1:] != hist[:-1]) & (hist[:-1] > 0)).any(axis=0))[0])
    t = int(np.flatnonzero(hist[:, i] > 0)[0])
    p.js(f"window.diffusionTimeline.render({t})")
    before = p.colors()[i]
    p.js(f"window.diffusionTimeline.render({steps})")
    assert p.colors()[i] != before or hist[t, i] == hist[-1, i]
    # the curve's marker follows the slider: the whole network's share on a platform at that step
    p.page.locator("#timeline-slider").fill("3")
    share = sim.counts[3, 1] / res.network.n
    assert p.page.inner_text("#curve-readout") == f"step 3: {100 * share:.1f} %"
    x = float(p.js("document.getElementById('curve-marker').getAttribute('x1')"))
    assert x == pytest.approx(200 * 3 / steps, abs=0.06)
    assert p.errors == [] and p.requests == []
    p.page.close()


def test_block_layout_size_legend_and_group_labels(browser, tmp_path):
    res = _shock_run(runs=2)
    net = res.network
    p = Page(browser, to_html(net, tmp_path / "b.html", res.simulation, replicate=1))
    pos = p.js("network.getPositions()")
    xy = np.array([[pos[str(i)]["x"], pos[str(i)]["y"]] for i in range(net.n)])
    sector = net.attribute("sector").astype(str)
    region = net.attribute("region").astype(str)
    # every sector sits on one row and every region in one column of the grid
    for values, axis in ((sector, 1), (region, 0)):
        centres = {v: xy[values == v, axis].mean() for v in np.unique(values)}
        spread = max(np.ptp(xy[values == v, axis]) for v in centres)
        gaps = np.diff(sorted(centres.values()))
        assert gaps.min() > spread  # groups do not overlap along that axis
    assert "Firms are grouped by sector (rows) × region (columns)" in p.page.inner_text("#legend")
    sizes = p.page.eval_on_selector_all(".size-label", "xs => xs.map(x => x.textContent)")
    assert len(sizes) == 3 and "Node size" in p.page.inner_text("#size-legend")
    radii = [float(r) for r in p.page.eval_on_selector_all(".size-dot", "xs => xs.map(x => x.getAttribute('data-r'))")]
    assert radii == sorted(radii) and radii[0] < radii[-1]
    scale = p.js("network.getScale()")
    width = float(p.js("(function () { var d = document.querySelectorAll('.size-dot'); "
                       "return parseFloat(d[d.length - 1].style.width); })()"))
    assert width == pytest.approx(min(64, 2 * radii[-1] * scale), rel=0.05)
    assert p.errors == [] and p.requests == []
    p.page.close()
