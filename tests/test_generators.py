"""Tests of diffusion.generators: reproducibility, validation and agreement with theory.

Statistical checks use fixed seeds and tolerances of 4-5 standard errors
(stated next to each check), so they cannot flake.
"""

from __future__ import annotations

import itertools
from collections import Counter

import networkx as nx
import numpy as np
import pytest
from scipy import stats

from diffusion import generators as g
from diffusion.errors import ParameterError
from diffusion.generators import (
    GENERATORS,
    barabasi_albert,
    complete_graph,
    configuration_model,
    erdos_renyi,
    random_regular,
    smb_network,
    watts_strogatz,
)
from diffusion.network import Network

# scenario-style keyword parameters for every registered generator
EXAMPLES = {
    "smb": {"n": 600, "mean_degree": 6.0, "sectors": 4, "regions": 3, "homophily": 0.5,
            "weighted": True},
    "erdos_renyi": {"n": 300, "mean_degree": 4.0},
    "barabasi_albert": {"n": 300, "m": 3},
    "watts_strogatz": {"n": 300, "k": 6, "p": 0.2},
    "random_regular": {"n": 300, "d": 5},
    "configuration": {"n": 300, "degree_distribution": {"distribution": "poisson", "mean": 4}},
    "complete": {"n": 12},
}


def _simple(net: Network) -> bool:
    """CSR rows sorted and free of repeats and self-loops."""
    rows = np.repeat(np.arange(net.n), net.out_degree)
    same_row = rows[1:] == rows[:-1]
    return bool(np.all(net.indices[1:][same_row] > net.indices[:-1][same_row])
                and not np.any(rows == net.indices))


def _arrays(net: Network) -> list[np.ndarray]:
    out = [net.indptr, net.indices]
    if net.weights is not None:
        out.append(net.weights)
    out += [np.asarray(net.attributes[k]) for k in sorted(net.attributes)]
    return out


# --------------------------------------------------------------- registry
def test_registry_names():
    assert set(GENERATORS) == {"smb", "erdos_renyi", "barabasi_albert", "watts_strogatz",
                               "random_regular", "configuration", "complete"}
    assert set(EXAMPLES) == set(GENERATORS)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_reproducible_from_seed(name):
    make = GENERATORS[name]
    a = make(**EXAMPLES[name], seed=11)
    b = make(**EXAMPLES[name], seed=11)
    assert isinstance(a, Network)
    assert _simple(a)
    for x, y in zip(_arrays(a), _arrays(b), strict=True):
        np.testing.assert_array_equal(x, y)
    if name != "complete":
        c = make(**EXAMPLES[name], seed=12)
        assert not (np.array_equal(a.indptr, c.indptr) and np.array_equal(a.indices, c.indices))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_seed_forms_agree(name):
    """An int seed, its SeedSequence and a Generator built from it give the same graph."""
    make = GENERATORS[name]
    a = make(**EXAMPLES[name], seed=5)
    b = make(**EXAMPLES[name], seed=np.random.SeedSequence(5))
    c = make(**EXAMPLES[name], seed=np.random.default_rng(np.random.SeedSequence(5)))
    for x, y, z in zip(_arrays(a), _arrays(b), _arrays(c), strict=True):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: complete_graph(-1), "n"),
        (lambda: erdos_renyi(10), "p"),
        (lambda: erdos_renyi(10, 0.1, mean_degree=2), "p"),
        (lambda: erdos_renyi(10, 1.5), "p"),
        (lambda: erdos_renyi(10, mean_degree=-1), "mean_degree"),
        (lambda: erdos_renyi(10.5, 0.1), "n"),
        (lambda: erdos_renyi(10, 0.1, directed="yes"), "directed"),
        (lambda: watts_strogatz(10, 3, 0.1), "k"),
        (lambda: watts_strogatz(10, 10, 0.1), "k"),
        (lambda: watts_strogatz(10, 4, -0.1), "p"),
        (lambda: barabasi_albert(5, 5), "m"),
        (lambda: barabasi_albert(5, 0), "m"),
        (lambda: barabasi_albert(True, 1), "n"),
        (lambda: random_regular(5, 3), "d"),
        (lambda: random_regular(5, 5), "d"),
        (lambda: configuration_model([1, 2]), "degrees"),
        (lambda: configuration_model([1, -1]), "degrees"),
        (lambda: configuration_model([1.5, 0.5]), "degrees"),
        (lambda: configuration_model(), "degrees"),
        (lambda: configuration_model(degree_distribution={"distribution": "poisson", "mean": 2}), "n"),
        (lambda: configuration_model(n=5, degree_distribution={"distribution": "zipf"}),
         "degree_distribution.distribution"),
        (lambda: configuration_model(n=5, degree_distribution={"distribution": "poisson"}),
         "degree_distribution.mean"),
        (lambda: configuration_model(n=5, degree_distribution={"distribution": "powerlaw",
                                                               "exponent": 0.5}),
         "degree_distribution.exponent"),
        (lambda: configuration_model(n=5, degree_distribution={"distribution": "poisson",
                                                               "mean": 1, "sd": 2}),
         "degree_distribution.sd"),
        (lambda: smb_network(10, mean_degree=-2), "mean_degree"),
        (lambda: smb_network(10, sectors=0), "sectors"),
        (lambda: smb_network(10, sectors=["a", "a"]), "sectors"),
        (lambda: smb_network(10, homophily=1.2), "homophily"),
        (lambda: smb_network(10, homophily={"sector": 0.7, "region": 0.5}), "homophily"),
        (lambda: smb_network(10, homophily={"industry": 0.1}), "homophily.industry"),
        (lambda: smb_network(10, sectors=2, sector_shares=[1.0]), "sector_shares"),
        (lambda: smb_network(10, region_shares=[-1, 1, 1, 1, 1]), "region_shares"),
        (lambda: smb_network(10, size_distribution="normal"), "size_distribution"),
        (lambda: smb_network(10, size_shape=2.0), "size_shape"),
        (lambda: smb_network(10, size_distribution="pareto", size_log_sd=1.0), "size_log_sd"),
        (lambda: smb_network(10, size_distribution="pareto", size_shape=0), "size_shape"),
        (lambda: smb_network(10, uncertainty_median=1.0), "uncertainty_median"),
        (lambda: smb_network(10, weighted=1), "weighted"),
        (lambda: smb_network(10, resources_sd=float("nan")), "resources_sd"),
        # values whose arithmetic overflows (OverflowError, infinite sizes or buffers, zero weights)
        (lambda: smb_network(10, weighted=True, weight_sd=1e300), "weight_sd"),
        (lambda: smb_network(10, weighted=True, weight_sd=100.0), "weight_sd"),
        (lambda: smb_network(10, size_log_mean=1e6), "size_log_mean"),
        (lambda: smb_network(10, size_log_mean=-1e6), "size_log_mean"),
        (lambda: smb_network(10, size_log_sd=1e300), "size_log_sd"),
        (lambda: smb_network(10, size_log_mean=200.0, size_log_sd=5.0), "size_log_sd"),
        (lambda: smb_network(10, size_distribution="pareto", size_shape=1e-300), "size_shape"),
        (lambda: smb_network(10, size_distribution="pareto", size_min=1e300), "size_min"),
        (lambda: smb_network(10, size_distribution="pareto", size_min=5e-324), "size_min"),
        (lambda: smb_network(10, resources_sd=1e300), "resources_sd"),
        (lambda: smb_network(10, resources_ratio=1e300), "resources_ratio"),
        (lambda: smb_network(10, uncertainty_size_effect=1e300), "uncertainty_size_effect"),
        (lambda: smb_network(10, uncertainty_sd=1e300), "uncertainty_sd"),
        (lambda: smb_network(10, success_size_effect=-1e300), "success_size_effect"),
        (lambda: smb_network(10, success_sd=1e300), "success_sd"),
        (lambda: smb_network(100, mean_degree=1e300), "mean_degree"),
        (lambda: smb_network(10**9, mean_degree=1e10), "mean_degree"),
        (lambda: smb_network(100, sectors=10**12), "sectors"),
        (lambda: smb_network(100, sectors=10**4, regions=10**4), "regions"),
        (lambda: configuration_model([2**62, 2**62]), "degrees"),
        (lambda: configuration_model([2, 2]), "degrees"),
        (lambda: erdos_renyi(10**10, 1e-30), "n"),
    ],
)
def test_invalid_parameters_name_the_parameter(call, param):
    with pytest.raises(ParameterError) as info:
        call()
    assert info.value.name == param
    assert str(info.value).startswith(param)


@pytest.mark.parametrize(
    "kw",
    [
        {"weighted": True, "weight_sd": 20.0},
        {"size_log_mean": -200.0, "size_log_sd": 3.0},
        {"size_log_mean": 200.0, "size_log_sd": 3.0, "resources_ratio": 1e100, "resources_sd": 20.0},
        {"size_distribution": "pareto", "size_shape": 0.18, "size_min": 1.0},
        {"size_distribution": "pareto", "size_min": 1e-99},
        {"uncertainty_size_effect": 1e6, "uncertainty_sd": 1e6, "success_size_effect": -1e6, "success_sd": 1e6},
        {"size_exponent": 1e300},
    ],
)
def test_smb_extreme_accepted_values_give_finite_attributes(kw):
    net = smb_network(3000, seed=4, **kw)
    for name, col in net.attributes.items():
        if np.issubdtype(col.dtype, np.floating):
            assert np.isfinite(col).all(), name
    assert (net.attributes["size"] > 0).all()
    if net.weights is not None:
        assert (net.weights > 0).all() and np.isfinite(net.weights).all()


# ----------------------------------------------------------- Erdős–Rényi
@pytest.mark.parametrize("kw", [{"mean_degree": 1e-300}, {"p": 5e-324}, {"p": 1e-20}, {"p": 1e-300, "directed": True}])
def test_erdos_renyi_tiny_probability_finishes_without_edges(kw):
    # geometric skips of such p are near 2**63: clamped, their sums cannot overflow into a loop
    net = erdos_renyi(100_000, seed=1, **kw)
    assert net.n == 100_000 and net.number_of_edges == 0


def test_geometric_positions_unchanged_by_the_clamp():
    # the clamp and the cut only touch gaps beyond the end: positions equal the plain cumulative sums
    for p, total in [(0.3, 1000), (1e-3, 10**6), (0.9, 50)]:
        rng = np.random.default_rng(5)
        got = g._geometric_positions(rng, total, p)
        ref = np.cumsum(np.random.default_rng(5).geometric(p, size=len(got) + 1)) - 1
        np.testing.assert_array_equal(got, ref[ref < total])


def test_upper_pair_decoding_is_a_bijection():
    for n in range(2, 40):
        codes = np.arange(n * (n - 1) // 2)
        i, j = g._upper_pair(codes, n)
        assert np.all(i < j) and np.all(j < n) and np.all(i >= 0)
        np.testing.assert_array_equal(i * (2 * n - i - 1) // 2 + (j - i - 1), codes)
    n = 3_000_000  # large n: floating-point estimate needs the integer fix-up
    codes = np.random.default_rng(0).integers(0, n * (n - 1) // 2, size=100_000)
    codes = np.concatenate([codes, [0, n * (n - 1) // 2 - 1]])
    i, j = g._upper_pair(codes, n)
    assert np.all(i < j) and np.all(j < n)
    np.testing.assert_array_equal(i * (2 * n - i - 1) // 2 + (j - i - 1), codes)


def test_erdos_renyi_edge_count_and_poisson_degrees():
    n, z = 20_000, 5.0
    net = erdos_renyi(n, mean_degree=z, seed=3)
    p = z / (n - 1)
    pairs = n * (n - 1) / 2
    # edge count ~ Binomial(pairs, p): within 4 standard errors
    assert abs(net.number_of_edges - pairs * p) < 4 * np.sqrt(pairs * p * (1 - p))
    # degree histogram against Binomial(n-1, p) (≈ Poisson(z)), each bin within 5 SE
    counts = np.bincount(net.degree, minlength=16)[:16] / n
    pmf = stats.binom.pmf(np.arange(16), n - 1, p)
    se = np.sqrt(pmf * (1 - pmf) / n)
    assert np.all(np.abs(counts - pmf) < 5 * se + 1e-12)
    assert _simple(net)


def test_erdos_renyi_every_pair_equally_likely():
    n, p, reps = 6, 0.3, 1500
    freq = np.zeros((n, n))
    for s in range(reps):
        freq += erdos_renyi(n, p, seed=s).to_scipy().toarray()
    off = freq[~np.eye(n, dtype=bool)] / reps
    # each of the 15 pairs is an edge with probability p: 4.5 SE (≈ 0.053)
    assert np.all(np.abs(off - p) < 4.5 * np.sqrt(p * (1 - p) / reps))


def test_erdos_renyi_directed_and_limits():
    n, p = 400, 0.05
    net = erdos_renyi(n, p, seed=2, directed=True)
    assert net.directed
    pairs = n * (n - 1)
    assert abs(net.number_of_edges - pairs * p) < 4 * np.sqrt(pairs * p * (1 - p))
    assert erdos_renyi(7, 1.0, seed=0).number_of_edges == 21
    assert erdos_renyi(7, 1.0, seed=0, directed=True).number_of_edges == 42
    assert erdos_renyi(7, 0.0, seed=0).number_of_edges == 0
    assert erdos_renyi(0, 0.5, seed=0).n == 0
    assert erdos_renyi(1, mean_degree=0.0, seed=0).n == 1
    dense = erdos_renyi(300, 0.9, seed=4)
    pairs = 300 * 299 / 2
    assert abs(dense.number_of_edges - 0.9 * pairs) < 4 * np.sqrt(pairs * 0.09)


# ---------------------------------------------------------- Watts–Strogatz
def test_watts_strogatz_lattice_and_rewiring():
    n, k, p = 5000, 6, 0.3
    ring = watts_strogatz(n, k, 0.0)
    assert set(ring.degree.tolist()) == {k}
    net = watts_strogatz(n, k, p, seed=9)
    assert net.number_of_edges == n * k // 2  # rewiring keeps every edge, no loops/repeats
    assert _simple(net)
    assert net.degree.min() >= k // 2  # every node keeps the k/2 edges it owns
    src, dst = net.edges()
    gap = np.minimum((dst - src) % n, (src - dst) % n)
    lattice_share = np.mean(gap <= k // 2)
    m = n * k / 2
    # lattice edges survive with prob. 1 - p (+ rewired onto a lattice pair, prob ≤ k/n); 4 SE
    assert abs(lattice_share - (1 - p)) < 4 * np.sqrt(p * (1 - p) / m) + k / n
    full = watts_strogatz(50, 4, 1.0, seed=1)
    assert full.number_of_edges == 100 and _simple(full)


def test_watts_strogatz_dense_terminates():
    net = watts_strogatz(9, 8, 0.5, seed=0)  # complete lattice: nothing free to rewire to
    assert net.number_of_edges == 36


# --------------------------------------------------------- Barabási–Albert
def _ba_exact_distribution(n: int, m: int) -> dict[frozenset, float]:
    """Exact law of the BA edge set by enumerating the sequential process."""
    start = frozenset((0, j) for j in range(1, m + 1))
    states = {start: 1.0}
    for v in range(m + 1, n):
        nxt: dict[frozenset, float] = {}
        for edges, prob in states.items():
            deg = Counter()
            for a, b in edges:
                deg[a] += 1
                deg[b] += 1
            nodes = list(range(v))
            for seq in itertools.permutations(nodes, m):
                pr, left = 1.0, sum(deg[u] for u in nodes)
                for u in seq:
                    pr *= deg[u] / left
                    left -= deg[u]
                new = edges | {(u, v) for u in seq}
                nxt[new] = nxt.get(new, 0.0) + prob * pr
        states = nxt
    return states


def test_barabasi_albert_exact_small_case():
    """Frequencies of every possible graph match the sequential BA process (chi-square).

    n = 5, m = 2 has 18 possible graphs, and rejected (repeated) draws are
    frequent, so this detects e.g. targets that are not recomputed after an
    earlier node's rejection (chi-square ≈ 80 against the 99.99 % bound 47.6).
    """
    n, m, reps = 5, 2, 8000
    law = _ba_exact_distribution(n, m)
    seen = Counter()
    for s in range(reps):
        src, dst = barabasi_albert(n, m, seed=s).edges()
        seen[frozenset(zip(src.tolist(), dst.tolist(), strict=True))] += 1
    assert set(seen) <= set(law)
    keys = sorted(law, key=sorted)
    obs = np.array([seen[k] for k in keys], dtype=float)
    exp = np.array([law[k] for k in keys]) * reps
    chi2 = ((obs - exp) ** 2 / exp).sum()
    assert chi2 < stats.chi2.ppf(0.9999, len(keys) - 1)


def test_barabasi_albert_degrees_and_tail():
    n, m = 30_000, 3
    net = barabasi_albert(n, m, seed=21)
    assert net.number_of_edges == m * (n - m)
    assert net.mean_degree == pytest.approx(2 * m * (n - m) / n)
    assert _simple(net)
    deg = net.degree
    assert np.count_nonzero(deg < m) <= m  # only the initial star's leaves can stay below m
    for k in (6, 12, 25, 50):
        # P(K >= k) = m (m + 1) / (k (k + 1)) for the BA law 2m(m+1)/(k(k+1)(k+2)); 5 SE
        theory = m * (m + 1) / (k * (k + 1))
        assert abs(np.mean(deg >= k) - theory) < 5 * np.sqrt(theory * (1 - theory) / n) + 2 / n
    # tail exponent: slope of log CCDF between k = 10 and 60 ≈ -2 (density ~ k^-3)
    slope = np.log(np.mean(deg >= 60) / np.mean(deg >= 10)) / np.log(6)
    assert -2.4 < slope < -1.6


def test_barabasi_albert_matches_networkx_in_distribution():
    n, m = 5000, 2
    ours = np.concatenate([barabasi_albert(n, m, seed=s).degree for s in range(4)])
    ref = np.concatenate([[d for _, d in nx.barabasi_albert_graph(n, m, seed=s).degree()]
                          for s in range(4)])
    res = stats.ks_2samp(np.minimum(ours, 40), np.minimum(ref, 40))
    assert res.pvalue > 1e-4


def test_barabasi_albert_smallest():
    assert barabasi_albert(2, 1, seed=0).number_of_edges == 1
    assert barabasi_albert(4, 3, seed=0).number_of_edges == 3


# ----------------------------------------------------------- random regular
@pytest.mark.parametrize(("n", "d"), [(1000, 3), (2000, 10), (60, 40), (11, 10), (0, 0), (10, 0)])
def test_random_regular_is_exactly_regular_and_simple(n, d):
    net = random_regular(n, d, seed=1)
    assert np.all(net.degree == d)
    assert net.number_of_edges == n * d // 2
    assert _simple(net)


def test_random_regular_small_case_is_uniform():
    """3-regular graphs on 6 labelled nodes: 10 are K33, 60 are prisms (uniform: 1/7 K33)."""
    reps = 2100
    k33 = sum(nx.is_bipartite(random_regular(6, 3, seed=s).to_networkx()) for s in range(reps))
    # binomial(reps, 1/7): 4.5 SE
    assert abs(k33 / reps - 1 / 7) < 4.5 * np.sqrt((1 / 7) * (6 / 7) / reps)


# ------------------------------------------------------ configuration model
def test_configuration_respects_degrees_up_to_removals():
    rng = np.random.default_rng(0)
    deg = rng.poisson(4, size=2000)
    deg[0] += deg.sum() % 2
    removed = []
    for s in range(40):
        net = configuration_model(deg, seed=s)
        assert np.all(net.degree <= deg)
        np.testing.assert_array_equal(net.attributes["target_degree"], deg)
        removed.append((deg.sum() - net.degree.sum()) // 2)
        assert _simple(net)
    nu = np.sum(deg * (deg - 1)) / deg.sum()
    expected = nu / 2 + nu**2 / 4  # self-loops + repeated pairs of stub matching
    # removals are ~ Poisson(expected) per graph: mean of 40 within 4 SE
    assert abs(np.mean(removed) - expected) < 4 * np.sqrt(expected / 40)


def test_configuration_degree_distributions():
    n = 20_000
    pois = configuration_model(n=n, degree_distribution={"distribution": "poisson", "mean": 3.0},
                               seed=4)
    target = pois.attributes["target_degree"]
    assert target.sum() % 2 == 0
    assert abs(target.mean() - 3.0) < 4 * np.sqrt(3.0 / n) + 1 / n  # Poisson mean, 4 SE
    pl = configuration_model(n=n, degree_distribution={"distribution": "powerlaw", "exponent": 2.5,
                                                       "min": 2, "max": 500}, seed=4)
    t = pl.attributes["target_degree"]
    assert t.min() >= 2 and t.max() <= 500
    k = np.arange(2, 501, dtype=float)
    p2 = 2**-2.5 / np.sum(k**-2.5)  # P(k = 2) of the truncated power law
    assert abs(np.mean(t == 2) - p2) < 4 * np.sqrt(p2 * (1 - p2) / n) + 1 / n
    via_registry = GENERATORS["configuration"](degrees=[2, 2, 2, 2, 1, 1], seed=0)
    assert via_registry.n == 6


# ------------------------------------------------------------- complete
def test_complete_graph():
    net = complete_graph(30)
    assert net.number_of_edges == 435 and np.all(net.degree == 29)
    assert complete_graph(0).n == 0
    assert complete_graph(5, seed=3).number_of_edges == 10


# ------------------------------------------------------------------- SMB
def _theta(net: Network, alpha: float) -> np.ndarray:
    s = np.asarray(net.attributes["size"])
    return (s / np.median(s)) ** alpha


def test_smb_attributes_and_ranges():
    names = ["retail", "food", "services", "construction"]
    net = smb_network(5000, mean_degree=6, sectors=names, regions=3, seed=2)
    a = net.attributes
    assert set(a) == {"sector", "region", "size", "resources", "uncertainty", "success", "prestige"}
    assert set(a["sector"].tolist()) == set(names)
    assert set(a["region"].tolist()) == {0, 1, 2}
    assert np.all(a["size"] > 0) and np.all(a["resources"] > 0)
    for key in ("uncertainty", "success"):
        assert np.all((a[key] > 0) & (a[key] < 1))
    assert np.all(a["prestige"] > 0) and a["prestige"].mean() == pytest.approx(1.0)
    logs = np.log(a["size"])
    assert abs(np.median(logs) - 2.0) < 0.1 and abs(logs.std() - 1.2) < 0.06
    # size drives degree, resources; small firms are more uncertain
    assert stats.spearmanr(a["size"], net.degree)[0] > 0.5
    assert stats.spearmanr(a["size"], a["resources"])[0] > 0.6
    assert stats.spearmanr(a["size"], a["uncertainty"])[0] < -0.2
    assert stats.spearmanr(a["size"], a["success"])[0] > 0.2
    assert net.weights is None and not net.directed


def test_smb_mean_degree_and_degree_propensity():
    n, z, alpha = 30_000, 6.0, 0.8
    h = {"sector": 0.3, "region": 0.3}
    net = smb_network(n, mean_degree=z, sectors=4, regions=3, homophily=h, size_exponent=alpha,
                      seed=8)
    M = n * z / 2
    theta = _theta(net, alpha)
    sec, reg = net.attributes["sector"], net.attributes["region"]
    # expected self-loops (dropped): sum over tie types and groups of E[edges_G] * sum θ²/Θ_G²
    loops = 0.0
    for share, lab in ((0.4, np.zeros(n, int)), (0.3, sec), (0.3, reg)):
        tg = np.bincount(lab, weights=theta)
        t2 = np.bincount(lab, weights=theta**2)
        loops += share * M * np.sum(tg / theta.sum() * t2 / tg**2)
    # edges ~ Poisson(M) minus loops (repeated pairs are of the same small order): 4 SE + loops
    assert abs(net.number_of_edges - (M - loops)) < 4 * np.sqrt(M) + loops
    # E[deg_i] = z n θ_i / Θ: compare by propensity decile, each within 5 SE
    pred = z * n * theta / theta.sum()
    bins = np.quantile(theta, np.linspace(0, 1, 11))
    which = np.clip(np.searchsorted(bins, theta, side="right") - 1, 0, 9)
    for b in range(10):
        sel = which == b
        assert abs(net.degree[sel].sum() - pred[sel].sum()) < 5 * np.sqrt(pred[sel].sum()) + 0.01 * pred[sel].sum()


def _expected_block_share(theta, sector, region, shares, S, R):
    """Expected share of (non-loop) ties inside a block, from the model's formulas."""
    block = sector * R + region
    parts = {"block": (block, S * R), "sector": (sector, S), "region": (region, R),
             "random": (np.zeros(len(theta), int), 1)}
    same = total = 0.0
    Theta = theta.sum()
    tb = np.bincount(block, weights=theta, minlength=S * R)
    t2b = np.bincount(block, weights=theta**2, minlength=S * R)
    for key, h in shares.items():
        lab, k = parts[key]
        tg = np.bincount(lab, weights=theta, minlength=k)
        t2g = np.bincount(lab, weights=theta**2, minlength=k)
        # blocks nested in each group: sum_B (Θ_B² - Σθ²) per group
        grp_of_block = {"block": np.arange(S * R), "sector": np.arange(S * R) // R,
                        "region": np.arange(S * R) % R, "random": np.zeros(S * R, int)}[key]
        inner = np.bincount(grp_of_block, weights=tb**2 - t2b, minlength=k)
        w = h * tg / Theta
        ok = tg > 0
        same += np.sum(w[ok] * inner[ok] / tg[ok] ** 2)
        total += np.sum(w[ok] * (1 - t2g[ok] / tg[ok] ** 2))
    return same / total


@pytest.mark.parametrize("homophily", [0.0, 0.5, 0.9, {"block": 0.6, "sector": 0.2}])
def test_smb_homophily_within_block_share(homophily):
    n, S, R, alpha = 20_000, 5, 4, 0.8
    net = smb_network(n, mean_degree=8, sectors=S, regions=R, homophily=homophily,
                      size_exponent=alpha, seed=3)
    sec = np.asarray(net.attributes["sector"])
    reg = np.asarray(net.attributes["region"])
    src, dst = net.edges()
    share = np.mean((sec[src] == sec[dst]) & (reg[src] == reg[dst]))
    h = homophily if isinstance(homophily, dict) else {"sector": homophily / 2, "region": homophily / 2}
    shares = {**h, "random": 1 - sum(h.values())}
    expected = _expected_block_share(_theta(net, alpha), sec, reg, shares, S, R)
    m = net.number_of_edges
    # binomial SE of a share over m ties: 4.5 SE (+ a little for merged repeats)
    assert abs(share - expected) < 4.5 * np.sqrt(expected * (1 - expected) / m) + 0.003


def test_smb_homophily_raises_within_group_ties():
    shares = []
    for h in (0.0, 0.4, 0.8):
        net = smb_network(5000, homophily=h, seed=1)
        sec = np.asarray(net.attributes["sector"])
        src, dst = net.edges()
        shares.append(np.mean(sec[src] == sec[dst]))
    assert shares[0] < shares[1] < shares[2]


def test_smb_pareto_sizes_weights_and_direction():
    net = smb_network(20_000, size_distribution="pareto", size_shape=1.5, size_min=2.0,
                      weighted=True, weight_sd=0.5, directed=True, mean_degree=4, seed=6)
    size = np.asarray(net.attributes["size"])
    assert size.min() >= 2.0
    top = np.sort(size)[-2000:]
    hill = 1.0 / np.mean(np.log(top / top[0]))  # Hill estimator of the Pareto shape
    assert abs(hill - 1.5) < 4 * 1.5 / np.sqrt(2000)  # SE of Hill: shape / sqrt(k)
    assert net.directed and net.weights is not None and np.all(net.weights > 0)
    assert abs(net.number_of_edges - 20_000 * 4) < 4 * np.sqrt(80_000) + 0.01 * 80_000
    # intensities have mean 1 per drawn tie; merged repeats add up, so slightly above 1
    assert 0.98 < net.weights.mean() < 1.05
    assert stats.spearmanr(size, net.in_degree)[0] > 0.4


def test_smb_max_degree_caps_the_giants():
    n, z = 20_000, 6.0
    for cap in (None, 60.0):
        net = smb_network(n, mean_degree=z, size_distribution="pareto", size_shape=1.1,
                          size_exponent=1.0, max_degree=cap, seed=5)
        kmax = np.sqrt(z * n) if cap is None else cap
        # a capped firm's degree is ~ Poisson(kmax) at most: 5 SE above the cap
        assert net.degree.max() <= kmax + 5 * np.sqrt(kmax)
        assert net.degree.max() >= 0.5 * kmax  # the cap binds for this heavy tail
        assert net.mean_degree > 0.9 * z  # few ties lost to repeats
    theta = np.random.default_rng(1).pareto(0.5, 5000) + 1
    capped = g._cap_propensity(theta, 4.0, 50.0)
    assert (4.0 * 5000 * capped / capped.sum()).max() == pytest.approx(50.0)
    np.testing.assert_array_equal(capped[theta < capped.max()], theta[theta < capped.max()])
    with pytest.raises(ParameterError, match=r"^max_degree"):
        smb_network(10, max_degree=0)


def test_smb_shares_and_small_cases():
    net = smb_network(8000, sectors=2, sector_shares=[3, 1], regions=1, seed=0)
    sec = np.asarray(net.attributes["sector"])
    assert abs(np.mean(sec == 0) - 0.75) < 4 * np.sqrt(0.75 * 0.25 / 8000)
    assert smb_network(0, seed=0).n == 0
    assert smb_network(5, mean_degree=0, seed=0).number_of_edges == 0
    one = smb_network(50, regions=["north"], sectors=1, homophily={"block": 1.0}, seed=0)
    assert set(one.attributes["region"].tolist()) == {"north"}
