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


def test_platform_shares_and_concentration(tmp_path):
    T, R = 30, 8
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, T)[:, None, None]
    lead = np.clip(t * 0.8 + rng.normal(0, 0.02, (T, R, 1)), 0, 1)
    shares = np.concatenate([1 - lead - 0.1 * t, lead, 0.1 * t + 0 * lead], axis=2)
    fig = figures.platform_shares(shares, ["none", "A", "B"], tmp_path / "platforms.png", title="mkt")
    _files_ok(tmp_path / "platforms")
    ax, ax2 = fig.axes
    assert ax.get_ylabel() == "Share of firms" and ax2.get_ylabel() == "Concentration (HHI)"
    assert ax2.get_xlabel() == "Step"
    assert [ln.get_label() for ln in ax.lines] == ["none", "A", "B"]
    hhi_line = ax2.lines[0]
    expect = np.nanmean(figures.herfindahl(shares[:, :, 1:]), axis=1)  # over replicates with adopters
    np.testing.assert_allclose(hhi_line.get_ydata(), expect)
    assert ax2.lines[1].get_ydata()[0] == pytest.approx(0.5)  # even split of 2 platforms
    with pytest.raises(ParameterError, match="names"):
        figures.platform_shares(shares, ["A"])


def test_fragility_curve_groups_and_band(tmp_path):
    recs = [{"severity": s, "loss": s**2 + 0.01 * r, "scenario": sc}
            for sc in ("diverse", "concentrated") for s in (0.0, 0.25, 0.5, 1.0) for r in range(5)]
    fig = figures.fragility_curve(recs, tmp_path / "fragility", by="scenario")
    _files_ok(tmp_path / "fragility")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Shock severity" and ax.get_ylabel().startswith("Systemic loss")
    assert [ln.get_label() for ln in ax.lines] == ["concentrated", "diverse"]
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
    assert [t.get_text() for t in ax.texts] == ["s<0>", "s<1>", "s<2>"]
    offsets = [c for c in ax.collections if c.get_offsets().shape == (3, 2)]
    assert offsets  # the scatter of the three scenarios
    assert len(ax.collections) >= 2  # scatter + error bars


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
