"""Robustness of the firm network to the removal of firms (Albert, Jeong & Barabási 2000).

Firms are removed at random or in order of degree or size; after each removed
fraction the size of the largest connected component (weakly connected for
directed networks) is measured with :func:`scipy.sparse.csgraph.connected_components`,
as a fraction of the *original* number of firms. On an Erdős–Rényi graph with
mean degree ``z``, random removal of a fraction ``f`` leaves a giant component
``S`` solving ``S = (1 - f)(1 - exp(-z S))`` (Cohen et al. 2000); targeted
removal of hubs fragments scale-free graphs far sooner.

Targeted orders
---------------
``recalculate=False`` (default) ranks firms once, by their degree (or size) in
the intact network, as Albert, Jeong & Barabási (2000) and Cohen et al. (2001)
do. ``recalculate=True`` is the adaptive attack: between successive fractions
of the grid the degrees are recomputed on the remaining network and the next
block of firms is taken from the top of the new ranking (so the attack adapts
once per grid step, not after every single removal). Ties are broken at random
(per replicate) for every strategy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .._random import SeedLike, replicate_generators
from ..errors import ParameterError
from ..network import Network
from .base import node_score

__all__ = ["RobustnessResult", "giant_component_fraction", "robustness"]

STRATEGIES = ("random", "degree", "size")


@dataclass(frozen=True)
class RobustnessResult:
    """Giant-component curves.

    Attributes
    ----------
    fractions : ndarray, shape (F,)
        Fractions of firms removed.
    giant : ndarray, shape (runs, F)
        Largest component after each removal, as a fraction of the original firms.
    strategy : str
    recalculate : bool
    """

    fractions: np.ndarray
    giant: np.ndarray
    strategy: str
    recalculate: bool = False

    @property
    def mean(self) -> np.ndarray:
        """Mean giant-component fraction per removed fraction, shape ``(F,)``."""
        return self.giant.mean(axis=0)

    @property
    def se(self) -> np.ndarray:
        """Standard error of :attr:`mean`."""
        R = self.giant.shape[0]
        return self.giant.std(axis=0, ddof=1) / np.sqrt(R) if R > 1 else np.zeros(len(self.fractions))

    def critical_fraction(self, level: float = 0.05) -> float:
        """Smallest removed fraction at which the mean giant component falls to ``level`` or below."""
        below = np.flatnonzero(self.mean <= level)
        return float(self.fractions[below[0]]) if below.size else float("nan")

    def to_records(self) -> list[dict[str, Any]]:
        """Flat records: strategy, fraction, mean, se, q05, q95."""
        q = np.quantile(self.giant, [0.05, 0.95], axis=0)
        return [
            {"strategy": self.strategy, "fraction": float(f), "giant_mean": float(m),
             "giant_se": float(s), "giant_q05": float(a), "giant_q95": float(b)}
            for f, m, s, a, b in zip(self.fractions, self.mean, self.se, q[0], q[1], strict=True)
        ]


def giant_component_fraction(adjacency: sp.csr_array, keep: np.ndarray) -> float:
    """Largest connected component of the subgraph on ``keep`` / number of all nodes."""
    n = adjacency.shape[0]
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return 0.0
    sub = adjacency[idx][:, idx]
    _, labels = connected_components(sub, directed=True, connection="weak")
    return float(np.bincount(labels).max() / n)


def _symmetric(network: Network) -> sp.csr_array:
    A = network.to_scipy(weighted=False)
    if network.directed:
        A = (A + A.T).tocsr()
    return sp.csr_array(A)


def robustness(network: Network, fractions: Any, strategy: str = "random", runs: int = 10,
               seed: SeedLike = None, *, recalculate: bool = False) -> RobustnessResult:
    """Giant-component fraction after removing each fraction of the firms.

    Parameters
    ----------
    network : Network
    fractions : sequence of float in [0, 1]
        Removed fractions (sorted increasingly internally; the result follows
        the sorted order).
    strategy : {"random", "degree", "size"} or attribute name, default "random"
        Removal order: uniformly random, by decreasing degree, or by
        decreasing value of the ``size`` (or any numeric) attribute.
    runs : int, default 10
        Replicates (independent random orders / tie-breaks).
    seed : int or SeedSequence, optional
        Replicate ``r`` draws from child ``r`` of ``SeedSequence(seed)``.
    recalculate : bool, default False
        Adaptive targeted attack (see module docs).

    Returns
    -------
    RobustnessResult

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import robustness
    >>> net = diffusion.generators.erdos_renyi(500, mean_degree=4, seed=1)
    >>> res = robustness(net, [0.0, 0.5, 0.9], "random", runs=3, seed=2)
    >>> res.giant.shape, bool(res.mean[0] > res.mean[1] > res.mean[2])
    ((3, 3), True)
    """
    if not isinstance(network, Network):
        raise ParameterError("network", f"must be a diffusion.Network, got {type(network).__name__}")
    f = np.sort(np.atleast_1d(np.asarray(fractions, dtype=np.float64)))
    if f.size == 0 or not np.all(np.isfinite(f)) or f.min() < 0 or f.max() > 1:
        raise ParameterError("fractions", "must be a non-empty list of numbers in [0, 1]")
    if not isinstance(strategy, str):
        raise ParameterError("strategy", f"must be 'random', 'degree', 'size' or an attribute, got {strategy!r}")
    if isinstance(runs, bool) or not isinstance(runs, int | np.integer) or runs < 1:
        raise ParameterError("runs", f"must be a positive integer, got {runs!r}")
    n = network.n
    A = _symmetric(network)
    counts = np.rint(f * n).astype(np.int64)
    score = None if strategy == "random" else node_score(network, strategy, "strategy")
    giant = np.empty((int(runs), f.size))
    for r, g in enumerate(replicate_generators(seed, int(runs))):
        tiebreak = g.random(n)
        if score is None:
            order = np.argsort(tiebreak)
        elif not recalculate or strategy != "degree":
            order = np.lexsort((tiebreak, -score))
        else:
            order = None
        keep = np.ones(n, dtype=bool)
        removed = 0
        for c, m in enumerate(counts):
            if order is not None:
                keep[order[removed:m]] = False
            elif m > removed:  # adaptive: rank by the degree in the remaining network
                deg = A @ keep.astype(np.float64)
                cand = np.flatnonzero(keep)
                pick = cand[np.lexsort((tiebreak[cand], -deg[cand]))[: m - removed]]
                keep[pick] = False
            removed = max(removed, int(m))
            giant[r, c] = giant_component_fraction(A, keep)
    return RobustnessResult(f, giant, strategy, bool(recalculate and strategy == "degree"))
