"""Agreement with the closed forms of network-cascade theory (MODELS.md, "Science to agree with").

Every stochastic check uses fixed seeds, so it is deterministic; tolerances are
derived from the standard error of the simulated quantity (4 standard errors
unless stated) plus, where said, an allowance for finite-size effects.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

import diffusion
from diffusion import IndependentCascade, LinearThreshold, simulate

PHI = 0.18
K_STAR = int(np.floor(1 / PHI))  # degrees k <= K* are vulnerable: one adopted neighbour suffices
N_WATTS = 10_000
GLOBAL = 0.3  # a "global" cascade reaches more than 30 % of the nodes


def cascade_condition(z: float) -> float:
    """Watts (2002) on Erdős–Rényi: ``z · P[Poisson(z) <= K* − 2] − 1`` (zero on the window's edges)."""
    return z * stats.poisson.cdf(K_STAR - 2, z) - 1.0


def cascade_window() -> tuple[float, float]:
    """The two roots of the cascade condition, found numerically."""
    peak = optimize.minimize_scalar(lambda z: -cascade_condition(z), bounds=(1.0, 10.0), method="bounded").x
    assert cascade_condition(peak) > 0
    return optimize.brentq(cascade_condition, 0.5, peak), optimize.brentq(cascade_condition, peak, 20.0)


def global_cascade_probability(z: float) -> float:
    """Probability that one random seed triggers a global cascade (Watts 2002).

    The seed must touch the infinite *vulnerable* cluster: with ``u`` the
    probability that an edge does not lead into it,
    ``u = 1 − Σ_{j < K*} P[Poisson(z) = j] (1 − u^j)`` (the node reached has
    degree ``j + 1 <= K*``), and the probability is ``1 − exp(z (u − 1))``.
    """
    j = np.arange(K_STAR)
    q = stats.poisson.pmf(j, z)
    u = 0.0
    for _ in range(10_000):
        u_next = 1.0 - np.sum(q * (1.0 - u**j))
        if abs(u_next - u) < 1e-13:
            break
        u = u_next
    return float(1.0 - np.exp(z * (u - 1.0)))


def test_cascade_window_boundaries():
    low, high = cascade_window()
    assert 1.0 < low < 1.1  # just above the percolation threshold z = 1
    assert 5.5 < high < 6.0
    assert global_cascade_probability(0.5) == pytest.approx(0.0, abs=1e-9)
    assert global_cascade_probability(1.5 * high) == pytest.approx(0.0, abs=1e-9)


def _watts(z: float, runs: int = 200) -> np.ndarray:
    net = diffusion.generators.erdos_renyi(N_WATTS, mean_degree=z, seed=round(10 * z))
    res = simulate(net, LinearThreshold(PHI), initial=1, runs=runs, seed=7)
    return res.final_fraction


@pytest.mark.parametrize("z", [3.0, 4.0])
def test_global_cascades_frequent_inside_window(z):
    low, high = cascade_window()
    assert low < z < high
    ff = _watts(z)
    freq = np.mean(ff > GLOBAL)
    expected = global_cascade_probability(z)
    # binomial SE of the frequency over 200 runs; 4 SE, plus 0.05 for finite n = 10^4
    se = np.sqrt(expected * (1 - expected) / len(ff))
    assert abs(freq - expected) < 4 * se + 0.05
    assert freq > 0.5
    # a global cascade takes (nearly) the whole giant component, and the rest stay tiny
    assert ff[ff > GLOBAL].min() > 0.8
    assert ff[ff <= GLOBAL].max() < 0.01


def test_no_global_cascades_outside_window():
    low, high = cascade_window()
    for z in (0.5, 1.5 * high):
        assert not low < z < high
        ff = _watts(z)
        assert ff.max() < 0.02, z


def test_cascade_window_edges_are_sharp_in_simulation():
    """Frequencies fall from well inside to beyond the upper boundary, as predicted."""
    _, high = cascade_window()
    inside = np.mean(_watts(5.0, runs=100) > GLOBAL)
    beyond = np.mean(_watts(high + 1.5, runs=100) > GLOBAL)
    assert inside > 0.5 and beyond == 0.0


# ------------------------------------------------------- independent cascade
@pytest.mark.parametrize(("z", "p"), [(4.0, 0.5), (5.0, 0.3)])
def test_independent_cascade_large_outbreak_size(z, p):
    """Bond percolation (Newman 2002): large outbreaks have size S = 1 − exp(−z p S)."""
    n = 20_000
    net = diffusion.generators.erdos_renyi(n, mean_degree=z, seed=3)
    zr = net.mean_degree  # the realized mean degree is the parameter of the formula
    S = optimize.brentq(lambda s: s - (1 - np.exp(-zr * p * s)), 1e-9, 1.0)
    res = simulate(net, IndependentCascade(p), initial=1, runs=400, seed=11)
    ff = res.final_fraction
    large = ff > 0.05
    # small outbreaks are O(1) nodes: the distribution is bimodal
    assert ff[~large].max() < 0.01
    # size of a large outbreak: SE of the mean over the large ones; 4 SE + 1/sqrt(n) finite size
    se = ff[large].std(ddof=1) / np.sqrt(large.sum())
    assert abs(ff[large].mean() - S) < 4 * se + 1 / np.sqrt(n)
    # a random seed starts a large outbreak with probability S (binomial SE, 4 SE)
    se_freq = np.sqrt(S * (1 - S) / len(ff))
    assert abs(large.mean() - S) < 4 * se_freq


@pytest.mark.parametrize(("z", "p"), [(4.0, 0.125), (5.0, 0.1)])
def test_independent_cascade_mean_outbreak_below_threshold(z, p):
    """Below z p = 1 the mean outbreak from one seed, the seed included, is 1 + z p / (1 − z p)."""
    net = diffusion.generators.erdos_renyi(20_000, mean_degree=z, seed=4)
    res = simulate(net, IndependentCascade(p), initial=1, runs=3000, seed=12)
    size = res.final_count
    expected = 1 + z * p / (1 - z * p)
    se = size.std(ddof=1) / np.sqrt(len(size))
    assert abs(size.mean() - expected) < 4 * se
    assert size.min() == 1  # the seed always counts


def test_independent_cascade_p_one_reaches_component():
    """p = 1 activates exactly the seed's connected component."""
    net = diffusion.generators.erdos_renyi(3000, mean_degree=1.5, seed=5)
    res = simulate(net, IndependentCascade(1.0), initial=1, runs=20, seed=1)
    from scipy.sparse.csgraph import connected_components

    _, label = connected_components(net.to_scipy(), directed=False)
    sizes = np.bincount(label)
    for r in range(res.runs):
        seed_node = np.flatnonzero(res.adoption_step[r] == 0)[0]
        assert res.final_count[r] == sizes[label[seed_node]]
        assert np.array_equal(res.adopted(r), label == label[seed_node])
