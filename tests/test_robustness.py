"""Robustness curves against percolation theory (Cohen et al. 2000; Albert, Jeong & Barabási 2000)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

import diffusion
from diffusion import ParameterError
from diffusion.shocks import robustness


def _giant_theory(z: float, f: float) -> float:
    """Largest root of S = (1 - f)(1 - exp(-z S)) (0 below the threshold)."""
    g = lambda s: s - (1 - f) * (1 - np.exp(-z * s))  # noqa: E731
    if z * (1 - f) <= 1:
        return 0.0
    return brentq(g, 1e-9, 1.0)


def test_random_removal_on_er_matches_percolation():
    z, n = 4.0, 20_000
    net = diffusion.generators.erdos_renyi(n, mean_degree=z, seed=5)
    fractions = [0.0, 0.2, 0.4, 0.6]
    res = robustness(net, fractions, "random", runs=4, seed=1)
    theory = np.array([_giant_theory(z, f) for f in fractions])
    # finite-size fluctuations of the giant component are O(n^-1/2) ~ 0.007 per run; the
    # replicate SE of the mean is below 0.005 here, so allow 4 SE plus the O(1/n) bias
    tol = np.maximum(4 * res.se, 0.004) + 0.003
    np.testing.assert_array_less(np.abs(res.mean - theory), tol)


def test_critical_fraction_er():
    # f_c = 1 - 1/(kappa - 1), kappa = <k^2>/<k> = z + 1 on ER -> f_c = 1 - 1/z
    z = 4.0
    net = diffusion.generators.erdos_renyi(10_000, mean_degree=z, seed=2)
    fractions = np.linspace(0.5, 0.95, 10)
    res = robustness(net, fractions, "random", runs=3, seed=3)
    fc = res.critical_fraction(level=0.02)
    assert 0.7 <= fc <= 0.85  # theory 0.75, finite-size smeared above it


def test_targeted_fragments_ba_far_sooner():
    net = diffusion.generators.barabasi_albert(5000, 2, seed=1)
    fractions = np.linspace(0, 0.5, 11)
    rnd = robustness(net, fractions, "random", runs=3, seed=4)
    tgt = robustness(net, fractions, "degree", runs=3, seed=4)
    ada = robustness(net, fractions, "degree", runs=2, seed=4, recalculate=True)
    assert np.all(tgt.mean <= rnd.mean + 1e-12)
    fc_t = tgt.critical_fraction(0.05)
    assert fc_t <= 0.2  # hubs removed: the graph is in pieces after a small fraction
    assert rnd.mean[-1] > 0.3  # random removal of half the firms leaves a giant component
    assert np.isnan(rnd.critical_fraction(0.05))
    assert ada.recalculate and np.all(ada.mean <= tgt.mean + 0.02)


def test_size_strategy_and_records():
    net = diffusion.generators.smb_network(2000, seed=3)
    res = robustness(net, [0.0, 0.1], "size", runs=2, seed=0)
    assert res.giant.shape == (2, 2)
    assert res.mean[0] <= 1.0 and res.mean[1] < res.mean[0]
    recs = res.to_records()
    assert recs[0]["strategy"] == "size" and set(recs[0]) >= {"fraction", "giant_mean", "giant_q05"}


def test_directed_uses_weak_components():
    net = diffusion.Network.from_edges(4, [0, 1, 2], [1, 2, 3], directed=True)
    assert robustness(net, [0.0], runs=1, seed=0).giant.tolist() == [[1.0]]


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"fractions": [1.5]}, "fractions"),
    ({"fractions": []}, "fractions"),
    ({"runs": 0}, "runs"),
    ({"strategy": "revenue"}, "strategy"),
])
def test_validation(kwargs, key):
    net = diffusion.generators.complete_graph(5)
    args = {"fractions": [0.1], **kwargs}
    with pytest.raises(ParameterError) as err:
        robustness(net, **args)
    assert err.value.name == key
