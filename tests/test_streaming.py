"""Streamed ensembles (keep="summary"), declared outputs and reproducibility metadata.

The properties over every registered model (streamed == kept reductions for any
chunking) are in tests/test_properties.py; this file covers the scenario and
command-line level, the executors, and a model defined here that the package
has never heard of.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, ClassVar

import networkx as nx
import numpy as np
import pytest

import diffusion
from diffusion import Batch, Declarations, Model, NotKeptError, Output, State, simulate
from diffusion.cli import main
from diffusion.parallel import get_executor
from diffusion.shocks import PlatformOutage, RandomFailures, ShockStage

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------- a model the package does not know
class Tiers(Model):
    """Each firm joins one of three tiers at random (p per step); a per-run score and a series."""

    name: ClassVar[str] = "tiers_test"
    requires_initial: ClassVar[bool] = False
    default_max_steps: ClassVar[int | None] = 6

    def __init__(self, rate: float = 0.4) -> None:
        self.rate = rate

    def params(self) -> dict[str, Any]:
        return {"rate": self.rate}

    def declare(self) -> Declarations:
        return Declarations([
            Output.node_category("tier", ("bronze", "silver", "gold"), "tier each firm joined", start=1),
            Output.node_value("joined_at", "step at which the firm joined a tier", integer=True, missing=-1),
            Output.run_category("top_tier", ("bronze", "silver", "gold"), "most common tier", start=1),
            Output.run_value("score", "mean tier of the firms that joined"),
            Output.series("gold_share", "share of firms in gold"),
        ])

    def start(self, ctx: Any, network: diffusion.Network, batch: Batch) -> State:
        R, n = batch.runs, network.n
        state = State(np.full((R, n), -1, dtype=np.int32), np.zeros(R, dtype=np.int64), np.ones(R, bool),
                      batch.rngs)
        state.tier = np.zeros((R, n), dtype=np.int8)  # type: ignore[attr-defined]
        return state

    def step(self, ctx: Any, network: diffusion.Network, state: State, t: int) -> np.ndarray:
        for r, g in enumerate(state.rngs):
            join = (state.adopted_at[r] < 0) & (g.random(network.n) < self.rate)
            state.adopted_at[r, join] = t
            state.tier[r, join] = g.integers(1, 4, size=int(join.sum()))  # type: ignore[attr-defined]
        state.count = (state.adopted_at >= 0).sum(axis=1)
        return np.ones(state.runs, dtype=bool)

    def observe(self, ctx: Any, network: diffusion.Network, state: State) -> dict[str, np.ndarray]:
        return {"gold_share": (state.tier == 3).mean(axis=1)}  # type: ignore[attr-defined]

    def outputs(self, ctx: Any, network: diffusion.Network, state: State) -> dict[str, np.ndarray]:
        tier = state.tier  # type: ignore[attr-defined]
        counts = np.stack([(tier == k).sum(axis=1) for k in (1, 2, 3)], axis=1)
        joined = np.maximum((tier > 0).sum(axis=1), 1)
        return {"tier": tier, "joined_at": state.adopted_at, "top_tier": counts.argmax(axis=1) + 1,
                "score": tier.sum(axis=1) / joined}


def test_a_new_model_gets_summary_figures_html_and_nodes_table(tmp_path):
    from diffusion.viz import to_html
    from diffusion.viz.report import write_figures

    net = diffusion.generators.erdos_renyi(80, mean_degree=3, seed=1)
    res = simulate(net, Tiers(), runs=12, seed=4, keep=[0])
    s = res.summary()
    assert set(s["outputs"]) == {"top_tier", "score", "gold_share"}
    assert sum(s["outputs"]["top_tier"]["counts"].values()) == 12
    assert s["outputs"]["score"]["stats"]["mean"] == pytest.approx(res.outputs["score"].mean())
    lines = Tiers.describe({"cascade": s})
    assert any(line.startswith("top_tier:") for line in lines) and any("score" in line for line in lines)
    # per-node reductions: the frequency of every tier, each firm's mean joining step
    freq = res.frequencies("tier")
    assert freq.shape == (80, 3) and np.allclose(freq.sum(axis=1), res.adoption_probability)
    rec = res.node_records()[0]
    assert {"tier_bronze", "tier_silver", "tier_gold", "mean_joined_at"} <= set(rec)
    recs = res.to_records()
    assert recs[0]["top_tier"] in ("bronze", "silver", "gold") and "gold_share" in recs[0]
    assert "gold_share" in res.curve_records()[-1]
    # figures chosen from the declarations, each checked against its data
    files = write_figures(res, tmp_path / "figs")
    assert {"outcome_top_tier.png", "series_gold_share.png", "nodes_tier.png"} <= set(files)
    from diffusion.viz import figures

    fig = figures.category_bars(s["outputs"]["top_tier"]["fractions"], runs=12)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx(list(s["outputs"]["top_tier"]["fractions"].values()))
    # an HTML view colours by the new category, with its labels, for the kept replicate
    page = to_html(net, tmp_path / "t.html", res, color_by="tier").read_text()
    assert "tier: tier each firm joined" in page and "gold" in page
    view = res.replicate(0)
    assert view.outputs["tier"].shape == (80,)


def test_undeclared_outputs_are_refused_with_a_pointer_to_declare():
    class Sloppy(Tiers):
        def outputs(self, ctx, network, state):
            return {**super().outputs(ctx, network, state), "extra": np.zeros(state.runs)}

    net = diffusion.generators.complete_graph(5)
    with pytest.raises(diffusion.DiffusionError, match=r"'extra'.*declare\(\)"):
        simulate(net, Sloppy(), runs=2, seed=0)


# ----------------------------------------------------------------- summary mode
def test_summary_mode_refuses_per_replicate_arrays_and_says_how_to_keep_them():
    net = diffusion.generators.erdos_renyi(200, mean_degree=4, seed=1)
    model = diffusion.PlatformCompetition(["A", "B"], global_effect=3.0, revision_rate=0.3)
    res = simulate(net, model, runs=6, seed=2, max_steps=10, keep="summary")
    for get in (lambda: res.adoption_step, lambda: res.outputs["platform"], lambda: res.replicate(1)):
        with pytest.raises(NotKeptError, match=r"keep='replicates'.*keep=\[r, \.\.\.\]"):
            get()
    assert "platform" not in res.outputs and "winner" in res.outputs
    assert res.frequencies("platform").shape == (200, 3)
    lean = simulate(net, model, runs=6, seed=2, max_steps=10, keep=[1, 4])
    with pytest.raises(NotKeptError, match=r"only for replicates \[1, 4\]"):
        lean.adoption_step  # noqa: B018
    full = simulate(net, model, runs=6, seed=2, max_steps=10)
    assert np.array_equal(lean.replicate(4).outputs["platform"], full.outputs["platform"][4])


def _shock_scenario(runs: int = 9) -> diffusion.Scenario:
    sc = diffusion.load_scenario(SCENARIOS / "homogeneity_fragility.toml")
    return sc.with_values({"network.n": 400}).replace(runs=runs, max_steps=15)


def test_scenario_summary_mode_equals_kept_mode_for_every_executor(tmp_path):
    sc = _shock_scenario()
    kept = diffusion.run_scenario(sc)
    files = kept.write(tmp_path / "kept")
    for name, kwargs in [("serial", {"chunk_size": 2}), ("process", {"chunk_size": 4})]:
        with get_executor(name, workers=2) as ex:
            lean = diffusion.run_scenario(sc, keep="summary", map_chunks=ex, **kwargs)
        with pytest.raises(NotKeptError):
            lean.simulation.adoption_step  # noqa: B018
        other = lean.write(tmp_path / name)
        for f in ("runs.csv", "curve.csv", "nodes.csv", "summary.json"):
            assert other[f].read_bytes() == files[f].read_bytes(), (name, f)
    # per-firm failure probability and expected loss are reductions of the shock inside the chunks
    nodes = read_csv(files["nodes.csv"])
    assert len(nodes) == 400
    failed = kept.simulation.outputs["failed"]
    assert np.allclose([float(r["failure_probability"]) for r in nodes], failed.mean(axis=0))
    expected = np.array([float(r["expected_loss"]) for r in nodes])
    assert expected.sum() == pytest.approx(kept.simulation.outputs["total_loss"].mean(), rel=1e-9)
    plat = [k for k in nodes[0] if k.startswith("platform_") and not k.startswith("platform_second")]
    assert plat and np.allclose([sum(float(r[k]) for k in plat) for r in nodes], 1.0)
    summary = json.loads(files["summary.json"].read_text())
    assert summary["fragility"]["total_loss"]["mean"] == pytest.approx(
        kept.simulation.outputs["total_loss"].mean())


def test_cli_run_writes_nodes_table_and_keeps_only_the_drawn_replicate(runner, tmp_path, monkeypatch):
    import diffusion.scenario.runner as runner_mod

    seen = {}
    original = runner_mod.simulate

    def spy(*args, **kwargs):
        seen["keep"] = kwargs.get("keep")
        return original(*args, **kwargs)

    monkeypatch.setattr(runner_mod, "simulate", spy)
    path = SCENARIOS / "platform_lockin.toml"
    out = tmp_path / "o"
    res = runner.invoke(main, ["run", str(path), "-q", "--runs", "4", "--out", str(out), "--executor", "serial",
                               "--no-plots"])
    assert res.exit_code == 0, res.output
    assert seen["keep"] == "summary"
    nodes = read_csv(out / "nodes.csv")
    assert list(nodes[0])[:3] == ["id", "adoption_probability", "mean_adoption_step"]
    res = runner.invoke(main, ["run", str(path), "-q", "--runs", "4", "--out", str(out), "--executor", "serial",
                               "--no-plots", "--html"])
    assert res.exit_code == 0, res.output
    assert seen["keep"] == [0]
    res = runner.invoke(main, ["run", str(path), "-q", "--runs", "4", "--out", str(out), "--executor", "serial",
                               "--no-plots", "--adoptions", str(tmp_path / "a.csv"), "--replicate", "2"])
    assert res.exit_code == 0, res.output
    assert seen["keep"] == [2]


def test_stage_outputs_reduce_exactly_whatever_the_chunking():
    net = diffusion.generators.smb_network(300, mean_degree=6, sectors=3, regions=2, seed=1)
    model = diffusion.PlatformCompetition(["A", "B", "C"], global_effect=4.0, revision_rate=0.3)
    stage = ShockStage(PlatformOutage("dominant"), exposure={"loss_given_default": 0.5},
                       severities=[0.0, 0.5, 1.0], seed=7)
    a = simulate(net, model, runs=10, seed=3, max_steps=12, stages=[stage])
    b = simulate(net, model, runs=10, seed=3, max_steps=12, stages=[stage], keep="summary", chunk_size=3)
    for name in ("failed", "distress", "loss", "failed_round"):
        assert np.array_equal(a.node_mean(name), b.node_mean(name), equal_nan=True), name
    for name in ("total_loss", "curve_total_loss", "shock_platform"):
        assert np.array_equal(a.outputs[name], b.outputs[name]), name
    # the curve at the stage's own severity is the stage's loss
    assert np.array_equal(a.outputs["curve_total_loss"][:, 2], a.outputs["total_loss"])
    # the stage read the platform each firm holds from the declarations: the outage hits the dominant one
    dom = np.array([np.bincount(p, minlength=4)[1:].argmax() + 1 for p in a.outputs["platform"]])
    assert np.array_equal(a.outputs["shock_platform"], dom)
    rnd = ShockStage(RandomFailures(count=5), exposure={"loss_given_default": 0.5}, seed=7)
    c = simulate(net, model, runs=6, seed=3, max_steps=5, stages=[rnd], keep="summary", chunk_size=2)
    d = simulate(net, model, runs=6, seed=3, max_steps=5, stages=[rnd], keep="summary", chunk_size=5)
    assert np.array_equal(c.outputs["initial_loss"], d.outputs["initial_loss"])


# ----------------------------------------------------------------- reproducibility metadata
def test_the_result_seed_reproduces_the_run_byte_for_byte():
    sc = diffusion.load_scenario(SCENARIOS / "watts_cascade_window.toml").with_values(
        {"network.n": 500}).replace(runs=6, seed=5)
    res = diffusion.run_scenario(sc)
    seed = res.simulation.seed
    assert isinstance(seed, np.random.SeedSequence) and seed.entropy == 5 and seed.spawn_key == (1,)
    assert "spawn_key=(1,)" in repr(res.simulation)
    again = simulate(res.network, sc.cascade.build(), sc.cascade.initial, runs=6, seed=seed)
    assert again.adoption_step.tobytes() == res.simulation.adoption_step.tobytes()
    # the bare integer is not the same stream (the scenario's cascade stream is a child of it)
    other = simulate(res.network, sc.cascade.build(), sc.cascade.initial, runs=6, seed=5)
    assert other.adoption_step.tobytes() != res.simulation.adoption_step.tobytes()


# ----------------------------------------------------------------- small things
def test_networkx_graphs_are_accepted_with_their_ids():
    G = nx.path_graph(["a", "b", "c", "d"])
    res = simulate(G, diffusion.LinearThreshold(0.5), initial=["a"], runs=2, seed=0)
    assert res.node_ids.tolist() == ["a", "b", "c", "d"]
    assert res.adoption_step[0].tolist() == [0, 1, 2, 3]
    with pytest.raises(diffusion.DiffusionError, match="networkx graph"):
        simulate([1, 2], diffusion.LinearThreshold(0.5), initial=1)


def test_repr_is_short_and_tables_convert_to_pandas():
    pd = pytest.importorskip("pandas")
    net = diffusion.generators.erdos_renyi(3000, mean_degree=4, seed=1)
    res = simulate(net, diffusion.IndependentCascade(0.3), initial=5, runs=50, seed=1)
    text = repr(res)
    assert len(text) < 300 and "independent_cascade" in text and "[" in text
    html = res._repr_html_()
    assert html.startswith("<div") and "independent_cascade" in html and "3,000" in html and len(html) < 5000
    runs, curve, nodes = (res.to_pandas(t) for t in ("runs", "curve", "nodes"))
    assert isinstance(nodes, pd.DataFrame) and len(runs) == 50 and len(nodes) == 3000
    assert list(curve.columns[:2]) == ["step", "mean_fraction"]
    assert nodes["adoption_probability"].to_numpy() == pytest.approx(res.adoption_probability)
    with pytest.raises(diffusion.ParameterError, match="table"):
        res.to_pandas("edges")


@pytest.mark.parametrize("K", [1, 4, 16, 17, 40])
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint8, np.int64, bool])
def test_category_frequencies_count_every_category_exactly(K, dtype):
    # each node's count of every category over the replicates; codes outside the categories are not counted
    from diffusion.reductions import _tally_category

    rng = np.random.default_rng(K)
    hi = 2 if dtype is bool else min(K + 3, 120)
    codes = rng.integers(0, hi, size=(7, 50)).astype(dtype)
    out = Output.node_category("tier", tuple(f"t{j}" for j in range(K)), "a tier")
    want = (codes[:, :, None].astype(np.int64) == out.start + np.arange(K)).sum(axis=0)
    got = _tally_category(codes, out, 50)
    assert got.dtype == np.int64 and got.flags.c_contiguous
    assert np.array_equal(got, want)

