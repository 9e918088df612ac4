"""The homogeneity–fragility frontier."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

import diffusion
from diffusion import Batch, Declarations, Model, Output, ParameterError, State
from diffusion.shocks import RECORD_KEYS, PlatformState, frontier, frontier_point, hhi


class _Concentration(Model):
    """Test model: each firm is on platform 1 with probability c, else on a uniform platform 1..K."""

    name: ClassVar[str] = "concentration_test"
    requires_initial: ClassVar[bool] = False

    def __init__(self, concentration: float = 0.0, k: int = 3) -> None:
        self.concentration, self.k = concentration, k

    def declare(self) -> Declarations:
        labels = ("none", *["a", "b", "c"][: self.k])
        return Declarations([Output.node_category("platform", labels, role="holding")])

    def start(self, ctx: Any, network: diffusion.Network, batch: Batch) -> State:
        R, n, rngs = batch.runs, network.n, batch.rngs
        plat = np.empty((R, n), dtype=np.int16)
        for r, g in enumerate(rngs):
            u = g.random(n)
            plat[r] = np.where(u < self.concentration, 1, g.integers(1, self.k + 1, size=n))
        state = State(np.zeros((R, n), dtype=np.int32), np.full(R, n), np.zeros(R, bool), rngs)
        state.plat = plat  # type: ignore[attr-defined]
        return state

    def step(self, ctx: Any, network: diffusion.Network, state: State, t: int) -> np.ndarray:
        return np.zeros(state.runs, bool)

    def outputs(self, ctx: Any, network: diffusion.Network, state: State) -> dict[str, np.ndarray]:
        return {"platform": state.plat}  # type: ignore[attr-defined]

    def params(self) -> dict[str, Any]:
        return {"concentration": self.concentration, "k": self.k, "platforms": ["a", "b", "c"][: self.k]}


@pytest.fixture(scope="module")
def net():
    return diffusion.generators.erdos_renyi(600, mean_degree=5, seed=8)


@pytest.fixture(scope="module")
def sweep(net):
    return frontier(net, _Concentration(k=3), [0.0, 0.5, 1.0], parameter="concentration", runs=20,
                    seed=4, exposure={"resources": 0.9}, capacity=1.0)


def test_records_and_summary_shape(sweep):
    assert len(sweep.records) == 3 * 20
    assert set(sweep.records[0]) == {"parameter", "value", "replicate", *RECORD_KEYS}
    summ = sweep.summary()
    assert [s["value"] for s in summ] == [0.0, 0.5, 1.0]
    for key in ("total_loss_mean", "total_loss_q05", "total_loss_q95", "hhi_se",
                "systemic_event_probability", "expected_shortfall"):
        assert key in summ[0]


def test_homogenized_lose_more_while_each_firm_looks_safer(sweep):
    s = sweep.summary()
    h = [x["hhi_mean"] for x in s]
    assert h[0] == pytest.approx(1 / 3, abs=0.01) and h[-1] == pytest.approx(1.0)
    assert h[0] < h[1] < h[2]
    loss = [x["total_loss_mean"] for x in s]
    assert loss[0] < loss[1] < loss[2] == pytest.approx(1.0)
    # each firm's own view: its platform fails with probability 1/K and it loses the severity
    for x in s:
        assert x["direct_risk_mean"] == pytest.approx(1 / 3)
    # with propagation the average firm's failure probability under a random outage does not rise
    assert s[2]["individual_failure_probability_mean"] <= s[0]["individual_failure_probability_mean"] + 1e-9
    v = sweep.verdict()
    assert v["shown"] and v["systemic_rises"] and v["firms_look_safer"]
    assert v["total_loss_vs_hhi"]["t"] > 5  # observed 11.8


def test_refutes_when_exposures_are_absent(net):
    # no exposure at all: losses are only direct, the dominant share; with capacity > severity
    # nobody fails, and the frontier shows the (direct) loss still tracks concentration
    fr = frontier(net, _Concentration(k=3), [0.0, 1.0], parameter="concentration", runs=10, seed=1,
                  exposure=np.zeros((net.n, net.n)), severity=0.5, capacity=1.0)
    s = fr.summary()
    assert s[0]["systemic_loss_mean"] == 0 and s[1]["systemic_loss_mean"] == 0
    assert s[1]["failed_fraction_mean"] == 0
    assert s[1]["total_loss_mean"] == pytest.approx(0.5)


def test_frontier_point_by_hand():
    # 4 firms in a path 0-1-2-3; A holds {0, 1}, B holds {2}, firm 3 multi-homes (B primary, A second)
    net = diffusion.Network.from_edges(4, [0, 1, 2], [1, 2, 3])
    st = PlatformState(np.array([[1, 1, 2, 2]]), np.array([[0, 0, 0, 1]]), ("A", "B"))
    # reliance: A = 1 + 1 + .5 = 2.5, B = 1 + .5 = 1.5 -> shares .625 / .375
    assert hhi(st)[0] == pytest.approx(0.625**2 + 0.375**2)
    W = np.zeros((4, 4))
    cols = frontier_point(net, st, exposure=W, severity=1.0)
    assert cols["dominant_share"][0] == pytest.approx(0.625)
    assert cols["initial_loss"][0] == pytest.approx((1 + 1 + 0.5) / 4)
    # direct risk: firms 0, 1 -> 1/2; firm 2 -> 1/2; firm 3 -> (.5 + .5)/2
    assert cols["direct_risk"][0] == pytest.approx(0.5)
    assert cols["individual_failure_probability"][0] == pytest.approx((2 / 4 + 1 / 4) / 2)


def test_single_technology_models(net):
    fr = frontier(net, lambda p: diffusion.IndependentCascade(p), [0.05, 0.5], parameter="probability",
                  initial=3, runs=10, seed=2, exposure={"resources": 0.5}, propagation="debtrank")
    s = fr.summary()
    # one technology: concentration over adopters and non-adopters
    for r in fr.records:
        assert r["hhi"] == pytest.approx(r["adoption"] ** 2 + (1 - r["adoption"]) ** 2)
    assert s[0]["adoption_mean"] < s[1]["adoption_mean"]
    assert s[0]["total_loss_mean"] < s[1]["total_loss_mean"]


def test_mimetic_strength_frontier(net):
    if not hasattr(diffusion, "Isomorphic"):
        pytest.skip("isomorphic model not available")
    fr = frontier(net, lambda q: diffusion.Isomorphic(external=0.01, mimetic=q), [0.0, 0.8],
                  parameter="mimetic", runs=8, seed=6, max_steps=30, exposure={"resources": 0.5})
    s = fr.summary()
    assert s[0]["adoption_mean"] < s[1]["adoption_mean"]
    assert s[0]["initial_loss_mean"] < s[1]["initial_loss_mean"]


def test_common_random_numbers_and_reproducibility(net):
    a = frontier(net, _Concentration(k=3), [0.3], parameter="concentration", runs=5, seed=9)
    b = frontier(net, _Concentration(k=3), [0.3], parameter="concentration", runs=5, seed=9)
    assert a.records == b.records


def test_validation(net):
    with pytest.raises(ParameterError) as err:
        frontier(net, _Concentration(), [0.1], parameter="strength", runs=2)
    assert err.value.name == "parameter"
    with pytest.raises(ParameterError) as err:
        frontier(net, _Concentration(), [0.1], parameter="concentration", severity=2.0, runs=2)
    assert err.value.name == "severity"
    with pytest.raises(ParameterError) as err:
        frontier(net, _Concentration(), [], parameter="concentration")
    assert err.value.name == "values"
    with pytest.raises(ParameterError) as err:
        frontier(net, _Concentration(), [0.1], parameter="concentration", propagation="contagion")
    assert err.value.name == "propagation"


def test_platform_competition_frontier(net):
    if not hasattr(diffusion, "PlatformCompetition"):
        pytest.skip("platform competition model not available")
    fr = frontier(net, diffusion.PlatformCompetition(["A", "B", "C"], revision_rate=0.5, noise=0.2),
                  [0.0, 3.0], parameter="global_effect", runs=12, seed=3, max_steps=30,
                  exposure={"resources": 0.5})
    s = fr.summary()
    assert s[0]["hhi_mean"] < s[1]["hhi_mean"]
    assert s[0]["total_loss_mean"] < s[1]["total_loss_mean"]


# ----------------------------------------------------------------- scenario files and the CLI
def _scenario(**tables):
    base = {
        "scenario": {"name": "frag", "seed": 7, "runs": 6, "max_steps": 20},
        "network": {"generator": "smb", "n": 300, "mean_degree": 6.0},
        "cascade": {"model": "platform_competition", "platforms": ["A", "B", "C"], "global_effect": 4.0,
                    "revision_rate": 0.3, "fit_sd": 1.0},
        "shock": {"type": "platform_outage", "platform": "dominant", "severity": 1.0,
                  "severities": [0.5, 1.0], "exposure": {"loss_given_default": 0.25}},
    }
    for k, v in tables.items():
        if v is None:
            base.pop(k, None)
        else:
            base[k] = v
    return base


def _write(tmp_path, data):
    import tomli_w

    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def test_shock_stage_in_run_scenario():
    if "platform_competition" not in diffusion.MODELS:
        pytest.skip("platform competition model not available")
    res = diffusion.run_scenario(diffusion.parse_scenario(_scenario()))
    frag = res.summary["fragility"]
    for key in ("initial_loss", "systemic_loss", "failed_fraction", "amplification",
                "systemic_event_probability", "expected_shortfall"):
        assert key in frag
    assert set(frag["systemic_loss"]) >= {"mean", "q05", "q50", "q95"}
    assert {"systemic_loss", "failed_fraction"} <= set(res.runs[0])
    again = diffusion.run_scenario(diffusion.parse_scenario(_scenario()))
    assert [r["total_loss"] for r in res.runs] == [r["total_loss"] for r in again.runs]
    # random shocks draw from the scenario's shock stream: reproducible
    rnd = _scenario(shock={"type": "random", "fraction": 0.05, "propagation": "debtrank"})
    a = diffusion.run_scenario(diffusion.parse_scenario(rnd)).runs
    b = diffusion.run_scenario(diffusion.parse_scenario(rnd)).runs
    assert [r["systemic_loss"] for r in a] == [r["systemic_loss"] for r in b]


@pytest.mark.parametrize(("shock", "key"), [
    ({"type": "platform_outage", "severity": 1.5}, "shock.severity"),
    ({"type": "meteor"}, "shock.type"),
    ({"type": "platform_outage", "propagation": "contagion"}, "shock.propagation"),
    ({"type": "platform_outage", "capacity": 0}, "shock.capacity"),
    ({"type": "platform_outage", "exposure": {"resources": -1}}, "shock.exposure.resources"),
    ({"type": "platform_outage", "exposure": {"leverage": 2}}, "shock.exposure.leverage"),
    ({"type": "random", "fraction": 0.1, "platform": "A"}, "shock.platform"),
    ({"type": "random"}, "shock.count"),
])
def test_shock_table_errors_name_the_key(shock, key):
    with pytest.raises(diffusion.ScenarioError) as err:
        diffusion.parse_scenario(_scenario(shock=shock))
    assert err.value.key == key


def test_frontier_table_errors():
    if "platform_competition" not in diffusion.MODELS:
        pytest.skip("platform competition model not available")
    with pytest.raises(diffusion.ScenarioError) as err:
        diffusion.parse_scenario(_scenario(frontier={"parameter": "cascade.strength", "values": [1]}))
    assert err.value.key == "frontier.parameter"
    with pytest.raises(diffusion.ScenarioError) as err:
        diffusion.parse_scenario(_scenario(frontier={"parameter": "cascade.global_effect", "values": []}))
    assert err.value.key == "frontier.values"


def test_fragility_cli(tmp_path):
    if "platform_competition" not in diffusion.MODELS:
        pytest.skip("platform competition model not available")
    import csv

    from click.testing import CliRunner

    from diffusion.cli import main

    data = _scenario(frontier={"parameter": "cascade.global_effect", "values": [0.0, 6.0]})
    path = _write(tmp_path, data)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["fragility", str(path), "--out", str(out), "-e", "serial", "--no-plots"])
    assert r.exit_code == 0, r.output
    curve = list(csv.DictReader(open(out / "fragility_curve.csv")))
    assert [float(c["severity"]) for c in curve] == [0.5, 1.0]
    rows = list(csv.DictReader(open(out / "frontier.csv")))
    assert len(rows) == 2 * 6 and {"hhi", "total_loss", "direct_risk"} <= set(rows[0])
    summ = list(csv.DictReader(open(out / "frontier_summary.csv")))
    assert float(summ[0]["hhi_mean"]) < float(summ[1]["hhi_mean"])
    assert float(summ[0]["total_loss_mean"]) < float(summ[1]["total_loss_mean"])
    rob = list(csv.DictReader(open(out / "robustness.csv")))
    assert {r["strategy"] for r in rob} == {"random", "degree", "size"}
    # bad input: exit 2, one line naming the key
    bad = _write(tmp_path, _scenario(shock={"type": "platform_outage", "platform": "Z"}))
    r = CliRunner().invoke(main, ["fragility", str(bad), "--out", str(out), "-e", "serial", "--no-plots"])
    assert r.exit_code == 2 and "shock.platform" in r.output and "unknown platform 'Z'" in r.output
    r = CliRunner().invoke(main, ["run", str(bad), "--out", str(out), "-e", "serial", "--no-plots", "-q"])
    assert r.exit_code == 2 and "shock.platform" in r.output
    noshock = _write(tmp_path, _scenario(shock=None))
    r = CliRunner().invoke(main, ["fragility", str(noshock), "--out", str(out), "-e", "serial"])
    assert r.exit_code == 2 and "[shock]" in r.output


def test_shipped_frontier_scenario_is_valid():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scenarios" / "homogeneity_fragility.toml"
    if "platform_competition" not in diffusion.MODELS:
        pytest.skip("platform competition model not available")
    sc = diffusion.load_scenario(path)
    assert sc.table("shock").propagation == "threshold"
    assert sc.table("frontier").parameter == "cascade.global_effect"
