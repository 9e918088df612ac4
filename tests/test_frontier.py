"""The homogeneity–fragility frontier."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

import diffusion
from diffusion import Model, ParameterError, State
from diffusion.shocks import RECORD_KEYS, PlatformState, frontier, frontier_point, hhi


class _Concentration(Model):
    """Test model: each firm is on platform 1 with probability c, else on a uniform platform 1..K."""

    name: ClassVar[str] = "concentration_test"
    requires_initial: ClassVar[bool] = False

    def __init__(self, concentration: float = 0.0, k: int = 3) -> None:
        self.concentration, self.k = concentration, k

    def start(self, ctx: Any, network: diffusion.Network, seeds: Any, rngs: list, max_steps: Any) -> State:
        R, n = len(rngs), network.n
        plat = np.empty((R, n), dtype=np.int16)
        for r, g in enumerate(rngs):
            u = g.random(n)
            plat[r] = np.where(u < self.concentration, 1, g.integers(1, self.k + 1, size=n))
        self._plat = plat
        return State(np.zeros((R, n), dtype=np.int32), np.full(R, n), np.zeros(R, bool), rngs)

    def step(self, ctx: Any, network: diffusion.Network, state: State, t: int) -> np.ndarray:
        return np.zeros(state.runs, bool)

    def outputs(self, ctx: Any, network: diffusion.Network, state: State) -> dict[str, np.ndarray]:
        return {"platform": self._plat}

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
    assert all(r["hhi"] == 1.0 or np.isnan(r["hhi"]) for r in fr.records)
    assert s[0]["adoption_mean"] < s[1]["adoption_mean"]
    assert s[0]["total_loss_mean"] < s[1]["total_loss_mean"]


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
