"""Compiled frontier propagation against the numpy reference, and criticality by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import diffusion
from diffusion import ParameterError
from diffusion.shocks import StabilityWarning, criticality, exposure_matrix, propagate
from diffusion.shocks import _kernels as K
from diffusion.shocks import propagation as P

RULES = ("threshold", "debtrank", "linear_debtrank")
FIELDS = ("initial", "distress", "failed", "failed_round", "rounds", "initial_loss", "total_loss",
          "systemic_loss", "failed_fraction")


def _random_case(rng: np.random.Generator, n: int, R: int) -> tuple[sp.csr_array, np.ndarray]:
    W = rng.random((n, n)) * (rng.random((n, n)) < rng.uniform(0.02, 0.3)) * rng.uniform(0.2, 1.5)
    H = rng.random((R, n)) * (rng.random((R, n)) < 0.2)
    H[H > 0.7] = 1.0
    return sp.csr_array(W), H


def _assert_same(a: P.PropagationResult, b: P.PropagationResult) -> None:
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


@pytest.mark.filterwarnings("ignore::diffusion.shocks.StabilityWarning")
@pytest.mark.parametrize("rule", RULES)
def test_compiled_equals_reference_on_random_graphs(rule):
    # same additions in the same order: distress, failures, rounds and losses are bit-identical
    rng = np.random.default_rng(12)
    for trial in range(60):
        n, R = int(rng.integers(2, 70)), int(rng.integers(1, 7))
        W, H = _random_case(rng, n, R)
        cap = rng.uniform(0.3, 1.2, size=(R, n)) if trial % 3 == 0 else rng.uniform(0.3, 1.2)
        ref = propagate(W, H, rule, capacity=cap, backend="numpy")
        _assert_same(propagate(W, H, rule, capacity=cap, backend="numba"), ref)
        _assert_same(propagate(W, H, rule, capacity=cap, backend="auto"), ref)


@pytest.mark.filterwarnings("ignore::diffusion.shocks.StabilityWarning")
@pytest.mark.parametrize("max_rounds", [0, 1, 2, 5])
def test_compiled_round_cap(max_rounds):
    rng = np.random.default_rng(3)
    W, H = _random_case(rng, 50, 6)
    for rule in RULES:
        ref = propagate(W, H, rule, capacity=0.5, max_rounds=max_rounds, backend="numpy")
        _assert_same(propagate(W, H, rule, capacity=0.5, max_rounds=max_rounds, backend="numba"), ref)


def test_compiled_batches_of_lanes_on_an_smb_network():
    # more replicates than lanes, aligned (the same firms hit) and scattered shocks
    net = diffusion.generators.smb_network(300, seed=4)
    W = exposure_matrix(net, loss_given_default=0.4)
    rng = np.random.default_rng(5)
    H = (rng.random((140, 300)) < np.repeat([0.004, 0.2], 70)[:, None]).astype(float)
    H[:40] = H[0] * rng.uniform(0.5, 1.0, size=(40, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        for rule in RULES:
            _assert_same(propagate(W, H, rule, backend="numba"), propagate(W, H, rule, backend="numpy"))


def test_zero_capacity_firms_fail_without_a_shock():
    W = np.array([[0, 0.6, 0], [0, 0, 0.6], [0, 0, 0]])
    cap = [1.0, 1e-13, 1.0]  # firm 1 fails at zero loss (capacity - 1e-12 <= 0)
    H = np.zeros((2, 3))
    H[1, 0] = 1.0
    ref = propagate(W, H, "threshold", capacity=cap, backend="numpy")
    assert ref.failed.tolist() == [[False, True, False], [True, True, False]]
    _assert_same(propagate(W, H, "threshold", capacity=cap, backend="numba"), ref)


@st.composite
def _cases(draw):
    n = draw(st.integers(1, 8))
    W = np.asarray(draw(st.lists(st.floats(0, 1.5), min_size=n * n, max_size=n * n))).reshape(n, n)
    W *= np.asarray(draw(st.lists(st.booleans(), min_size=n * n, max_size=n * n))).reshape(n, n)
    h0 = np.asarray(draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0, 1e-300]), min_size=n,
                                  max_size=n)))
    cap = draw(st.sampled_from([0.25, 0.5, 1.0, 1.5]))
    return W, h0, cap


@settings(max_examples=150, deadline=None)
@given(_cases())
def test_compiled_equals_reference_property(case):
    W, h0, cap = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        for rule in RULES:
            ref = propagate(W, h0[None, :], rule, capacity=cap, backend="numpy")
            _assert_same(propagate(W, h0[None, :], rule, capacity=cap, backend="numba"), ref)


# ----------------------------------------------------------------- criticality
CHAIN = np.array([[0, 0.5, 0], [0, 0, 0.5], [0, 0, 0]])
CYCLE = np.array([[0, 0.5], [0.5, 0]])


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_criticality_by_hand(backend):
    # chain 0 -> 1 -> 2 (0.5 each): from 0, h = (1, .5, .25); from 1, (0, 1, .5); from 2 nothing
    for rule in ("debtrank", "linear_debtrank"):
        c = criticality(CHAIN, propagation=rule, backend=backend)
        np.testing.assert_allclose(c["systemic_loss"], [0.75 / 3, 0.5 / 3, 0.0], rtol=1e-15)
        np.testing.assert_allclose(c["total_loss"], [1.75 / 3, 1.5 / 3, 1 / 3], rtol=1e-15)
        assert c["failed_fraction"].tolist() == [1 / 3] * 3
    # threshold, capacity 0.5: the whole chain falls from 0; capacity 0.6: nobody else falls
    c = criticality(CHAIN, propagation="threshold", capacity=0.5, backend=backend)
    assert c["failed_fraction"].tolist() == [1.0, 2 / 3, 1 / 3]
    np.testing.assert_allclose(c["systemic_loss"], [2 / 3, 1 / 3, 0.0], rtol=1e-15)
    c = criticality(CHAIN, propagation="threshold", capacity=0.6, backend=backend)
    np.testing.assert_allclose(c["systemic_loss"], [0.5 / 3, 0.5 / 3, 0.0], rtol=1e-15)
    # two firms exposed to each other, values 1 and 3. Single hit from 0: round 1 h1 = .5;
    # round 2 firm 1 sends .25 back, h0 = min(1, 1.25) = 1; so h = (1, .5), systemic 1.5 / 4.
    # From 1: h0 = .5, then h1 = 1: systemic .5 / 4.
    c = criticality(CYCLE, [1.0, 3.0], backend=backend)
    np.testing.assert_allclose(c["systemic_loss"], [0.375, 0.125], rtol=1e-15)
    np.testing.assert_allclose(c["total_loss"], [0.625, 0.875], rtol=1e-15)
    c = criticality(CYCLE, [1.0, 3.0], "threshold", capacity=0.5, backend=backend)
    np.testing.assert_allclose(c["systemic_loss"], [0.75, 0.25], rtol=1e-15)
    assert c["failed_fraction"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_criticality_zero_capacity_by_hand(backend):
    # three unconnected firms; firm 1 has no buffer and fails with every shock (so its value
    # counts in every initial loss, and nothing is systemic)
    W = sp.csr_array((3, 3))
    v = np.array([1.0, 2.0, 5.0])
    c = criticality(W, v, "threshold", capacity=[1.0, 1e-13, 1.0], backend=backend)
    assert c["failed_fraction"].tolist() == [2 / 3, 1 / 3, 2 / 3]
    np.testing.assert_allclose(c["total_loss"], [3 / 8, 2 / 8, 7 / 8], rtol=1e-15)
    np.testing.assert_allclose(c["systemic_loss"], [0.0, 0.0, 0.0], atol=1e-15)


def test_criticality_zero_capacity_firms_in_many_lanes():
    # large cascades: many lanes reach the firms without capacity at once (the row-wide
    # update), in a last batch with idle lanes
    net = diffusion.generators.smb_network(500, seed=7)
    W = exposure_matrix(net)
    cap = np.full(500, 0.3)
    cap[[3, 250, 499]] = 1e-13
    firms = np.arange(0, 500, 5)
    ref = criticality(W, propagation="threshold", capacity=cap, firms=firms, backend="numpy")
    got = criticality(W, propagation="threshold", capacity=cap, firms=firms)
    assert ref["failed_fraction"].min() >= 3 / 500 and ref["failed_fraction"].max() > 0.5
    np.testing.assert_array_equal(got["failed_fraction"], ref["failed_fraction"])
    for k in ("systemic_loss", "total_loss"):
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-12, atol=1e-15)


@pytest.mark.filterwarnings("ignore::diffusion.shocks.StabilityWarning")
@pytest.mark.parametrize("rule", RULES)
def test_criticality_compiled_equals_reference(rule):
    # the distress is identical; the losses are summed over the touched firms instead of by a
    # matrix product, so they agree to rounding (measured: below 1e-15 here)
    rng = np.random.default_rng(8)
    for trial in range(25):
        n = int(rng.integers(2, 90))
        W, _ = _random_case(rng, n, 1)
        v = rng.random(n) + 0.1
        cap = rng.uniform(0.3, 1.2, n) if trial % 2 else float(rng.uniform(0.3, 1.2))
        ref = criticality(W, v, rule, capacity=cap, backend="numpy", chunk_size=9)
        got = criticality(W, v, rule, capacity=cap, backend="numba", chunk_size=4)
        np.testing.assert_array_equal(got["failed_fraction"], ref["failed_fraction"])
        for k in ("systemic_loss", "total_loss"):
            np.testing.assert_allclose(got[k], ref[k], rtol=0, atol=1e-12)


def test_criticality_on_an_smb_network():
    net = diffusion.generators.smb_network(1500, seed=2)
    W = exposure_matrix(net)
    v = net.attributes["size"]
    firms = np.random.default_rng(1).choice(1500, 120, replace=False)
    for rule in ("threshold", "debtrank"):
        ref = criticality(W, v, rule, firms=firms, backend="numpy")
        got = criticality(W, v, rule, firms=firms)
        np.testing.assert_array_equal(got["failed_fraction"], ref["failed_fraction"])
        for k in ("systemic_loss", "total_loss"):
            np.testing.assert_allclose(got[k], ref[k], rtol=1e-12, atol=1e-15)


def test_relabelled_exposures_keep_every_row_in_its_order():
    from diffusion.shocks.pipeline import _relabelled

    rng = np.random.default_rng(8)
    W = sp.random(30, 30, density=0.2, random_state=rng, format="csr")
    W.setdiag(0)
    W.eliminate_zeros()
    perm = rng.permutation(30)
    rank = np.empty(30, dtype=np.int64)
    rank[perm] = np.arange(30)
    g = _relabelled(W, perm, rank)
    for r in range(30):  # row r is row perm[r], renamed, entries in the same order
        row = slice(g.indptr[r], g.indptr[r + 1])
        old = slice(W.indptr[perm[r]], W.indptr[perm[r] + 1])
        np.testing.assert_array_equal(g.indices[row], rank[W.indices[old]])
        np.testing.assert_array_equal(g.data[row], W.data[old])
    dense = np.zeros((30, 30))
    for r in range(30):
        dense[r, g.indices[g.indptr[r]:g.indptr[r + 1]]] = g.data[g.indptr[r]:g.indptr[r + 1]]
    np.testing.assert_array_equal(dense, W.toarray()[np.ix_(perm, perm)])


def test_single_hit_criticality_on_renamed_firms_equals_the_kernel_on_the_original_ones():
    # the compiled path renames firms by their number of exposures; the failures are the
    # same bit for bit as the kernel's on the original numbering, the losses to rounding
    net = diffusion.generators.smb_network(600, seed=9)
    W = exposure_matrix(net)
    v = net.attributes["size"].astype(float)
    Wt = W.T.tocsr()
    Wt.sort_indices()
    sources = np.arange(600)
    total, failed = np.empty(600), np.empty(600, dtype=np.int64)
    K.single_hit_chunk(K.exposure_arrays(W), K.exposure_arrays(Wt), K.new_hit_scratch(600, 64), sources, v,
                       W @ v, 601, total, failed)
    got = criticality(W, v, "debtrank")
    np.testing.assert_array_equal(got["failed_fraction"], failed / 600)
    np.testing.assert_allclose(got["total_loss"], total / v.sum(), rtol=1e-13, atol=0)


def test_criticality_does_not_depend_on_threads_or_chunks():
    net = diffusion.generators.smb_network(800, seed=3)
    W = exposure_matrix(net)
    for rule in ("threshold", "debtrank"):
        one = criticality(W, propagation=rule, threads=1, chunk_size=800)
        for threads, chunk in ((2, 7), (2, 256), (3, 100)):
            other = criticality(W, propagation=rule, threads=threads, chunk_size=chunk)
            for k in one:
                np.testing.assert_array_equal(other[k], one[k])


def test_criticality_firms_and_progress():
    rng = np.random.default_rng(4)
    W, _ = _random_case(rng, 40, 1)
    full = criticality(W)
    firms = np.array([39, 0, 7, 7])
    done: list[int] = []
    part = criticality(W, firms=firms, chunk_size=3, progress=done.append)
    for k in full:
        np.testing.assert_array_equal(part[k], full[k][firms])
    assert sum(done) == firms.size and all(d > 0 for d in done)
    assert criticality(W, firms=[])["total_loss"].shape == (0,)


@pytest.mark.parametrize("lanes", [1, 5, 64])
def test_criticality_leaves_the_scratch_at_rest(lanes):
    net = diffusion.generators.smb_network(300, seed=6)
    W = exposure_matrix(net)
    g = K.exposure_arrays(W)
    for rule, max_rounds in ((K.THRESHOLD, 300), (K.SINGLE_HIT, 300), (K.LINEAR, 300), (K.SINGLE_HIT, 1),
                             (K.LINEAR, 2)):
        sc = K.new_scratch(300, lanes, linear=rule == K.LINEAR)
        total, failed = np.empty(300), np.empty(300, dtype=np.int64)
        K.criticality_chunk(rule, g, sc, np.arange(300), np.empty(0, np.int64), np.full(300, 0.5),
                            np.ones(300), max_rounds, 1e-12, total, failed)
        for name in ("h", "acc", "on", "fm", "rm", "order", "touched"):
            assert not getattr(sc, name).any(), name
        assert failed.min() >= 1


@pytest.mark.parametrize("lanes", [1, 5, 64])
def test_single_hit_criticality_leaves_its_scratch_at_rest(lanes):
    net = diffusion.generators.smb_network(300, seed=6)
    W = exposure_matrix(net)
    g, gt = K.exposure_arrays(W), K.exposure_arrays(W.T.tocsr())
    v = np.random.default_rng(5).random(300) + 0.5
    sources = np.r_[np.arange(300), 7, 7]  # a repeated firm takes two lanes
    ref = criticality(W, v, firms=sources, backend="numpy")
    for max_rounds in (301, 2, 0):
        sc = K.new_hit_scratch(300, lanes)
        total, failed = np.empty(sources.size), np.empty(sources.size, dtype=np.int64)
        K.single_hit_chunk(g, gt, sc, sources, v, W @ v, max_rounds, total, failed)
        for name in ("smax", "reach", "front", "newm", "bits"):
            assert not getattr(sc, name).any(), name
        if max_rounds == 301:
            np.testing.assert_allclose(total / v.sum(), ref["total_loss"], rtol=1e-12, atol=1e-15)
            np.testing.assert_array_equal(failed / 300, ref["failed_fraction"])
        assert failed.min() >= 1


@pytest.mark.parametrize("max_rounds", [None, 1, 2, 3])
def test_single_hit_criticality_where_distress_saturates(max_rounds):
    # dense random exposures up to 1.5: many firms' sums pass 1 (capped, failed), some
    # exposures stored as explicit zeros (structure that carries nothing), directed graphs
    rng = np.random.default_rng(21)
    for trial in range(25):
        n = int(rng.integers(2, 60))
        W, _ = _random_case(rng, n, 1)
        W = W.tocsr()
        if trial % 4 == 0 and W.nnz:
            W.data[rng.random(W.nnz) < 0.3] = 0.0  # stored zeros
        v = rng.random(n) + 0.1
        kw = {} if max_rounds is None else {"max_rounds": max_rounds}
        ref = criticality(W, v, "debtrank", backend="numpy", **kw)
        got = criticality(W, v, "debtrank", **kw)
        np.testing.assert_array_equal(got["failed_fraction"], ref["failed_fraction"])
        for k in ("systemic_loss", "total_loss"):
            np.testing.assert_allclose(got[k], ref[k], rtol=1e-12, atol=1e-14)


def test_single_hit_chunk_checks_its_arguments():
    net = diffusion.generators.smb_network(50, seed=1)
    W = exposure_matrix(net)
    g, gt = K.exposure_arrays(W), K.exposure_arrays(W.T.tocsr())
    v = np.ones(50)
    ok = dict(sources=np.arange(3), value=v, cw=W @ v, total=np.empty(3), failed=np.empty(3, np.int64))
    bad = [dict(sources=np.array([0, 50])), dict(sources=np.array([-1])), dict(cw=np.ones(49)),
           dict(value=np.ones(51)), dict(total=np.empty(2)), dict(failed=np.empty(4, np.int64))]
    for change in bad:
        a = {**ok, **change}
        n_out = a["sources"].shape[0]
        if "total" not in change and "failed" not in change:
            a["total"], a["failed"] = np.empty(n_out), np.empty(n_out, np.int64)
        with pytest.raises(ValueError):
            K.single_hit_chunk(g, gt, K.new_hit_scratch(50, 4), a["sources"], a["value"], a["cw"], 60,
                               a["total"], a["failed"])
    with pytest.raises(ValueError):  # a scratch for other firms
        K.single_hit_chunk(g, gt, K.new_hit_scratch(49, 4), ok["sources"], v, ok["cw"], 60, ok["total"],
                           ok["failed"])


@pytest.mark.parametrize("max_rounds", [0, 1, 2, 3])
def test_single_hit_criticality_round_cap(max_rounds):
    net = diffusion.generators.smb_network(400, seed=9)
    W = exposure_matrix(net)
    firms = np.arange(0, 400, 3)
    ref = criticality(W, firms=firms, max_rounds=max_rounds, backend="numpy")
    got = criticality(W, firms=firms, max_rounds=max_rounds)
    np.testing.assert_array_equal(got["failed_fraction"], ref["failed_fraction"])
    for k in ("systemic_loss", "total_loss"):
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-12, atol=1e-15)


def test_hit_scratch_lanes():
    assert K.hit_lanes_for(100_000) == 64
    assert K.hit_lanes_for(10_000_000) == 8
    assert K.hit_lanes_for(1000, runs=3) == 3
    with pytest.raises(ValueError, match="lanes"):
        K.new_hit_scratch(10, 65)


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"firms": [0, 3]}, "firms"),
    ({"firms": [[0]]}, "firms"),
    ({"firms": [0.5]}, "firms"),
    ({"threads": 0}, "threads"),
    ({"chunk_size": 0}, "chunk_size"),
    ({"backend": "cuda"}, "backend"),
    ({"capacity": np.ones((2, 3))}, "capacity"),
    ({"propagation": "contagion"}, "propagation"),
])
def test_criticality_invalid_input_names_the_key(kwargs, key):
    with pytest.raises(ParameterError) as err:
        criticality(CHAIN, **kwargs)
    assert err.value.name == key


def test_propagate_invalid_backend():
    with pytest.raises(ParameterError) as err:
        propagate(CHAIN, [1.0, 0, 0], backend="gpu")
    assert err.value.name == "backend"


@pytest.mark.parametrize("max_rounds", [None, 0, 1, 3])
def test_single_hit_lane_groups_equal_the_lane_by_lane_kernel(monkeypatch, max_rounds):
    # the vector lane groups give the same failures and losses as the lane-by-lane kernel:
    # random directed exposures, stored zeros (lanes redone lane by lane), repeated firms,
    # batches of fewer than 64 firms, round caps
    from diffusion.shocks import pipeline

    rng = np.random.default_rng(33)
    kw = {} if max_rounds is None else {"max_rounds": max_rounds}
    for trial in range(12):
        n = int(rng.integers(2, 150))
        W, _ = _random_case(rng, n, 1)
        W = W.tocsr()
        if trial % 3 == 0 and W.nnz:
            W.data[rng.random(W.nnz) < 0.3] = 0.0
        v = rng.random(n) + 0.1
        firms = rng.integers(0, n, size=int(rng.integers(1, 200)))
        monkeypatch.setattr(pipeline, "GROUPS", False)
        one = criticality(W, v, "debtrank", firms=firms, chunk_size=64, **kw)
        monkeypatch.setattr(pipeline, "GROUPS", True)
        got = criticality(W, v, "debtrank", firms=firms, chunk_size=64, **kw)
        np.testing.assert_array_equal(got["failed_fraction"], one["failed_fraction"])
        np.testing.assert_allclose(got["total_loss"], one["total_loss"], rtol=1e-13, atol=1e-15)
        ref = criticality(W, v, "debtrank", firms=firms, backend="numpy", **kw)
        np.testing.assert_array_equal(got["failed_fraction"], ref["failed_fraction"])
        np.testing.assert_allclose(got["total_loss"], ref["total_loss"], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("max_rounds", [None, 2])
def test_single_hit_lane_groups_alone_equal_the_lane_by_lane_kernel_bit_for_bit(max_rounds):
    # the group kernel itself, without the lane-by-lane fallback that redoes flagged lanes: on
    # positive exposures no lane is flagged, and every loss and failure count is the lane-by-lane
    # kernel's bit for bit (a wrong lane choice would either change them or flag lanes)
    from diffusion.shocks import _groups as G

    rng = np.random.default_rng(21)
    for _ in range(8):
        n = int(rng.integers(60, 400))
        W, _ = _random_case(rng, n, 1)
        W = W.tocsr()
        W.data = np.abs(W.data) + 1e-3
        g, gt = K.exposure_arrays(W), K.exposure_arrays(W.T.tocsr())
        v = rng.random(n) + 0.1
        cw = np.asarray(W @ v)
        src = rng.integers(0, n, size=int(rng.integers(1, 150)))
        limit = n + 1 if max_rounds is None else max_rounds
        total, failed, redo = np.empty(src.size), np.empty(src.size, np.int64), np.zeros(src.size, np.bool_)
        G.run_groups(g, gt, G.new_group_scratch(n), src, v, cw, limit, total, failed, redo)
        assert not redo.any()
        t1, f1 = np.empty(src.size), np.empty(src.size, np.int64)
        K.single_hit_chunk(g, gt, K.new_hit_scratch(n, K.hit_lanes_for(n)), src, v, cw, limit, t1, f1)
        np.testing.assert_array_equal(failed, f1)
        np.testing.assert_allclose(total, t1, rtol=1e-13, atol=1e-15)


def test_single_hit_lane_groups_grow_their_buffers_to_the_same_bits():
    # scratch buffers far too small for a batch (each group's firms, where each round starts) are
    # grown by the kernel and give the same results bit for bit; the grown ones are kept
    from diffusion.shocks import _groups as G

    rng = np.random.default_rng(5)
    n = 300
    W, _ = _random_case(rng, n, 1)
    W = W.tocsr()
    g, gt = K.exposure_arrays(W), K.exposure_arrays(W.T.tocsr())
    v = rng.random(n) + 0.1
    cw = np.asarray(W @ v)
    src = rng.permutation(n)[:200]
    out = []
    for tiny in (False, True):
        sc = G.new_group_scratch(n)
        if tiny:
            sc.grow[:] = [np.zeros((8, 1), np.uint64), np.zeros((8, 1), np.int64)]
        total, failed, redo = np.empty(src.size), np.empty(src.size, np.int64), np.zeros(src.size, np.bool_)
        G.run_groups(g, gt, sc, src, v, cw, n + 1, total, failed, redo)
        out.append((total, failed, redo))
        if tiny:
            assert all(b.shape == (8, b.shape[1]) and b.shape[1] > 2 for b in sc.grow)
    for a, b in zip(*out, strict=True):
        np.testing.assert_array_equal(a, b)


def test_single_hit_lane_groups_on_a_chain_of_more_than_256_rounds():
    # the round stamps wrap modulo 256: on a path of 700 firms the first firm's shock reaches the
    # last 699 rounds later (rounds of one exposure each), and the lane groups still give the
    # reference's failures and losses
    n = 700
    rng = np.random.default_rng(8)
    W = sp.csr_array((rng.uniform(0.5, 3.0, n - 1), (np.arange(n - 1), np.arange(1, n))), shape=(n, n))
    v = rng.random(n) + 0.1
    firms = np.arange(0, n, 7)
    got = criticality(W, v, "debtrank", firms=firms)
    ref = criticality(W, v, "debtrank", firms=firms, backend="numpy")
    np.testing.assert_array_equal(got["failed_fraction"], ref["failed_fraction"])
    np.testing.assert_allclose(got["total_loss"], ref["total_loss"], rtol=1e-12, atol=0)
    assert got["failed_fraction"][0] * n > 300  # the first firm's shock fails firms 300 rounds away


def test_single_hit_lane_groups_redo_the_lanes_whose_sums_underflow():
    # exposures of 1e-200 along a path: the distress two steps away underflows to zero, so the
    # breadth-first layers overstate the firms hit; those lanes are computed lane by lane
    from diffusion.shocks import _groups as G

    n = 6
    W = sp.csr_array((np.full(5, 1e-200), (np.arange(5), np.arange(1, 6))), shape=(n, n))
    v = np.arange(1.0, 7.0)
    got = criticality(W, v, "debtrank")
    ref = criticality(W, v, "debtrank", backend="numpy")
    np.testing.assert_array_equal(got["failed_fraction"], ref["failed_fraction"])
    np.testing.assert_allclose(got["total_loss"], ref["total_loss"], rtol=1e-12, atol=0)
    g = K.exposure_arrays(W.tocsr())
    gt = K.exposure_arrays(W.T.tocsr())
    sc = G.new_group_scratch(n)
    total, failed, redo = np.empty(n), np.empty(n, dtype=np.int64), np.zeros(n, dtype=np.bool_)
    G.run_groups(g, gt, sc, np.arange(n), v, np.asarray(W @ v), n + 1, total, failed, redo)
    np.testing.assert_array_equal(redo, [True, True, True, True, False, False])
    for name in ("smax", "reach", "front", "newm", "bits"):
        assert not getattr(sc, name).any(), name
    with pytest.raises(ValueError, match="do not match"):
        G.run_groups(g, gt, sc, np.arange(n), v[:-1], np.asarray(W @ v), n + 1, total, failed, redo)
    with pytest.raises(ValueError, match="not a firm"):
        G.run_groups(g, gt, sc, np.array([n]), v, np.asarray(W @ v), n + 1, total[:1], failed[:1], redo[:1])
