"""Random graph generators, vectorized and reproducible from a seed.

Every generator takes ``seed`` (an int, a :class:`numpy.random.SeedSequence`,
a :class:`numpy.random.Generator` or ``None``), normalized once by
:func:`diffusion._random.default_rng`, and returns a :class:`~diffusion.Network`.
No generator loops over nodes or edges in Python: edges are drawn as whole
arrays and de-duplicated by :meth:`Network.from_edges`.

:data:`GENERATORS` maps the names used in scenario files (``[network]
generator = "smb"``) to the functions; every function takes its parameters
as keywords spelled as in TOML.

Examples
--------
>>> from diffusion.generators import GENERATORS
>>> net = GENERATORS["barabasi_albert"](n=100, m=2, seed=1)
>>> net.number_of_edges
196
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from scipy.special import expit, logit

from ._random import default_rng
from .errors import DiffusionError, ParameterError
from .network import Network
from .validation import check_bool, check_integer, check_number

__all__ = [
    "GENERATORS",
    "MAX_NODES",
    "GraphSize",
    "barabasi_albert",
    "check_generator",
    "complete_graph",
    "configuration_model",
    "erdos_renyi",
    "random_regular",
    "smb_network",
    "watts_strogatz",
]

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


# ---------------------------------------------------------------- sizes
#: Largest node count a generator accepts (node indices stay exact in float64).
MAX_NODES = 2**53


class GraphSize(NamedTuple):
    """How large a graph a generator is about to build, from its parameters alone.

    Attributes
    ----------
    nodes : int
        Number of nodes.
    edges : float
        Expected number of edges drawn (arcs if directed), before repeats are merged.
    directed : bool
    node_bytes : int
        Bytes per node the generator's node attributes take while it builds.

    Examples
    --------
    >>> from diffusion.generators import check_generator
    >>> size = check_generator("erdos_renyi", n=1000, mean_degree=4.0)
    >>> size.nodes, size.edges
    (1000, 2000.0)
    >>> size.memory < 10**6
    True
    """

    nodes: int
    edges: float
    directed: bool = False
    node_bytes: int = 0

    @property
    def memory(self) -> int:
        """Estimated peak bytes of building the graph.

        Edge arrays, their de-duplication and the CSR structure take about 100
        bytes per undirected edge (both directions are stored) and 60 per arc;
        each node about 40 bytes plus its attributes (measured with
        ``tracemalloc`` on 200,000-node graphs of every generator, mean degree
        8: 11-92 bytes per undirected edge beyond the nodes, 42 per arc; the
        estimate is at most about 2.3 times the measured peak).
        """
        per_edge = 60 if self.directed else 100
        return int(self.nodes * (40 + self.node_bytes) + self.edges * per_edge)


def _n(value: Any, low: int = 0) -> int:
    return check_integer("n", value, low, MAX_NODES)


# ------------------------------------------------------------------ classics
def _plan_complete(n: Any, seed: Any = None) -> tuple[GraphSize, dict[str, Any]]:
    n = _n(n)
    return GraphSize(n, n * (n - 1) / 2), {"n": n}


def complete_graph(n: int, *, seed: SeedLike = None) -> Network:
    """The complete graph on ``n`` nodes (mean-field checks).

    Parameters
    ----------
    n : int
        Number of nodes.
    seed : ignored
        Accepted so that every entry of :data:`GENERATORS` has the same interface.

    Examples
    --------
    >>> from diffusion.generators import complete_graph
    >>> complete_graph(4).number_of_edges
    6
    """
    n = _plan_complete(n)[1]["n"]
    src, dst = np.triu_indices(n, 1)
    return Network.from_edges(n, src, dst)


def _upper_pair(codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Invert the row-major enumeration of the pairs ``i < j`` of ``0..n-1``."""
    c = codes.astype(np.int64)
    # row i starts at s(i) = i (2n - i - 1) / 2; estimate i in floating point, then fix up
    b = 2.0 * n - 1.0
    i = np.floor((b - np.sqrt(np.maximum(b * b - 8.0 * c, 0.0))) / 2.0).astype(np.int64)
    i = np.clip(i, 0, max(n - 2, 0))
    start = i * (2 * n - i - 1) // 2
    low = c < start
    i[low] -= 1
    nxt = (i + 1) * (2 * n - i - 2) // 2
    high = c >= nxt
    i[high] += 1
    start = i * (2 * n - i - 1) // 2
    return i, c - start + i + 1


def _geometric_positions(rng: np.random.Generator, total: int, p: float) -> np.ndarray:
    """Positions ``k < total`` of the successes of ``total`` Bernoulli(p) trials.

    Uses geometric skips, so the cost is proportional to the number of
    successes, not to ``total``. A gap is clamped at ``total + 1`` (it ends
    the sequence either way: a tiny ``p`` draws gaps near 2**63) and a block is
    cut after its sums pass ``3 total``, so no sum overflows (``total < 2**60``).
    """
    if p <= 0 or total <= 0:
        return np.empty(0, dtype=np.int64)
    if p >= 1:
        return np.arange(total, dtype=np.int64)
    if total >= 1 << 60:  # no graph this size fits in memory: the memory checks refuse it first
        raise ParameterError("n", f"{total:,} node pairs: too many to sample (at most 2**60)")
    mean = total * p
    chunk = int(mean + 6 * np.sqrt(mean * (1 - p)) + 16)
    parts, last = [], -1
    while True:
        gaps = np.minimum(rng.geometric(p, size=chunk), total + 1)
        cut = np.searchsorted(np.cumsum(gaps, dtype=np.float64), 3.0 * total)
        pos = last + np.cumsum(gaps[: cut + 1])
        parts.append(pos[pos < total])
        if pos[-1] >= total:
            break
        last = int(pos[-1])
        chunk = max(chunk // 4, 1024)
    return np.concatenate(parts)


def _plan_erdos_renyi(n: Any, p: Any = None, mean_degree: Any = None, directed: Any = False,
                      seed: Any = None) -> tuple[GraphSize, dict[str, Any]]:
    n = _n(n)
    directed = check_bool("directed", directed)
    if (p is None) == (mean_degree is None):
        raise ParameterError("p", "give exactly one of p and mean_degree")
    if p is None:
        z = check_number("mean_degree", mean_degree, 0.0, float(max(n - 1, 0)))
        p = z / (n - 1) if n > 1 else 0.0
    p = check_number("p", p, 0.0, 1.0)
    pairs = n * (n - 1) if directed else n * (n - 1) // 2
    return GraphSize(n, pairs * p, directed), {"n": n, "p": p, "directed": directed, "pairs": pairs}


def erdos_renyi(n: int, p: float | None = None, *, mean_degree: float | None = None,
                seed: SeedLike = None, directed: bool = False) -> Network:
    """The Erdős–Rényi random graph G(n, p).

    Every pair (ordered pair if ``directed``) is an edge independently with
    probability ``p``.

    Parameters
    ----------
    n : int
        Number of nodes.
    p : float, optional
        Edge probability in [0, 1].
    mean_degree : float, optional
        Instead of ``p``: the expected (out-)degree ``z``; ``p = z / (n - 1)``.
    seed : int, SeedSequence, Generator or None
    directed : bool, default False

    Returns
    -------
    Network

    Notes
    -----
    The pairs are enumerated (row-major upper triangle, or all ordered pairs
    ``i != j``) and the edges are the successes of that Bernoulli sequence,
    found with geometric skips: exact G(n, p) in time proportional to the
    number of edges. The number of edges is Binomial(N, p) with
    ``N = n (n - 1) / 2`` (``n (n - 1)`` if directed) and each degree is
    Binomial(n - 1, p), close to Poisson(z) for large ``n``.

    Examples
    --------
    >>> from diffusion.generators import erdos_renyi
    >>> erdos_renyi(1000, mean_degree=5, seed=0).n
    1000
    """
    v = _plan_erdos_renyi(n, p, mean_degree, directed)[1]
    n, p, directed, pairs = v["n"], v["p"], v["directed"], v["pairs"]
    rng = default_rng(seed)
    codes = _geometric_positions(rng, pairs, p)
    if directed:
        src, r = np.divmod(codes, n - 1)
        dst = r + (r >= src)
    else:
        src, dst = _upper_pair(codes, n)
    return Network.from_edges(n, src, dst, directed=directed)


def _dedupe_mask(codes: np.ndarray) -> np.ndarray:
    """True at every entry whose value occurred earlier in ``codes``."""
    order = np.argsort(codes, kind="stable")
    s = codes[order]
    dup = np.zeros(len(codes), dtype=bool)
    dup[order[1:]] = s[1:] == s[:-1]
    return dup


def _plan_watts_strogatz(n: Any, k: Any, p: Any, seed: Any = None) -> tuple[GraphSize, dict[str, Any]]:
    n = _n(n)
    k = check_integer("k", k, 0)
    if k % 2 or (n and k >= n):
        raise ParameterError("k", f"must be even and smaller than n, got {k}")
    p = check_number("p", p, 0.0, 1.0)
    return GraphSize(n, n * k / 2), {"n": n, "k": k, "p": p}


def watts_strogatz(n: int, k: int, p: float, *, seed: SeedLike = None) -> Network:
    """The Watts–Strogatz small world.

    A ring of ``n`` nodes, each joined to its ``k / 2`` nearest neighbours on
    either side; then each lattice edge ``(u, u + j)`` is rewired with
    probability ``p`` to ``(u, w)``, ``w`` uniform among the nodes that are
    neither ``u`` nor already a neighbour of ``u``.

    Parameters
    ----------
    n : int
        Number of nodes.
    k : int
        Lattice degree (even, ``0 <= k < n``).
    p : float
        Rewiring probability in [0, 1].
    seed : int, SeedSequence, Generator or None

    Notes
    -----
    Rewired end points are drawn for all chosen edges at once; an end point
    that would make a self-loop is excluded by construction and one that
    would duplicate an edge is redrawn (vectorized, over the few conflicts)
    until the graph is simple, so the graph keeps exactly ``n k / 2`` edges as
    in networkx's ``watts_strogatz_graph``. An edge whose end point ``u``
    has no free partner left keeps its lattice position.

    Examples
    --------
    >>> from diffusion.generators import watts_strogatz
    >>> watts_strogatz(20, 4, 0.0).degree.tolist() == [4] * 20
    True
    >>> watts_strogatz(1000, 6, 0.2, seed=1).number_of_edges
    3000
    """
    v = _plan_watts_strogatz(n, k, p)[1]
    n, k, p = v["n"], v["k"], v["p"]
    rng = default_rng(seed)
    half = k // 2
    src = np.repeat(np.arange(n, dtype=np.int64), half)
    dst = (src + np.tile(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewire = np.flatnonzero(rng.random(len(src)) < p)
    dst = dst.copy()
    kept = np.ones(len(src), dtype=bool)
    kept[rewire] = False
    u = src[rewire]
    w = rng.integers(0, max(n - 1, 1), size=len(rewire))
    new = w + (w >= u)  # never u itself
    while len(rewire):
        lo, hi = np.minimum(src[kept], dst[kept]), np.maximum(src[kept], dst[kept])
        kept_codes = np.sort(lo * n + hi)
        for _ in range(200):
            codes = np.minimum(u, new) * n + np.maximum(u, new)
            pos = np.minimum(np.searchsorted(kept_codes, codes), max(len(kept_codes) - 1, 0))
            clash = kept_codes[pos] == codes if len(kept_codes) else np.zeros(len(codes), bool)
            clash |= _dedupe_mask(codes)
            todo = np.flatnonzero(clash)
            if not len(todo):
                break
            w = rng.integers(0, n - 1, size=len(todo))
            new[todo] = w + (w >= u[todo])
        else:
            # no free partner found: these edges keep their lattice position; recheck the rest
            kept[rewire[todo]] = True
            stay = np.ones(len(rewire), dtype=bool)
            stay[todo] = False
            rewire, u, new = rewire[stay], u[stay], new[stay]
            continue
        break
    dst[rewire] = new
    return Network.from_edges(n, src, dst)


def _pairing_edges(rng: np.random.Generator, degrees: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uniformly random perfect matching of the stubs (``degrees[i]`` copies of ``i``)."""
    stubs = np.repeat(np.arange(len(degrees), dtype=np.int64), degrees)
    rng.shuffle(stubs)
    return stubs[0::2], stubs[1::2]


def _plan_random_regular(n: Any, d: Any, seed: Any = None) -> tuple[GraphSize, dict[str, Any]]:
    n = _n(n)
    d = check_integer("d", d, 0)
    if n and d >= n:
        raise ParameterError("d", f"must be smaller than n ({n}), got {d}")
    if (n * d) % 2:
        raise ParameterError("d", f"n * d must be even (n = {n}, d = {d})")
    return GraphSize(n, n * d / 2), {"n": n, "d": d}


def random_regular(n: int, d: int, *, seed: SeedLike = None) -> Network:
    """A random ``d``-regular simple graph on ``n`` nodes.

    Parameters
    ----------
    n : int
        Number of nodes.
    d : int
        Degree of every node (``0 <= d < n``, ``n d`` even).
    seed : int, SeedSequence, Generator or None

    Notes
    -----
    The stubs are paired uniformly at random (the pairing model). Self-loops
    and repeated pairs are then removed by *switchings* (McKay & Wormald,
    1990): a bad edge ``(a, b)`` and a randomly chosen good edge ``(c, d)``
    become ``(a, c), (b, d)`` whenever that creates neither a loop nor a
    repeated pair. All bad edges are switched at once in each round, so the
    work is vectorized; the result is exactly ``d``-regular and simple, and
    asymptotically uniform over such graphs (the pairing model is uniform,
    and only the ``O(d^2)`` expected bad edges are switched). Dense cases
    where switching stalls restart from a new pairing.

    Examples
    --------
    >>> from diffusion.generators import random_regular
    >>> net = random_regular(100, 4, seed=0)
    >>> set(net.degree.tolist())
    {4}
    """
    v = _plan_random_regular(n, d)[1]
    n, d = v["n"], v["d"]
    if d == n - 1:
        return complete_graph(n)
    rng = default_rng(seed)
    degrees = np.full(n, d, dtype=np.int64)
    for _restart in range(50):
        a, b = _pairing_edges(rng, degrees)
        for _round in range(2000):
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            codes = lo * n + hi
            bad = (a == b) | _dedupe_mask(codes)
            nbad = int(bad.sum())
            if not nbad:
                return Network.from_edges(n, a, b)
            good = np.flatnonzero(~bad)
            if len(good) < nbad:
                break
            badi = np.flatnonzero(bad)
            part = rng.choice(good, size=nbad, replace=False)
            flip = rng.random(nbad) < 0.5
            c = np.where(flip, b[part], a[part])
            e = np.where(flip, a[part], b[part])
            x, y = a[badi], b[badi]
            n1 = np.minimum(x, c) * n + np.maximum(x, c)
            n2 = np.minimum(y, e) * n + np.maximum(y, e)
            ok = (x != c) & (y != e)
            existing = np.sort(codes)
            for nc in (n1, n2):
                pos = np.minimum(np.searchsorted(existing, nc), len(existing) - 1)
                ok &= existing[pos] != nc
            # keep a switch only if none of its new pairs repeats one listed earlier
            tag = -1 - np.arange(2 * nbad)  # distinct placeholders for rejected switches
            newc = np.where(np.concatenate([ok, ok]), np.concatenate([n1, n2]), tag)
            seen = _dedupe_mask(newc)
            ok &= ~(seen[:nbad] | seen[nbad:])
            sel = np.flatnonzero(ok)
            a[badi[sel]], b[badi[sel]] = x[sel], c[sel]
            a[part[sel]], b[part[sel]] = y[sel], e[sel]
    raise DiffusionError(f"could not build a simple {d}-regular graph on {n} nodes")


_DEGREE_DISTRIBUTIONS = {"poisson": {"mean"}, "powerlaw": {"exponent", "min", "max"}}


def _degree_spec(n: int, spec: Any) -> dict[str, Any]:
    """Validate a ``degree_distribution`` table; its parameters and expected degree."""
    name = "degree_distribution"
    if not isinstance(spec, Mapping):
        raise ParameterError(name, f"must be a table such as {{distribution = \"poisson\", mean = 4}}, got {spec!r}")
    kind = spec.get("distribution")
    if isinstance(kind, list | dict) or kind not in _DEGREE_DISTRIBUTIONS:
        raise ParameterError(f"{name}.distribution",
                             f"must be one of {', '.join(_DEGREE_DISTRIBUTIONS)}, got {kind!r}")
    extra = set(spec) - _DEGREE_DISTRIBUTIONS[kind] - {"distribution"}
    if extra:
        raise ParameterError(f"{name}.{sorted(extra)[0]}", f"not a parameter of the {kind} degree distribution")
    kmax_cap = max(n - 1, 0)
    if kind == "poisson":
        if "mean" not in spec:
            raise ParameterError(f"{name}.mean", "required for the poisson degree distribution")
        mean = check_number(f"{name}.mean", spec["mean"], 0.0, float(kmax_cap))
        return {"kind": kind, "mean": mean, "cap": kmax_cap, "expected": mean}
    if "exponent" not in spec:
        raise ParameterError(f"{name}.exponent", "required for the powerlaw degree distribution")
    gamma = check_number(f"{name}.exponent", spec["exponent"], 1.0, open_low=True)
    kmin = check_integer(f"{name}.min", spec.get("min", 1), 0, kmax_cap)
    kmax = check_integer(f"{name}.max", spec.get("max", kmax_cap), kmin, kmax_cap)
    return {"kind": kind, "gamma": gamma, "kmin": kmin, "kmax": kmax, "cap": kmax_cap,
            "expected": _powerlaw_mean(gamma, max(kmin, 1), kmax) if kmax >= 1 else 0.0}


def _powerlaw_mean(gamma: float, a: int, b: int) -> float:
    """Mean of ``P(k) ∝ k^-gamma`` on ``a..b``: exact sums up to 10^5, an integral beyond."""
    head = np.arange(a, min(b, 100_000) + 1, dtype=np.float64)
    w = head ** -gamma
    num, den = float((head * w).sum()), float(w.sum())
    if b > 100_000:  # tail: integrals of k^(1-gamma) and k^-gamma over (10^5 + 1/2, b + 1/2)
        lo, hi = 100_000.5, b + 0.5

        def integral(e: float) -> float:
            return float(np.log(hi / lo)) if abs(e + 1) < 1e-12 else (hi ** (e + 1) - lo ** (e + 1)) / (e + 1)

        num += integral(1.0 - gamma)
        den += integral(-gamma)
    return num / den


def _draw_degrees(rng: np.random.Generator, n: int, spec: Mapping[str, Any]) -> np.ndarray:
    kmax_cap = spec["cap"]
    if spec["kind"] == "poisson":
        deg = np.minimum(rng.poisson(spec["mean"], size=n), kmax_cap)
        upper = kmax_cap
    else:
        gamma, kmin, kmax = spec["gamma"], spec["kmin"], spec["kmax"]
        k = np.arange(max(kmin, 1), kmax + 1, dtype=np.float64)
        if kmin == 0:
            k = np.concatenate([[0.0], k])
        pmf = np.where(k > 0, np.power(np.maximum(k, 1.0), -gamma), 0.0)
        if kmin == 0 and len(k) == 1:
            return np.zeros(n, dtype=np.int64)
        cdf = np.cumsum(pmf)
        cdf /= cdf[-1]
        deg = k[np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(k) - 1)].astype(np.int64)
        upper = kmax
    if n and deg.sum() % 2:  # make the stub count even: move one node's degree by one
        i = int(rng.integers(n))
        deg[i] += 1 if deg[i] < upper else -1
    return deg.astype(np.int64)


def _plan_configuration(degrees: Any = None, n: Any = None, degree_distribution: Any = None,
                        seed: Any = None) -> tuple[GraphSize, dict[str, Any]]:
    if (degrees is None) == (degree_distribution is None):
        raise ParameterError("degrees", "give exactly one of degrees and degree_distribution")
    if degrees is not None:
        if n is not None:
            raise ParameterError("n", "is given by the length of degrees; do not set both")
        try:
            raw = np.asarray(degrees, dtype=np.float64)
        except (TypeError, ValueError):
            raise ParameterError("degrees", "must be a list of non-negative integers") from None
        if raw.ndim != 1 or (raw.size and (not np.all(np.isfinite(raw)) or np.any(raw < 0)
                                           or np.any(raw != np.round(raw)))):
            raise ParameterError("degrees", "must be a list of non-negative integers")
        if raw.size and raw.max() > raw.size - 1:
            raise ParameterError("degrees", f"each must be at most n - 1 = {raw.size - 1} (the other nodes), "
                                 f"got {raw.max():.0f}")
        deg = raw.astype(np.int64)
        if deg.sum() % 2:
            raise ParameterError("degrees", f"must sum to an even number, got {int(deg.sum())}")
        return GraphSize(len(deg), float(deg.sum()) / 2, node_bytes=8), {"degrees": deg}
    if n is None:
        raise ParameterError("n", "required with degree_distribution")
    n = _n(n)
    spec = _degree_spec(n, degree_distribution)
    return GraphSize(n, n * spec["expected"] / 2, node_bytes=8), {"n": n, "spec": spec}


def configuration_model(degrees: Sequence[int] | np.ndarray | None = None, *, n: int | None = None,
                        degree_distribution: Mapping[str, Any] | None = None,
                        seed: SeedLike = None) -> Network:
    """Configuration model: a random graph with a given degree sequence.

    Parameters
    ----------
    degrees : sequence of int, optional
        The degree of each node (sum must be even).
    n : int, optional
        With ``degree_distribution``: the number of nodes.
    degree_distribution : mapping, optional
        Instead of ``degrees``: draw them i.i.d. from
        ``{"distribution": "poisson", "mean": z}`` or
        ``{"distribution": "powerlaw", "exponent": gamma, "min": 1, "max": n - 1}``
        (``P(k) ∝ k^-gamma`` for ``min <= k <= max``); in TOML
        ``degree_distribution = {distribution = "powerlaw", exponent = 2.5, min = 2}``.
        If the drawn degrees sum to an odd number, one random node's degree
        is moved by one.
    seed : int, SeedSequence, Generator or None

    Notes
    -----
    Stub matching: node ``i`` gets ``degrees[i]`` stubs and the stubs are
    paired uniformly at random. The result is made a *simple* graph by
    dropping self-loops and merging repeated pairs, so a node's degree can
    fall below its target; the expected number of removals is about
    ``(<k^2>/<k> - 1)^2 / 4 + (<k^2>/<k> - 1) / 2``, i.e. ``O(1)`` for
    degree sequences with finite variance. The target sequence is kept as the
    node attribute ``target_degree``.

    Examples
    --------
    >>> from diffusion.generators import configuration_model
    >>> configuration_model([1, 1, 2, 2], seed=0).number_of_edges <= 3
    True
    >>> net = configuration_model(n=500, degree_distribution={"distribution": "poisson", "mean": 3},
    ...                           seed=1)
    >>> net.n
    500
    """
    v = _plan_configuration(degrees, n, degree_distribution)[1]
    rng = default_rng(seed)
    deg = v["degrees"] if "degrees" in v else _draw_degrees(rng, v["n"], v["spec"])
    a, b = _pairing_edges(rng, deg)
    return Network.from_edges(len(deg), a, b, attributes={"target_degree": deg})


# ----------------------------------------------------------- Barabási–Albert
def _plan_barabasi_albert(n: Any, m: Any, seed: Any = None) -> tuple[GraphSize, dict[str, Any]]:
    n = _n(n, 1)
    m = check_integer("m", m, 1)
    if m >= n:
        raise ParameterError("m", f"must be smaller than n ({n}), got {m}")
    return GraphSize(n, m * (n - m)), {"n": n, "m": m}


def barabasi_albert(n: int, m: int, *, seed: SeedLike = None) -> Network:
    """The Barabási–Albert preferential-attachment graph.

    Starting from a star on ``m + 1`` nodes, nodes ``m + 1, ..., n - 1``
    arrive in turn and each attaches to ``m`` *distinct* existing nodes
    chosen with probability proportional to their degree — the model of
    networkx's ``barabasi_albert_graph``, in distribution.

    Parameters
    ----------
    n : int
        Number of nodes (``n > m``).
    m : int
        Edges per arriving node (``m >= 1``).
    seed : int, SeedSequence, Generator or None

    Returns
    -------
    Network
        ``m (n - m)`` edges; mean degree ``2 m (n - m) / n``.

    Notes
    -----
    Degree-proportional choice is uniform choice from the list ``L`` of all
    edge end points so far (``L[2e]``, ``L[2e + 1]`` are the ends of edge
    ``e``; Batagelj & Brandes, 2005). The new node owning edges
    ``e_0 .. e_0 + m - 1`` draws positions ``r`` uniform in ``[0, 2 e_0)``
    and takes the nodes found there. Even positions hold arriving nodes
    (known in advance) and odd positions hold earlier *targets*, so a target
    is a pointer to an earlier position. All draws are made at once and the
    pointers are followed for all edges together (each round at least halves
    the unresolved set: O(edges) work, O(log edges) rounds).

    A node must pick ``m`` distinct targets: slot ``j`` takes the first of
    its own i.i.d. draws that differs from slots ``0 .. j - 1`` (equivalent
    to networkx's "draw until ``m`` distinct"). Which draws are rejected
    depends on earlier targets, so the targets are recomputed as a whole
    until they no longer change; this fixed point is exactly the sequential
    process (by induction over arrival order), and rejections are rare, so
    it takes a few vectorized passes. The degree distribution has the BA
    tail ``P(k) = 2 m (m + 1) / (k (k + 1) (k + 2))``, i.e. ``~ k^-3``.

    Examples
    --------
    >>> from diffusion.generators import barabasi_albert
    >>> net = barabasi_albert(1000, 3, seed=0)
    >>> net.number_of_edges, round(net.mean_degree, 3)
    (2991, 5.982)
    """
    v = _plan_barabasi_albert(n, m)[1]
    n, m = v["n"], v["m"]
    rng = default_rng(seed)
    N = n - m - 1  # arriving nodes
    star_src = np.zeros(m, dtype=np.int64)
    star_dst = np.arange(1, m + 1, dtype=np.int64)
    if N == 0:
        return Network.from_edges(n, star_src, star_dst)
    v = np.arange(m + 1, n, dtype=np.int64)  # arriving nodes
    limit = 2 * m * (v - m)  # positions available to node v: [0, limit)
    R = np.floor(rng.random((N, m)) * limit[:, None]).astype(np.int64)
    R = np.minimum(R, limit[:, None] - 1)

    def base_value(pos: np.ndarray) -> np.ndarray:
        """Node at a *terminal* position (even, or an odd star position)."""
        e = pos >> 1
        src_node = np.where(e < m, 0, m + 1 + (e - m) // m)
        return np.where(pos & 1, e + 1, src_node)  # odd terminal only in the star

    def terminal(pos: np.ndarray) -> np.ndarray:
        return ((pos & 1) == 0) | (pos < 2 * m)

    # initial targets: every slot takes its first draw (pointer following)
    flat = R.ravel()
    ptr = flat.copy()
    todo = np.flatnonzero(~terminal(ptr))
    while len(todo):
        ptr[todo] = ptr[(ptr[todo] >> 1) - m]
        todo = todo[~terminal(ptr[todo])]
    T = base_value(ptr)

    def value(pos: np.ndarray, T: np.ndarray) -> np.ndarray:
        t = terminal(pos)
        out = np.empty(len(pos), dtype=np.int64)
        out[t] = base_value(pos[t])
        out[~t] = T[(pos[~t] >> 1) - m]
        return out

    # Which slots copy which earlier target (for propagating changes).
    term = terminal(flat)
    copying = np.flatnonzero(~term)
    ref = (flat[copying] >> 1) - m
    by_ref = np.argsort(ref, kind="stable")
    ref_sorted, ref_owner = ref[by_ref], copying[by_ref] // m
    base = np.where(term, base_value(flat), -1)
    cols = np.arange(m)

    # Extra draws per slot (slot = flat index into R), appended lazily: a slot's
    # stream is R[slot], then its extras in order.
    ex_slot = np.empty(0, dtype=np.int64)
    ex_pos = np.empty(0, dtype=np.int64)
    full = T.reshape(N, m)
    clash = np.zeros(N, dtype=bool)
    for j in range(1, m):
        clash |= (full[:, :j] == full[:, j : j + 1]).any(axis=1)
    dirty = np.flatnonzero(clash)
    while len(dirty):
        slots = (dirty[:, None] * m + cols).ravel()
        vals = base[slots]
        own = vals < 0
        vals[own] = T[(flat[slots[own]] >> 1) - m]
        acc = vals.reshape(-1, m)
        ex_vals = value(ex_pos, T)
        for j in range(1, m):
            rows = np.flatnonzero((acc[:, :j] == acc[:, j : j + 1]).any(axis=1))
            depth = 0
            while len(rows):
                sj = dirty[rows] * m + j
                # the depth-th extra draw of each slot, drawing a new one if missing
                first = np.searchsorted(ex_slot, sj)
                count = np.searchsorted(ex_slot, sj, side="right") - first
                if (count <= depth).any():
                    miss = sj[count <= depth]
                    lim = limit[miss // m]
                    newp = np.minimum(np.floor(rng.random(len(miss)) * lim).astype(np.int64), lim - 1)
                    order = np.argsort(np.concatenate([ex_slot, miss]), kind="stable")
                    ex_slot = np.concatenate([ex_slot, miss])[order]
                    ex_pos = np.concatenate([ex_pos, newp])[order]
                    ex_vals = value(ex_pos, T)
                    first = np.searchsorted(ex_slot, sj)
                cand = ex_vals[first + depth]
                acc[rows, j] = cand
                rows = rows[(acc[rows, :j] == cand[:, None]).any(axis=1)]
                depth += 1
        new = acc.ravel()
        changed = slots[new != T[slots]]
        T[slots] = new
        if not len(changed):
            break
        # rows that copy a changed target, plus rows with extra draws, are recomputed
        lo = np.searchsorted(ref_sorted, changed)
        cnt = np.searchsorted(ref_sorted, changed, side="right") - lo
        at = np.repeat(lo - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt) + np.arange(cnt.sum())
        dirty = np.unique(np.concatenate([ref_owner[at], ex_slot // m]))
    src = np.concatenate([star_src, np.repeat(v, m)])
    dst = np.concatenate([star_dst, T])
    return Network.from_edges(n, src, dst)


# ----------------------------------------------------------------- SMB graph
#: Most sectors (regions) of an SMB population, and most sector x region blocks.
_MAX_GROUPS = 100_000
_MAX_BLOCKS = 10_000_000
#: Largest expected number of ties of :func:`smb_network` (a Poisson mean numpy can draw).
_MAX_TIES = 1e18
#: Bound on ``|log size|`` of :func:`smb_network` firms (sizes within about 1e±100), so that
#: sizes, propensities and buffers are finite and positive however the parameters combine.
_LOG_SIZE = 230.0
#: Largest log-scale spread of buffers and edge intensities: ``exp(sd e - sd^2 / 2)`` stays
#: within ``[exp(-400), exp(50)]`` for draws ``|e| <= 10``.
_MAX_LOG_SD = 20.0
#: Largest size effect or spread (logit units) of uncertainty and success (beyond a few dozen
#: every firm is at 0 or 1 anyway).
_MAX_LOGIT = 1e6


def _labels(name: str, spec: Any) -> tuple[int, list[str] | None]:
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        names = [str(s) for s in spec]
        if not names:
            raise ParameterError(name, "needs at least one entry")
        if len(set(names)) != len(names):
            raise ParameterError(name, "names must be distinct")
        if len(names) > _MAX_GROUPS:
            raise ParameterError(name, f"at most {_MAX_GROUPS:,} entries")
        return len(names), names
    return check_integer(name, spec, 1, _MAX_GROUPS), None


def _shares(name: str, shares: Any, k: int) -> np.ndarray:
    if shares is None:
        return np.full(k, 1.0 / k)
    try:
        s = np.asarray(shares, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(name, "must be a list of non-negative numbers") from None
    if s.shape != (k,):
        raise ParameterError(name, f"must have {k} entries, got {s.size}")
    if not np.all(np.isfinite(s)) or np.any(s < 0) or s.sum() <= 0:
        raise ParameterError(name, "must be non-negative numbers with a positive sum")
    return s / s.sum()


def _homophily(h: Any) -> dict[str, float]:
    if isinstance(h, Mapping):
        extra = set(h) - {"sector", "region", "block"}
        if extra:
            raise ParameterError(f"homophily.{sorted(extra)[0]}", "keys are sector, region and block")
        out = {k: check_number(f"homophily.{k}", h.get(k, 0.0), 0.0, 1.0) for k in ("sector", "region", "block")}
    else:
        x = check_number("homophily", h, 0.0, 1.0)
        out = {"sector": x / 2, "region": x / 2, "block": 0.0}
    if sum(out.values()) > 1 + 1e-12:
        raise ParameterError("homophily", f"the shares must sum to at most 1, got {sum(out.values()):g}")
    return out


def _group_endpoints(rng: np.random.Generator, labels: np.ndarray, ngroups: int, theta: np.ndarray,
                     expected: float, per_edge: int) -> np.ndarray:
    """Draw ``Poisson(expected * Θ_G / Θ)`` edges inside each group ``G``.

    Returns an array of shape ``(per_edge, edges)`` of node indices, each
    end point drawn independently with probability ``θ_i / Θ_G`` inside its
    edge's group.
    """
    tg = np.bincount(labels, weights=theta, minlength=ngroups)
    total = tg.sum()
    k = rng.poisson(expected * tg / total) if total > 0 else np.zeros(ngroups, dtype=np.int64)
    # node indices in the smallest dtype that holds them: a national-scale
    # graph draws 2 * 10**8 end points (the draws do not depend on the dtype)
    itype = np.int32 if len(labels) < 2**31 - 1 else np.int64
    order = np.argsort(labels, kind="stable").astype(itype, copy=False)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=ngroups))])
    out = np.empty((per_edge, int(k.sum())), dtype=itype)
    at = 0
    for g in np.flatnonzero(k):  # loop over groups (blocks), not nodes
        members = order[bounds[g] : bounds[g + 1]]
        w = theta[members] / tg[g]
        counts = rng.multinomial(per_edge * int(k[g]), w / w.sum())
        ends = np.repeat(members, counts)
        rng.shuffle(ends)  # i.i.d. draws in random order == exchangeable pairing
        out[:, at : at + k[g]] = ends.reshape(-1, per_edge).T
        at += int(k[g])
    return out


def _cap_propensity(theta: np.ndarray, z: float, kmax: float) -> np.ndarray:
    """Cap ``theta`` at ``c`` so that ``z n min(theta_i, c) / sum_j min(theta_j, c) <= kmax``.

    With the top ``k`` propensities capped, ``c = kmax (T - P_k) / (z n - k kmax)``
    (``T`` the total, ``P_k`` the sum of the ``k`` largest); the smallest ``k``
    for which the capped and uncapped nodes fall on the right sides of ``c``
    is the solution.
    """
    n = len(theta)
    if n == 0 or z <= 0 or z * n * theta.max() <= kmax * theta.sum():
        return theta
    desc = np.sort(theta)[::-1]
    prefix = np.concatenate([[0.0], np.cumsum(desc)])
    k = np.arange(n)
    denom = z * n - k * kmax
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(denom > 0, kmax * (prefix[-1] - prefix[:-1]) / denom, np.inf)
    above = np.concatenate([[np.inf], desc[:-1]])  # the k-th largest, capped (inf when k = 0)
    ok = (denom > 0) & (desc <= c) & (above >= c)
    if not ok.any():  # every firm at the cap: all propensities equal
        return np.ones_like(theta)
    return np.minimum(theta, c[np.argmax(ok)])


def _plan_smb(n: Any, mean_degree: Any, sectors: Any, regions: Any, homophily: Any, sector_shares: Any,
              region_shares: Any, size_distribution: Any, size_log_mean: Any, size_log_sd: Any, size_shape: Any,
              size_min: Any, size_exponent: Any, max_degree: Any, resources_ratio: Any, resources_sd: Any,
              uncertainty_median: Any, uncertainty_size_effect: Any, uncertainty_sd: Any, success_size_effect: Any,
              success_sd: Any, weighted: Any, weight_sd: Any, directed: Any, seed: Any = None
              ) -> tuple[GraphSize, dict[str, Any]]:
    n = _n(n)
    z = check_number("mean_degree", mean_degree, 0.0)
    if n * z / 2 > _MAX_TIES:
        raise ParameterError("mean_degree", f"n × mean_degree / 2 = {n * z / 2:.3g} expected ties: more than "
                             f"can be drawn ({_MAX_TIES:.0e})")
    S, sector_names = _labels("sectors", sectors)
    Rg, region_names = _labels("regions", regions)
    if S * Rg > _MAX_BLOCKS:
        raise ParameterError("regions", f"sectors x regions is {S * Rg:,} blocks; at most {_MAX_BLOCKS:,}")
    h = _homophily(homophily)
    s_sh = _shares("sector_shares", sector_shares, S)
    r_sh = _shares("region_shares", region_shares, Rg)
    mu = sd = shape = smin = None
    if size_distribution == "lognormal":
        for key, val in (("size_shape", size_shape), ("size_min", size_min)):
            if val is not None:
                raise ParameterError(key, "applies to size_distribution = \"pareto\" only")
        mu = check_number("size_log_mean", 2.0 if size_log_mean is None else size_log_mean, -_LOG_SIZE, _LOG_SIZE)
        sd = check_number("size_log_sd", 1.2 if size_log_sd is None else size_log_sd, 0.0)
        if abs(mu) + 10 * sd > _LOG_SIZE:
            raise ParameterError("size_log_sd", f"size_log_mean ± 10 size_log_sd must lie within ±{_LOG_SIZE:g} "
                                 f"(firm sizes finite and positive), got {sd}")
    elif size_distribution == "pareto":
        for key, val in (("size_log_mean", size_log_mean), ("size_log_sd", size_log_sd)):
            if val is not None:
                raise ParameterError(key, "applies to size_distribution = \"lognormal\" only")
        shape = check_number("size_shape", 1.5 if size_shape is None else size_shape, 0.0, open_low=True)
        smin = check_number("size_min", 1.0 if size_min is None else size_min, 0.0, open_low=True)
        if abs(np.log(smin)) > _LOG_SIZE:
            raise ParameterError("size_min", f"must lie within exp(±{_LOG_SIZE:g}), got {smin}")
        # the largest draw is about size_min * exp(40 / size_shape)
        least = 40.0 / (_LOG_SIZE - np.log(smin))
        if shape < least:
            raise ParameterError("size_shape", f"must be >= {least:.3g} with size_min = {smin:g} (smaller "
                                 f"shapes make the largest firm sizes overflow), got {shape}")
    else:
        raise ParameterError("size_distribution", f"must be \"lognormal\" or \"pareto\", got {size_distribution!r}")
    alpha = check_number("size_exponent", size_exponent, 0.0)
    if max_degree is None:  # the structural cut-off: no pair expects more than one tie
        kmax = max(min(n - 1.0, float(np.sqrt(z * n))), 1.0)
    else:
        kmax = check_number("max_degree", max_degree, 0.0, open_low=True)
    res_ratio = check_number("resources_ratio", resources_ratio, 0.0, 1e100)
    res_sd = check_number("resources_sd", resources_sd, 0.0, _MAX_LOG_SD)
    u_med = check_number("uncertainty_median", uncertainty_median, 0.0, 1.0)
    if not 0 < u_med < 1:
        raise ParameterError("uncertainty_median", f"must be strictly between 0 and 1, got {u_med}")
    u_eff = check_number("uncertainty_size_effect", uncertainty_size_effect, -_MAX_LOGIT, _MAX_LOGIT)
    u_sd = check_number("uncertainty_sd", uncertainty_sd, 0.0, _MAX_LOGIT)
    s_eff = check_number("success_size_effect", success_size_effect, -_MAX_LOGIT, _MAX_LOGIT)
    s_sd = check_number("success_sd", success_sd, 0.0, _MAX_LOGIT)
    weighted = check_bool("weighted", weighted)
    w_sd = check_number("weight_sd", weight_sd, 0.0, _MAX_LOG_SD)
    directed = check_bool("directed", directed)
    names = max((len(x) for x in (sector_names or []) + (region_names or [])), default=0)
    size = GraphSize(n, n * z if directed else n * z / 2, directed, node_bytes=200 + 8 * names)
    return size, {"n": n, "z": z, "S": S, "sector_names": sector_names, "Rg": Rg, "region_names": region_names,
                  "h": h, "s_sh": s_sh, "r_sh": r_sh, "mu": mu, "sd": sd, "shape": shape, "smin": smin,
                  "alpha": alpha, "kmax": kmax, "res_ratio": res_ratio, "res_sd": res_sd, "u_med": u_med,
                  "u_eff": u_eff, "u_sd": u_sd, "s_eff": s_eff, "s_sd": s_sd, "weighted": weighted, "w_sd": w_sd,
                  "directed": directed, "size_distribution": size_distribution}


def smb_network(
    n: int,
    *,
    mean_degree: float = 8.0,
    sectors: int | Sequence[str] = 10,
    regions: int | Sequence[str] = 5,
    homophily: float | Mapping[str, float] = 0.6,
    sector_shares: Sequence[float] | None = None,
    region_shares: Sequence[float] | None = None,
    size_distribution: str = "lognormal",
    size_log_mean: float | None = None,
    size_log_sd: float | None = None,
    size_shape: float | None = None,
    size_min: float | None = None,
    size_exponent: float = 0.8,
    max_degree: float | None = None,
    resources_ratio: float = 0.25,
    resources_sd: float = 0.5,
    uncertainty_median: float = 0.5,
    uncertainty_size_effect: float = 0.5,
    uncertainty_sd: float = 0.75,
    success_size_effect: float = 0.5,
    success_sd: float = 1.0,
    weighted: bool = False,
    weight_sd: float = 0.5,
    directed: bool = False,
    seed: SeedLike = None,
) -> Network:
    """A synthetic population of SMBs and their interactions.

    A degree-corrected stochastic block model over sector × region blocks,
    with homophily, heavy-tailed firm sizes, degree propensity growing with
    size, and the firm attributes used by the cascade and shock models.

    Parameters
    ----------
    n : int
        Number of firms.
    mean_degree : float, default 8.0
        Target mean degree ``z`` (mean out-degree if ``directed``); ``n z / 2`` at most 1e18.
    sectors, regions : int or list of str
        Number of sectors (regions), or their names; with names the
        ``sector`` (``region``) attribute holds the names, else codes ``0..S-1``
        (at most 10,000,000 sector × region blocks).
    homophily : float or mapping, default 0.6
        Share of ties formed *inside a group* rather than at random: a float
        ``h`` puts ``h / 2`` on same-sector ties and ``h / 2`` on same-region
        ties; a mapping ``{sector = hs, region = hr, block = hb}`` (sum <= 1)
        sets each share, ``block`` meaning same sector *and* region.
    sector_shares, region_shares : list of float, optional
        Relative sizes of the sectors (regions); default equal.
    size_distribution : {"lognormal", "pareto"}
        Firm-size law.
    size_log_mean, size_log_sd : float, optional
        Lognormal sizes: ``log size ~ Normal(size_log_mean, size_log_sd)``
        (defaults 2.0 and 1.2: median about 7 employees), with
        ``|size_log_mean| + 10 size_log_sd <= 230`` so that sizes stay finite
        and positive.
    size_shape, size_min : float, optional
        Pareto sizes: ``P(size > s) = (size_min / s)^size_shape`` for
        ``s >= size_min`` (defaults 1.5 and 1.0), with
        ``log size_min + 40 / size_shape <= 230``.
    size_exponent : float, default 0.8
        ``alpha >= 0`` in the degree propensity ``theta = size^alpha`` (0: no size effect).
    max_degree : float, optional
        Largest expected degree of a firm: the propensities of the very
        largest firms are capped so that ``z n theta_i / Theta <= max_degree``.
        The default is the structural cut-off ``sqrt(z n)`` (at most
        ``n - 1``), above which two giant firms would expect more than one tie
        between them and repeats would be merged away; it rarely binds for
        lognormal sizes, but keeps heavy Pareto tails from absorbing the ties.
    resources_ratio, resources_sd : float
        Buffers: ``resources = resources_ratio * size * exp(resources_sd * e - resources_sd^2 / 2)``
        (``resources_ratio <= 1e100``, ``resources_sd <= 20``).
    uncertainty_median, uncertainty_size_effect, uncertainty_sd : float
        ``uncertainty = expit(logit(uncertainty_median) - uncertainty_size_effect * z + uncertainty_sd * e)``
        (effects and spreads at most 1e6 in absolute value).
    success_size_effect, success_sd : float
        ``success = expit(success_size_effect * z + success_sd * e)``.
    weighted : bool, default False
        Give edges interaction intensities (see Notes).
    weight_sd : float, default 0.5
        Log-scale spread of the intensities (at most 20: the intensities stay
        positive and finite).
    directed : bool, default False
        Draw directed (dependency) ties; both ends are drawn by propensity.
    seed : int, SeedSequence, Generator or None

    Returns
    -------
    Network
        With node attributes ``sector``, ``region``, ``size``, ``resources``,
        ``uncertainty``, ``success`` and ``prestige``.

    Notes
    -----
    *Attributes.* Each firm's sector and region are drawn independently from
    the shares. ``z_i`` is the standardized log size (zero mean, unit
    variance over the population); ``e`` denotes independent standard
    normal noise. ``uncertainty`` and ``success`` lie in ``(0, 1)``: small
    firms are more uncertain (and so more susceptible to mimetic pressure)
    and large firms are more often successful. ``prestige =
    success * theta / mean(success * theta)`` (visibility times success,
    mean 1).

    *Ties.* Let ``theta_i = size_i^alpha`` (capped, see ``max_degree``), ``Theta = sum_i theta_i`` and, for
    a group ``G`` (one block, sector or region), ``Theta_G = sum_{i in G}
    theta_i``. The expected number of edges is ``M = n z / 2`` (``n z`` if
    directed), split into tie types with shares ``h_block``, ``h_sector``,
    ``h_region`` and ``h_random = 1 - sum``. Ties of type ``t`` fall in group
    ``G`` of that type's partition in number ``Poisson(h_t M Theta_G /
    Theta)`` (the random type has the single group of all firms), and each
    end point is drawn independently with probability ``theta_i /
    Theta_G`` inside ``G``. So the expected number of ties between ``i != j``
    is the degree-corrected SBM rate

    ``lambda_ij = 2 M theta_i theta_j [h_random / Theta^2 + sum_t h_t [g_t(i) = g_t(j)] / (Theta Theta_{g_t(i)})]``

    (without the factor 2 for an ordered pair if directed), and every firm's
    expected degree is ``z n theta_i / Theta`` whatever its group, so degree
    grows like ``size^alpha`` and homophily only moves ties between groups.
    The expected share of ties with both ends in the same block is
    ``h_block + sum_{t != block} h_t sum_G (Theta_G / Theta) sum_{B in G}
    (Theta_B / Theta_G)^2``.

    Self-loops are dropped and repeated pairs merged, so the realized mean
    degree is slightly below ``z`` (by the expected number of loops and
    repeats, ``O(sum theta_i^2 / Theta_G^2)`` per group — small unless
    blocks are tiny or sizes extremely skewed). With ``weighted=True`` each
    drawn tie carries an intensity ``exp(weight_sd * e - weight_sd^2 / 2)``
    (mean 1) and repeated ties add up.

    Sampling is O(n + edges): per group, a multinomial allocation of the
    end points to members, shuffled and paired (equivalent to independent
    draws), then one sparse de-duplication.

    Examples
    --------
    >>> from diffusion.generators import smb_network
    >>> net = smb_network(2000, mean_degree=6, sectors=["retail", "food", "services"],
    ...                   regions=4, seed=7)
    >>> sorted(net.attributes)
    ['prestige', 'region', 'resources', 'sector', 'size', 'success', 'uncertainty']
    >>> str(net.attributes["sector"][0]) in {"retail", "food", "services"}
    True
    >>> 5.0 < net.mean_degree < 6.2
    True
    """
    v = _plan_smb(**{k: val for k, val in locals().items() if k != "seed"})[1]
    n, z, S, sector_names, Rg, region_names = v["n"], v["z"], v["S"], v["sector_names"], v["Rg"], v["region_names"]
    h, s_sh, r_sh, alpha, kmax = v["h"], v["s_sh"], v["r_sh"], v["alpha"], v["kmax"]
    mu, sd, shape, smin = v["mu"], v["sd"], v["shape"], v["smin"]
    res_ratio, res_sd, u_med, u_eff, u_sd = v["res_ratio"], v["res_sd"], v["u_med"], v["u_eff"], v["u_sd"]
    s_eff, s_sd, weighted, w_sd, directed = v["s_eff"], v["s_sd"], v["weighted"], v["w_sd"], v["directed"]
    rng = default_rng(seed)

    # --- firms
    sector = rng.choice(S, size=n, p=s_sh).astype(np.int64)
    region = rng.choice(Rg, size=n, p=r_sh).astype(np.int64)
    if size_distribution == "lognormal":
        size = rng.lognormal(mu, sd, size=n)
    else:
        size = smin * (1.0 + rng.pareto(shape, size=n))
    logs = np.log(size)
    spread = logs.std() if n else 0.0
    zsize = (logs - logs.mean()) / spread if spread > 0 else np.zeros(n)
    # theta = size^alpha up to a constant factor (which cancels), computed without overflow
    theta = np.exp(alpha * (logs - logs.max())) if n else size
    theta = _cap_propensity(theta, z, kmax)
    noise = rng.standard_normal((4, n))
    resources = res_ratio * size * np.exp(res_sd * noise[0] - res_sd**2 / 2)
    uncertainty = expit(logit(u_med) - u_eff * zsize + u_sd * noise[1])
    success = expit(s_eff * zsize + s_sd * noise[2])
    vis = success * theta
    prestige = vis / vis.mean() if n and vis.mean() > 0 else np.ones(n)

    # --- ties
    M = n * z if directed else n * z / 2
    parts = [
        ("block", sector * Rg + region, S * Rg),
        ("sector", sector, S),
        ("region", region, Rg),
        ("random", np.zeros(n, dtype=np.int64), 1),
    ]
    shares = {**h, "random": max(0.0, 1.0 - sum(h.values()))}
    ends = [
        _group_endpoints(rng, lab, ng, theta, shares[key] * M, 2)
        for key, lab, ng in parts
        if shares[key] > 0 and n
    ]
    if ends:
        edges = np.concatenate(ends, axis=1)
    else:
        edges = np.empty((2, 0), dtype=np.int64)
    del ends
    w = np.exp(w_sd * rng.standard_normal(edges.shape[1]) - w_sd**2 / 2) if weighted else None
    attrs = {
        "sector": np.asarray(sector_names)[sector] if sector_names else sector,
        "region": np.asarray(region_names)[region] if region_names else region,
        "size": size,
        "resources": resources,
        "uncertainty": uncertainty,
        "success": success,
        "prestige": prestige,
    }
    return Network.from_edges(n, edges[0], edges[1], w, directed=directed, attributes=attrs)


GENERATORS: dict[str, Callable[..., Network]] = {
    "smb": smb_network,
    "erdos_renyi": erdos_renyi,
    "barabasi_albert": barabasi_albert,
    "watts_strogatz": watts_strogatz,
    "random_regular": random_regular,
    "configuration": configuration_model,
    "complete": complete_graph,
}
"""Scenario-file generator names (``[network] generator = ...``) to functions."""

_PLANS: dict[str, Callable[..., tuple[GraphSize, dict[str, Any]]]] = {
    "smb": _plan_smb,
    "erdos_renyi": _plan_erdos_renyi,
    "barabasi_albert": _plan_barabasi_albert,
    "watts_strogatz": _plan_watts_strogatz,
    "random_regular": _plan_random_regular,
    "configuration": _plan_configuration,
    "complete": _plan_complete,
}


@functools.lru_cache(maxsize=64)
def _bound_signature(fn: Callable[..., Network]) -> inspect.Signature:
    return inspect.signature(fn)


_BUILT_IN = dict(GENERATORS)


def check_generator(name: str, **params: Any) -> GraphSize | None:
    """Check the parameters of generator ``name`` exactly as it will, without building anything.

    Parameters
    ----------
    name : str
        A key of :data:`GENERATORS`.
    **params
        Its keyword arguments (``seed`` is not needed).

    Returns
    -------
    GraphSize or None
        The expected size of the graph and the memory building it takes;
        ``None`` for a generator added to :data:`GENERATORS` by other code
        (its parameters are then checked when it runs).

    Raises
    ------
    ParameterError
        Naming the first invalid parameter.

    Examples
    --------
    >>> from diffusion.generators import check_generator
    >>> check_generator("complete", n=10**6).edges
    499999500000.0
    >>> check_generator("erdos_renyi", n=100, p=1.5)
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: p: must be <= 1.0, got 1.5
    """
    if name not in GENERATORS:
        raise ParameterError("generator", f"unknown generator {name!r}; choose one of {', '.join(sorted(GENERATORS))}")
    if GENERATORS[name] is not _BUILT_IN.get(name):
        return None
    try:
        bound = _bound_signature(GENERATORS[name]).bind(**params)
    except TypeError as exc:
        raise ParameterError("generator", f"{name}: {exc}") from None
    bound.apply_defaults()
    return _PLANS[name](**bound.arguments)[0]
