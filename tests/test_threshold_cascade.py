"""Linear threshold and independent cascade: hand-checkable cases and backend equality.

Every case runs under both backends (the compiled frontier kernel and the
numpy reference); :func:`test_backends_identical` checks they agree bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

import diffusion
from diffusion import IndependentCascade, LinearThreshold, Network, simulate
from diffusion.errors import ParameterError
from diffusion.models.threshold import integer_thresholds

BACKENDS = ["numba", "numpy"]


def path(n: int, directed: bool = False) -> Network:
    return Network.from_edges(n, np.arange(n - 1), np.arange(1, n), directed=directed)


def star(leaves: int) -> Network:
    return Network.from_edges(leaves + 1, np.zeros(leaves, int), np.arange(1, leaves + 1))


def steps_of(net, model, initial, **kw):
    return simulate(net, model, initial=initial, runs=kw.pop("runs", 1), seed=kw.pop("seed", 0), **kw)


# ------------------------------------------------------------------ threshold
@pytest.mark.parametrize("backend", BACKENDS)
class TestLinearThresholdByHand:
    def test_path_spreads_one_hop_per_step(self, backend):
        res = steps_of(path(6), LinearThreshold(0.5, backend=backend), [0])
        assert res.adoption_step[0].tolist() == [0, 1, 2, 3, 4, 5]
        assert res.steps.tolist() == [5]
        # the runner evaluates one more step to see that nothing changes
        assert res.counts[:, 0].tolist() == [1, 2, 3, 4, 5, 6, 6]

    def test_path_blocked_above_one_half(self, backend):
        res = steps_of(path(6), LinearThreshold(0.51, backend=backend), [0])
        # node 1 has 2 neighbours, one adopted: 1/2 < 0.51
        assert res.adoption_step[0].tolist() == [0, -1, -1, -1, -1, -1]
        assert res.steps.tolist() == [0]

    def test_star_hub_and_leaves(self, backend):
        # hub 0 with 4 leaves; leaves 1, 2 seed; the hub needs 2/4 >= 0.5; the
        # other leaves then see their only neighbour adopted
        res = steps_of(star(4), LinearThreshold(0.5, backend=backend), [1, 2])
        assert res.adoption_step[0].tolist() == [1, 0, 0, 2, 2]
        res = steps_of(star(4), LinearThreshold(0.51, backend=backend), [1, 2])
        assert res.adoption_step[0].tolist() == [-1, 0, 0, -1, -1]

    def test_count_rule(self, backend):
        # node 2 has two neighbours (0, 1), node 3 one (0)
        net = Network.from_edges(5, [0, 1, 0, 2, 3], [2, 2, 3, 4, 4])
        res = steps_of(net, LinearThreshold(2, rule="count", backend=backend), [0, 1])
        assert res.adoption_step[0].tolist() == [0, 0, 1, -1, -1]
        res = steps_of(net, LinearThreshold(1.5, rule="count", backend=backend), [0, 1])
        assert res.adoption_step[0].tolist() == [0, 0, 1, -1, -1]  # 1.5 -> needs 2
        res = steps_of(net, LinearThreshold(1, rule="count", backend=backend), [0])
        assert res.adoption_step[0].tolist() == [0, 2, 1, 1, 2]

    def test_weighted_fraction(self, backend):
        # node 3 hears from 0 (weight 3) and from 1 (weight 1): 3/4 from seed 0
        net = Network.from_edges(4, [0, 1, 2], [3, 3, 3], [3.0, 1.0, 0.0], directed=True)
        assert steps_of(net, LinearThreshold(0.75, backend=backend), [0]).adoption_step[0, 3] == 1
        assert steps_of(net, LinearThreshold(0.76, backend=backend), [0]).adoption_step[0, 3] == -1
        assert steps_of(net, LinearThreshold(0.25, backend=backend), [1]).adoption_step[0, 3] == 1
        unweighted = LinearThreshold(0.5, weighted=False, backend=backend)
        assert steps_of(net, unweighted, [0]).adoption_step[0, 3] == -1  # 1 of 3 in-neighbours
        assert steps_of(net, unweighted, [0, 2]).adoption_step[0, 3] == 1  # 2 of 3

    def test_weighted_count(self, backend):
        net = Network.from_edges(4, [0, 1, 2], [3, 3, 3], [0.5, 0.75, 1.0], directed=True)
        model = LinearThreshold(1.25, rule="count", backend=backend)
        assert steps_of(net, model, [0, 1]).adoption_step[0, 3] == 1  # 0.5 + 0.75
        assert steps_of(net, model, [0]).adoption_step[0, 3] == -1
        assert steps_of(net, model, [2]).adoption_step[0, 3] == -1  # 1.0 < 1.25

    def test_directed_uses_in_neighbours(self, backend):
        # 0 -> 1 -> 2 and 3 -> 2: node 2 has in-neighbours 1 and 3
        net = Network.from_edges(4, [0, 1, 3], [1, 2, 2], directed=True)
        res = steps_of(net, LinearThreshold(0.5, backend=backend), [0])
        assert res.adoption_step[0].tolist() == [0, 1, 2, -1]
        res = steps_of(net, LinearThreshold(0.6, backend=backend), [0])
        assert res.adoption_step[0].tolist() == [0, 1, -1, -1]
        # nothing flows against the arcs
        res = steps_of(net, LinearThreshold(0.1, backend=backend), [2])
        assert res.adoption_step[0].tolist() == [-1, -1, 0, -1]

    def test_threshold_zero_adopts_at_step_one(self, backend):
        net = Network.from_edges(4, [0], [1])  # nodes 2 and 3 isolated
        res = steps_of(net, LinearThreshold(np.array([0.5, 0.5, 0.0, 0.5]), backend=backend), None)
        assert res.adoption_step[0].tolist() == [-1, -1, 1, -1]
        res = steps_of(net, LinearThreshold(0.0, backend=backend), None)
        assert res.adoption_step[0].tolist() == [1, 1, 1, 1]

    def test_attribute_threshold(self, backend):
        net = path(4).with_attributes(theta=np.array([0.0, 0.4, 0.6, 0.5]))
        res = steps_of(net, LinearThreshold("theta", backend=backend), None)
        # 0 adopts (θ = 0), then 1 (1/2 >= 0.4); 2 needs 0.6 > 1/2
        assert res.adoption_step[0].tolist() == [1, 2, -1, -1]

    def test_distribution_thresholds(self, backend):
        # uniform on [0.6, 0.9]: on a path no node can reach 0.6 except the end node
        net = path(5)
        model = LinearThreshold({"distribution": "uniform", "low": 0.6, "high": 0.9}, backend=backend)
        res = steps_of(net, model, [3], runs=5)
        assert (res.adoption_step[:, :3] == -1).all() and (res.adoption_step[:, 4] == 1).all()
        # a constant distribution is the scalar threshold
        const = LinearThreshold({"distribution": "constant", "value": 0.5}, backend=backend)
        assert steps_of(net, const, [0]).adoption_step.tolist() == [[0, 1, 2, 3, 4]]

    def test_max_steps_and_no_seeds(self, backend):
        res = steps_of(path(6), LinearThreshold(0.5, backend=backend), [0], max_steps=2)
        assert res.adoption_step[0].tolist() == [0, 1, 2, -1, -1, -1]
        assert res.counts.shape == (3, 1)
        with pytest.raises(diffusion.ParameterError, match="initial adopters and none were given"):
            steps_of(path(6), LinearThreshold(0.5, backend=backend), None)


def test_integer_thresholds_exact():
    """The integer threshold is the least k with k / deg >= θ, in floating point."""
    rng = np.random.default_rng(0)
    deg = rng.integers(0, 40, size=20_000)
    theta = np.concatenate([rng.random(10_000), rng.integers(0, 11, 10_000) / 10])  # many ties
    k = integer_thresholds(theta, deg)
    has = deg > 0
    d = np.where(has, deg, 1).astype(float)
    ok = k[has] / d[has] >= theta[has]
    never = k[has] == deg[has] + 1
    assert np.all(ok | never)
    minimal = (k[has] == 0) | ((k[has] - 1) / d[has] < theta[has])
    assert minimal.all()
    assert np.all(k[~has] == np.where(theta[~has] <= 0, 0, 1))
    # 0.3 * 10 == 3.0000000000000004 in floating point, but 3 / 10 >= 0.3
    assert integer_thresholds(np.array([0.3]), np.array([10])).tolist() == [3]


def test_integer_thresholds_kernel_matches_numpy():
    K = pytest.importorskip("diffusion._kernels")
    rng = np.random.default_rng(1)
    deg = rng.integers(0, 30, size=5000)
    theta = np.concatenate([rng.random(2500), rng.integers(0, 7, 2500) / 6])
    for rule in ("fraction", "count"):
        th = theta * (5 if rule == "count" else 1)
        need = np.empty(len(deg), dtype=np.int32)
        zero = np.empty(len(deg), dtype=np.int64)
        nz = K.lt_need(th, deg.astype(np.int64), rule == "fraction", need, zero)
        ref = integer_thresholds(th, deg, rule)
        assert np.array_equal(need, ref)
        assert np.array_equal(zero[:nz], np.flatnonzero(ref <= 0))


# -------------------------------------------------------------------- cascade
@pytest.mark.parametrize("backend", BACKENDS)
class TestIndependentCascadeByHand:
    def test_certain_and_impossible(self, backend):
        res = steps_of(path(5), IndependentCascade(1.0, backend=backend), [2])
        assert res.adoption_step[0].tolist() == [2, 1, 0, 1, 2]
        res = steps_of(path(5), IndependentCascade(0.0, backend=backend), [2], runs=4)
        assert (res.final_count == 1).all() and (res.steps == 0).all()
        assert res.counts.shape == (2, 4)  # step 1 evaluated, nothing changed

    def test_directed_one_way(self, backend):
        res = steps_of(path(4, directed=True), IndependentCascade(1.0, backend=backend), [1])
        assert res.adoption_step[0].tolist() == [-1, 0, 1, 2]

    def test_per_edge_probabilities(self, backend):
        net = Network.from_edges(4, [0, 0, 1], [1, 2, 3], directed=True)  # arcs 0->1, 0->2, 1->3
        res = steps_of(net, IndependentCascade([1.0, 0.0, 1.0], backend=backend), [0], runs=3)
        assert res.adoption_step.tolist() == [[0, 1, -1, 2]] * 3
        wnet = Network.from_edges(4, [0, 0, 1], [1, 2, 3], [0.0, 1.0, 1.0], directed=True)
        res = steps_of(wnet, IndependentCascade("weight", backend=backend), [0])
        assert res.adoption_step.tolist() == [[0, -1, 1, -1]]

    def test_star_single_chance(self, backend):
        # the hub adopted at step 0 tries each leaf once; leaves only reach the hub
        n_leaves = 4000
        res = steps_of(star(n_leaves), IndependentCascade(0.3, backend=backend), [0], runs=2, seed=3)
        assert (res.adoption_step[:, 1:] <= 1).all()
        assert (res.steps == 1).all()
        # Binomial(4000, 0.3): mean 1200, sd 29; 5 sd either side
        reached = res.final_count - 1
        assert np.all(np.abs(reached - 1200) < 5 * 29)

    def test_no_seeds(self, backend):
        with pytest.raises(diffusion.ParameterError, match="initial adopters and none were given"):
            steps_of(path(4), IndependentCascade(0.5, backend=backend), None, runs=2)


# ---------------------------------------------------------- backend equality
def _weighted_er(n: int, z: float, seed: int) -> Network:
    net = diffusion.generators.erdos_renyi(n, mean_degree=z, seed=seed)
    src, dst = net.edges()
    w = np.random.default_rng(seed).random(len(src))
    return Network.from_edges(n, src, dst, w)


_ER = diffusion.generators.erdos_renyi(1500, mean_degree=5, seed=11)
_ERW = _weighted_er(1500, 5, 12)
_DIR = Network.from_edges(1500, *np.random.default_rng(13).integers(0, 1500, (2, 6000)), directed=True)
EQUALITY_CASES = {
    "lt-fixed": (_ER, lambda b: LinearThreshold(0.2, backend=b), 15),
    "lt-uniform": (_ER, lambda b: LinearThreshold({"distribution": "uniform", "low": 0, "high": 0.6},
                                                  backend=b), 15),
    "lt-count-normal": (_ER, lambda b: LinearThreshold({"distribution": "normal", "mean": 1.5, "sd": 1},
                                                       rule="count", backend=b), 15),
    "lt-directed": (_DIR, lambda b: LinearThreshold(0.3, backend=b), 30),
    "lt-weighted": (_ERW, lambda b: LinearThreshold(0.25, backend=b), 15),
    "lt-weighted-random": (_ERW, lambda b: LinearThreshold({"distribution": "beta", "a": 2, "b": 6},
                                                           backend=b), 15),
    "lt-weighted-count": (_ERW, lambda b: LinearThreshold(0.6, rule="count", backend=b), 15),
    "ic-uniform": (_ER, lambda b: IndependentCascade(0.25, backend=b), 3),
    "ic-critical": (_ER, lambda b: IndependentCascade(0.2, backend=b), 1),
    "ic-one": (_ER, lambda b: IndependentCascade(1.0, backend=b), 1),
    "ic-directed": (_DIR, lambda b: IndependentCascade(0.3, backend=b), 2),
    "ic-weight": (_ERW, lambda b: IndependentCascade("weight", backend=b), 2),
}


@pytest.mark.parametrize("case", list(EQUALITY_CASES))
def test_backends_identical(case):
    """The compiled kernel and the numpy reference agree bit for bit for equal seeds."""
    pytest.importorskip("numba")
    net, make, initial = EQUALITY_CASES[case]
    a = simulate(net, make("numba"), initial=initial, runs=12, seed=2024)
    b = simulate(net, make("numpy"), initial=initial, runs=12, seed=2024, chunk_size=5)
    assert a.adoption_step.dtype == b.adoption_step.dtype
    assert np.array_equal(a.adoption_step, b.adoption_step)
    assert np.array_equal(a.counts, b.counts)
    assert np.array_equal(a.steps, b.steps)
    # the cases are not degenerate: something spread beyond the seeds somewhere
    assert (a.final_count > initial).any()


def test_backends_identical_with_max_steps():
    pytest.importorskip("numba")
    for make in (lambda b: LinearThreshold(0.15, backend=b), lambda b: IndependentCascade(0.3, backend=b)):
        a = simulate(_ER, make("numba"), initial=3, runs=6, seed=5, max_steps=3)
        b = simulate(_ER, make("numpy"), initial=3, runs=6, seed=5, max_steps=3)
        assert np.array_equal(a.adoption_step, b.adoption_step) and np.array_equal(a.counts, b.counts)
        assert a.counts.shape[0] <= 4


def test_compact_adoption_dtype():
    res = simulate(_ER, LinearThreshold(0.2), initial=5, runs=3, seed=0)
    assert res.adoption_step.dtype == np.int16
    res = simulate(_ER, IndependentCascade(0.2), initial=5, runs=3, seed=0)
    assert res.adoption_step.dtype == np.int16


def test_backend_not_a_parameter():
    assert LinearThreshold(0.2, backend="numpy").params() == LinearThreshold(0.2).params()
    assert "backend" not in IndependentCascade(0.1, backend="numba").params()
    with pytest.raises(ParameterError, match=r"^backend"):
        LinearThreshold(0.2, backend="cuda")
    with pytest.raises(ParameterError, match=r"^backend"):
        IndependentCascade(0.2, backend="")


def test_negative_weights_rejected_by_weighted_threshold():
    net = Network.from_edges(3, [0, 1], [1, 2], [1.0, -1.0])
    with pytest.raises(ParameterError, match=r"^weighted"):
        simulate(net, LinearThreshold(0.5), initial=[0], runs=1, seed=0)
    res = simulate(net, LinearThreshold(0.5, weighted=False), initial=[0], runs=1, seed=0)
    assert res.final_count.tolist() == [3]


def test_threads_do_not_change_results():
    pytest.importorskip("numba")
    one = simulate(_ER, LinearThreshold(0.2), initial=10, runs=150, seed=9)
    two = simulate(_ER, LinearThreshold(0.2, threads=2), initial=10, runs=150, seed=9)
    ref = simulate(_ER, LinearThreshold(0.2, backend="numpy"), initial=10, runs=150, seed=9)
    assert np.array_equal(one.adoption_step, two.adoption_step)
    assert np.array_equal(one.adoption_step, ref.adoption_step)
    assert np.array_equal(one.counts, two.counts)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ParameterError, match=r"^threads"):
            LinearThreshold(0.2, threads=bad)


@pytest.mark.slow
def test_long_cascades_widen_adoption_steps_identically():
    """Adoption steps are int16 until a run passes step 32,767; then int32, in both backends."""
    pytest.importorskip("numba")
    n = 33_000
    line = path(n)
    ring = Network.from_edges(n, np.arange(n), (np.arange(n) + 1) % n, directed=True)
    for net, make in [(line, lambda b: LinearThreshold(0.5, backend=b)),
                      (ring, lambda b: IndependentCascade(1.0, backend=b)),
                      (ring, lambda b: LinearThreshold({"distribution": "uniform", "low": 0.5, "high": 1},
                                                       backend=b))]:
        a = simulate(net, make("numba"), initial=[0], runs=2, seed=1)
        b = simulate(net, make("numpy"), initial=[0], runs=2, seed=1)
        assert a.adoption_step.dtype == b.adoption_step.dtype == np.int32
        assert np.array_equal(a.adoption_step, b.adoption_step) and np.array_equal(a.counts, b.counts)
        assert a.adoption_step.max() == n - 1
    # a cap at 32,767 steps keeps int16
    capped = simulate(line, LinearThreshold(0.5), initial=[0], runs=1, seed=1, max_steps=32_767)
    assert capped.adoption_step.dtype == np.int16 and capped.adoption_step.max() == 32_767
