"""HTML export without a browser: the pure pieces, the page's content and its safety."""

from __future__ import annotations

import json
import re
import time
import warnings

import numpy as np
import pytest

import diffusion
from diffusion.errors import DiffusionError, ParameterError
from diffusion.viz import ReducedViewWarning, node_coloring, style, to_html
from diffusion.viz.html import _Outcomes
from diffusion.viz.layout import force_layout
from diffusion.viz.reduce import group_quotient, largest_firms, subgraph_edges

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def firms():
    n = 120
    rng = np.random.default_rng(4)
    net = diffusion.generators.watts_strogatz(n, 4, 0.1, seed=2)
    labels = np.array([f"firm {i}" for i in range(n)], dtype=object)
    labels[7] = HOSTILE
    net = net.with_attributes(
        sector=rng.choice(["retail", "food", "<b>tech</b>"], n),
        region=rng.choice(["north", "south"], n),
        size=rng.lognormal(2.0, 1.0, n),
        label=labels.astype(str),
    )
    res = diffusion.simulate(net, diffusion.LinearThreshold(0.3), initial=4, runs=3, seed=11)
    return net, res


def _payload(text: str, name: str):
    """The JSON literal assigned in the page (``new vis.DataSet(<json>)`` etc.)."""
    if name in ("timeline", "views"):
        m = re.search(r"var DIFFUSION_VIEWS = (.*?);\n", text, re.S)
        assert m
        views = json.loads(m.group(1))
        return views if name == "views" else views[0]["timeline"]
    else:
        m = re.search(rf"var raw{name} = (.*?);\n", text, re.S)
    assert m, name
    return json.loads(m.group(1))


# --------------------------------------------------------------- pure pieces
def test_categorical_colors_stable_and_pooled():
    vals = np.array(list("abcdefghijklmnop") + ["a"] * 10)
    cols, legend = style.categorical_colors(vals, max_levels=5)
    assert [lab for lab, _ in legend] == ["a", "b", "c", "d", "other"]  # 4 colours + "other"
    assert cols[0] == cols[-1]  # same category, same colour
    assert len(set(cols.tolist())) == 5


def test_sequential_colors_monotone_in_value():
    cols = style.sequential_colors(np.array([0.0, 0.5, 1.0, np.nan]))
    assert cols[0] == style.VIRIDIS[0] and cols[2] == style.VIRIDIS[-1]
    assert cols[3] == style.EMPTY
    assert style.sequential_colors(np.array([3.0, 3.0])).tolist() == [style.VIRIDIS[0]] * 2


def test_node_sizes_area_proportional():
    s = style.node_sizes(np.array([1.0, 4.0, 9.0, np.nan]), 4, low=0, high=2)
    assert s.tolist() == [0.0, 1.0, 2.0, 0.0]
    assert style.node_sizes(None, 3).tolist() == [22.0] * 3


def test_tooltips_plain_text():
    tips = style.tooltips(["x"], {"sector": np.array([HOSTILE]), "share": np.array([0.123456])})
    assert tips == [f"x\nsector: {HOSTILE}\nshare: 0.1235"]


def test_coloring_timeline_consistent():
    steps = np.array([0, 2, -1, 1])
    c = node_coloring("adoption", attributes={}, outcomes=_Outcomes(steps=steps), degree=np.ones(4, int))
    assert c.times.tolist() == steps.tolist()
    assert c.colors[2] == style.EMPTY and c.colors[0] != c.colors[1]
    assert (c.pending == style.EMPTY).all()
    with pytest.raises(ParameterError, match="color_by"):
        node_coloring("platform", attributes={}, outcomes=_Outcomes(steps=steps), degree=np.ones(4, int))
    with pytest.raises(ParameterError, match="sector"):
        node_coloring("nope", attributes={"sector": np.array(list("abcd"))}, outcomes=_Outcomes(),
                      degree=np.ones(4, int))


def test_layout_deterministic_and_bounded():
    net = diffusion.generators.watts_strogatz(300, 4, 0.05, seed=1)
    s, t = net.edges()
    a = force_layout(net.n, s, t, seed=3, scale=500)
    b = force_layout(net.n, s, t, seed=3, scale=500)
    assert np.array_equal(a, b)
    assert np.abs(a).max() == pytest.approx(500)
    # neighbours end up closer than random pairs
    d_edge = np.linalg.norm(a[s] - a[t], axis=1).mean()
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, net.n, 2000), rng.integers(0, net.n, 2000)
    assert d_edge < 0.5 * np.linalg.norm(a[i] - a[j], axis=1).mean()


def test_largest_firms_and_subgraph():
    size = np.array([5.0, 1.0, 9.0, 3.0, 9.0])
    net = diffusion.Network.from_edges(5, [0, 2, 2, 1], [2, 4, 3, 3], attributes={"size": size})
    keep = largest_firms(net, 3)
    assert keep.tolist() == [0, 2, 4]
    s, t, w = subgraph_edges(net, keep)
    assert sorted(zip(s.tolist(), t.tolist(), strict=True)) == [(0, 1), (1, 2)]
    assert w is None


def test_group_quotient_counts_ties():
    net = diffusion.Network.from_edges(
        6, [0, 1, 2, 3, 4], [1, 2, 3, 4, 5],
        attributes={"sector": list("aabbcc"), "region": list("xxxxxx")})
    q = group_quotient(net, ("sector", "region"))
    assert q.labels == ["a · x", "b · x", "c · x"]
    assert q.counts.tolist() == [2, 2, 2]
    assert q.internal.tolist() == [1.0, 1.0, 1.0]
    assert sorted(zip(q.sources.tolist(), q.targets.tolist(), q.ties.tolist(), strict=True)) == [
        (0, 1, 1.0), (1, 2, 1.0)]


# ------------------------------------------------------------------- pages
def test_page_self_contained_and_complete(firms, tmp_path):
    net, res = firms
    out = to_html(net, tmp_path / "sub" / "net.html", res, scenario="demo", replicate=1)
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=", text, re.I)
    assert "cdn.jsdelivr" not in text and "cdnjs" not in text and "bootstrap" not in text
    assert "default-src 'none'" in text  # the page may not fetch anything
    nodes = _payload(text, "Nodes")
    edges = _payload(text, "Edges")
    assert len(nodes) == net.n and len(edges) == net.number_of_edges
    assert "demo — seed 11" in text
    tl = _payload(text, "timeline")
    assert tl["times"] == res.adoption_step[1].tolist()
    assert tl["max"] == int(res.adoption_step[1].max())
    # every node's colour at the last step is its final colour
    final = [nd["color"] for nd in nodes]
    assert tl["final"] == final
    assert [e > -1 for e in tl["times"]] == [c != style.EMPTY for c in final]
    assert not list(tmp_path.joinpath("sub").glob(".*tmp"))  # atomic write left nothing behind


def test_hostile_strings_escaped(firms, tmp_path):
    net, res = firms
    out = to_html(net, tmp_path / "x.html", res, scenario="<script>alert(2)</script>", color_by="sector")
    text = out.read_text(encoding="utf-8")
    assert HOSTILE not in text and "<b>tech</b>" not in text
    assert "<script>alert(2)</script>" not in text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in text  # the title shows it as text
    assert "&lt;b&gt;tech&lt;/b&gt;" in text  # legend entry escaped
    nodes = _payload(text, "Nodes")
    assert nodes[7]["label"] == HOSTILE  # drawn on the canvas as text
    assert HOSTILE in nodes[7]["title"]
    assert "textContent" in text  # tooltips are set as text, never parsed as HTML


@pytest.mark.parametrize("color_by", ["adoption", "step", "sector", "size", "degree", "none"])
def test_colorings_write(firms, tmp_path, color_by):
    net, res = firms
    text = to_html(net, tmp_path / "c.html", res, color_by=color_by).read_text()
    nodes = _payload(text, "Nodes")
    assert all(re.fullmatch(r"#[0-9a-f]{6}", nd["color"]) for nd in nodes)


def test_platform_and_shock_colourings(firms, tmp_path):
    net, res = firms
    rng = np.random.default_rng(0)
    platform = rng.integers(0, 3, size=(res.runs, net.n))
    decl = diffusion.Declarations([diffusion.Output.node_category("platform", ("none", "Shop<i>", "Market"),
                                                                  role="holding")])
    res2 = diffusion.SimulationResult.from_arrays(res.adoption_step, outputs={"platform": platform},
                                                  declarations=decl)
    text = to_html(net, tmp_path / "p.html", res2, color_by="platform", replicate=2).read_text()
    assert "Shop&lt;i&gt;" in text and "no platform" in text
    nodes = _payload(text, "Nodes")
    assert len({nd["color"] for nd in nodes}) == 3
    failed = np.where(rng.random(net.n) < 0.2, rng.integers(0, 4, net.n), -1)
    shock = {"failed_round": failed, "loss": np.where(failed >= 0, 1.0, rng.random(net.n) * 0.3)}
    for cb in ("failure", "loss"):
        text = to_html(net, tmp_path / f"{cb}.html", res, shock=shock, color_by=cb).read_text()
        tl = _payload(text, "timeline")
        assert tl["unit"] == "round"
        assert tl["max"] == int(failed.max())
    with pytest.raises(ParameterError, match=r"shock\.loss"):
        to_html(net, tmp_path / "bad.html", shock={"loss": np.zeros(3)})


def test_propagation_result_as_shock(tmp_path):
    from diffusion.shocks import TargetedFailures, apply_shock

    net = diffusion.generators.erdos_renyi(150, mean_degree=4, seed=1)
    res = apply_shock(net, TargetedFailures("degree", count=5), exposure={"resources": 0.4})
    text = to_html(net, tmp_path / "s.html", shock=res).read_text()
    tl = _payload(text, "timeline")
    rounds = getattr(res, "failed_round", None)
    if rounds is not None:  # per-firm failure rounds are replayed as recorded
        assert tl["times"] == np.atleast_2d(rounds)[0].tolist()
    else:
        assert sum(t >= 0 for t in tl["times"]) == int(np.atleast_2d(res.failed)[0].sum())
    nodes = _payload(text, "Nodes")
    assert "loss: " in nodes[0]["title"] and "failed: " in nodes[0]["title"]


def test_bad_arguments(firms, tmp_path):
    net, res = firms
    with pytest.raises(ParameterError, match="replicate"):
        to_html(net, tmp_path / "a.html", res, replicate=3)
    with pytest.raises(ParameterError, match="max_nodes"):
        to_html(net, tmp_path / "a.html", res, max_nodes=0)
    with pytest.raises(ParameterError, match="reduce"):
        to_html(net, tmp_path / "a.html", res, reduce="random")
    with pytest.raises(DiffusionError, match="nope"):
        to_html(net, tmp_path / "a.html", res, size_by="nope")
    with pytest.raises(DiffusionError, match="Network"):
        to_html(net.to_networkx(), tmp_path / "a.html")
    assert not (tmp_path / "a.html").exists()


def test_labels_from_name_column(tmp_path):
    net = diffusion.Network.from_edges(3, [0, 1], [1, 2], attributes={"name": ["Acme", "Bolt", "Coop"]})
    nodes = _payload(to_html(net, tmp_path / "n.html").read_text(), "Nodes")
    assert [nd["label"] for nd in nodes] == ["Acme", "Bolt", "Coop"]


def test_reduced_view_largest(firms, tmp_path):
    net, res = firms
    with pytest.warns(ReducedViewWarning, match="50 largest firms"):
        text = to_html(net, tmp_path / "r.html", res, max_nodes=50).read_text()
    assert "50 largest firms" in text  # said in the page as well
    nodes = _payload(text, "Nodes")
    assert len(nodes) == 50
    keep = largest_firms(net, 50)
    sizes = [float(re.search(r"size: ([0-9.e+-]+)", nd["title"]).group(1)) for nd in nodes]
    assert min(sizes) >= np.sort(net.attribute("size"))[-50] * (1 - 1e-3)
    assert len(_payload(text, "Edges")) == len(subgraph_edges(net, keep)[0])


def test_reduced_view_groups(firms, tmp_path):
    net, res = firms
    with pytest.warns(ReducedViewWarning, match="sector × region"):
        text = to_html(net, tmp_path / "g.html", res, max_nodes=10, reduce="groups").read_text()
    nodes = _payload(text, "Nodes")
    assert len(nodes) == 6  # 3 sectors × 2 regions
    tl = _payload(text, "timeline")
    assert len(tl["frames"]) == tl["max"] + 1 and len(tl["frames"][0]) == 6
    assert tl["frames"][-1] == [nd["color"] for nd in nodes]


def test_million_nodes_fast_and_bounded(tmp_path):
    # Guard against quadratic work or whole-network per-node Python loops: a
    # million firms (random ties) must reduce and export in seconds.
    n = 1_000_000
    rng = np.random.default_rng(0)
    net = diffusion.Network.from_edges(n, rng.integers(0, n, 2 * n), rng.integers(0, n, 2 * n),
                                       attributes={"size": rng.lognormal(size=n),
                                                   "sector": rng.integers(0, 6, n)})
    steps = np.full((1, n), -1, dtype=np.int16)
    steps[0, rng.choice(n, 5000, replace=False)] = rng.integers(0, 9, 5000)
    counts = np.cumsum(np.bincount(steps[steps >= 0], minlength=9))[:, None]
    res = diffusion.SimulationResult.from_arrays(steps, model="demo", counts=counts, steps=np.array([8]), seed=5)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = to_html(net, tmp_path / "big.html", res, max_nodes=2000)
        out2 = to_html(net, tmp_path / "groups.html", res, reduce="groups")
    elapsed = time.perf_counter() - t0
    assert sum(issubclass(w.category, ReducedViewWarning) for w in got) == 2
    assert len(_payload(out.read_text(), "Nodes")) == 2000
    assert len(_payload(out2.read_text(), "Nodes")) == 6
    assert elapsed < 30  # generous bound: measured ~2 s; a per-node loop over 1e6 nodes would not pass


# --------------------------------------------------------------------- CLI
def test_cli_run_writes_figures_and_html(runner, write_scenario, tmp_path):
    from diffusion.cli import main

    path = write_scenario()
    out = tmp_path / "out"
    res = runner.invoke(main, ["run", str(path), "-q", "--runs", "4", "--html", "--out", str(out),
                               "--executor", "serial"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["adoption.png", "adoption.svg"]
    text = (out / "network.html").read_text()
    assert "basic — seed 11" in text
    assert len(_payload(text, "Nodes")) == 300
    res = runner.invoke(main, ["run", str(path), "-q", "--runs", "2", "--no-plots", "--out",
                               str(tmp_path / "bare"), "--executor", "serial"])
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "bare" / "figures").exists() and not (tmp_path / "bare" / "network.html").exists()


def test_cli_export_html_options_and_errors(runner, write_scenario, tmp_path):
    from diffusion.cli import main

    path = write_scenario()
    target = tmp_path / "view.html"
    res = runner.invoke(main, ["export-html", str(path), "--out", str(target), "--runs", "3",
                               "--replicate", "2", "--color-by", "step", "--max-nodes", "100"])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == f"wrote {target}"
    assert res.stderr.startswith("note: ") and "100 largest firms" in res.stderr
    text = target.read_text()
    assert len(_payload(text, "Nodes")) == 100 and "Adoption step" in text and "replicate 2 of 3" in text
    res = runner.invoke(main, ["export-html", str(path), "--out", str(target), "--runs", "3",
                               "--replicate", "5"])
    assert res.exit_code == 2 and "replicate" in res.stderr
    res = runner.invoke(main, ["export-html", str(path), "--out", str(target), "--color-by", "nope"])
    assert res.exit_code == 2 and "color_by" in res.stderr


def test_platform_run_figures_and_page(tmp_path):
    from diffusion.viz.report import write_figures

    net = diffusion.generators.erdos_renyi(300, mean_degree=6, seed=1)
    model = diffusion.PlatformCompetition(["Alpha", "Beta<script>"], global_effect=6.0, revision_rate=0.3)
    res = diffusion.simulate(net, model, runs=4, seed=3, max_steps=30)
    files = write_figures(res, tmp_path / "figs")
    assert sorted(files) == ["adoption.png", "adoption.svg", "distributions.png", "distributions.svg",
                             "outcome_winner.png", "outcome_winner.svg", "platforms.png", "platforms.svg"]
    text = to_html(net, tmp_path / "p.html", res).read_text()
    assert "Beta&lt;script&gt;" in text and "Beta<script>" not in text
    nodes = _payload(text, "Nodes")
    plat = res.outputs["platform"][0]
    assert len({nd["color"] for nd in nodes}) == len(np.unique(plat))


def test_platform_history_replayed(tmp_path):
    net = diffusion.generators.erdos_renyi(200, mean_degree=6, seed=1)
    model = diffusion.PlatformCompetition(["A", "B", "C"], global_effect=5.0, revision_rate=0.3,
                                          record_history=True)
    res = diffusion.simulate(net, model, runs=2, seed=3, max_steps=15)
    text = to_html(net, tmp_path / "h.html", res, replicate=1).read_text()
    tl = _payload(text, "timeline")
    hist = res.series["platform_history"][:, 1, :]
    assert tl["max"] == hist.shape[0] - 1 and len(tl["frames"][0]) == net.n
    pairs = {(int(p), i) for row, h in zip(tl["frames"], hist, strict=True)
             for i, p in zip(row, h.tolist(), strict=True)}
    assert len(pairs) == len({i for _, i in pairs}) == len(np.unique(hist))  # one colour per platform
    assert [tl["palette"][i] for i in tl["frames"][-1]] == [nd["color"] for nd in _payload(text, "Nodes")]


def test_page_offers_every_colouring(firms, tmp_path):
    net, res = firms
    text = to_html(net, tmp_path / "v.html", res, color_by="sector").read_text()
    views = _payload(text, "views")
    keys = re.findall(r'<option value="(\d+)">([^<]*)</option>', text)
    assert [k for _, k in keys][:3] == ["sector", "Adoption", "Adoption step"]
    assert len(views) == len(keys) == len(re.findall(r'class="legend-block"', text))
    assert [v["colors"] for v in views[:1]] == [[nd["color"] for nd in _payload(text, "Nodes")]]
    by_caption = dict(zip([k for _, k in keys], views, strict=True))
    assert by_caption["Adoption"]["timeline"]["times"] == res.adoption_step[0].tolist()
    degree = by_caption["Degree"]["timeline"]  # firm attributes replay adoption by fading
    assert degree["times"] == res.adoption_step[0].tolist()
    assert all(p != f for p, f in zip(degree["pending"], degree["final"], strict=True))
    plain = _payload(to_html(net, tmp_path / "plain.html").read_text(), "views")
    assert all(v["timeline"] is None for v in plain)  # no outcome: nothing to replay
    assert 'id="timeline-slider"' not in to_html(net, tmp_path / "plain.html").read_text()


def test_edge_cases_empty_directed_hostile_attribute_name(tmp_path):
    assert len(_payload(to_html(diffusion.Network.from_edges(0, [], []), tmp_path / "e.html").read_text(),
                        "Nodes")) == 0
    net = diffusion.Network.from_edges(
        4, [0, 1, 2], [1, 2, 3], [1.0, 2.0, 5.0], directed=True, node_ids=["<a>", "b", "c", "d"],
        attributes={HOSTILE: [1, 2, 3, 4], "obj": np.array(["x", None, "y", "z"], dtype=object)})
    res = diffusion.simulate(net, diffusion.IndependentCascade(0.5), initial=["<a>"], runs=2, seed=1)
    text = to_html(net, tmp_path / "d.html", res, color_by=HOSTILE).read_text()
    assert HOSTILE not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    edges = _payload(text, "Edges")
    assert [(e["from"], e["to"]) for e in edges] == [(0, 1), (1, 2), (2, 3)]
    assert [e["title"] for e in edges] == ["weight 1", "weight 2", "weight 5"]
    assert edges[2]["width"] > edges[0]["width"]
    with pytest.warns(ReducedViewWarning):
        text = to_html(net, tmp_path / "g.html", res, max_nodes=2, reduce="groups", group_by=("obj",))
    assert len(_payload(text.read_text(), "Nodes")) == 4  # None is its own group
