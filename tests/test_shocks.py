"""Shocks, exposures, the threshold default cascade and fragility metrics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import diffusion
from diffusion import Declarations, DiffusionError, Output, ParameterError, SimulationResult
from diffusion.shocks import (
    NodeShock,
    PlatformOutage,
    PlatformState,
    RandomFailures,
    RegionShock,
    SectorShock,
    TargetedFailures,
    apply_shock,
    dominant_platform,
    expected_shortfall,
    exposure_matrix,
    fragility_curve,
    platform_state,
    propagate,
    systemic_event_probability,
    threshold_cascade,
)


def _result(platform, second=None, names=("A", "B", "C")):
    platform = np.asarray(platform, dtype=np.int16)
    second = np.zeros_like(platform) if second is None else np.asarray(second, dtype=np.int16)
    labels = ("none", *names)
    decl = Declarations([Output.node_category("platform", labels, role="holding"),
                         Output.node_category("platform_second", labels, role="second_holding")])
    return SimulationResult.from_arrays(np.where(platform > 0, 0, -1), model="platform_competition",
                                        outputs={"platform": platform, "platform_second": second},
                                        declarations=decl)


# ----------------------------------------------------------------- platform state and outages
def test_platform_state_from_platform_outputs():
    res = _result([[1, 2, 2, 0]], [[0, 1, 0, 0]])
    st_ = platform_state(res)
    assert st_.names == ("A", "B", "C")
    assert st_.platform.tolist() == [[1, 2, 2, 0]]
    assert st_.second.tolist() == [[0, 1, 0, 0]]


def test_platform_state_from_adoption_models():
    net = diffusion.generators.erdos_renyi(50, mean_degree=3, seed=1)
    res = diffusion.simulate(net, diffusion.IndependentCascade(0.4), initial=2, runs=4, seed=3)
    st_ = platform_state(res)
    assert st_.names == ("adopted",)
    np.testing.assert_array_equal(st_.platform, (res.adoption_step >= 0).astype(np.int16))
    assert not st_.second.any()


def test_outage_reliance_rule():
    # firm 0 single-homer on A, firm 1 on B with A second, firm 2 on B, firm 3 on nothing
    net = diffusion.generators.complete_graph(4)
    res = _result([[1, 2, 2, 0]], [[0, 1, 0, 0]])
    h = PlatformOutage("A", 0.6).initial_distress(net, 1, platform_state(res))
    np.testing.assert_allclose(h, [[0.6, 0.3, 0.0, 0.0]])  # multi-homer: half
    h = PlatformOutage(2, 1.0).initial_distress(net, 1, platform_state(res))
    np.testing.assert_allclose(h, [[0.0, 0.5, 1.0, 0.0]])
    h = PlatformOutage("B", 1.0, multihomed_reliance=1.0).initial_distress(net, 1, platform_state(res))
    np.testing.assert_allclose(h, [[0.0, 1.0, 1.0, 0.0]])


def test_dominant_is_per_replicate():
    net = diffusion.generators.complete_graph(4)
    res = _result([[1, 1, 2, 0], [2, 2, 2, 1], [0, 0, 0, 0]])
    st_ = platform_state(res)
    assert PlatformOutage().target(st_).tolist() == [1, 2, 0]
    h = PlatformOutage("dominant").initial_distress(net, 3, st_)
    np.testing.assert_allclose(h, [[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0]])
    # reliance-weighted: two multi-homers on (1, 2) and one single-homer on 2 -> 2 dominates
    assert dominant_platform(np.array([[1, 1, 2]]), np.array([[2, 2, 0]])).tolist() == [2]


@pytest.mark.parametrize(("make", "key"), [
    (lambda: PlatformOutage("A", 1.5), "severity"),
    (lambda: PlatformOutage("A", -0.1), "severity"),
    (lambda: PlatformOutage(0), "platform"),
    (lambda: PlatformOutage("A", multihomed_reliance=2), "multihomed_reliance"),
    (lambda: RandomFailures(), "count"),
    (lambda: RandomFailures(fraction=1.2), "fraction"),
    (lambda: TargetedFailures("degree", count=-1), "count"),
    (lambda: NodeShock([]), "nodes"),
    (lambda: SectorShock("retail", severity=2), "severity"),
])
def test_shock_validation(make, key):
    with pytest.raises(ParameterError) as err:
        make()
    assert err.value.name == key


def test_unknown_platform_names_the_key():
    net = diffusion.generators.complete_graph(3)
    st_ = platform_state(_result([[1, 2, 0]]))
    with pytest.raises(ParameterError, match="unknown platform 'Z'") as err:
        PlatformOutage("Z").initial_distress(net, 1, st_)
    assert err.value.name == "platform"
    with pytest.raises(ParameterError, match="out of range"):
        PlatformOutage(7).initial_distress(net, 1, st_)
    with pytest.raises(DiffusionError, match="platform state"):
        apply_shock(net, PlatformOutage("A"))


def test_attribute_shocks():
    net = diffusion.Network.from_edges(
        4, [0, 1, 2], [1, 2, 3],
        attributes={"sector": ["retail", "food", "retail", "it"], "region": [1, 1, 2, 2],
                    "size": [5.0, 1.0, 9.0, 2.0]})
    np.testing.assert_allclose(SectorShock(["retail", "it"], 0.5).initial_distress(net, 2),
                               [[0.5, 0, 0.5, 0.5]] * 2)
    np.testing.assert_allclose(RegionShock(2).initial_distress(net, 1), [[0, 0, 1, 1]])
    np.testing.assert_allclose(TargetedFailures("size", count=2).initial_distress(net, 1), [[1, 0, 1, 0]])
    np.testing.assert_allclose(TargetedFailures("degree", fraction=0.5).initial_distress(net, 1),
                               [[0, 1, 1, 0]])
    with pytest.raises(ParameterError, match="no firm has sector"):
        SectorShock("mining").initial_distress(net, 1)
    with pytest.raises(ParameterError, match="not found") as err:
        TargetedFailures("revenue", count=1).initial_distress(net, 1)
    assert err.value.name == "by"
    with pytest.raises(ParameterError):
        NodeShock([99]).initial_distress(net, 1)


def test_random_failures_reproducible_per_replicate():
    net = diffusion.generators.erdos_renyi(100, mean_degree=3, seed=0)
    a = apply_shock(net, RandomFailures(fraction=0.1), runs=6, seed=11, exposure={"resources": 0.5})
    b = apply_shock(net, RandomFailures(fraction=0.1), runs=3, seed=11, exposure={"resources": 0.5})
    np.testing.assert_array_equal(a.initial[:3], b.initial)
    assert (a.initial.sum(axis=1) == 10).all()
    assert len({tuple(np.flatnonzero(row)) for row in a.initial}) > 1


# ----------------------------------------------------------------- exposure rule
def test_exposure_rule_with_sizes_and_buffers():
    # star: hub 0 (size 4) linked to 1, 2 (size 1); buffers 2, 0.5, 1
    net = diffusion.Network.from_edges(3, [0, 0], [1, 2], attributes={
        "size": [4.0, 1.0, 1.0], "resources": [2.0, 0.5, 1.0]})
    W = exposure_matrix(net, cap=None).toarray()
    # hub's business: half with 1, half with 2 (equal sizes); W[1,0] = 0.5 * 4 / 2
    assert W[1, 0] == pytest.approx(1.0)
    assert W[2, 0] == pytest.approx(1.0)
    # firm 1's only partner is the hub: d = 1, W[0,1] = 1 * 1 / 0.5
    assert W[0, 1] == pytest.approx(2.0)
    assert W[0, 2] == pytest.approx(1.0)
    assert exposure_matrix(net).max() == pytest.approx(1.0)  # capped
    assert exposure_matrix(net, loss_given_default=0.25, cap=None).toarray()[0, 1] == pytest.approx(0.5)
    with pytest.raises(ParameterError) as err:
        exposure_matrix(net, resources=[1.0, 0.0, 1.0])
    assert err.value.name == "resources"


def test_weighted_directed_exposure():
    net = diffusion.Network.from_edges(3, [0, 1], [2, 2], [3.0, 1.0], directed=True)
    W = exposure_matrix(net).toarray()
    np.testing.assert_allclose(W[:, 2], [0.75, 0.25, 0.0])  # 2 depends on 0 and 1
    assert W[2].sum() == 0  # nobody depends on 2


# ----------------------------------------------------------------- threshold cascade
def test_threshold_cascade_by_hand_capacities():
    W = np.array([[0, 0.3, 0.3, 0], [0, 0, 0, 0.6], [0, 0, 0, 0.6], [0, 0, 0, 0]])
    res = threshold_cascade(W, [[1.0, 0.0, 0.0, 0.0]], capacity=[1.0, 0.3, 0.5, 1.0])
    # round 1: firm 1 loses 0.3 >= 0.3 and fails; firm 2 (0.3 < 0.5) holds
    # round 2: firm 3 loses 0.6 < 1 and holds
    assert res.failed.tolist() == [[True, True, False, False]]
    np.testing.assert_allclose(res.distress, [[1.0, 1.0, 0.3, 0.6]])
    assert res.rounds.tolist() == [1]
    assert res.failed_round.tolist() == [[0, 1, -1, -1]]
    with pytest.raises(ParameterError) as err:
        threshold_cascade(W, [1.0, 0, 0, 0], capacity=0.0)
    assert err.value.name == "capacity"


def _gk_failures(z: float, runs: int, seed: int) -> np.ndarray:
    net = diffusion.generators.erdos_renyi(2000, mean_degree=z, seed=seed)
    # equal sizes, buffer phi = 0.18 of the business: a firm fails once 18 % of its partners have
    res = apply_shock(net, RandomFailures(count=1), runs=runs, seed=seed + 1,
                      exposure={"resources": 0.18}, propagation="threshold")
    return np.asarray(res.failed_fraction)


def test_gai_kapadia_window_in_mean_degree():
    # Watts (2002) / Gai & Kapadia (2010): cascades need a percolating cluster of vulnerable
    # firms (k <= 1/phi); the ER condition z * P[Poisson(z) <= K* - 2] = 1 (K* = 5) gives a
    # window. 0.7 and 10 are outside it, 3 is inside.
    from scipy.stats import poisson

    assert 0.7 * poisson.cdf(3, 0.7) < 1 < 3 * poisson.cdf(3, 3) and 10 * poisson.cdf(3, 10) < 1
    low, mid, high = (_gk_failures(z, 200, s) for z, s in ((0.7, 1), (3.0, 2), (10.0, 3)))
    big = 0.1
    # inside: global cascades in a sizeable share of the replicates (observed 0.86; with 200
    # replicates the standard error is <= 0.035, so 0.6 is > 5 SE below)
    assert (mid > big).mean() > 0.6
    assert (low > big).mean() == 0 and (high > big).mean() == 0
    assert mid[mid > big].mean() > 0.5  # and they are global, not just large


# ----------------------------------------------------------------- homogenized vs split
@st.composite
def _population(draw):
    n = draw(st.integers(2, 10))
    dens = draw(st.lists(st.floats(0, 1), min_size=n * n, max_size=n * n))
    keep = draw(st.lists(st.booleans(), min_size=n * n, max_size=n * n))
    W = np.asarray(dens).reshape(n, n) * np.asarray(keep).reshape(n, n)
    np.fill_diagonal(W, 0)
    k = draw(st.integers(2, 4))
    split = np.asarray(draw(st.lists(st.integers(1, k), min_size=n, max_size=n)))
    severity = draw(st.floats(0.05, 1))
    capacity = draw(st.floats(0.1, 1.5))
    return W, split, k, severity, capacity


@settings(max_examples=150, deadline=None)
@given(_population(), st.sampled_from(["threshold", "linear_debtrank"]))
def test_homogenized_never_loses_less(pop, method):
    # Same firms, same exposures; everyone on platform 1 versus the same firms split over k
    # platforms. The outage of the shared platform (or of any platform of the split market,
    # including its dominant one) hits a subset of the firms with the same severity, and both
    # rules are monotone in the initial distress, so the homogenized population loses at least
    # as much. (Single-hit DebtRank is not monotone and is not claimed here.)
    W, split, k, severity, capacity = pop
    n = len(split)
    net = diffusion.generators.complete_graph(n)
    names = tuple(f"p{j}" for j in range(1, k + 1))
    homog = PlatformState(np.ones((1, n), np.int16), np.zeros((1, n), np.int16), names)
    diverse = PlatformState(split[None, :].astype(np.int16), np.zeros((1, n), np.int16), names)
    kw = {"exposure": W, "propagation": method, "capacity": capacity}
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lh = apply_shock(net, PlatformOutage(1, severity), homog, **kw)
            for target in ["dominant", *range(1, k + 1)]:
                if target != "dominant" and not (split == target).any():
                    continue
                ld = apply_shock(net, PlatformOutage(target, severity), diverse, **kw)
                assert lh.total_loss[0] >= ld.total_loss[0] - 1e-9
                assert lh.failed_fraction[0] >= ld.failed_fraction[0]


# ----------------------------------------------------------------- metrics and curves
def test_loss_distribution_metrics():
    losses = np.linspace(0, 0.99, 100)
    assert systemic_event_probability(losses, 0.5) == pytest.approx(0.49)
    assert expected_shortfall(losses, 0.95) == pytest.approx(np.mean(losses[-5:]))
    with pytest.raises(ParameterError):
        expected_shortfall(losses, 1.0)


def test_summary_and_records():
    W = np.array([[0, 0.5], [0.5, 0]])
    res = propagate(W, np.array([[1.0, 0.0], [0.0, 0.0]]), "threshold", capacity=0.4)
    s = res.summary(level=0.6)
    assert s["systemic_loss"]["mean"] == pytest.approx(0.25)
    assert s["amplification"]["q50"] == pytest.approx(1.5)  # replicate 2: no loss -> 1
    assert s["systemic_event_probability"] == pytest.approx(0.5)
    recs = res.to_records()
    assert recs[0]["failed_fraction"] == 1.0 and recs[1]["total_loss"] == 0.0


def test_fragility_curve_monotone_in_severity():
    net = diffusion.generators.erdos_renyi(400, mean_degree=5, seed=4)
    plat = np.random.default_rng(0).integers(1, 3, size=(30, 400))
    st_ = PlatformState(plat.astype(np.int16), np.zeros_like(plat, dtype=np.int16), ("a", "b"))
    curve = fragility_curve(net, PlatformOutage("dominant"), np.linspace(0, 1, 6), st_,
                            exposure={"resources": 0.6, "loss_given_default": 0.5}, capacity=0.5)
    tot = [r["total_loss_mean"] for r in curve]
    assert tot[0] == 0 and all(b >= a for a, b in itertools.pairwise(tot))
    assert curve[-1]["initial_loss"] == pytest.approx((plat == np.where(
        (plat == 1).sum(1) >= (plat == 2).sum(1), 1, 2)[:, None]).mean())
