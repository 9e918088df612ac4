"""Every compiled kernel (cascades, thresholds, platform choice, shock propagation) under extreme
and out-of-range arguments.

Two layers:

* through the models: each compiled path equals its numpy reference, replicate
  by replicate, for parameter values at the edges of their ranges
  (probabilities of 5e-324 and 1 - 2**-53, thresholds that can never be met,
  spreads as wide as the parameters allow, one or every node an initial
  adopter, revision rates whose geometric skips pass 2**63);
* called directly, with arguments that would make a kernel index outside its
  arrays (CSR arrays of another graph, initial adopters out of range, pointers
  that run backwards or past the end, sinks of another shape, step limits
  beyond the dtype of the rows, tables too short, NaN parameters): each must
  raise ValueError before its first write — never crash the interpreter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from diffusion import IndependentCascade, LinearThreshold, Network, simulate
from diffusion import _random as RND
from diffusion.generators import erdos_renyi
from diffusion.models.platform import PlatformCompetition
from diffusion.models.threshold import integer_thresholds

numba = pytest.importorskip("numba")
D = pytest.importorskip("diffusion._draws")
K = pytest.importorskip("diffusion._kernels")
PK = pytest.importorskip("diffusion.models._platform_kernel")
SK = pytest.importorskip("diffusion.shocks._kernels")

TINY = (5e-324, 1e-300, 1e-20)
STEP16 = int(np.iinfo(np.int16).max)


def _graphs() -> dict[str, Network]:
    n = 40
    return {
        "one node": Network.from_edges(1, [], []),
        "edgeless": Network.from_edges(n, [], []),
        "path": Network.from_edges(n, np.arange(n - 1), np.arange(1, n)),
        "star": Network.from_edges(n, np.zeros(n - 1, int), np.arange(1, n)),
        "complete": Network.from_edges(12, *np.triu_indices(12, 1)),
        "random": erdos_renyi(120, mean_degree=4, seed=3),
        "weighted": Network.from_edges(n, np.arange(n - 1), np.arange(1, n), weights=np.linspace(0.1, 3.0, n - 1)),
    }


GRAPHS = _graphs()


def both(net: Network, make: Any, **kw: Any) -> Any:
    """Run the compiled and the numpy path, every replicate kept: they must agree exactly."""
    a = simulate(net, make("numba"), seed=7, keep="replicates", **kw)
    b = simulate(net, make("numpy"), seed=7, keep="replicates", **kw)
    assert np.array_equal(a.adoption_step, b.adoption_step)
    assert np.array_equal(a.counts, b.counts) and np.array_equal(a.steps, b.steps)
    assert a.adoption_step.min() >= -1
    assert (a.counts >= 0).all() and (a.counts <= net.n).all()
    return a


# ------------------------------------------------------------------ through the models
@pytest.mark.parametrize("graph", list(GRAPHS))
@pytest.mark.parametrize("p", [0.0, *TINY, 0.5, 1 - 2**-53, 1.0])
def test_independent_cascade_extreme_probabilities(graph, p):
    net = GRAPHS[graph]
    res = both(net, lambda b: IndependentCascade(p, backend=b), initial=1, runs=5, max_steps=None)
    if p in TINY or p == 0.0:  # (practically) never fires: skips of 2**63 and more stay in bounds
        assert (res.counts[-1] == 1).all()
    if p == 1.0 and graph == "complete":
        assert (res.counts[-1] == net.n).all()


@pytest.mark.parametrize("graph", list(GRAPHS))
def test_independent_cascade_per_arc_extremes(graph):
    net = GRAPHS[graph]
    prob = np.resize(np.array([0.0, 5e-324, 1.0, 1 - 2**-53, 1e-300]), net.nnz)
    both(net, lambda b: IndependentCascade(prob, backend=b), initial=min(2, net.n), runs=3, max_steps=None)


THRESHOLDS = [
    (0.0, "fraction"),
    (5e-324, "fraction"),
    (1 - 2**-53, "fraction"),
    (1.0, "fraction"),
    (0.0, "count"),
    (1e300, "count"),
    ({"distribution": "uniform", "low": 0.0, "high": 5e-324}, "fraction"),
    ({"distribution": "constant", "value": 1.0}, "fraction"),
    ({"distribution": "normal", "mean": 0.0, "sd": 1e299}, "fraction"),
    ({"distribution": "beta", "a": 1e-3, "b": 1e-3}, "fraction"),
    ({"distribution": "lognormal", "mean": 0.0, "sigma": 20.0}, "count"),
]


@pytest.mark.parametrize("graph", list(GRAPHS))
@pytest.mark.parametrize(("threshold", "rule"), THRESHOLDS, ids=[f"{t}-{r}" for t, r in THRESHOLDS])
def test_threshold_extremes(graph, threshold, rule):
    net = GRAPHS[graph]
    for weighted in (False, True):  # (weighted: the weighted kernel on the weighted graph)
        both(net, lambda b, w=weighted: LinearThreshold(threshold, rule=rule, weighted=w, backend=b),
             initial=1, runs=3, max_steps=None)


@pytest.mark.parametrize("initial", [1, 0.999999, "all"])
def test_one_or_every_node_a_seed(initial):
    for net in GRAPHS.values():
        init = list(range(net.n)) if initial == "all" else initial
        for make in (lambda b: LinearThreshold(0.5, backend=b), lambda b: IndependentCascade(0.3, backend=b),
                     lambda b: LinearThreshold({"distribution": "uniform", "low": 0.0, "high": 1.0}, backend=b)):
            both(net, make, initial=init, runs=3, max_steps=0)
            res = both(net, make, initial=init, runs=3)
            if initial == "all":
                assert (res.counts[-1] == net.n).all() and (res.adoption_step == 0).all()


def test_a_cascade_longer_than_int16_steps():
    # a directed path of 33,000 nodes: step 32,768 does not fit int16 rows, the chunk runs again
    # into int32 rows; tallies need no rows at all
    n = 33_000
    net = Network.from_edges(n, np.arange(n - 1), np.arange(1, n), directed=True)
    res = simulate(net, IndependentCascade(1.0, backend="numba"), initial=[0], runs=1, seed=1)
    assert np.array_equal(res.adoption_step[0], np.arange(n))
    lean = simulate(net, IndependentCascade(1.0, backend="numba"), initial=[0], runs=1, seed=1, keep="summary")
    assert np.array_equal(lean.mean_adoption_step, np.arange(n))
    # the kernel itself stops at the sink's limit and says so
    rows = np.full((1, n), -7, dtype=np.int16)
    hist, _ = K.ic_chunk(net.indptr, net.indices, _explicit(1), _keys(1), K.IC_ALL, np.empty(0), 0.0,
                         np.empty(0), K.Sink(True, rows, _NONE, STEP16), -1, np.zeros(4, np.int64))
    assert hist.shape[0] == 0 and rows.max() == STEP16 and rows.min() >= -1


@pytest.mark.parametrize("rate", [*TINY, 1e-10, 1.0])
@pytest.mark.parametrize("multihoming", [None, 0.5])
def test_platform_revision_rate_extremes(rate, multihoming):
    # a tiny rate draws geometric skips near 2**63: no firm revises, nothing overflows
    net = GRAPHS["random"]
    runs = {}
    for backend in ("numpy", "numba"):
        model = PlatformCompetition(["A", "B", "C"], revision_rate=rate, local_effect=1.0,
                                    multihoming_cost=multihoming, backend=backend)
        runs[backend] = simulate(net, model, runs=3, seed=4, max_steps=5)
    a, b = runs["numpy"].outputs["platform"], runs["numba"].outputs["platform"]
    assert np.array_equal(a, b)
    assert a.min() >= 0 and a.max() <= 3
    if rate in TINY:
        assert (a == 0).all()


@pytest.mark.parametrize(("noise", "fit_sd", "effect"), [(5e-324, 1.0, 1e300), (1e-300, 1e30, -1e300),
                                                         (1e300, 0.0, 1e300)])
def test_platform_extreme_utilities(noise, fit_sd, effect):
    # utilities of +-inf and NaN must still choose a platform in 0 .. K
    model = PlatformCompetition(["A", "B"], noise=noise, fit_sd=fit_sd, global_effect=effect, revision_rate=1.0,
                                backend="numba")
    res = simulate(GRAPHS["random"], model, runs=2, seed=1, max_steps=3)
    assert res.outputs["platform"].min() >= 0 and res.outputs["platform"].max() <= 2


# ------------------------------------------------------------------ direct calls: valid arguments
NET = GRAPHS["random"]
N = NET.n
_NONE = np.empty((0, 2), dtype=np.int64)


def _keys(R: int) -> np.ndarray:
    return RND.replicate_keys(11, R)


def _explicit(R: int, idx: Any = None, ptr: Any = None) -> Any:
    idx = np.arange(R, dtype=np.int64) if idx is None else np.asarray(idx, dtype=np.int64)
    ptr = np.arange(R + 1, dtype=np.int64) if ptr is None else np.asarray(ptr, dtype=np.int64)
    return K.Seeds(0, ptr, idx, False)


def _dense(R: int = 3, n: int = N, limit: int = STEP16) -> Any:
    return K.Sink(True, np.full((R, n), -7, dtype=np.int16), _NONE, limit)


def _tally(n: int = N, cols: int = 2) -> Any:
    return K.Sink(False, np.empty((0, 0), np.int16), np.zeros((n, cols), np.int64), 0)


def _spec(kind: int = 0, a: float = 0.0, b: float = 1.0, q: float = 0.0, log1mq: float = 0.0) -> tuple:
    return (int(kind), float(a), float(b), float(q), float(log1mq), 0.0, 1.0)


def _width(net: Network = NET) -> int:
    return int(net.out_degree.max(initial=0))


def _ic(R: int = 3) -> dict[str, Any]:
    p = 0.3
    log1mp = float(np.log1p(-p))
    return dict(indptr=NET.indptr, indices=NET.indices, seeds=_explicit(R), keys=_keys(R), mode=K.IC_SKIPS,
                qtab=np.exp(np.arange(_width() + 1) * log1mp), log1mp=log1mp, prob=np.empty(0), sink=_dense(R),
                max_steps=-1, work=np.zeros(4, np.int64))


def _lt(R: int = 3) -> dict[str, Any]:
    return dict(indptr=NET.indptr, indices=NET.indices, deg=np.asarray(NET.in_degree, np.int64), fraction=True,
                spec=_spec(0, 0.0, 0.5), seeds=_explicit(R), keys=_keys(R), sink=_dense(R), max_steps=-1,
                work=np.zeros(4, np.int64))


def _ltw(R: int = 3) -> dict[str, Any]:
    return dict(indptr=NET.indptr, indices=NET.indices, weights=np.ones(NET.nnz), denom=np.asarray(NET.in_degree, float),
                fraction=True, theta=np.full(N, 0.2), zero=np.empty(0, np.int64), spec=(-1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
                seeds=_explicit(R), keys=_keys(R), sink=_dense(R), max_steps=-1, work=np.zeros(4, np.int64))


def _bits(R: int = 3, theta: float = 0.2) -> dict[str, Any]:
    need = np.empty(N, np.int32)
    zero = np.empty(N, np.int64)
    zero = zero[: K.lt_need(np.full(N, theta), np.asarray(NET.in_degree, np.int64), True, need, zero)].copy()
    meta, planes = K.lt_meta(need)
    return dict(indptr=NET.indptr, indices=NET.indices, need=need, meta=meta, planes=int(planes), zero=zero,
                width=_width(), seeds=_explicit(R), keys=_keys(R), sink=_dense(R), max_steps=-1,
                work=np.zeros(4, np.int64))


KERNELS = {"ic": (K.ic_chunk, _ic), "lt": (K.lt_chunk, _lt), "ltw": (K.ltw_chunk, _ltw),
           "bits": (K.lt_bits_chunk, _bits)}


def _call(kernel: str, **change: Any) -> tuple[Any, dict[str, Any]]:
    fn, make = KERNELS[kernel]
    args = make()
    args.update(change)
    return fn(*args.values()), args


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_valid_calls_run(kernel):
    (hist, steps), args = _call(kernel)
    rows = args["sink"].rows
    assert (hist[0] == 1).all() and (steps >= 1).all()
    assert rows.min() >= -1 and (rows[np.arange(3), np.arange(3)] == 0).all()
    (hist, steps), args = _call(kernel, sink=_tally())
    assert args["sink"].tally[:, 0].max() <= 3 and args["sink"].tally[:3, 0].min() >= 1


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_repeated_initial_adopters_count_once(kernel):
    # more entries than the queue holds: every one but the first is skipped
    seeds = _explicit(2, idx=[3] * (N + 10) + [5, 5], ptr=[0, N + 10, N + 12])
    (hist, _), args = _call(kernel, seeds=seeds, keys=_keys(2), sink=_dense(2))
    assert hist[0].tolist() == [1, 1]
    assert args["sink"].rows[0, 3] == 0 and args["sink"].rows[1, 5] == 0
    assert ((args["sink"].rows >= 0).sum(axis=1) == hist.sum(axis=0)).all()
    (hist, _), args = _call(kernel, seeds=seeds, keys=_keys(2), sink=_tally())
    assert hist[0].tolist() == [1, 1] and args["sink"].tally[:, 0].sum() == hist.sum()


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_repeated_shared_initial_adopters_tallied_once_per_replicate(kernel):
    seeds = K.Seeds(0, np.array([0, 5], np.int64), np.array([3, 3, 5, 3, 5], np.int64), True)
    for sink in (_tally(), K.Sink(True, np.full((3, N), -7, np.int16), np.zeros((N, 2), np.int64), STEP16)):
        (hist, _), args = _call(kernel, seeds=seeds, sink=sink)
        tally = args["sink"].tally
        assert hist[0].tolist() == [2, 2, 2]
        assert tally[3, 0] == tally[5, 0] == 3 and tally[:, 0].sum() == hist.sum()
        if sink.dense:
            assert ((sink.rows >= 0).sum(axis=1) == hist.sum(axis=0)).all()
            assert tally[:, 0].tolist() == (sink.rows >= 0).sum(axis=0).tolist()


# ------------------------------------------------------------------ direct calls: refused before any write
def _ro(a: np.ndarray) -> np.ndarray:
    """``a`` read-only, like a network's own arrays: the kernel is called with the types it was
    compiled for (a writeable array would compile another specialization, only for the test)."""
    a.flags.writeable = False
    return a


def _shorter(a: np.ndarray) -> np.ndarray:
    return _ro(a[:-1].copy())


def _falling(a: np.ndarray) -> np.ndarray:
    b = a.copy()
    b[5], b[6] = b[6], b[5] - 1
    return _ro(b)


COMMON_BAD = {
    "indptr of another graph": dict(indptr=_ro(NET.indptr[:-1].copy())),
    "indptr not from 0": dict(indptr=_ro(NET.indptr + 1)),
    "indptr falls": dict(indptr=_falling(NET.indptr)),
    "indptr empty": dict(indptr=_ro(np.empty(0, NET.indptr.dtype))),
    "indices shorter": dict(indices=_shorter(NET.indices)),
    "seed -1": dict(seeds=_explicit(3, idx=[0, -1, 2])),
    "seed n": dict(seeds=_explicit(3, idx=[0, N, 2])),
    "seed 2**62": dict(seeds=_explicit(3, idx=[0, 2**62, 2])),
    "seed -2**62": dict(seeds=_explicit(3, idx=[0, -(2**62), 2])),
    "seed pointers fall": dict(seeds=_explicit(3, ptr=[0, 2, 1, 3])),
    "seed pointers past the seeds": dict(seeds=_explicit(3, ptr=[0, 1, 2, 99])),
    "seed pointers negative": dict(seeds=_explicit(3, ptr=[-1, 1, 2, 3])),
    "seed pointers too short": dict(seeds=_explicit(3, ptr=[0, 1])),
    "shared seed pointers too short": dict(seeds=K.Seeds(0, np.zeros(1, np.int64), np.arange(3), True)),
    "more random seeds than nodes": dict(seeds=K.Seeds(N + 1, np.zeros(2, np.int64), np.empty(0, np.int64), True)),
    "rows of another graph": dict(sink=_dense(3, N - 1)),
    "rows of more replicates": dict(sink=_dense(4)),
    "rows of fewer replicates": dict(sink=_dense(2)),
    "limit beyond int16": dict(sink=_dense(limit=STEP16 + 1)),
    "limit negative": dict(sink=_dense(limit=-1)),
    "tally of another graph": dict(sink=_tally(N - 1)),
    "tally of one column": dict(sink=_tally(cols=1)),
    "rows with a tally of another graph": dict(sink=K.Sink(True, np.full((3, N), -7, np.int16),
                                                           np.zeros((N - 1, 2), np.int64), STEP16)),
    "rows with a tally of one column": dict(sink=K.Sink(True, np.full((3, N), -7, np.int16),
                                                        np.zeros((N, 1), np.int64), STEP16)),
    "work too short": dict(work=np.zeros(3, np.int64)),
}

OWN_BAD = {
    "ic": {
        "no such mode": dict(mode=4),
        "negative mode": dict(mode=-1),
        "qtab short": dict(qtab=np.ones(_width())),
        "log1p(-p) = 0": dict(log1mp=0.0),
        "log1p(-p) > 0": dict(log1mp=0.5),
        "log1p(-p) nan": dict(log1mp=float("nan")),
        "fewer probabilities than arcs": dict(mode=K.IC_PER_ARC, prob=np.full(NET.nnz - 1, 0.5)),
    },
    "lt": {
        "deg of another graph": dict(deg=_ro(np.ones(N - 1, np.int64))),
        "zero gaps backwards": dict(spec=_spec(0, -0.5, 1.0, 1 / 3, 0.5)),
        "zero gaps nan": dict(spec=_spec(0, -0.5, 1.0, 1 / 3, float("nan"))),
        "thresholds not drawn": dict(spec=(-1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)),
    },
    "ltw": {
        "weights shorter": dict(weights=np.ones(NET.nnz - 1)),
        "denominators shorter": dict(denom=np.ones(N - 1)),
        "thresholds shorter": dict(theta=np.full(N - 1, 0.2)),
        "zero out of range": dict(zero=np.array([N])),
        "zero negative": dict(zero=np.array([-1])),
        "zero gaps backwards": dict(spec=_spec(1, 0.1, 0.2, 0.3, 0.5)),
    },
    "bits": {
        "need of another graph": dict(need=np.ones(N - 1, np.int32)),
        "meta of another graph": dict(meta=np.ones(N - 1, np.uint64)),
        "planes missing": dict(need=np.full(N, 100, np.int32)),  # meta laid out for thresholds of 1
        "planes beyond hi": dict(need=np.full(N, 100, np.int32), meta=K.lt_meta(np.full(N, 100, np.int32))[0],
                                 planes=10),
        "negative planes": dict(planes=-1),
        "width below the largest out-degree": dict(width=_width() - 1),
        "zero out of range": dict(zero=np.array([N])),
    },
}

CASES = [(k, name) for k in KERNELS for name in COMMON_BAD] + [(k, name) for k in OWN_BAD for name in OWN_BAD[k]]


@pytest.mark.parametrize(("kernel", "bad"), CASES, ids=[f"{k}-{b}" for k, b in CASES])
def test_out_of_range_arguments_refused_before_any_write(kernel, bad):
    change = COMMON_BAD.get(bad) or OWN_BAD[kernel][bad]
    fn, make = KERNELS[kernel]
    args = make()
    args.update(change)
    sink = args["sink"]
    with pytest.raises(ValueError):
        fn(*args.values())
    assert (sink.rows == -7).all() and (sink.tally == 0).all() and (args["work"] == 0).all()


def test_lt_need_refuses_short_arrays():
    with pytest.raises(ValueError):
        K.lt_need(np.zeros(N), np.zeros(N - 1, np.int64), True, np.empty(N, np.int32), np.empty(N, np.int64))
    with pytest.raises(ValueError):
        K.lt_need(np.zeros(N), np.zeros(N, np.int64), True, np.empty(N - 1, np.int32), np.empty(N, np.int64))


# ------------------------------------------------------------------ NaN thresholds, clamped gaps
def test_threshold_of_nan_never_fires():
    need = np.empty(3, dtype=np.int32)
    zero = np.empty(3, dtype=np.int64)
    deg = np.array([0, 4, 7])
    for fraction in (True, False):
        nz = K.lt_need(np.full(3, np.nan), deg, fraction, need, zero)
        assert nz == 0 and need.tolist() == [1, 5, 8]
        assert integer_thresholds(np.full(3, np.nan), deg, "fraction" if fraction else "count").tolist() == [1, 5, 8]
    # fixed NaN thresholds (weighted and bit-parallel) and drawn ones (a NaN spread): only the seeds adopt
    (hist, _), _ = _call("ltw", theta=np.full(N, np.nan))
    assert (hist[1:] == 0).all()
    bits = _bits()
    bits["need"] = np.empty(N, np.int32)
    K.lt_need(np.full(N, np.nan), np.asarray(NET.in_degree, np.int64), True, bits["need"], np.empty(N, np.int64))
    bits["meta"], bits["planes"] = K.lt_meta(bits["need"])
    hist, _ = K.lt_bits_chunk(*bits.values())
    assert (hist[1:] == 0).all()
    for kernel in ("lt", "ltw"):
        (hist, _), _ = _call(kernel, spec=_spec(1, np.nan, 0.1))
        assert (hist[1:] == 0).all()


@numba.njit(cache=True)
def _gaps(log1mq, k):
    out = np.empty(k)
    for i in range(k):
        out[i] = D.zero_gap(np.uint64(5), i, log1mq)
    return out


@pytest.mark.parametrize("log1mq", [0.5, float("nan"), float("inf"), -float("inf"), -5e-324, -1e300])
def test_zero_set_gaps_are_at_least_one(log1mq):
    g = _gaps(log1mq, 200)
    assert (g >= 1.0).all()
    if log1mq == -float("inf"):  # q = 1: every node
        assert (g == 1.0).all()


def test_zero_set_with_every_node():
    # q = 1 (log1p(-q) = -inf): every node's threshold is at or below 0, all adopt at step 1
    for kernel in ("lt", "ltw"):
        (hist, _), args = _call(kernel, spec=_spec(0, -1.0, 0.0, 1.0, -np.inf))
        assert (hist[0] + hist[1] == N).all() and (args["sink"].rows.max(axis=1) <= 1).all()
    ref = RND.zero_mask(RND.stream_keys(_keys(2), RND.ZERO), N, -np.inf)
    assert ref.all()


# ------------------------------------------------------------------ platform kernel
def _platform_args(m=4, R=2, K_=2, n=N, mh=False):
    """Valid arguments of ``platform_step`` (a position each; see the kernel's signature)."""
    net = NET
    rep = np.repeat(np.arange(R), m // R).astype(np.int64)
    node = np.tile(np.arange(m // R), R).astype(np.int64)
    draws = np.full(m * (K_ + 1) if mh else m, 0.5)
    starts = np.searchsorted(rep, np.arange(R + 1))
    return [rep, node, draws, starts, np.zeros((R, n), np.int16), np.zeros((R, n), np.int16),
            np.zeros((0, 0, 0), np.float32), np.zeros((n, K_)), np.zeros(K_), np.zeros((R, K_), np.int64),
            np.zeros((R, K_)), np.full((R, n), -1, np.int16), np.zeros(R, np.int64), net.indptr,
            net.indices.astype(np.int64), np.zeros(0), np.asarray(net.in_degree, float), 0.0, 1.0, 0.0, 1.0,
            0.0, False, np.full(n, 0.5), mh, 1, np.zeros(R, bool), np.zeros((0, 0)), np.zeros((0, 0), np.int8),
            True, np.zeros(m, np.int16), np.zeros(m, np.int16)]


def test_platform_kernel_refuses_bad_arguments():
    args = _platform_args()
    PK.platform_step(*args)
    for k, bad in [
        (1, np.array([0, 1, -1, 2])),  # firm out of range
        (1, np.array([0, 1, N, 2])),
        (1, np.array([0, 1, 2**62, 2])),
        (0, np.array([0, 0, 1, 2])),  # replicate out of range
        (0, np.array([0, 0, -5, 1])),
        (3, np.array([0, 3, 2])),  # row pointers run backwards
        (3, np.array([0, 2, 9])),  # past the rows
        (3, np.array([0, 1, 2, 3, 4])),  # more replicates than the state holds
        (0, np.array([0, 1, 1, 1])),  # a row of replicate 1 within replicate 0's rows
        (2, np.full(3, 0.5)),  # fewer draws than firms
        (7, np.zeros((N - 1, 2))),  # fit of another graph
        (9, np.zeros((2, 3), np.int64)),  # holders of another K
        (15, np.zeros(3)),  # in-weights of another graph
        (16, np.zeros(N - 1)),
        (27, np.zeros((1, N - 1))),  # conformity weights of another graph
        (28, np.zeros((2, 3), np.int8)),  # platform availability of another K
    ]:
        args = _platform_args()
        args[k] = bad
        with pytest.raises(ValueError):
            PK.platform_step(*args)
    args = _platform_args(mh=True)
    args[2] = np.full(4 * 2, 0.0)  # multi-homing needs K + 1 shocks per firm
    with pytest.raises(ValueError):
        PK.platform_step(*args)
    args = _platform_args(mh=True)
    args[23] = np.zeros(N - 1)  # per-firm multi-homing costs of another graph
    with pytest.raises(ValueError):
        PK.platform_step(*args)
    args = _platform_args()
    args[29], args[30] = False, np.zeros(3, np.int16)  # choices only returned: room for every firm
    with pytest.raises(ValueError):
        PK.platform_step(*args)


def test_platform_kernel_refuses_a_revising_firm_with_a_bad_code_and_clamps_the_ones_it_reads():
    # the first half of the firms revise (in both replicates); the others only are read as neighbours
    args = _platform_args(m=N, K_=2)
    args[18] = 1.0  # local effect: every revising firm reads its neighbours' codes
    args[4][:, N // 2:: 3] = 9
    args[5][:, N // 2 + 1:: 3] = -3
    before = args[4].copy()
    PK.platform_step(*args)  # counted as platform K (a code < 0 as well): no index past the counts
    assert np.isin(args[4][:, : N // 2], [0, 1, 2]).all()
    assert np.array_equal(args[4][:, N // 2:], before[:, N // 2:])
    for arr, bad in [(4, 3), (4, -1), (5, 7)]:
        args = _platform_args(m=N, K_=2)
        args[arr][1, 5] = bad  # firm 5 revises in replicate 1
        state = [a.copy() for a in args[4:6]] + [args[9].copy(), args[10].copy()]
        with pytest.raises(ValueError, match="platform code"):
            PK.platform_step(*args)
        assert all(np.array_equal(a, b) for a, b in zip(state, [*args[4:6], args[9], args[10]], strict=True))


# ------------------------------------------------------------------ shock propagation kernels
SHOCK_RULES = ("threshold", "debtrank", "linear_debtrank")


def _exposures() -> dict[str, Any]:
    import scipy.sparse as sp

    rng = np.random.default_rng(8)
    n = 30
    dense = rng.random((n, n)) * (rng.random((n, n)) < 0.2)
    return {
        "one firm": sp.csr_array((1, 1)),
        "no exposures": sp.csr_array((n, n)),
        "tiny": sp.csr_array(dense * 5e-324),
        "huge": sp.csr_array(dense * 1e300),
        "random": sp.csr_array(dense),
    }


EXPOSURES = _exposures()


@pytest.mark.filterwarnings("ignore::diffusion.shocks.StabilityWarning")
@pytest.mark.parametrize("exposure", list(EXPOSURES))
@pytest.mark.parametrize("rule", SHOCK_RULES)
def test_shock_kernels_at_extreme_values(exposure, rule):
    from diffusion.shocks import criticality, propagate

    W = EXPOSURES[exposure]
    n = W.shape[0]
    H = np.zeros((3, n))
    H[0, 0] = 1.0
    H[1, -1] = 1e-300
    H[2, :] = 5e-324
    for capacity in (5e-324, 1.0, 1e300):
        for max_rounds in (0, 1, None, 10**9):
            a = propagate(W, H, rule, capacity=capacity, max_rounds=max_rounds, backend="numba")
            b = propagate(W, H, rule, capacity=capacity, max_rounds=max_rounds, backend="numpy")
            for f in ("distress", "failed", "failed_round", "rounds"):
                np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
        c = criticality(W, propagation=rule, capacity=capacity, backend="numba")
        d = criticality(W, propagation=rule, capacity=capacity, backend="numpy")
        np.testing.assert_array_equal(c["failed_fraction"], d["failed_fraction"])
        for key in ("systemic_loss", "total_loss"):  # summed in another order: equal to rounding
            assert np.isfinite(c[key]).all()
            np.testing.assert_allclose(c[key], d[key], rtol=1e-12, atol=0, err_msg=key)


def _shock_args(R=3):
    W = EXPOSURES["random"]
    n = W.shape[0]
    g = SK.exposure_arrays(W)
    sc = SK.new_scratch(n, 4, rounds=True)
    h0 = np.zeros((R, n))
    h0[:, 0] = 1.0
    return [SK.THRESHOLD, g, sc, h0, np.full((1, n), 0.5), 100, 1e-12, h0.copy(), h0 >= 0.5,
            np.where(h0 >= 0.5, 0, -1).astype(np.int32), np.zeros(R, np.int64)]


def test_shock_kernels_refuse_arguments_out_of_range():
    args = _shock_args()
    SK.propagate_rows(*args)
    n = args[3].shape[1]
    for k, bad in [
        (0, 7),  # no such rule
        (2, SK.new_scratch(n - 1, 4, rounds=True)),  # a scratch of another graph
        (2, SK.new_scratch(n, 4)),  # no room for the failure rounds
        (2, SK.new_scratch(n, 4, rounds=True)._replace(order=np.zeros(0, np.uint64))),
        (4, np.full((2, n), 0.5)),  # capacity rows neither one nor one per replicate
        (4, np.full((1, n - 1), 0.5)),
        (7, np.zeros((3, n - 1))),  # outputs of another shape
        (10, np.zeros(2, np.int64)),
    ]:
        args = _shock_args()
        args[k] = bad
        with pytest.raises(ValueError):
            SK.propagate_rows(*args)
    args = _shock_args()
    args[0] = SK.LINEAR  # the linear rule needs room for its increments
    with pytest.raises(ValueError):
        SK.propagate_rows(*args)
    W = EXPOSURES["random"]
    n = W.shape[0]
    g = SK.exposure_arrays(W)

    def crit(sources, zero=(), cap=None, total=None):
        sc = SK.new_scratch(n, 4)
        S = len(sources)
        SK.criticality_chunk(SK.SINGLE_HIT, g, sc, np.asarray(sources, np.int64), np.asarray(zero, np.int64),
                             np.ones(n) if cap is None else cap, np.ones(n), 100, 1e-12,
                             np.zeros(S) if total is None else total, np.zeros(S, np.int64))

    crit([0, 1, n - 1])
    for bad in ([-1], [n], [2**62]):
        with pytest.raises(ValueError):
            crit(bad)
    for args in (([0], np.array([n])), ([0], (), np.ones(n - 1)), ([0, 1], (), None, np.zeros(1))):
        with pytest.raises(ValueError):
            crit(*args)
    sc = SK.new_scratch(n, 4)
    sc.front[0] = n  # a frontier that names no firm
    with pytest.raises(ValueError):
        SK.propagate_lanes(SK.SINGLE_HIT, g, sc, 1, np.ones((1, n)), np.zeros(4, np.int64), 10, 1e-12,
                           np.zeros(4, np.int64))


def test_malformed_exposure_arrays_are_refused():
    import scipy.sparse as sp

    W = sp.csr_array(np.eye(4))
    W.indices[2] = 9  # out of range: scipy does not look
    with pytest.raises(ValueError, match="not a valid n x n CSR matrix"):
        SK.exposure_arrays(W)
    W = sp.csr_array(np.eye(4))
    W.indptr[2] = 7
    with pytest.raises(ValueError, match="not a valid n x n CSR matrix"):
        SK.exposure_arrays(W)


# ------------------------------------------------------------------ platform kernel: fast exponentials, exact choices
def test_fast_exponential_is_within_its_stated_error():
    rng = np.random.default_rng(8)
    d = np.concatenate([-rng.exponential(3.0, 20_000), -rng.uniform(0, 708, 20_000), -np.array(TINY), [-0.0, -708.0]])
    got = np.array([PK._exp_nonpositive(x) for x in d])
    want = np.exp(d)
    assert (np.abs(got - want) <= 1.2e-14 * want).all()
    assert PK._exp_nonpositive(0.0) == 1.0 and PK._exp_nonpositive(-np.inf) == 0.0
    assert PK._exp_nonpositive(-708.5) == 0.0 and np.isnan(PK._exp_nonpositive(np.nan))


def _logit_reference(v: np.ndarray, u: float) -> int:
    """The exact inversion of the softmax (no outside option), with the C library's exponential."""
    import math

    vals = [-np.inf, *v.tolist()]
    mx = max(vals)
    acc, cum = 0.0, []
    for x in vals:
        if x == mx:
            acc += 1.0
        elif x != -np.inf:
            acc += math.exp(x - mx)
        cum.append(acc)
    x = u * acc
    return min(sum(x >= c for c in cum), len(v))


@pytest.mark.parametrize("K_", [2, 3, 7])
def test_platform_choices_at_ties_are_those_of_exact_exponentials(K_):
    # draws that put the inversion exactly on, or one ulp either side of, every cumulative weight
    rng = np.random.default_rng(K_)
    n = 600
    fit = rng.normal(0.0, 2.0, (n, K_))
    fit[::5, 1] = fit[::5, 0]  # tied utilities
    draws = np.empty(n)
    for i in range(n):
        vals = [-np.inf, *fit[i].tolist()]
        mx = max(vals)
        w = np.array([0.0 if x == -np.inf else (1.0 if x == mx else np.exp(x - mx)) for x in vals])
        cum = np.cumsum(w)
        u = cum[rng.integers(0, K_ + 1)] / cum[-1]
        draws[i] = min(np.nextafter(u, [0.0, 2.0][rng.integers(0, 2)]) if i % 3 else u, np.nextafter(1.0, 0.0))
    net = Network.from_edges(n, [], [])
    rep, node = np.zeros(n, np.int64), np.arange(n, dtype=np.int64)
    best, sec = np.zeros(n, np.int16), np.zeros(n, np.int16)
    PK.platform_step(rep, node, draws, np.array([0, n]), np.zeros((1, n), np.int16), np.zeros((1, n), np.int16),
                     np.zeros((0, 0, 0), np.float32), fit, np.zeros(K_), np.zeros((1, K_), np.int64),
                     np.zeros((1, K_)), np.full((1, n), -1, np.int16), np.zeros(1, np.int64), net.indptr,
                     net.indices, np.zeros(0), np.zeros(n), 0.0, 0.0, 0.0, 1.0, 0.0, False, np.zeros(0), False, 1,
                     np.zeros(1, bool), np.zeros((0, 0)), np.zeros((0, 0), np.int8), False, best, sec)
    want = np.array([_logit_reference(fit[i], draws[i]) for i in range(n)])
    assert np.array_equal(best, want)
    assert len(np.unique(want)) == K_
