"""ABC-SMC from an adoption curve: posterior coverage, determinism, platform shares."""

from __future__ import annotations

import numpy as np
import pytest

import diffusion
from diffusion.calibration.abc import Prior, abc_smc, curve_simulator, make_prior
from diffusion.calibration.data import AdoptionCurve
from diffusion.calibration.params import parse_key
from diffusion.distributions import Distribution
from diffusion.errors import ParameterError
from diffusion.parallel import get_executor


def _uniform(lo, hi):
    return Distribution("uniform", (("low", lo), ("high", hi)))


@pytest.mark.slow
def test_credible_interval_covers_the_truth_in_20_repetitions():
    """20 curves simulated at mimetic = 0.5; prior Uniform(0, 2).

    The true value lies inside the 95 % credible interval in at least 18 of 20 repetitions,
    the posterior mean stays within the prior's central 95 % (0.05 .. 1.95) and the
    posterior is narrower than the prior (sd 2 / √12 ≈ 0.58).
    """
    net = diffusion.generators.erdos_renyi(300, mean_degree=6, seed=1)
    sim = curve_simulator("isomorphic", {"external": 0.03, "mimetic": 0.5}, ["cascade.mimetic"],
                          None, 8)
    prior = Prior(("cascade.mimetic",), (_uniform(0.0, 2.0),), (0.0,), (np.inf,))
    hits, means, sds = 0, [], []
    for rep in range(20):
        curve, _ = sim.run(net, [0.5], np.random.SeedSequence([7, rep]))
        post = abc_smc(net, sim, AdoptionCurve(curve), prior, particles=30, generations=3,
                       seed=rep)
        s = post.summary()["cascade.mimetic"]
        hits += s["ci"][0] <= 0.5 <= s["ci"][1]
        means.append(s["mean"])
        sds.append(s["sd"])
    assert hits >= 18
    assert all(0.05 < m < 1.95 for m in means)
    assert np.mean(sds) < 0.5 * 2 / np.sqrt(12)


def test_result_does_not_depend_on_the_executor_or_batches():
    net = diffusion.generators.erdos_renyi(150, mean_degree=5, seed=2)
    sim = curve_simulator("isomorphic", {"external": 0.03, "mimetic": 0.4},
                          ["cascade.external", "cascade.mimetic"], None, 6)
    curve, _ = sim.run(net, [0.03, 0.4], np.random.SeedSequence(1))
    prior = make_prior(sim.free, {"cascade.external": _uniform(0.0, 0.1),
                                  "cascade.mimetic": _uniform(0.0, 1.0)})
    obs = AdoptionCurve(curve)
    a = abc_smc(net, sim, obs, prior, particles=20, generations=2, seed=5)
    b = abc_smc(net, sim, obs, prior, particles=20, generations=2, seed=5, batch_size=3)
    with get_executor("serial") as ex:
        c = abc_smc(net, sim, obs, prior, particles=20, generations=2, seed=5, executor=ex)
    for other in (b, c):
        np.testing.assert_array_equal(a.samples, other.samples)
        np.testing.assert_array_equal(a.weights, other.weights)
    assert a.weights.sum() == pytest.approx(1.0)
    assert len(a.tolerances) == 2 and a.tolerances[1] < np.inf
    out = a.to_dict()
    assert set(out["parameters"]["cascade.mimetic"]) == {"mean", "sd", "median", "ci"}
    assert len(out["samples"]["cascade.external"]) == 20


def test_platform_competition_uses_the_final_shares():
    net = diffusion.generators.erdos_renyi(200, mean_degree=6, seed=3)
    params = {"platforms": ["A", "B", "C"], "global_effect": 6.0, "revision_rate": 0.5}
    sim = curve_simulator("platform_competition", params, ["cascade.global_effect"], None, 10)
    assert sim.shares
    curve, shares = sim.run(net, [6.0], np.random.SeedSequence(4))
    assert shares.shape == (3,) and np.all(np.diff(shares) <= 0)
    prior = make_prior(sim.free, {"cascade.global_effect": _uniform(0.0, 10.0)})
    post = abc_smc(net, sim, AdoptionCurve(curve, shares), prior, particles=20, generations=2,
                   seed=1)
    # concentrated shares rule out weak network effects
    assert post.summary()["cascade.global_effect"]["mean"] > 3.0


def test_prior_errors():
    free = (parse_key("cascade.mimetic"),)
    with pytest.raises(ParameterError, match=r"priors\.cascade\.mimetic"):
        make_prior(free, {})
    prior = make_prior(free, {}, {"cascade.mimetic": (0.0, 2.0)})
    assert prior.dists[0].to_dict() == {"distribution": "uniform", "low": 0.0, "high": 2.0}
    normal = Prior(("x",), (Distribution("normal", (("mean", 0.0), ("sd", 1.0))),), (0.0,), (1.0,))
    x = normal.sample(np.random.default_rng(0), 500)
    assert x.min() >= 0 and x.max() <= 1
    assert np.isneginf(normal.logpdf(np.array([[1.5]])))[0]
