"""Concentration, diversity, similarity and assortativity metrics: hand values, identities."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffusion import Network, ParameterError
from diffusion.generators import erdos_renyi
from diffusion.metrics import (
    assortativity,
    effective_number,
    gini_simpson,
    hhi,
    hill,
    profile_similarity,
    shannon,
    shares_from_labels,
)


def test_hand_values():
    assert hhi([1, 0, 0]) == 1.0
    assert hhi([1, 1, 1, 1]) == pytest.approx(0.25)
    assert hhi([0.6, 0.3, 0.1]) == pytest.approx(0.46)
    assert hhi([0.6, 0.3, 0.1], antitrust=True) == pytest.approx(4600)
    assert shannon([0.5, 0.5]) == pytest.approx(np.log(2))
    assert shannon([1.0, 0.0]) == 0.0
    assert gini_simpson([0.6, 0.3, 0.1]) == pytest.approx(0.54)
    s = [0.6, 0.3, 0.1]
    assert hill(s, 0) == 3
    assert hill(s, 1) == pytest.approx(
        np.exp(-(0.6 * np.log(0.6) + 0.3 * np.log(0.3) + 0.1 * np.log(0.1)))
    )
    assert hill(s, 2) == pytest.approx(1 / 0.46)
    assert hill(s, 3) == pytest.approx((0.6**3 + 0.3**3 + 0.1**3) ** (-1 / 2))
    assert effective_number([0.5, 0.5, 0, 0]) == pytest.approx(2.0)
    assert hhi([0, 0]) == 0.0 and hill([0, 0], 2) == 0.0 and gini_simpson([0, 0]) == 0.0


def test_batches_along_the_last_axis():
    s = np.array([[1.0, 0.0], [0.5, 0.5], [3.0, 1.0]])
    assert hhi(s).tolist() == pytest.approx([1.0, 0.5, 0.625])
    assert hill(s, 0).tolist() == [1.0, 2.0, 2.0]


shares_strategy = st.lists(st.floats(0, 1e3, allow_nan=False), min_size=1, max_size=12).filter(
    lambda v: sum(v) > 1e-6
)


@settings(max_examples=200, deadline=None)
@given(shares_strategy)
def test_identities(v):
    K = len(v)
    k_pos = sum(1 for x in v if x / sum(v) > 0)
    h = hhi(v)
    assert 1 / K - 1e-12 <= h <= 1 + 1e-12
    assert 1 / k_pos - 1e-9 <= h
    assert gini_simpson(v) == pytest.approx(1 - h)
    assert hill(v, 2) == pytest.approx(1 / h)
    assert hill(v, 1) == pytest.approx(np.exp(shannon(v)))
    assert hill(v, 0) == k_pos
    # Hill numbers do not increase with the order q
    qs = [0, 0.5, 1, 2, 4]
    d = [hill(v, q) for q in qs]
    assert all(a >= b - 1e-9 * a for a, b in itertools.pairwise(d))
    assert 0 <= shannon(v) <= np.log(K) + 1e-12


def test_invalid_inputs():
    with pytest.raises(ParameterError) as err:
        hhi([-0.1, 1.1])
    assert err.value.name == "shares"
    with pytest.raises(ParameterError) as err:
        hill([0.5, 0.5], q=-1)
    assert err.value.name == "q"
    with pytest.raises(ParameterError) as err:
        profile_similarity([[1, 0]], "cosine")
    assert err.value.name == "profiles"
    with pytest.raises(ParameterError) as err:
        profile_similarity([[1, 0], [0, 1]], "dice")
    assert err.value.name == "metric"


def test_shares_from_labels():
    lab = np.array([[0, 1, 1, 2, 2, 2], [1, 1, 1, 1, 0, 0]])
    assert shares_from_labels(lab, 2).tolist() == [[0.4, 0.6], [1.0, 0.0]]
    assert shares_from_labels(lab, 2, exclude_zero=False)[0].tolist() == pytest.approx(
        [1 / 6, 2 / 6, 3 / 6]
    )


def _brute_similarity(X: np.ndarray, metric: str) -> float:
    n = len(X)
    vals = []
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            a, b = X[i], X[j]
            if metric == "cosine":
                na, nb = np.linalg.norm(a), np.linalg.norm(b)
                vals.append(a @ b / (na * nb) if na > 0 and nb > 0 else 0.0)
            else:
                A, B = a > 0, b > 0
                u = np.count_nonzero(A | B)
                vals.append(np.count_nonzero(A & B) / u if u else 1.0)
    return float(np.mean(vals))


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 12), st.integers(1, 5), st.integers(0, 10**6))
def test_profile_similarity_matches_brute_force(n, m, seed):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, m)) < 0.5) * rng.integers(1, 4, (n, m))
    for metric in ("cosine", "jaccard"):
        assert profile_similarity(X, metric) == pytest.approx(
            _brute_similarity(X.astype(float), metric)
        )


def test_identical_profiles_are_fully_similar():
    X = np.tile([1, 0, 1], (5, 1))
    assert profile_similarity(X) == pytest.approx(1.0)
    assert profile_similarity(X, "jaccard") == 1.0


def test_assortativity_matches_networkx():
    net = erdos_renyi(300, mean_degree=5, seed=3)
    rng = np.random.default_rng(1)
    lab = rng.integers(1, 4, net.n)
    # make it assortative: copy the label of a neighbour for half the nodes
    src, dst = net.edges()
    lab[dst[: len(dst) // 2]] = lab[src[: len(src) // 2]]
    G = net.to_networkx()
    nx.set_node_attributes(G, {i: int(lab[i]) for i in range(net.n)}, "platform")
    expected = nx.attribute_assortativity_coefficient(G, "platform")
    assert assortativity(net, lab) == pytest.approx(expected)
    batch = assortativity(net, np.stack([lab, lab]))
    assert batch.shape == (2,) and batch[0] == pytest.approx(expected)


def test_assortativity_extremes_and_exclusion():
    net = Network.from_edges(6, [0, 1, 3, 4, 2], [1, 2, 4, 5, 3])
    assert assortativity(net, [1, 1, 1, 2, 2, 2]) < 1
    assert assortativity(net, [1, 1, 1, 2, 2, 2], exclude=None) == pytest.approx(
        nx.attribute_assortativity_coefficient(_with_attr(net, [1, 1, 1, 2, 2, 2]), "x")
    )
    # dropping the bridge's end label leaves only within-group edges
    assert assortativity(net, [1, 1, 0, 2, 2, 2], exclude=0) == pytest.approx(1.0)
    assert np.isnan(assortativity(net, [1] * 6))


def _with_attr(net: Network, lab: list[int]) -> nx.Graph:
    G = net.to_networkx()
    nx.set_node_attributes(G, dict(enumerate(lab)), "x")
    return G
