"""Random graph generators, vectorized and reproducible from a seed.

Every generator takes ``seed`` (an int, a :class:`numpy.random.SeedSequence`,
a :class:`numpy.random.Generator` or ``None``) and returns a :class:`Network`.
"""

from __future__ import annotations

import numpy as np

from ._random import default_rng
from .errors import ParameterError
from .network import Network

__all__ = ["complete_graph", "erdos_renyi", "watts_strogatz"]


def complete_graph(n: int) -> Network:
    """The complete graph on ``n`` nodes (mean-field checks).

    Examples
    --------
    >>> from diffusion.generators import complete_graph
    >>> complete_graph(4).number_of_edges
    6
    """
    if n < 0:
        raise ParameterError("n", "must be non-negative")
    src, dst = np.triu_indices(n, 1)
    return Network.from_edges(n, src, dst)


def erdos_renyi(n: int, p: float | None = None, *, mean_degree: float | None = None, seed=None,
                directed: bool = False) -> Network:
    """G(n, p) random graph; give ``p`` or ``mean_degree`` (``p = z / (n - 1)``).

    Examples
    --------
    >>> from diffusion.generators import erdos_renyi
    >>> erdos_renyi(1000, mean_degree=5, seed=0).n
    1000
    """
    if (p is None) == (mean_degree is None):
        raise ParameterError("p", "give exactly one of p and mean_degree")
    if p is None:
        p = float(mean_degree) / max(n - 1, 1)
    if not 0 <= p <= 1:
        raise ParameterError("p", f"must be in [0, 1], got {p}")
    rng = default_rng(seed)
    pairs = n * (n - 1) if directed else n * (n - 1) // 2
    m = rng.binomial(pairs, p)
    # sample m distinct pair codes with rejection of duplicates
    codes = np.unique(rng.integers(0, pairs, size=int(m * 1.05) + 16))
    while len(codes) < m:
        codes = np.unique(np.concatenate([codes, rng.integers(0, pairs, size=m - len(codes) + 16)]))
    codes = rng.permutation(codes)[:m]
    if directed:
        src, dst = np.divmod(codes, n - 1)
        dst = dst + (dst >= src)
    else:
        # invert the row-major enumeration of the upper triangle
        i = (n - 2 - np.floor(np.sqrt(-8 * codes + 4 * n * (n - 1) - 7) / 2.0 - 0.5)).astype(np.int64)
        j = codes + i + 1 - n * (n - 1) // 2 + (n - i) * ((n - i) - 1) // 2
        src, dst = i, j
    return Network.from_edges(n, src, dst, directed=directed)


def watts_strogatz(n: int, k: int, p: float, *, seed=None) -> Network:
    """Watts–Strogatz small world: ring lattice of degree ``k``, each edge rewired with prob. ``p``.

    Examples
    --------
    >>> from diffusion.generators import watts_strogatz
    >>> watts_strogatz(20, 4, 0.0).degree.tolist() == [4] * 20
    True
    """
    if k % 2 or k >= n:
        raise ParameterError("k", "must be even and smaller than n")
    rng = default_rng(seed)
    src = np.repeat(np.arange(n), k // 2)
    dst = (src + np.tile(np.arange(1, k // 2 + 1), n)) % n
    rewire = rng.random(len(src)) < p
    dst = dst.copy()
    dst[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    return Network.from_edges(n, src, dst)
