"""Tests of diffusion.network.Network: construction, CSR invariants, conversions, errors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from diffusion.errors import DiffusionError, ParameterError
from diffusion.network import Network


def _check_csr(net: Network) -> None:
    """The structural invariants every Network must satisfy."""
    assert net.indptr.dtype == np.int64 and net.indptr.shape == (net.n + 1,)
    assert net.indices.dtype in (np.int32, np.int64)
    assert net.indptr[0] == 0 and net.indptr[-1] == net.nnz
    assert np.all(np.diff(net.indptr) >= 0)
    rows = np.repeat(np.arange(net.n), net.out_degree)
    same = rows[1:] == rows[:-1]
    assert np.all(net.indices[1:][same] > net.indices[:-1][same])  # sorted, no repeats
    if net.nnz:
        assert 0 <= net.indices.min() and net.indices.max() < net.n
    if net.weights is not None:
        assert net.weights.shape == net.indices.shape
    if not net.directed:
        A = net.to_scipy()
        assert (A != A.T).nnz == 0


def test_from_edges_basics():
    net = Network.from_edges(5, [0, 1, 1, 3, 2], [1, 2, 0, 3, 0], [1.0, 2.0, 0.5, 9.0, 4.0])
    _check_csr(net)
    # (0,1) and (1,0) merge with weights added; the self-loop (3,3) is dropped
    assert net.number_of_edges == 3
    assert net.neighbors(0).tolist() == [1, 2]
    assert net.to_scipy().toarray()[0, 1] == 1.5
    assert net.degree.tolist() == [2, 2, 2, 0, 0]
    assert net.out_strength.tolist() == [5.5, 3.5, 6.0, 0.0, 0.0]
    assert net.mean_degree == pytest.approx(6 / 5)
    loops = Network.from_edges(3, [0, 1], [1, 1], self_loops=True)
    assert loops.number_of_edges == 2
    assert loops.neighbors(1).tolist() == [0, 1]


def test_from_edges_many_repeats_and_index_dtypes():
    # an unweighted pair repeated any number of times is one edge (duplicates
    # merge by a logical or, so no count can wrap around), whatever the dtype
    # of the end points
    for dtype in (np.int8, np.int32, np.uint16, np.int64):
        src = np.array([0] * 300 + [1] * 256 + [2], dtype=dtype)
        dst = np.array([1] * 300 + [2] * 256 + [0], dtype=dtype)
        for directed in (False, True):
            net = Network.from_edges(3, src, dst, directed=directed)
            _check_csr(net)
            assert net.weights is None
            assert net.number_of_edges == 3
            assert net.indices.dtype == np.int32
    weighted = Network.from_edges(3, np.zeros(300, np.int32), np.ones(300, np.int32), np.full(300, 0.5))
    assert weighted.to_scipy().toarray()[0, 1] == pytest.approx(150.0)


def test_degrees_and_strengths_match_networkx_directed():
    rng = np.random.default_rng(3)
    src, dst = rng.integers(0, 40, 300), rng.integers(0, 40, 300)
    w = rng.uniform(0.1, 2.0, 300)
    net = Network.from_edges(40, src, dst, w, directed=True)
    _check_csr(net)
    G = nx.DiGraph()
    G.add_nodes_from(range(40))
    for a, b, x in zip(src.tolist(), dst.tolist(), w.tolist(), strict=True):
        if a != b:
            G.add_edge(a, b, weight=G.get_edge_data(a, b, {"weight": 0.0})["weight"] + x)
    assert net.number_of_edges == G.number_of_edges()
    assert net.out_degree.tolist() == [G.out_degree(i) for i in range(40)]
    assert net.in_degree.tolist() == [G.in_degree(i) for i in range(40)]
    assert net.degree.tolist() == [G.degree(i) for i in range(40)]
    np.testing.assert_allclose(net.out_strength, [G.out_degree(i, weight="weight") for i in range(40)])
    np.testing.assert_allclose(net.in_strength, [G.in_degree(i, weight="weight") for i in range(40)])
    rev = net.reverse
    _check_csr(rev)
    assert rev.out_degree.tolist() == net.in_degree.tolist()
    np.testing.assert_allclose(rev.to_scipy().toarray(), net.to_scipy().toarray().T)


def test_unweighted_strength_and_undirected_reverse():
    net = Network.from_edges(3, [0, 1], [1, 2])
    assert net.weights is None
    assert net.in_strength.tolist() == [1.0, 2.0, 1.0]
    assert net.reverse is net
    assert net.in_degree is net.out_degree


def test_networkx_round_trip_with_attributes_and_weights():
    G = nx.DiGraph()
    G.add_node("acme", sector="retail", size=12.5, region=1)
    G.add_node("bolt", sector="food", size=3.0, region=2)
    G.add_node("corp", sector="retail", size=40.0, region=1)
    G.add_edge("acme", "bolt", weight=0.5)
    G.add_edge("bolt", "corp", weight=2.0)
    G.add_edge("corp", "acme", weight=1.5)
    net = Network.from_networkx(G)
    _check_csr(net)
    assert net.directed and net.node_ids.tolist() == ["acme", "bolt", "corp"]
    assert net.attributes["size"].dtype.kind == "f" and net.attributes["region"].dtype.kind == "i"
    H = net.to_networkx()
    assert isinstance(H, nx.DiGraph)
    assert nx.utils.graphs_equal(G, H)
    assert dict(H.nodes(data=True)) == dict(G.nodes(data=True))
    unweighted = Network.from_networkx(G, weight=None)
    assert unweighted.weights is None
    assert nx.utils.edges_equal(unweighted.to_networkx().edges(), G.edges())


def test_from_networkx_options():
    G = nx.MultiGraph()
    G.add_edge(0, 1, weight=1.0)
    G.add_edge(0, 1, weight=2.5)
    G.add_edge(1, 2)
    G.nodes[0]["x"] = 1
    net = Network.from_networkx(G)
    assert net.to_scipy().toarray()[0, 1] == 3.5  # parallel edges summed
    assert net.to_scipy().toarray()[1, 2] == 1.0  # missing weight counts as 1
    assert "x" not in net.attributes  # only attributes every node has
    sub = Network.from_networkx(G, nodelist=[2, 1])
    assert sub.n == 2 and sub.node_ids.tolist() == [2, 1] and sub.number_of_edges == 1
    with pytest.raises(DiffusionError, match="duplicates"):
        Network.from_networkx(G, nodelist=[1, 1])
    with pytest.raises(DiffusionError, match="lacks attribute 'x'"):
        Network.from_networkx(G, attributes=["x"])
    grid = Network.from_networkx(nx.grid_2d_graph(3, 4))  # tuple node ids
    assert grid.n == 12 and grid.number_of_edges == 17
    assert grid.index_of([(1, 2)]).tolist() == [6]
    assert nx.utils.graphs_equal(grid.to_networkx(), nx.grid_2d_graph(3, 4))
    empty = Network.from_networkx(nx.Graph())
    assert empty.n == 0 and empty.number_of_edges == 0


def test_from_scipy():
    A = sp.csr_array(np.array([[0, 2.0, 0], [2.0, 0, 1.0], [0, 1.0, 5.0]]))
    net = Network.from_scipy(A)
    _check_csr(net)
    assert not net.directed and net.number_of_edges == 2  # diagonal dropped
    d = Network.from_scipy(np.array([[0, 1], [0, 0]]))
    assert d.directed and d.number_of_edges == 1
    sym = Network.from_scipy(np.array([[0, 1.0], [3.0, 0]]), directed=False)
    assert not sym.directed and sym.weights.tolist() == [3.0, 3.0]
    with pytest.raises(DiffusionError, match="square"):
        Network.from_scipy(np.ones((2, 3)))


def test_immutability():
    net = Network.from_edges(3, [0, 1], [1, 2], [1.0, 2.0], attributes={"size": [1.0, 2.0, 3.0]})
    for arr in (net.indptr, net.indices, net.weights, net.node_ids, net.attributes["size"],
                net.degree, net.out_strength):
        with pytest.raises(ValueError):
            arr[0] = 7
    with pytest.raises(TypeError):
        net.attributes["size"] = np.zeros(3)  # type: ignore[index]
    # arrays handed in are copied, so the caller cannot change the network afterwards
    size, ids = np.array([1.0, 2.0, 3.0]), np.array([7, 8, 9])
    owned = Network.from_edges(3, [0], [1], node_ids=ids, attributes={"size": size})
    size[0], ids[0] = 99.0, 99
    assert owned.attributes["size"][0] == 1.0 and owned.node_ids[0] == 7
    bigger = net.with_attributes(region=[0, 1, 1])
    assert "region" in bigger.attributes and "region" not in net.attributes
    assert bigger.indices is net.indices


def test_constructor_validation():
    with pytest.raises(DiffusionError, match="row pointer"):
        Network(np.array([0, 2, 1]), np.array([1, 0]))
    with pytest.raises(DiffusionError, match="out of range"):
        Network(np.array([0, 1]), np.array([3]))
    with pytest.raises(DiffusionError, match="one value per stored edge"):
        Network(np.array([0, 1, 1]), np.array([1]), np.array([1.0, 2.0]))
    with pytest.raises(DiffusionError, match="finite"):
        Network(np.array([0, 1, 1]), np.array([1]), np.array([np.inf]))
    with pytest.raises(DiffusionError, match="node_ids must have length 2"):
        Network(np.array([0, 1, 1]), np.array([1]), node_ids=["a"])
    with pytest.raises(DiffusionError, match="attribute 'size' must have length 2"):
        Network(np.array([0, 1, 1]), np.array([1]), attributes={"size": [1.0]})
    with pytest.raises(ParameterError, match=r"^n"):
        Network.from_edges(-1, [], [])
    with pytest.raises(DiffusionError, match="out of range"):
        Network.from_edges(2, [0], [2])
    with pytest.raises(DiffusionError, match="same length"):
        Network.from_edges(2, [0, 1], [1])
    with pytest.raises(DiffusionError, match="one value per edge"):
        Network.from_edges(2, [0], [1], [1.0, 2.0])


def test_index_of_and_attribute_errors():
    net = Network.from_edges(3, [0, 1], [1, 2], node_ids=[10, 20, 30], attributes={"size": [1, 2, 3]})
    assert net.index_of([30, 10]).tolist() == [2, 0]
    assert net.index_of(20).tolist() == [1]
    assert net.index_of(["30"]).tolist() == [2]  # ids typed in a scenario file as strings
    assert net.index_of(np.array([20])).tolist() == [1]
    with pytest.raises(DiffusionError, match="node 40 is not in the network"):
        net.index_of([40])
    with pytest.raises(DiffusionError, match=r"'x' not found .*size"):
        net.attribute("x")
    named = Network.from_edges(2, [0], [1], node_ids=["a", "b"])
    with pytest.raises(DiffusionError, match="'c'"):
        named.index_of("c")


def test_edges_listing_and_repr():
    net = Network.from_edges(4, [2, 0, 3], [0, 1, 1], [5.0, 1.0, 2.0])
    src, dst = net.edges()
    assert list(zip(src.tolist(), dst.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 3)]
    assert net.edge_weights()[0].tolist() == [1.0, 5.0, 2.0]
    assert repr(net) == "<Network: 4 nodes, 3 edges, undirected, weighted>"
    assert len(net) == 4
    d = Network.from_edges(2, [0], [1], directed=True)
    assert repr(d) == "<Network: 2 nodes, 1 edges, directed>"


_edges = st.lists(st.tuples(st.integers(0, 19), st.integers(0, 19)), max_size=60)


@settings(max_examples=60, deadline=None)
@given(edges=_edges, directed=st.booleans(), weighted=st.booleans(), n=st.integers(20, 25))
def test_from_edges_networkx_identity(edges, directed, weighted, n):
    """Random edge lists -> from_edges -> to_networkx -> from_networkx is the identity."""
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.arange(1, len(edges) + 1, dtype=float) / 4 if weighted else None
    net = Network.from_edges(n, src, dst, w, directed=directed,
                             attributes={"size": np.arange(n) * 1.5})
    _check_csr(net)
    G = net.to_networkx()
    assert G.number_of_nodes() == n and G.number_of_edges() == net.number_of_edges
    back = Network.from_networkx(G)
    assert back.directed == net.directed
    np.testing.assert_array_equal(back.indptr, net.indptr)
    np.testing.assert_array_equal(back.indices, net.indices)
    if weighted and net.nnz:
        np.testing.assert_allclose(back.weights, net.weights)
    else:
        assert back.weights is None
    np.testing.assert_array_equal(back.node_ids, net.node_ids)
    np.testing.assert_array_equal(back.attributes["size"], net.attributes["size"])
    # the CSR agrees with a dense reference built directly from the edge list
    ref = np.zeros((n, n))
    for k, (a, b) in enumerate(edges):
        if a != b:
            x = 1.0 if w is None else w[k]
            ref[a, b] += x
            if not directed:
                ref[b, a] += x
    dense = net.to_scipy().toarray()
    np.testing.assert_allclose(dense, ref if weighted else (ref > 0).astype(float))
