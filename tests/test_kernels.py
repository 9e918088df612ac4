"""The compiled frontier kernels and their counter-based draws.

* the compiled samplers (:mod:`diffusion._draws`) give the same bits as the
  vectorized reference (:mod:`diffusion._random`), and the numbers have the
  laws they claim (fixed keys, tolerances from the standard error);
* every kernel path equals the numpy reference bit for bit, in both output
  modes (dense rows and in-kernel tallies), for any chunking, executor and
  thread count;
* the work of a small cascade does not depend on the size of the graph
  (counted by the kernels' ``work`` counters, not timed);
* extreme parameters run, and out-of-range inputs are refused before any
  kernel sees them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import diffusion
from diffusion import IndependentCascade, LinearThreshold, Network, simulate
from diffusion import _random as R
from diffusion.distributions import parse_distribution
from diffusion.engine import Batch
from diffusion.errors import DiffusionError, ParameterError
from diffusion.initial import parse_initial
from diffusion.models.threshold import draw_spec

numba = pytest.importorskip("numba")
D = pytest.importorskip("diffusion._draws")
K = pytest.importorskip("diffusion._kernels")
njit = numba.njit

UNIFORM = {"distribution": "uniform", "low": 0.0, "high": 1.0}


# ------------------------------------------------------------------ compiled helpers
@njit(cache=True)
def _nb_log(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = D.log(x[i])
    return out


@njit(cache=True)
def _nb_exp(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = D.exp(x[i])
    return out


@njit(cache=True)
def _nb_ppf(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = D.normal_ppf(x[i])
    return out


@njit(cache=True)
def _nb_unit(s, c):
    out = np.empty(c.size)
    for i in range(c.size):
        out[i] = D.unit(D.bits(s[i], c[i]))
    return out


@njit(cache=True)
def _nb_streams(keys, purpose):
    out = np.empty(keys.size, np.uint64)
    for i in range(keys.size):
        out[i] = D.stream(keys[i], purpose)
    return out


@njit(cache=True)
def _nb_thresholds(spec, s, v):
    out = np.empty(v.size)
    for i in range(v.size):
        out[i] = D.draw_threshold(spec, s[i], v[i])
    return out


@njit(cache=True)
def _nb_zero(s, n, log1mq):
    out = np.zeros(n, np.bool_)
    pos = -1
    i = 0
    while True:
        g = D.zero_gap(s, i, log1mq)
        i += 1
        if g > n - 1 - pos:
            break
        pos += np.int64(g)
        out[pos] = True
    return out


@njit(cache=True)
def _nb_floyd(s, n, k):
    mark = np.zeros(n, np.int32)
    out = np.empty(k, np.int64)
    D.floyd(s, n, k, mark, np.int32(1), out)
    return out


def _spec(dist: dict, clip=(0.0, 1.0)):
    return draw_spec(parse_distribution(dist, "threshold", clip))


SPECS = {
    "uniform": _spec(UNIFORM),
    "uniform-below-0": _spec({"distribution": "uniform", "low": -0.5, "high": 1.0}),
    "normal": _spec({"distribution": "normal", "mean": 0.2, "sd": 0.1}),
    "lognormal-count": _spec({"distribution": "lognormal", "mean": 0.5, "sigma": 1.0}, (0.0, np.inf)),
    "beta": _spec({"distribution": "beta", "a": 2.0, "b": 5.0}),
    "beta-small": _spec({"distribution": "beta", "a": 0.3, "b": 0.6}),
}


# ------------------------------------------------------------------ draws: compiled == reference
def test_log_exp_quantile_identical_and_accurate():
    rng = np.random.default_rng(1)
    x = np.concatenate([np.exp(rng.uniform(-740, 705, 200_000)), rng.random(100_000),
                        [5e-324, 2.2e-308, 1.0, 2.0, 1e308]])
    assert np.array_equal(_nb_log(x), R.log(x))
    ref = np.array([math.log(v) for v in x])
    assert np.all(np.abs(R.log(x) - ref) <= np.spacing(np.abs(ref)))  # within one unit in the last place
    y = np.concatenate([rng.uniform(-760, 720, 200_000), rng.uniform(-1, 1, 100_000), [0.0, -0.0, 1e-300]])
    assert np.array_equal(_nb_exp(y), R.exp(y))
    ok = (y > -700) & (y < 700)
    ref = np.array([math.exp(v) for v in y[ok]])
    assert np.all(np.abs(R.exp(y[ok]) - ref) <= np.spacing(ref))
    assert R.exp(np.array([800.0]))[0] == np.inf and R.exp(np.array([-800.0]))[0] == 0.0
    p = np.concatenate([rng.random(200_000), 10 ** rng.uniform(-300, -1, 50_000), [2.0**-53, 1 - 2.0**-53]])
    assert np.array_equal(_nb_ppf(p), R.normal_ppf(p))
    z = stats.norm.ppf(p)
    assert np.all(np.abs(R.normal_ppf(p) - z) <= 4e-15 * np.maximum(np.abs(z), 1e-300))


def test_counter_bits_identical_and_addressed():
    keys = R.replicate_keys(7, 50)
    assert np.array_equal(_nb_streams(keys, R.THRESHOLD), R.stream_keys(keys, R.THRESHOLD))
    s = np.repeat(R.stream_keys(keys, R.ARC), 400)
    c = np.tile(np.arange(400), 50)
    u = R.unit(R.counter_bits(s, c))
    assert np.array_equal(_nb_unit(s, c), u)
    assert ((u > 0) & (u < 1)).all() and len(np.unique(u)) == len(u)
    # addressed, not consumed: any subset in any order gives the same numbers
    perm = np.random.default_rng(0).permutation(len(c))[:500]
    assert np.array_equal(R.unit(R.counter_bits(s[perm], c[perm])), u[perm])
    # replicate r's key does not depend on the chunk it is computed in
    assert np.array_equal(R.replicate_keys(7, 20, start=30), keys[30:])


@pytest.mark.parametrize("name", list(SPECS))
def test_thresholds_identical(name):
    spec = SPECS[name]
    keys = R.stream_keys(R.replicate_keys(3, 40), R.THRESHOLD)
    v = np.random.default_rng(2).integers(0, 10**6, 40 * 250)
    s = np.repeat(keys, 250)
    got = _nb_thresholds((np.int64(spec[0]), *spec[1:]), s, v)
    assert np.array_equal(got, R.threshold_values(spec, s, v))
    assert (got > 0).all() and (got >= spec[5]).all() and (got <= spec[6]).all()


def test_zero_set_and_floyd_identical():
    keys = R.replicate_keys(11, 6)
    for q in (0.3, 0.01, 1 - 1e-12):
        streams = R.stream_keys(keys, R.ZERO)
        ref = R.zero_mask(streams, 5000, math.log1p(-q))
        for r in range(len(keys)):
            assert np.array_equal(_nb_zero(streams[r], 5000, math.log1p(-q)), ref[r])
    streams = R.stream_keys(keys, R.SEEDS)
    for n, k in ((1000, 10), (50, 50), (7, 1), (1, 1)):
        ref = R.floyd_seeds(streams, n, k)
        for r in range(len(keys)):
            got = _nb_floyd(streams[r], n, k)
            assert len(set(got.tolist())) == k and np.array_equal(np.sort(got), np.flatnonzero(ref[r]))


# ------------------------------------------------------------------ draws: their laws
def _sample(spec, size=20_000):
    s = np.repeat(R.stream_keys(R.replicate_keys(5, 20), R.THRESHOLD), size // 20)
    return R.threshold_values(spec, s, np.tile(np.arange(size // 20), 20))


@pytest.mark.parametrize(("name", "law"), [
    ("uniform", stats.uniform(0, 1)),
    ("beta", stats.beta(2, 5)),
    ("beta-small", stats.beta(0.3, 0.6)),
    ("lognormal-count", stats.lognorm(1.0, scale=np.exp(0.5))),
    # thresholds outside the zero set follow the law conditioned on being positive
    ("normal", stats.truncnorm(-2.0, np.inf, loc=0.2, scale=0.1)),
])
def test_thresholds_have_their_law(name, law):
    x = _sample(SPECS[name])
    if name == "normal":
        x = np.minimum(x, 1.0)
        x = x[x < 1.0]  # the clip at 1 (probability 2e-15) leaves the law unchanged
    # fixed keys: deterministic; reject only below p = 0.001
    assert stats.kstest(x, law.cdf).pvalue > 1e-3


def test_zero_set_frequency_is_q():
    q = SPECS["normal"][3]
    mask = R.zero_mask(R.stream_keys(R.replicate_keys(9, 40), R.ZERO), 5000, SPECS["normal"][4])
    se = math.sqrt(q * (1 - q) / mask.size)
    assert abs(mask.mean() - q) < 4 * se
    # the gaps are geometric: no correlation between neighbours
    a, b = mask[:, :-1].ravel(), mask[:, 1:].ravel()
    assert abs(np.mean(a & b) - q * q) < 4 * math.sqrt(q * q / a.size)


def test_floyd_is_uniform():
    n, k, reps = 40, 7, 4000
    chosen = R.floyd_seeds(R.stream_keys(R.replicate_keys(2, reps), R.SEEDS), n, k)
    assert (chosen.sum(axis=1) == k).all()
    freq = chosen.sum(axis=0)
    assert stats.chisquare(freq).pvalue > 1e-3


def test_geometric_skips_fire_each_arc_with_p():
    """On a star, the hub's arcs fire independently with probability p, whatever their position."""
    leaves, p, runs = 60, 0.15, 3000
    star = Network.from_edges(leaves + 1, np.zeros(leaves, int), np.arange(1, leaves + 1), directed=True)
    res = simulate(star, IndependentCascade(p), initial=[0], runs=runs, seed=4, keep="summary")
    fired = res.adoption_probability[1:]
    se = math.sqrt(p * (1 - p) / runs)
    assert np.all(np.abs(fired - p) < 4.5 * se)  # 60 arcs: 4.5 SE keeps the family-wise error small
    assert stats.chisquare(fired * runs).pvalue > 1e-3
    size = res.final_count - 1
    assert abs(size.mean() - leaves * p) < 4 * math.sqrt(leaves * p * (1 - p) / runs)
    assert abs(size.var() / (leaves * p * (1 - p)) - 1) < 0.1  # binomial variance (SE of a variance ratio ~0.026)


# ------------------------------------------------------------------ kernels == reference
_ER = diffusion.generators.erdos_renyi(1200, mean_degree=5, seed=21)
_W = Network.from_edges(1200, *_ER.edges(), np.random.default_rng(3).random(_ER.number_of_edges))
_ARC_P = np.random.default_rng(4).uniform(0, 0.4, _ER.nnz)
CASES = {
    "lt-fixed": (_ER, lambda b: LinearThreshold(0.18, backend=b)),
    "lt-fixed-threads": (_ER, lambda b: LinearThreshold(0.18, backend=b, threads=2)),
    "lt-uniform": (_ER, lambda b: LinearThreshold({"distribution": "uniform", "low": 0, "high": 0.5}, backend=b)),
    "lt-normal-zero": (_ER, lambda b: LinearThreshold({"distribution": "normal", "mean": 0.3, "sd": 0.15},
                                                      backend=b)),
    "lt-beta": (_ER, lambda b: LinearThreshold({"distribution": "beta", "a": 1, "b": 4}, backend=b)),
    "lt-count-lognormal": (_ER, lambda b: LinearThreshold({"distribution": "lognormal", "mean": 0, "sigma": 0.5},
                                                          rule="count", backend=b)),
    "lt-weighted": (_W, lambda b: LinearThreshold(0.2, backend=b)),
    "lt-weighted-random": (_W, lambda b: LinearThreshold({"distribution": "normal", "mean": 0.3, "sd": 0.2},
                                                         backend=b)),
    "ic": (_ER, lambda b: IndependentCascade(0.22, backend=b)),
    "ic-one": (_ER, lambda b: IndependentCascade(1.0, backend=b)),
    "ic-zero": (_ER, lambda b: IndependentCascade(0.0, backend=b)),
    "ic-arcs": (_ER, lambda b: IndependentCascade(_ARC_P, backend=b)),
}


def _same(a, b) -> None:
    assert np.array_equal(a.counts, b.counts) and np.array_equal(a.steps, b.steps)
    assert np.array_equal(a.adoption_probability, b.adoption_probability)
    assert np.array_equal(a.mean_adoption_step, b.mean_adoption_step, equal_nan=True)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("initial", [6, [3, 40, 41, 900]], ids=["random", "fixed"])
def test_kernels_equal_reference_in_both_modes(case, initial):
    net, make = CASES[case]
    ref = simulate(net, make("numpy"), initial=initial, runs=70, seed=8)  # dense, stepped
    dense = simulate(net, make("numba"), initial=initial, runs=70, seed=8)  # kernels into rows
    lean = simulate(net, make("numba"), initial=initial, runs=70, seed=8, keep="summary")  # tallies
    assert np.array_equal(ref.adoption_step, dense.adoption_step)
    _same(ref, dense)
    _same(ref, lean)
    if case not in ("ic-zero",):
        assert (ref.final_count > ref.counts[0]).any()  # not degenerate: something spread


@pytest.mark.parametrize("case", ["lt-fixed", "lt-uniform", "lt-weighted-random", "ic"])
def test_results_do_not_depend_on_chunks_executors_or_kept_replicates(case):
    from diffusion.parallel import ProcessExecutor

    net, make = CASES[case]
    model = make("numba")
    ref = simulate(net, model, initial=5, runs=90, seed=13, keep="summary")
    for chunk in (1, 7, 64, 65):
        _same(ref, simulate(net, model, initial=5, runs=90, seed=13, keep="summary", chunk_size=chunk))
    kept = simulate(net, model, initial=5, runs=90, seed=13, keep=[0, 44, 89])
    _same(ref, kept)
    full = simulate(net, model, initial=5, runs=90, seed=13)
    for r in (0, 44, 89):
        assert np.array_equal(kept.replicate(r).adoption_step, full.adoption_step[r])
    # replicate r is the same whatever the replicates around it
    tail = simulate(net, model, initial=5, runs=30, seed=13)
    assert np.array_equal(tail.adoption_step, full.adoption_step[:30])
    with ProcessExecutor(workers=2) as pool:
        _same(ref, simulate(net, model, initial=5, runs=90, seed=13, keep="summary", map_chunks=pool))


def test_summary_chunks_are_large_and_kept_replicates_run_apart():
    net = diffusion.generators.erdos_renyi(20_000, mean_degree=4, seed=1)
    seen: list[tuple[int, int]] = []

    def serial(fn, tasks):
        for t in tasks:
            seen.append(t[-2:])
            yield fn(*t)

    simulate(net, IndependentCascade(0.1), initial=3, runs=3000, seed=1, keep="summary", map_chunks=serial)
    assert seen == [(0, 3000)]
    seen.clear()
    # every replicate's row kept (4000 rows of 20,000 steps: more than one chunk's 256 MB budget)
    simulate(net, IndependentCascade(0.1), initial=3, runs=4000, seed=1, map_chunks=serial)
    assert len(seen) > 1 and sum(k for _, k in seen) == 4000
    seen.clear()
    simulate(net, IndependentCascade(0.1), initial=3, runs=3000, seed=1, keep=[10], map_chunks=serial)
    assert seen == [(0, 10), (10, 1), (11, 2989)]


# ------------------------------------------------------------------ work proportional to the cascades
def _embedded(extra: int, weighted: bool) -> tuple[Network, Network]:
    """A small graph, and the same graph with ``extra`` more nodes (a long ring) after it.

    The nodes of the small graph keep their indices and arcs, so every draw of
    its cascades is addressed the same in both.
    """
    small = diffusion.generators.barabasi_albert(3000, 3, seed=5)
    src, dst = small.edges()
    ring = np.arange(extra)
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(src) + extra) if weighted else None
    big = Network.from_edges(small.n + extra, np.concatenate([src, small.n + ring]),
                             np.concatenate([dst, small.n + (ring + 1) % extra]), w, directed=False)
    if weighted:
        small = Network.from_edges(small.n, src, dst, w[: len(src)])
    return small, big


def _chunk(net, model, initial, runs):
    """Run one chunk by hand, without per-node rows; return (state, counts)."""
    ctx = model.prepare(net)
    batch = Batch(np.random.SeedSequence(17), 0, runs, None, parse_initial(initial), net, dense=False)
    state = model.start(ctx, net, batch)
    counts, _ = model.run_to_end(ctx, net, state, None)
    return state, counts


WORK_CASES = {
    "ic": (False, lambda net: IndependentCascade(0.05)),
    "ic-arcs": (False, lambda net: IndependentCascade(np.full(net.nnz, 0.05))),
    "lt-uniform": (False, lambda net: LinearThreshold({"distribution": "uniform", "low": 0.2, "high": 1})),
    # (a normal has thresholds at or below 0 with probability q: q n nodes adopt unprompted)
    "lt-lognormal": (False, lambda net: LinearThreshold({"distribution": "lognormal", "mean": -1, "sigma": 0.3})),
    "lt-fixed-bits": (False, lambda net: LinearThreshold(0.3)),
    "lt-weighted-beta": (True, lambda net: LinearThreshold({"distribution": "beta", "a": 2, "b": 3})),
    "lt-weighted-fixed": (True, lambda net: LinearThreshold(0.4)),
}


@pytest.mark.parametrize("case", list(WORK_CASES))
def test_small_cascade_work_does_not_grow_with_the_graph(case):
    weighted, make = WORK_CASES[case]
    small, big = _embedded(1_000_000, weighted)
    seeds = [0, 7, 100, 2000]
    works, results = [], []
    for net in (small, big):
        state, counts = _chunk(net, make(net), seeds, runs=40)
        count, total = state.tallies
        assert count[small.n:].sum() == 0  # nothing beyond the small graph adopted
        works.append(state.work.copy())
        results.append((counts, count[: small.n].copy(), total[: small.n].copy()))
    for a, b in zip(*results, strict=True):
        assert np.array_equal(a, b)  # the same cascades...
    # ... cost the same: arcs read, draws made, nodes reached, adoptions
    assert np.array_equal(works[0], works[1]), dict(zip(K.WORK_FIELDS, np.array(works).T.tolist(), strict=True))
    arcs, _, reached, adoptions = works[1]
    assert 0 < adoptions and reached < 40 * small.n and arcs <= 40 * small.nnz


def test_one_compiled_call_per_chunk(monkeypatch):
    calls = []
    real = K.ic_chunk

    def counting(*args):
        calls.append(len(args[3]))  # keys: one per replicate of the chunk
        return real(*args)

    monkeypatch.setattr(K, "ic_chunk", counting)
    net = diffusion.generators.erdos_renyi(500, mean_degree=3, seed=2)
    simulate(net, IndependentCascade(0.2), initial=2, runs=1000, seed=1, keep="summary", chunk_size=400)
    assert calls == [400, 400, 200]


# ------------------------------------------------------------------ extreme parameters
EMPTY = Network.from_edges(6, [], [])
ONE = Network.from_edges(1, [], [])
TWO = Network.from_edges(2, [0], [1], directed=True)
EXTREMES = [
    lambda b: IndependentCascade(0.0, backend=b),
    lambda b: IndependentCascade(1.0, backend=b),
    lambda b: IndependentCascade(0.5, backend=b),
    lambda b: LinearThreshold(0.0, backend=b),
    lambda b: LinearThreshold(1.0, backend=b),
    lambda b: LinearThreshold(1e9, rule="count", backend=b),
    # (a distribution's values, or its centre, must lie in the threshold's range; spreads are
    # bounded to finite draws: these are the extremes the parameters allow)
    lambda b: LinearThreshold({"distribution": "uniform", "low": 0.0, "high": 5e-324}, backend=b),
    lambda b: LinearThreshold({"distribution": "normal", "mean": 0.0, "sd": 1e299}, backend=b),
    lambda b: LinearThreshold({"distribution": "beta", "a": 0.01, "b": 0.01}, backend=b),
    lambda b: LinearThreshold({"distribution": "lognormal", "mean": 0.0, "sigma": 70.0}, rule="count",
                              backend=b),
]


@pytest.mark.parametrize("make", EXTREMES)
@pytest.mark.parametrize("net", [EMPTY, ONE, TWO, _ER], ids=["empty", "one", "two", "er"])
def test_extreme_parameters(make, net):
    for initial in ([0], net.n, {"fraction": 1.0}):
        for max_steps in (0, 1, 2**40):
            try:
                ref = simulate(net, make("numpy"), initial=initial, runs=3, seed=1, max_steps=max_steps)
            except ParameterError as exc:  # e.g. a threshold model needing initial adopters
                assert exc.name.startswith("initial")
                continue
            got = simulate(net, make("numba"), initial=initial, runs=3, seed=1, max_steps=max_steps)
            lean = simulate(net, make("numba"), initial=initial, runs=3, seed=1, max_steps=max_steps,
                            keep="summary")
            assert np.array_equal(ref.adoption_step, got.adoption_step)
            _same(ref, lean)
            assert (ref.counts[-1] <= net.n).all() and ref.counts.shape[0] <= max_steps + 1


def test_out_of_range_inputs_refused_before_the_kernels():
    net = diffusion.generators.erdos_renyi(50, mean_degree=3, seed=1)
    with pytest.raises(ParameterError, match=r"^max_steps"):
        simulate(net, IndependentCascade(0.3), initial=2, runs=2, max_steps=-1)
    with pytest.raises(ParameterError, match=r"^initial"):
        simulate(net, IndependentCascade(0.3), initial=51, runs=2)
    with pytest.raises(ParameterError, match=r"^initial"):
        simulate(net, IndependentCascade(0.3), initial=-1, runs=2)
    with pytest.raises(DiffusionError):
        simulate(net, IndependentCascade(0.3), initial=[50], runs=2)  # no node 50
    with pytest.raises(ParameterError, match=r"^probability"):
        simulate(net, IndependentCascade(np.full(3, 0.5)), initial=2, runs=2)
    with pytest.raises(ParameterError, match=r"^probability"):
        IndependentCascade(-0.1)
    with pytest.raises(ParameterError, match=r"^threshold"):
        LinearThreshold(np.full(49, 0.2)).prepare(net)
    with pytest.raises(DiffusionError):
        Network.from_edges(3, [0, 1], [1, 3])  # an arc to a node that does not exist
    model = LinearThreshold(0.3)
    ctx = model.prepare(net)
    for bad in ([-1], [50]):
        with pytest.raises(ParameterError, match=r"^seeds"):
            model.start(ctx, net, Batch.of(net, [np.array(bad)], [np.random.default_rng(0)]))


def test_initial_adopters_in_any_form_give_the_same_cascades():
    # an integer array is checked at once, ids in order are not sorted again: same adopters, same draws
    net = diffusion.generators.erdos_renyi(300, mean_degree=4, seed=2)
    named = Network.from_edges(net.n, *net.edges(), node_ids=[f"f{i}" for i in range(net.n)])
    for model in (IndependentCascade(0.2), IndependentCascade(0.2, backend="numpy")):
        ref = simulate(net, model, initial=[3, 17, 40], runs=5, seed=9)
        for form in (np.array([40, 3, 17, 3]), np.array([3, 17, 40], dtype=np.int32), (17, 40, 3, 40),
                     np.array([3, 17, 40], dtype=np.uint16)):
            res = simulate(net, model, initial=form, runs=5, seed=9)
            assert np.array_equal(res.adoption_step, ref.adoption_step), form
        res = simulate(named, model, initial=np.array(["f40", "f3", "f17"]), runs=5, seed=9)
        assert np.array_equal(res.adoption_step, ref.adoption_step)
    for bad in (np.array([3, 300]), np.array([-1, 3]), np.array([[3, 4]])):
        with pytest.raises(DiffusionError):
            simulate(net, IndependentCascade(0.2), initial=bad, runs=2, seed=9)
