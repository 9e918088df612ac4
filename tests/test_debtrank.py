"""DebtRank against hand computations from the published update rules and the closed form."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from diffusion import ParameterError
from diffusion.shocks import StabilityWarning, criticality, debtrank, propagate, spectral_radius

# W[i, j]: fraction of j's capacity lost when i is fully distressed
W3 = np.array([[0.0, 0.4, 0.3],
               [0.2, 0.0, 0.5],
               [0.0, 0.6, 0.0]])


def test_single_hit_by_hand():
    # Battiston et al. (2012): round 1, node 0 (distressed) pushes 1 * W[0] = (0, .4, .3);
    # round 2, nodes 1 and 2 push .4 * W[1] + .3 * W[2] = (.08, .18, .2); all inactive after.
    res = debtrank(W3, [1.0, 0.0, 0.0], value=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(res.distress, [1.0, 0.58, 0.5])
    assert res.rounds == 2
    assert res.initial_loss == pytest.approx(1 / 6)
    assert res.total_loss == pytest.approx((1 + 2 * 0.58 + 3 * 0.5) / 6)
    assert res.systemic_loss == pytest.approx((2 * 0.58 + 3 * 0.5) / 6)  # DebtRank R excludes h(1)
    assert res.failed_fraction == pytest.approx(1 / 3)


def test_single_hit_propagates_once():
    # 0 <-> 1 with 0.5, 0 -> 2 with 1.0, h0 = (.5, 0, 0).
    # round 1: h1 = .25, h2 = .5; round 2: node 1 pushes .125 back to 0 (h0 = .625), node 2 nothing;
    # node 0 is inactive, so its new .125 never reaches 2 or 1 again.
    W = np.array([[0.0, 0.5, 1.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0]])
    res = debtrank(W, [0.5, 0.0, 0.0])
    np.testing.assert_allclose(res.distress, [0.625, 0.25, 0.5])
    assert res.rounds == 2
    # the linear variant propagates every increment: fixed point h0 = .5 + .5 h1, h1 = .5 h0, h2 = h0
    lin = debtrank(W, [0.5, 0.0, 0.0], variant="linear")
    np.testing.assert_allclose(lin.distress, [2 / 3, 1 / 3, 2 / 3], atol=1e-10)


def test_failed_round():
    W = np.array([[0, 1.0, 0], [0, 0, 1.0], [0, 0, 0]])
    for variant in ("single_hit", "linear"):
        assert debtrank(W, [1.0, 0, 0], variant=variant).failed_round.tolist() == [0, 1, 2]
    assert debtrank(W, [0.5, 0, 0]).failed_round.tolist() == [-1, -1, -1]


def test_linear_first_rounds_by_hand():
    # Bardoscia et al. (2015): h(t+1) = min(1, h(t) + (h(t) - h(t-1)) W), h(0) = 0, h(1) = h0.
    h = debtrank(W3, [1.0, 0, 0], variant="linear", max_rounds=1).distress
    np.testing.assert_allclose(h, [1.0, 0.4, 0.3])
    h = debtrank(W3, [1.0, 0, 0], variant="linear", max_rounds=2).distress
    np.testing.assert_allclose(h, [1.0, 0.58, 0.5])  # node 0 saturates (1.08 -> 1)
    h = debtrank(W3, [1.0, 0, 0], variant="linear", max_rounds=3).distress
    # increments (0, .18, .2) push (.036, .12, .09)
    np.testing.assert_allclose(h, [1.0, 0.70, 0.59])


def test_linear_saturated_fixed_point():
    # with node 0 saturated, h1 = .4 + .6 h2 and h2 = .3 + .5 h1
    res = debtrank(W3, [1.0, 0, 0], variant="linear")
    h1 = 0.58 / 0.7
    np.testing.assert_allclose(res.distress, [1.0, h1, 0.3 + 0.5 * h1], atol=1e-10)


def test_linear_closed_form_without_defaults():
    # No firm saturates: h(T) = h(1) sum_k W^k = h(1) (I - W)^{-1}; the propagation adds
    # h(1) [(I - W)^{-1} - I] = h(1) W (I - W)^{-1}.
    rng = np.random.default_rng(3)
    n = 30
    W = rng.random((n, n)) * (rng.random((n, n)) < 0.2)
    np.fill_diagonal(W, 0)
    W *= 0.8 / W.sum(axis=0).max()  # column sums <= 0.8: spectral radius < 1
    assert spectral_radius(W) < 1
    h1 = rng.random((4, n)) * 0.04
    inv = np.linalg.inv(np.eye(n) - W)
    expected = h1 @ inv
    assert expected.max() < 1  # no saturation: the closed form applies
    v = rng.random(n) + 0.5
    res = debtrank(sp.csr_array(W), h1, value=v, variant="linear")
    np.testing.assert_allclose(res.distress, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.distress - h1, h1 @ W @ inv, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.systemic_loss, (h1 @ W @ inv) @ v / v.sum(), rtol=1e-9)


def test_stability_warning():
    unstable = np.array([[0.0, 1.2], [1.0, 0.0]])  # spectral radius sqrt(1.2)
    assert spectral_radius(unstable) == pytest.approx(np.sqrt(1.2))
    with pytest.warns(StabilityWarning, match="spectral radius"):
        res = debtrank(unstable, [0.1, 0.0], variant="linear")
    np.testing.assert_allclose(res.distress, [1.0, 1.0])  # grows until saturation
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        debtrank(unstable * 0.5, [0.1, 0.0], variant="linear")  # radius 0.55: no warning
        debtrank(unstable, [0.1, 0.0])  # single hit never warns


def test_spectral_radius_sparse_large():
    rng = np.random.default_rng(0)
    n = 600
    A = sp.random_array((n, n), density=0.01, random_state=rng, format="csr")
    rho = spectral_radius(A, dense_below=100)  # the sparse (ARPACK) path
    dense = np.abs(np.linalg.eigvals(A.toarray())).max()
    assert rho == pytest.approx(dense, rel=1e-6)


@pytest.mark.filterwarnings("ignore::diffusion.shocks.StabilityWarning")
def test_vectorized_over_replicates_and_sparse():
    rng = np.random.default_rng(1)
    n = 40
    W = rng.random((n, n)) * (rng.random((n, n)) < 0.1)
    W *= 1.5 / W.sum(axis=0).max()  # unstable for the linear rule: saturation paths too
    H = rng.random((7, n)) * (rng.random((7, n)) < 0.2)
    for variant in ("single_hit", "linear"):
        batch = debtrank(sp.csr_array(W), H, variant=variant)
        for r in range(7):
            one = debtrank(W, H[r], variant=variant)
            np.testing.assert_allclose(batch.distress[r], one.distress)
            assert batch.rounds[r] == one.rounds
            assert batch.systemic_loss[r] == pytest.approx(one.systemic_loss)


def test_criticality_matches_single_runs():
    rng = np.random.default_rng(2)
    n = 25
    W = rng.random((n, n)) * (rng.random((n, n)) < 0.15)
    v = rng.random(n) + 0.1
    c = criticality(W, v, chunk_size=7)
    for i in (0, 5, 24):
        e = np.zeros(n)
        e[i] = 1
        assert c["systemic_loss"][i] == pytest.approx(debtrank(W, e, value=v).systemic_loss)
    ct = criticality(W, v, "threshold", capacity=0.5)
    assert ct["failed_fraction"].min() >= 1 / n


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"initial_distress": [1.5, 0, 0]}, "initial_distress"),
    ({"initial_distress": [[0.5, 0]]}, "exposure"),
    ({"variant": "nonlinear"}, "variant"),
    ({"value": [1.0, -1.0, 1.0]}, "value"),
    ({"exposure": -W3}, "exposure"),
    ({"max_rounds": -1}, "max_rounds"),
])
def test_invalid_input_names_the_key(kwargs, key):
    args = {"exposure": W3, "initial_distress": [1.0, 0, 0], **kwargs}
    with pytest.raises(ParameterError) as err:
        debtrank(**args)
    assert err.value.name == key


@pytest.mark.parametrize("share", [0.0, np.inf])
def test_frontier_and_dense_rounds_agree(share, monkeypatch):
    # share 0: every round multiplies the whole batch; inf: every round expands the frontier only
    from diffusion.shocks import threshold_cascade
    from diffusion.shocks.propagation import _Pusher

    rng = np.random.default_rng(7)
    n, R = 60, 9
    W = rng.random((n, n)) * (rng.random((n, n)) < 0.08)
    H = rng.random((R, n)) * (rng.random((R, n)) < 0.1)
    H[0] = 0  # a replicate with no shock
    ref_dr = debtrank(W, H, backend="numpy")
    ref_th = threshold_cascade(W, np.where(H > 0.5, 1.0, H), capacity=0.6, backend="numpy")
    monkeypatch.setattr(_Pusher, "sparse_share", share)
    dr = debtrank(W, H, backend="numpy")
    th = threshold_cascade(W, np.where(H > 0.5, 1.0, H), capacity=0.6, backend="numpy")
    np.testing.assert_allclose(dr.distress, ref_dr.distress, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(dr.rounds, ref_dr.rounds)
    np.testing.assert_array_equal(dr.failed_round, ref_dr.failed_round)
    np.testing.assert_array_equal(th.failed, ref_th.failed)
    np.testing.assert_array_equal(th.failed_round, ref_th.failed_round)
    np.testing.assert_allclose(th.distress, ref_th.distress, rtol=1e-12, atol=1e-15)


@st.composite
def _exposures(draw):
    n = draw(st.integers(1, 9))
    W = np.asarray(draw(st.lists(st.floats(0, 1.5), min_size=n * n, max_size=n * n))).reshape(n, n)
    W *= np.asarray(draw(st.lists(st.booleans(), min_size=n * n, max_size=n * n))).reshape(n, n)
    h0 = np.asarray(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    return W, h0


@settings(max_examples=200, deadline=None)
@given(_exposures())
def test_propagation_invariants(case):
    # distress stays in [0, 1] and never falls below the shock; losses are non-negative;
    # linear DebtRank (every increment propagates) dominates single hit (each firm propagates
    # its level once, which is at most its final linear level)
    W, h0 = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        res = {m: propagate(W, h0[None, :], m) for m in ("threshold", "debtrank", "linear_debtrank")}
    for r in res.values():
        assert np.all((r.distress >= 0) & (r.distress <= 1))
        assert np.all(r.distress >= r.initial - 1e-12)
        assert r.systemic_loss[0] >= -1e-12 and r.amplification[0] >= 1 - 1e-12
        assert np.array_equal(r.failed, r.failed_round >= 0)
    assert np.all(res["linear_debtrank"].distress >= res["debtrank"].distress - 1e-9)
