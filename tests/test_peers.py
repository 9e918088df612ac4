"""Agreement with peer libraries on the same graphs and initial adopters.

* NDlib ``ThresholdModel``: the same synchronous rule, so the final adopter
  sets — and the step at which each node adopts — must be *equal*.
* NDlib ``IndependentCascadesModel``, cynetdiff and EoN (discrete SIR): the
  final sizes must agree *in distribution* (two-sample Kolmogorov–Smirnov test
  and difference of means within 4 standard errors). All seeds are fixed, so
  the checks are deterministic.

The peers come with the ``bench`` extra; without it these tests skip.
NDlib draws from numpy's *global* random state: it is seeded here, for the
peer only, and restored afterwards.
"""

from __future__ import annotations

import random
from contextlib import contextmanager

import numpy as np
import pytest
from scipy import stats

import diffusion
from diffusion import IndependentCascade, LinearThreshold, Network, simulate

pytestmark = pytest.mark.peer


@contextmanager
def global_numpy_seed(seed: int):
    """Seed numpy's legacy global state for a peer that uses it; restore it afterwards."""
    saved = np.random.get_state()  # noqa: NPY002 - the peer uses the legacy global state
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(saved)  # noqa: NPY002


def ndlib_threshold_steps(G, theta: float, seeds: list[int]) -> dict[int, int]:
    """Run NDlib's ThresholdModel to quiescence; return node -> iteration of adoption."""
    ep = pytest.importorskip("ndlib.models.epidemics")
    mc = pytest.importorskip("ndlib.models.ModelConfig")
    with global_numpy_seed(0):
        model = ep.ThresholdModel(G, seed=0)
        cfg = mc.Configuration()
        cfg.add_model_initial_configuration("Infected", seeds)
        for v in G.nodes():
            cfg.add_node_configuration("threshold", v, theta)
        model.set_initial_status(cfg)
        adopted = {v: 0 for v in seeds}
        while True:
            it = model.iteration()
            new = [v for v, s in it["status"].items() if s == 1 and v not in adopted]
            if it["iteration"] > 0 and not new:
                return adopted
            for v in new:
                adopted[v] = it["iteration"]


def ndlib_ic_sizes(G, p: float, seeds: list[int], runs: int) -> np.ndarray:
    ep = pytest.importorskip("ndlib.models.epidemics")
    mc = pytest.importorskip("ndlib.models.ModelConfig")
    sizes = []
    with global_numpy_seed(1):
        for r in range(runs):
            model = ep.IndependentCascadesModel(G, seed=1000 + r)
            cfg = mc.Configuration()
            cfg.add_model_initial_configuration("Infected", seeds)
            for e in G.edges():
                cfg.add_edge_configuration("threshold", e, p)
            model.set_initial_status(cfg)
            while True:
                it = model.iteration()
                if it["iteration"] > 0 and it["node_count"][1] == 0:
                    break
            sizes.append(it["node_count"][2])  # every adopter ends "removed"
    return np.asarray(sizes)


def assert_same_distribution(ours: np.ndarray, theirs: np.ndarray) -> None:
    """KS test (fixed seeds: deterministic; reject only below p = 0.001) and means within 4 SE."""
    ks = stats.ks_2samp(ours, theirs)
    assert ks.pvalue > 1e-3, ks
    se = np.sqrt(ours.var(ddof=1) / len(ours) + theirs.var(ddof=1) / len(theirs))
    assert abs(ours.mean() - theirs.mean()) < 4 * se + 1e-9


def _graph(kind: str) -> Network:
    if kind == "er":
        return diffusion.generators.erdos_renyi(400, mean_degree=5, seed=21)
    if kind == "ws":
        return diffusion.generators.watts_strogatz(400, 6, 0.1, seed=22)
    src, dst = np.random.default_rng(23).integers(0, 300, size=(2, 1200))
    return Network.from_edges(300, src, dst, directed=True)


# ------------------------------------------------------------ linear threshold
@pytest.mark.parametrize("kind", ["er", "ws", "directed"])
@pytest.mark.parametrize("theta", [0.1, 0.18, 0.3, 0.5])
def test_threshold_equals_ndlib(kind, theta):
    pytest.importorskip("ndlib")
    net = _graph(kind)
    seeds = np.random.default_rng(5).choice(net.n, 12, replace=False).tolist()
    theirs = ndlib_threshold_steps(net.to_networkx(), theta, seeds)
    res = simulate(net, LinearThreshold(theta), initial=seeds, runs=1, seed=0)
    ours = {int(v): int(s) for v, s in enumerate(res.adoption_step[0]) if s >= 0}
    # NDlib never activates nodes without (in-)neighbours; with theta > 0 neither do we
    assert ours == theirs
    assert len(ours) > len(seeds) or theta >= 0.3  # the low thresholds do spread


# --------------------------------------------------------- independent cascade
def test_independent_cascade_agrees_with_ndlib():
    pytest.importorskip("ndlib")
    net = diffusion.generators.erdos_renyi(300, mean_degree=4, seed=31)
    G = net.to_networkx()
    seeds = [0, 1]
    theirs = ndlib_ic_sizes(G, 0.3, seeds, runs=150)
    ours = simulate(net, IndependentCascade(0.3), initial=seeds, runs=600, seed=3).final_count
    assert_same_distribution(ours, theirs)


@pytest.mark.parametrize("p", [0.05, 0.3])
def test_independent_cascade_agrees_with_cynetdiff(p):
    utils = pytest.importorskip("cynetdiff.utils")
    net = diffusion.generators.erdos_renyi(1000, mean_degree=5, seed=32)
    G = net.to_networkx()
    model, mapping = utils.networkx_to_ic_model(G, activation_prob=p, rng=7)
    seeds = [0, 5, 9]
    model.set_seeds([mapping[s] for s in seeds])
    theirs = []
    for _ in range(1000):
        model.reset_model()
        model.advance_until_completion()
        theirs.append(model.get_num_activated_nodes())
    ours = simulate(net, IndependentCascade(p), initial=seeds, runs=1000, seed=4).final_count
    assert_same_distribution(ours, np.asarray(theirs))


def test_independent_cascade_agrees_with_eon_discrete_sir():
    EoN = pytest.importorskip("EoN")
    net = diffusion.generators.erdos_renyi(1000, mean_degree=5, seed=33)
    G = net.to_networkx()
    rng = np.random.default_rng(8)
    theirs = []
    for _ in range(400):
        _, _, _, R = EoN.basic_discrete_SIR(G, 0.25, initial_infecteds=[3], rng=rng)
        theirs.append(R[-1])
    ours = simulate(net, IndependentCascade(0.25), initial=[3], runs=1000, seed=5).final_count
    assert_same_distribution(ours, np.asarray(theirs))


def test_threshold_uniform_random_agrees_with_cynetdiff():
    """cynetdiff's LT: thresholds U(0, 1) re-drawn per cascade, influence 1/in-degree."""
    utils = pytest.importorskip("cynetdiff.utils")
    net = diffusion.generators.erdos_renyi(1000, mean_degree=6, seed=34)
    G = net.to_networkx().to_directed()
    model, mapping = utils.networkx_to_lt_model(G, rng=9)
    seeds = list(range(0, 1000, 50))
    model.set_seeds([mapping[s] for s in seeds])
    theirs = []
    for _ in range(600):
        model.reset_model()
        model.advance_until_completion()
        theirs.append(model.get_num_activated_nodes())
    uniform = LinearThreshold({"distribution": "uniform", "low": 0.0, "high": 1.0})
    ours = simulate(net, uniform, initial=seeds, runs=600, seed=6).final_count
    assert_same_distribution(ours, np.asarray(theirs))


def test_peer_seeding_leaves_global_state_alone():
    """The global random states are untouched by the package (and restored after peers)."""
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    py_state = random.getstate()
    net = diffusion.generators.erdos_renyi(200, mean_degree=4, seed=1)
    simulate(net, IndependentCascade(0.3), initial=2, runs=20, seed=1)
    simulate(net, LinearThreshold({"distribution": "uniform", "low": 0, "high": 1}), initial=2, runs=20, seed=1)
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert random.getstate() == py_state
