"""Property tests (hypothesis) of the runner and the cascade models.

The threshold and cascade models are checked in depth; the generic properties
are also looped over every model registered in :data:`diffusion.models.MODELS`
that runs with its default parameters on a small graph (the others are skipped
explicitly, with the reason).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diffusion
from diffusion import IndependentCascade, LinearThreshold, Network, simulate
from diffusion.errors import DiffusionError, ParameterError
from diffusion.models import MODELS

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def networks(draw, max_n: int = 40) -> Network:
    """Small random graphs: directed or not, weighted or not, isolated nodes allowed."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(0, 4 * n))
    directed = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, size=(2, m))
    weights = rng.uniform(0.1, 2.0, size=m) if draw(st.booleans()) else None
    return Network.from_edges(n, src, dst, weights, directed=directed)


thresholds = st.one_of(
    st.floats(0.0, 1.0),
    st.just({"distribution": "uniform", "low": 0.0, "high": 1.0}),
    st.builds(lambda m, s: {"distribution": "normal", "mean": m, "sd": s}, st.floats(0, 1), st.floats(0, 0.5)),
)


@st.composite
def cascade_models(draw):
    backend = draw(st.sampled_from(["numba", "numpy"]))
    if draw(st.booleans()):
        rule = draw(st.sampled_from(["fraction", "count"]))
        theta = draw(thresholds) if rule == "fraction" else draw(st.floats(0.0, 4.0))
        return LinearThreshold(theta, rule=rule, weighted=draw(st.booleans()), backend=backend)
    return IndependentCascade(draw(st.floats(0.0, 1.0)), backend=backend)


def check_history(res, n: int, initial_nodes=None, adoption_only: bool = True) -> None:
    """Invariants every run of a progressive model satisfies.

    ``adoption_only``: adoption is the only change the model makes, so the
    last step at which a replicate changed is its last adoption.
    """
    A, counts = res.adoption_step, res.counts
    assert A.shape == (res.runs, n)
    assert (A >= -1).all()
    # adoption is permanent: counts never fall, never exceed n, and count the recorded steps
    assert (np.diff(counts, axis=0) >= 0).all()
    assert (counts >= 0).all() and (counts <= n).all()
    for t in range(counts.shape[0]):
        assert np.array_equal(counts[t], ((A >= 0) & (A <= t)).sum(axis=1))
    assert (A < counts.shape[0]).all()
    assert np.array_equal(res.final_count, (A >= 0).sum(axis=1))
    last = np.where((A >= 0).any(axis=1), A.max(axis=1), 0)
    if adoption_only:
        assert np.array_equal(res.steps, np.maximum(last, 0))
    else:
        assert (res.steps >= last).all()
    if initial_nodes is not None:
        for r in range(res.runs):
            assert np.array_equal(np.flatnonzero(A[r] == 0), np.unique(initial_nodes))


@SETTINGS
@given(net=networks(), model=cascade_models(), k=st.integers(1, 5), seed=st.integers(0, 2**31),
       runs=st.integers(1, 9), chunk=st.integers(1, 9))
def test_cascade_invariants(net, model, k, seed, runs, chunk):
    k = min(k, net.n)
    nodes = np.random.default_rng(seed).choice(net.n, k, replace=False)
    res = simulate(net, model, initial=nodes.tolist(), runs=runs, seed=seed)
    check_history(res, net.n, nodes)
    # identical results for identical seeds, whatever the chunking
    again = simulate(net, model, initial=nodes.tolist(), runs=runs, seed=seed, chunk_size=chunk)
    assert np.array_equal(res.adoption_step, again.adoption_step)
    assert np.array_equal(res.counts, again.counts)
    assert np.array_equal(res.steps, again.steps)


@SETTINGS
@given(net=networks(), model=cascade_models(), seed=st.integers(0, 2**31), chunk=st.integers(1, 6))
def test_random_initial_adopters_chunk_invariant(net, model, seed, chunk):
    k = max(1, net.n // 5)
    a = simulate(net, model, initial=k, runs=7, seed=seed)
    b = simulate(net, model, initial=k, runs=7, seed=seed, chunk_size=chunk)
    check_history(a, net.n)
    assert (a.counts[0] == k).all()  # seeds adopted at step 0
    assert np.array_equal(a.adoption_step, b.adoption_step) and np.array_equal(a.counts, b.counts)
    # a replicate's numbers do not depend on which replicates run beside it
    tail = simulate(net, model, initial=k, runs=3, seed=seed)
    assert np.array_equal(a.adoption_step[:3], tail.adoption_step)


@SETTINGS
@given(net=networks(), theta=thresholds, seed=st.integers(0, 2**31), runs=st.integers(1, 70))
def test_threshold_backends_identical(net, theta, seed, runs):
    """Compiled and numpy paths agree bit for bit (more than 64 replicates spans two bit batches)."""
    pytest.importorskip("numba")
    k = max(1, net.n // 8)
    a = simulate(net, LinearThreshold(theta, backend="numba"), initial=k, runs=runs, seed=seed)
    b = simulate(net, LinearThreshold(theta, backend="numpy"), initial=k, runs=runs, seed=seed)
    assert np.array_equal(a.adoption_step, b.adoption_step) and np.array_equal(a.counts, b.counts)


@SETTINGS
@given(net=networks(), p=st.floats(0.0, 1.0), seed=st.integers(0, 2**31), runs=st.integers(1, 8),
       per_edge=st.booleans())
def test_cascade_backends_identical(net, p, seed, runs, per_edge):
    pytest.importorskip("numba")
    prob = np.random.default_rng(seed).uniform(0, p, net.nnz) if per_edge else p
    k = max(1, net.n // 8)
    a = simulate(net, IndependentCascade(prob, backend="numba"), initial=k, runs=runs, seed=seed)
    b = simulate(net, IndependentCascade(prob, backend="numpy"), initial=k, runs=runs, seed=seed)
    assert np.array_equal(a.adoption_step, b.adoption_step) and np.array_equal(a.counts, b.counts)


@SETTINGS
@given(net=networks(), theta=st.floats(0.0, 1.0), seed=st.integers(0, 2**31))
def test_threshold_monotone_in_threshold_and_seeds(net, theta, seed):
    """A lower threshold or more seeds never shrinks the final adopter set (fixed thresholds)."""
    nodes = np.random.default_rng(seed).choice(net.n, max(1, net.n // 6), replace=False)
    base = simulate(net, LinearThreshold(theta), initial=nodes.tolist(), runs=1, seed=0).adopted(0)
    lower = simulate(net, LinearThreshold(theta / 2), initial=nodes.tolist(), runs=1, seed=0).adopted(0)
    more = np.union1d(nodes, [0]).tolist()
    bigger = simulate(net, LinearThreshold(theta), initial=more, runs=1, seed=0).adopted(0)
    assert (lower >= base).all() and (bigger >= base).all()


# --------------------------------------------------------------- bad input
@given(bad=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=1.0 + 1e-9), st.just(math.nan),
                     st.just(math.inf)))
@settings(max_examples=30, deadline=None)
def test_bad_probabilities_and_thresholds_name_the_parameter(bad):
    with pytest.raises(ParameterError) as err:
        IndependentCascade(bad)
    assert err.value.name == "probability"
    with pytest.raises(ParameterError) as err:
        LinearThreshold(bad)
    assert err.value.name == "threshold"


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: LinearThreshold(-1, rule="count"), "threshold"),
        (lambda: LinearThreshold(0.2, rule="majority"), "rule"),
        (lambda: LinearThreshold(0.2, weighted="yes"), "weighted"),
        (lambda: LinearThreshold(0.2, backend="gpu"), "backend"),
        (lambda: LinearThreshold({"distribution": "uniform", "low": 1.0, "high": 0.0}), "threshold.low"),
        (lambda: LinearThreshold({"distribution": "normal", "mean": 0.2}), "threshold.sd"),
        (lambda: LinearThreshold({"distribution": "zipf"}), "threshold.distribution"),
        (lambda: LinearThreshold([0.1, 2.0]), "threshold"),
        (lambda: IndependentCascade("edges"), "probability"),
        (lambda: IndependentCascade([0.1, 1.5]), "probability"),
        (lambda: IndependentCascade(0.1, backend="cuda"), "backend"),
    ],
)
def test_invalid_parameters_rejected_up_front(make, name):
    with pytest.raises(ParameterError) as err:
        make()
    assert err.value.name == name
    assert str(err.value).startswith(name)


def test_no_initial_adopters_is_an_error_that_says_so():
    net = diffusion.generators.erdos_renyi(20, mean_degree=3, seed=1)
    for model in (IndependentCascade(0.5), LinearThreshold(0.3)):
        with pytest.raises(ParameterError, match="initial adopters and none were given") as err:
            simulate(net, model, initial=None, runs=2, seed=0)
        assert err.value.name == "initial"
    # nodes with threshold 0 adopt on their own: that run is meaningful
    res = simulate(net, LinearThreshold(0.0), initial=None, runs=2, seed=0)
    assert (res.final_count == 20).all()


def test_invalid_parameters_found_against_the_network():
    net = diffusion.generators.erdos_renyi(20, mean_degree=3, seed=1)
    for model, name in [
        (LinearThreshold([0.1, 0.2]), "threshold"),  # wrong length
        (IndependentCascade(np.full(3, 0.5)), "probability"),  # not one per arc
        (IndependentCascade("weight"), "probability"),  # unweighted network
    ]:
        with pytest.raises(ParameterError) as err:
            simulate(net, model, initial=1, runs=1, seed=0)
        assert err.value.name == name
    with pytest.raises(DiffusionError, match="no_such_attribute"):
        simulate(net, LinearThreshold("no_such_attribute"), initial=1, runs=1, seed=0)


# ------------------------------------------------ every registered model
def _default_model(name: str):
    try:
        return MODELS[name]()
    except (TypeError, DiffusionError) as exc:  # pragma: no cover - depends on the registry
        pytest.skip(f"{name} cannot be built with default parameters: {exc}")


def _run(model, net, seed, runs=4, chunk=None, **kw):
    """Run with 2 initial adopters if the model takes them, else without; max 25 steps."""
    try:
        return simulate(net, model, initial=2, runs=runs, seed=seed, max_steps=25, chunk_size=chunk, **kw), True
    except ParameterError as exc:
        if not exc.name.startswith("initial"):
            raise
        return simulate(net, model, initial=None, runs=runs, seed=seed, max_steps=25, chunk_size=chunk, **kw), False


@pytest.mark.parametrize("name", sorted(MODELS))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=networks(max_n=30), seed=st.integers(0, 2**31), chunk=st.integers(1, 3))
def test_registered_model_generic_properties(name, net, seed, chunk):
    model = _default_model(name)
    if net.n < 2:
        return
    res, seeded = _run(model, net, seed)
    check_history(res, net.n, adoption_only=False)
    if seeded:
        assert ((res.adoption_step == 0).sum(axis=1) >= 2).all()  # seeds adopted at step 0
    again, _ = _run(model, net, seed, chunk=chunk)
    assert np.array_equal(res.adoption_step, again.adoption_step)
    assert np.array_equal(res.counts, again.counts)
    for key in res.outputs:
        assert np.array_equal(res.outputs[key], again.outputs[key]), key


def _assert_same_reductions(a, b) -> None:
    """Every reduction of two results of the same run is equal, bit for bit."""
    assert np.array_equal(a.counts, b.counts) and np.array_equal(a.steps, b.steps)
    assert np.array_equal(a.adoption_probability, b.adoption_probability)
    assert np.array_equal(a.mean_adoption_step, b.mean_adoption_step, equal_nan=True)
    for out in a.declarations:
        if out.kind == "node_category":
            assert np.array_equal(a.frequencies(out.name), b.frequencies(out.name)), out.name
        elif out.kind == "node_value":
            assert np.array_equal(a.node_mean(out.name), b.node_mean(out.name), equal_nan=True), out.name
        elif out.kind in ("run_value", "run_category"):
            assert np.array_equal(a.outputs[out.name], b.outputs[out.name], equal_nan=True), out.name
        elif out.kind == "series":
            assert np.array_equal(a.series[out.name], b.series[out.name], equal_nan=True), out.name


@pytest.mark.parametrize("name", sorted(MODELS))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=networks(max_n=30), seed=st.integers(0, 2**31), chunk=st.integers(1, 4), shock=st.booleans())
def test_streamed_reductions_equal_kept_ones(name, net, seed, chunk, shock):
    """keep="summary" reduces each chunk where it ran; the result equals the reductions of the
    kept replicates exactly, for any chunk size (a shock stage included)."""
    from diffusion.shocks import PlatformOutage, RandomFailures, ShockStage

    model = _default_model(name)
    if net.n < 2:
        return
    stages = []
    if shock:
        sh = PlatformOutage("dominant") if model.declare().role("holding") else RandomFailures(count=1)
        stages = [ShockStage(sh, exposure={"loss_given_default": 0.5}, seed=seed + 1)]
    kept, _ = _run(model, net, seed, runs=5, stages=stages)
    lean, _ = _run(model, net, seed, runs=5, chunk=chunk, keep="summary", stages=stages)
    _assert_same_reductions(kept, lean)
    # the kept arrays reduce to the same per-node numbers
    assert np.array_equal(kept.adoption_probability, (kept.adoption_step >= 0).mean(axis=0))
    for out in kept.declarations.of_kind("node_category"):
        codes = kept.outputs[out.name]
        freq = np.stack([(codes == c).mean(axis=0) for c in out.codes], axis=1)
        assert np.array_equal(kept.frequencies(out.name), freq), out.name
    with pytest.raises(diffusion.NotKeptError, match="keep='replicates'"):
        lean.adoption_step  # noqa: B018
    one, _ = _run(model, net, seed, runs=5, chunk=chunk, keep=[3], stages=stages)
    assert np.array_equal(one.replicate(3).adoption_step, kept.adoption_step[3])
    _assert_same_reductions(kept, one)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_registered_model_rejects_nan_parameters(name):
    """Every numeric constructor parameter rejects NaN with an error that names it."""
    cls = MODELS[name]
    net = diffusion.generators.erdos_renyi(30, mean_degree=3, seed=1)
    numeric = [
        p.name for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and isinstance(p.default, int | float) and not isinstance(p.default, bool)
    ]
    if not numeric:
        pytest.skip(f"{name} has no numeric parameters with defaults")
    for param in numeric:
        with pytest.raises(ParameterError) as err:
            model = cls(**{param: math.nan})
            simulate(net, model, initial=None, runs=2, seed=0, max_steps=3)
        assert err.value.name.split(".")[0] == param


@pytest.mark.parametrize("seed", [-1, -(2**70), 1.5, "7", True, [1, 2]])
def test_a_bad_seed_is_a_parameter_error_naming_seed(seed):
    # simulate(seed=-1) raised a bare ValueError (exit 1, "unexpected")
    net = diffusion.generators.erdos_renyi(20, mean_degree=3, seed=1)
    for call in (lambda: diffusion.simulate(net, LinearThreshold(0.3), initial=2, runs=2, seed=seed),
                 lambda: diffusion.generators.erdos_renyi(20, mean_degree=3, seed=seed)):
        with pytest.raises(ParameterError) as err:
            call()
        assert err.value.name == "seed" and str(err.value).startswith("seed: must be a non-negative integer")
