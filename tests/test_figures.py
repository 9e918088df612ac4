"""Figures: files written, and the right axes and series (checked on the Figure object)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import diffusion
from diffusion.errors import ParameterError
from diffusion.viz import figures


def _files_ok(base):
    png, svg = base.with_name(base.name + ".png"), base.with_name(base.name + ".svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    return png, svg


def test_no_pyplot_state():
    figures.adoption_curve(np.linspace(0, 1, 5))
    plt = sys.modules.get("matplotlib.pyplot")
    assert plt is None or plt.get_fignums() == []


def test_adoption_curve_band_and_mean(tmp_path):
    net = diffusion.generators.watts_strogatz(200, 4, 0.1, seed=1)
    res = diffusion.simulate(net, diffusion.IndependentCascade(0.3), initial=3, runs=40, seed=2)
    fig = figures.adoption_curve(res, tmp_path / "adoption", title="Demo $cenario")
    _files_ok(tmp_path / "adoption")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Step" and ax.get_ylabel() == "Share of firms adopted"
    assert ax.get_title() == r"Demo \$cenario"  # '$' shown literally, not as math
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_ydata(), res.mean_curve())
    (band,) = ax.collections
    verts = band.get_paths()[0].vertices
    lo, hi = res.band(0.05, 0.95)
    assert verts[:, 1].min() == pytest.approx(lo.min()) and verts[:, 1].max() == pytest.approx(hi.max())
    assert "5–95 % of 40 runs" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_adoption_curve_single_run_and_bad_input():
    fig = figures.adoption_curve(np.array([0.0, 0.2, 0.5]))
    assert len(fig.axes[0].collections) == 0  # no band for one run
    with pytest.raises(ParameterError, match="band"):
        figures.adoption_curve(np.zeros((3, 2)), band=(0.9, 0.1))
    with pytest.raises(ParameterError, match="curve"):
        figures.adoption_curve(np.zeros((2, 2, 2)))


def test_platform_shares_draw_every_replicate_and_lock_in(tmp_path):
    T, R = 30, 8
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, T)[:, None, None]
    lead = np.clip(t * 0.8 + rng.normal(0, 0.02, (T, R, 1)), 0, 1)
    shares = np.concatenate([1 - lead - 0.1 * t, lead, 0.1 * t + 0 * lead], axis=2)
    shares[0] = 0.0  # nobody on a platform at step 0
    winner = np.array([1, 1, 1, 1, 1, 1, -1, 2])
    conc = figures.herfindahl(shares[:, :, 1:])
    conc[0] = 0.0  # as a model reports it before any adoption
    fig = figures.platform_shares(shares, ["none", "A", "B"], tmp_path / "platforms.png", title="mkt",
                                  winner=winner, concentration=conc)
    _files_ok(tmp_path / "platforms")
    ax, ax2 = fig.axes
    assert ax.get_ylabel() == "Share of firms" and ax2.get_ylabel() == "Concentration (HHI)"
    assert ax2.get_xlabel() == "Step"
    # every replicate's path of each platform, with its data
    a_paths = [ln for ln in ax.lines if ln.get_gid() == "path:A"]
    assert len(a_paths) == R
    np.testing.assert_allclose(np.column_stack([ln.get_ydata() for ln in a_paths]), shares[:, :, 1])
    (leader,) = [ln for ln in ax.lines if ln.get_gid() == "leader"]
    np.testing.assert_allclose(leader.get_ydata(), np.median(shares[:, :, 1], axis=1))  # A leads in every run
    # the HHI is undefined (not drawn as 0) while nobody is on a platform
    (med,) = [ln for ln in ax2.lines if ln.get_gid() == "hhi_median"]
    assert np.isnan(med.get_ydata()[0])
    np.testing.assert_allclose(med.get_ydata()[1:], np.median(conc[1:], axis=1))
    (even,) = [ln for ln in ax2.lines if ln.get_gid() == "even"]
    assert even.get_ydata()[0] == pytest.approx(0.5)
    # the legend sits outside both axes and counts the lock-ins
    assert ax.get_legend() is None and ax2.get_legend() is None
    (leg,) = fig.legends
    texts = [tx.get_text() for tx in leg.get_texts()]
    assert "A (locked in: 6)" in texts and "B (locked in: 1)" in texts
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = leg.get_window_extent(canvas.get_renderer())
    for a in (ax, ax2):
        assert not box.overlaps(a.get_window_extent(canvas.get_renderer()))
    assert "Thin lines: each of 8 replicates" in figures.caption_of(fig)
    assert "88 % of the runs locked in" in figures.caption_of(fig)  # 7 of 8
    with pytest.raises(ParameterError, match="names"):
        figures.platform_shares(shares, ["A"])
    with pytest.raises(ParameterError, match="winner"):
        figures.platform_shares(shares, ["none", "A", "B"], winner=[1])


def test_final_sizes_histogram_marks_mean_and_says_how_few_end_near_it(tmp_path):
    ff = np.r_[np.full(13, 0.0002), np.linspace(0.95, 0.99, 87)]
    fig = figures.final_sizes(ff, tmp_path / "fs", bins=20)
    _files_ok(tmp_path / "fs")
    (ax,) = fig.axes
    heights = np.array([p.get_height() for p in ax.patches])
    np.testing.assert_array_equal(heights, np.histogram(ff, bins=np.linspace(0, 1, 21))[0])
    mean_line, median_line = ax.lines
    assert mean_line.get_xdata()[0] == pytest.approx(ff.mean())
    assert median_line.get_xdata()[0] == pytest.approx(np.median(ff))
    assert max(mean_line.get_ydata()) < 0.9  # the marks stop below the legend
    cap = figures.caption_of(fig)
    assert "13 % of replicates end below 10 %, 87 % at 50 % or more" in cap
    assert "0 % end within 5 points of the mean" in cap
    assert figures.outcomes_spread(ff) and not figures.outcomes_spread(np.full(50, 0.9))
    with pytest.raises(ParameterError):
        figures.final_sizes([])


def test_adoption_curve_draws_single_replicates_when_asked():
    curve = np.cumsum(np.random.default_rng(1).random((10, 30)), axis=0) / 10
    fig = figures.adoption_curve(curve, paths=12)
    (ax,) = fig.axes
    thin = [ln for ln in ax.lines if ln.get_linewidth() < 1 and len(ln.get_ydata())]
    assert len(thin) == 12
    np.testing.assert_allclose(thin[0].get_ydata(), curve[:, 0])
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), curve.mean(axis=1))
    assert "Thin lines: 12 single replicates (evenly chosen)" in figures.caption_of(fig)


def test_cause_areas_stack_the_mean_adoptions_by_cause(tmp_path):
    rng = np.random.default_rng(2)
    s = np.cumsum(rng.integers(0, 5, (12, 6, 3)), axis=0).astype(float)
    fig = figures.cause_areas(s, ["coercive", "mimetic", "normative"], tmp_path / "c", n=200)
    _files_ok(tmp_path / "c")
    (ax,) = fig.axes
    mean = s.mean(axis=1) / 200
    for k, poly in enumerate(ax.collections):  # stackplot: one area per cause, bottom to top
        top = poly.get_paths()[0].vertices[:, 1].max()
        assert top == pytest.approx(mean[:, : k + 1].sum(axis=1).max())
    (leg,) = fig.legends
    assert [t.get_text() for t in leg.get_texts()][-1].startswith("coercive (")
    assert "mean over 6 replicates, stacked" in figures.caption_of(fig)


def test_category_bars_percentages_sit_above_the_whiskers():
    fig = figures.category_bars({"wrong": 0.2, "none": 0.05, "correct": 0.75}, runs=400,
                                caption="Bars: share of the 400 replicates by cascade")
    (ax,) = fig.axes
    assert [p.get_height() for p in ax.patches] == pytest.approx([0.2, 0.05, 0.75])
    err = 1.96 * np.sqrt(0.75 * 0.25 / 400)
    correct = next(t for t in ax.texts if t.get_text() == "75 %")
    assert correct.xy[1] == pytest.approx(0.75 + err)
    assert figures.caption_of(fig).endswith("whiskers: 95 % binomial intervals of each share.")


def test_run_distributions_one_panel_per_output():
    x = np.array([0.1, 0.2, 0.2, 0.9, 0.5])
    fig = figures.run_distributions({"loss": (x, "share of value lost"), "rounds": np.arange(5)}, bins=5)
    a, b = fig.axes[:2]
    assert sum(p.get_height() for p in a.patches) == 5 and a.get_xlabel() == "share of value lost"
    assert a.lines[0].get_xdata()[0] == pytest.approx(x.mean())
    assert b.get_title(loc="left") == "rounds"


def test_robustness_curves_random_against_targeted(tmp_path):
    from diffusion.shocks import robustness

    net = diffusion.generators.barabasi_albert(300, 2, seed=1)
    f = np.linspace(0, 0.4, 5)
    recs = robustness(net, f, "random", runs=3, seed=1).to_records() + \
        robustness(net, f, "degree", runs=3, seed=1).to_records()
    fig = figures.robustness_curves(recs, tmp_path / "rob")
    _files_ok(tmp_path / "rob")
    (ax,) = fig.axes
    rand, deg = ax.lines
    assert rand.get_label() == "random removal" and deg.get_label() == "targeted: by degree"
    np.testing.assert_allclose(deg.get_ydata(), [r["giant_mean"] for r in recs if r["strategy"] == "degree"])
    assert deg.get_ydata()[-1] < rand.get_ydata()[-1]  # hubs first breaks a scale-free graph sooner
    assert len(ax.collections) == 2 and "bands: 5–95 %" in figures.caption_of(fig)


def test_sweep_map_heat_map_and_lines(tmp_path):
    recs = [{"phi": p, "z": z, "mean_final": p * z / 10, "global_share": float(z < 5)}
            for p in (0.1, 0.2) for z in (1.0, 4.0, 8.0)]
    fig = figures.sweep_map(recs, ["phi", "z"], tmp_path / "sw", runs=50)
    _files_ok(tmp_path / "sw")
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), [[0.01, 0.04, 0.08], [0.02, 0.08, 0.16]])
    assert ax.get_xlabel() == "z" and ax.get_ylabel() == "phi"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1.0", "4.0", "8.0"]
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), [[1, 1, 0], [1, 1, 0]])
    assert "over its 50 replicates" in figures.caption_of(fig)
    one = figures.sweep_map([r for r in recs if r["phi"] == 0.1], ["z"])
    np.testing.assert_allclose(one.axes[0].lines[1].get_ydata(), [1, 1, 0])
    with pytest.raises(ParameterError, match="keys"):
        figures.sweep_map(recs, ["phi", "z", "w"])


def test_fragility_curve_groups_and_band(tmp_path):
    recs = [{"severity": s, "loss": s**2 + 0.01 * r, "scenario": sc}
            for sc in ("diverse", "concentrated") for s in (0.0, 0.25, 0.5, 1.0) for r in range(5)]
    fig = figures.fragility_curve(recs, tmp_path / "fragility", by="scenario")
    _files_ok(tmp_path / "fragility")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Shock severity" and ax.get_ylabel().startswith("Systemic loss")
    assert [ln.get_label() for ln in ax.lines] == ["concentrated", "diverse"]
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"5–95 % of records (concentrated)", "5–95 % of records (diverse)"} <= legend  # bands explained
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.array([0, 0.0625, 0.25, 1.0]) + 0.02)
    assert len(ax.collections) == 2  # one band per curve
    with pytest.raises(ParameterError, match="severity"):
        figures.fragility_curve([{"loss": 1.0}])


def test_fragility_curve_from_columns_and_summaries():
    fig = figures.fragility_curve({"severity": [0.1, 0.2], "total_loss_mean": [0.3, 0.5]}, y="total_loss_mean")
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [0.3, 0.5])
    assert len(fig.axes[0].collections) == 0
    from diffusion.shocks import TargetedFailures, fragility_curve

    net = diffusion.generators.erdos_renyi(200, mean_degree=4, seed=1)
    recs = fragility_curve(net, TargetedFailures("degree", count=5), [0.2, 0.6, 1.0],
                           exposure={"resources": 0.4})
    fig = figures.fragility_curve(recs, y="total_loss_mean")
    (ax,) = fig.axes
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [r["total_loss_mean"] for r in recs])
    (band,) = ax.collections  # from the q05/q95 columns
    assert band.get_paths()[0].vertices[:, 1].max() == pytest.approx(max(r["total_loss_q95"] for r in recs))


def test_frontier_points_labels_errorbars(tmp_path):
    recs = [{"scenario": f"s<{i}>", "hhi": h, "loss": 0.7 * h, "loss_q05": 0.6 * h, "loss_q95": 0.8 * h}
            for i, h in enumerate([0.9, 0.3, 0.5])]
    fig = figures.frontier(recs, tmp_path / "frontier")
    _files_ok(tmp_path / "frontier")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Concentration (HHI)"
    assert ax.get_ylabel() == "Systemic loss from a dominant-platform outage"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.3, 0.5, 0.9])  # joined by concentration
    assert sorted(t.get_text() for t in ax.texts) == ["s<0>", "s<1>", "s<2>"]
    offsets = [c for c in ax.collections if c.get_offsets().shape == (3, 2)]
    assert offsets  # the scatter of the three scenarios
    assert len(ax.collections) >= 2  # scatter + error bars
    assert "Error bars: 5–95 % of the replicates." in figures.caption_of(fig)


def test_frontier_system_and_firm_panels_share_the_hhi_axis_and_labels_do_not_collide():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    hhi = np.array([0.334, 0.335, 0.348, 0.416, 0.648, 0.943, 0.988])  # crowded at the left
    recs = [{"value": v, "hhi_mean": h, "total_loss_mean": 0.6 + 0.4 * h, "total_loss_q05": 0.5 + 0.4 * h,
             "total_loss_q95": min(1.0, 0.7 + 0.4 * h), "systemic_loss_mean": 0.3 * (1 - h),
             "direct_risk_mean": 1 / 3, "individual_failure_probability_mean": 0.45 - 0.1 * h}
            for v, h in zip([0.0, 2.0, 3.0, 3.5, 4.0, 5.0, 6.0], hhi, strict=True)]
    fig = figures.frontier(recs, x="hhi_mean", y="total_loss_mean", label="value", title="frontier",
                           also={"systemic_loss_mean": "systemic loss"},
                           risk={"direct_risk_mean": "direct risk",
                                 "individual_failure_probability_mean": "failure probability"},
                           runs=40, point_name="value of cascade.global_effect", label_name="global_effect")
    top, bottom = fig.axes
    assert top.get_shared_x_axes().joined(top, bottom) and bottom.get_xlabel() == "Concentration (HHI)"
    scatters = [c.get_offsets() for c in bottom.collections if c.get_offsets().shape == (7, 2)]
    ys = sorted(tuple(np.round(o[:, 1], 6)) for o in scatters)
    assert ys == sorted([tuple(np.round([r["direct_risk_mean"] for r in recs], 6)),
                         tuple(np.round([r["individual_failure_probability_mean"] for r in recs], 6))])
    assert [t.get_text() for t in bottom.get_legend().get_texts()] == ["direct risk", "failure probability"]
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    from matplotlib.text import Text

    for t in top.texts:
        t.update_positions(r)
    boxes = [Text.get_window_extent(t, r) for t in top.texts]  # the label text, without a leader line
    assert len(boxes) == 7
    for i in range(7):
        assert not boxes[i].overlaps(top.title.get_window_extent(r))
        for j in range(i):
            assert not boxes[i].overlaps(boxes[j]), (top.texts[i].get_text(), top.texts[j].get_text())
    cap = figures.caption_of(fig)
    assert "the mean over its 40 replicates" in cap and "Error bars: 5–95 % of the replicates" in cap


def test_write_figures_picks_what_the_run_has(tmp_path):
    from types import SimpleNamespace

    from diffusion.shocks.frontier import RECORD_KEYS, FrontierResult
    from diffusion.viz.report import write_figures

    net = diffusion.generators.erdos_renyi(150, mean_degree=4, seed=1)
    sim = diffusion.simulate(net, diffusion.IndependentCascade(0.3), initial=3, runs=4, seed=2)
    curve = [{"severity": s, "total_loss_mean": s / 2, "total_loss_q05": s / 3, "total_loss_q95": s}
             for s in (0.0, 0.5, 1.0)]
    rng = np.random.default_rng(0)
    records = [{"parameter": "cascade.beta", "value": v, "replicate": r,
                **{k: float(rng.random()) for k in RECORD_KEYS}} for v in (0.0, 1.0) for r in range(3)]
    front = FrontierResult("cascade.beta", [0.0, 1.0], records)
    run = SimpleNamespace(simulation=sim, scenario=SimpleNamespace(name="demo"),
                          extras={"fragility_curve": curve, "frontier": front})
    files = write_figures(run, tmp_path)
    assert sorted(files) == sorted(f"{b}.{e}" for b in ("adoption", "fragility", "frontier")
                                   for e in ("png", "svg"))
    assert files["adoption.png"].stat().st_size > 1000
    for p in files.values():
        assert p.stat().st_size > 1000


def test_policy_tradeoff_points_and_paired_intervals(tmp_path):
    recs = [{"policy": "baseline", "cost": 0.0, "loss_change_mean": 0.0, "loss_change_se": 0.0},
            {"policy": "buffers", "cost": 0.4, "loss_change_mean": -0.3, "loss_change_se": 0.02},
            {"policy": "cap $1", "cost": 0.2, "loss_change_mean": -0.1, "loss_change_se": 0.05}]
    fig = figures.policy_tradeoff(recs, tmp_path / "policies", title="demo")
    _files_ok(tmp_path / "policies")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Cost of the policy"
    scatter = [c for c in ax.collections if c.get_offsets().shape == (3, 2)]
    np.testing.assert_allclose(scatter[0].get_offsets(), [[0.0, 0.0], [0.4, -0.3], [0.2, -0.1]])
    # the error bars span mean ± 1.96 SE (paired)
    (bars,) = [c for c in ax.collections if hasattr(c, "get_segments") and len(c.get_segments()) == 3]
    spans = sorted((seg[:, 1].min(), seg[:, 1].max()) for seg in bars.get_segments())
    expected = sorted((m - 1.96 * s, m + 1.96 * s) for m, s in ((0.0, 0.0), (-0.3, 0.02), (-0.1, 0.05)))
    np.testing.assert_allclose(spans, expected, atol=1e-3)
    assert sorted(t.get_text() for t in ax.texts) == ["baseline", "buffers", r"cap \$1"]
    with pytest.raises(ParameterError):
        figures.policy_tradeoff([])


def test_recovery_paths_one_line_per_policy(tmp_path):
    recs = [{"policy": p, "step": t, "value_mean": v, "value_q05": v - 0.05, "value_q95": min(v + 0.05, 1.0)}
            for p, start in (("baseline", 0.1), ("interop", 0.6))
            for t, v in enumerate(np.linspace(start, 1.0, 6))]
    fig = figures.recovery_paths(recs, tmp_path / "recovery", level=0.95)
    _files_ok(tmp_path / "recovery")
    (ax,) = fig.axes
    lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    assert set(lines) == {"baseline", "interop"}
    np.testing.assert_allclose(lines["interop"].get_ydata(), np.linspace(0.6, 1.0, 6))
    assert ax.get_ylabel() == "Share of the pre-shock value operating"


def test_write_figures_follow_the_declared_roles(tmp_path):
    """Figures picked from declarations and roles, each checked against the result's data."""
    from diffusion.viz.report import write_figures

    net = diffusion.generators.erdos_renyi(300, mean_degree=6, seed=1)
    # platforms, summary mode: every replicate's shares, lock-in in the legend, no HHI before adoption
    model = diffusion.PlatformCompetition(["Alpha", "Beta"], global_effect=6.0, revision_rate=0.3)
    res = diffusion.simulate(net, model, runs=6, seed=3, max_steps=40, keep="summary")
    files = write_figures(res, tmp_path / "p")
    assert {"platforms.png", "outcome_winner.png", "adoption.png"} <= set(files)
    fig = figures.platform_shares(res.series["share"], ["Alpha", "Beta"], concentration=res.series["hhi"],
                                  winner=res.outputs["winner"] - 1)
    ax, ax2 = fig.axes
    paths = [ln for ln in ax.lines if ln.get_gid() == "path:Beta"]
    np.testing.assert_allclose(np.column_stack([ln.get_ydata() for ln in paths]), res.series["share"][:, :, 1])
    (med,) = [ln for ln in ax2.lines if ln.get_gid() == "hhi_median"]
    assert np.isnan(med.get_ydata()[0]) and res.series["hhi"][0].max() == 0  # drawn as missing, not 0
    wins = np.bincount(res.outputs["winner"], minlength=3)
    (leg,) = fig.legends
    assert f"Beta (locked in: {wins[2]})" in [t.get_text() for t in leg.get_texts()]
    # isomorphic: adoptions by pressure, stacked, instead of a bar chart of causes
    iso = diffusion.Isomorphic(external=0.02, mimetic=0.4, normative=0.2)
    res = diffusion.simulate(net, iso, runs=5, seed=2, max_steps=20, keep="summary")
    files = write_figures(res, tmp_path / "i")
    assert "adoptions_by_cause.png" in files and "nodes_cause.png" not in files
    # a bimodal cascade: the final-size histogram, and single replicates on the curve
    lt = diffusion.LinearThreshold(0.18)
    er = diffusion.generators.erdos_renyi(2000, mean_degree=4, seed=4)
    res = diffusion.simulate(er, lt, initial=1, runs=40, seed=5, keep="summary")
    assert figures.outcomes_spread(res.final_fraction)
    files = write_figures(res, tmp_path / "w")
    assert "final_sizes.png" in files
    fig = figures.final_sizes(res)
    assert sum(p.get_height() for p in fig.axes[0].patches) == 40


def test_the_same_figure_gives_the_same_bytes(tmp_path):
    # SVGs carried the date and random element ids: two identical runs wrote different figures
    import hashlib

    def draw(where):
        fig = figures.adoption_curve(np.array([[0.0, 0.2, 0.5], [0.0, 0.1, 0.7]]), title="same")
        fig.axes[0].fill_between([0, 1], [0, 1], alpha=0.2)  # clip paths and hatches get ids
        return [hashlib.sha256(p.read_bytes()).hexdigest()
                for p in figures.save_figure(fig, where / "f", formats=("png", "svg", "pdf"))]

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert draw(tmp_path / "a") == draw(tmp_path / "b")
    svg = (tmp_path / "a" / "f.svg").read_text()
    assert "<dc:date>" not in svg


def test_identical_runs_write_identical_figures(tmp_path, write_scenario):
    from click.testing import CliRunner

    from diffusion.cli import main

    path = write_scenario()
    for d in ("one", "two"):
        res = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / d), "--quiet"])
        assert res.exit_code == 0, res.output
    one = sorted((tmp_path / "one" / "figures").iterdir())
    assert one and any(p.suffix == ".svg" for p in one)
    for p in one:
        assert p.read_bytes() == (tmp_path / "two" / "figures" / p.name).read_bytes(), p.name
