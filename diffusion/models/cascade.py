"""Independent cascade model (Kempe, Kleinberg & Tardos 2003)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..engine import Model, State, step_dtype
from ..errors import ParameterError
from ..network import Network
from ._common import check_probability, frontier_arcs

__all__ = ["IndependentCascade"]


@dataclass
class _ICContext:
    prob: float | np.ndarray  # scalar, or one probability per stored arc


class IndependentCascade(Model):
    """Independent cascade: each new adopter gets one chance per out-neighbour.

    A node that adopted at step ``t`` activates each out-neighbour ``j`` that has
    not adopted at step ``t + 1`` with probability ``p_ij``, independently.

    Parameters
    ----------
    probability : float, "weight" or array, default 0.1
        ``p`` for every edge; ``"weight"`` to use the edge weights (which must
        lie in [0, 1]); or one probability per stored arc, aligned with
        :attr:`Network.indices` (an undirected edge has two arcs).

    Notes
    -----
    With uniform ``p`` on an undirected graph the final adopter set is the
    cluster of the seeds in bond percolation with occupation ``p`` (Newman 2002).

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.generators.complete_graph(50)
    >>> res = diffusion.simulate(net, diffusion.IndependentCascade(1.0), initial=1, runs=3, seed=0)
    >>> res.final_count.tolist(), res.steps.tolist()
    ([50, 50, 50], [1, 1, 1])
    """

    name: ClassVar[str] = "independent_cascade"

    def __init__(self, probability: Any = 0.1) -> None:
        if isinstance(probability, str):
            if probability != "weight":
                raise ParameterError("probability", f"must be a number, 'weight' or an array, got {probability!r}")
            self.probability: Any = probability
        elif isinstance(probability, Sequence | np.ndarray):
            arr = np.asarray(probability, dtype=np.float64)
            if arr.ndim != 1 or not np.all((arr >= 0) & (arr <= 1)):
                raise ParameterError("probability", "per-edge probabilities must be a 1-d array in [0, 1]")
            self.probability = arr
        else:
            self.probability = check_probability("probability", probability)

    def params(self) -> dict[str, Any]:
        return {"probability": self.probability}

    def prepare(self, network: Network) -> _ICContext:
        p = self.probability
        if isinstance(p, str):
            if network.weights is None:
                raise ParameterError("probability", "'weight' needs a weighted network")
            w = network.weights
            if w.size and (w.min() < 0 or w.max() > 1):
                raise ParameterError("probability", "edge weights used as probabilities must lie in [0, 1]")
            return _ICContext(np.asarray(w))
        if isinstance(p, np.ndarray) and p.shape != (network.nnz,):
            raise ParameterError("probability", f"has {p.size} values but the network stores {network.nnz} arcs")
        return _ICContext(p)

    def start(self, ctx: _ICContext, network: Network, seeds: Sequence[np.ndarray],
              rngs: list[np.random.Generator], max_steps: int | None) -> State:
        R, n = len(rngs), network.n
        adopted_at = np.full((R, n), -1, dtype=step_dtype(max_steps))
        for r, s in enumerate(seeds):
            adopted_at[r, s] = 0
        count = np.count_nonzero(adopted_at >= 0, axis=1).astype(np.int64)
        return State(adopted_at, count, count > 0, rngs)

    def step(self, ctx: _ICContext, network: Network, state: State, t: int) -> np.ndarray:
        R, n = state.adopted_at.shape
        front = (state.adopted_at == t - 1) & state.active[:, None]
        rep, node = np.nonzero(front)  # row-major: sorted by replicate, then node
        arcs, owner = frontier_arcs(network.indptr, node)
        arc_rep = rep[owner]
        # one uniform per tried arc, replicate r's from its own generator, in arc order
        tried = np.bincount(arc_rep, minlength=R)
        u = np.concatenate([state.rngs[r].random(int(tried[r])) for r in range(R)]) if len(arcs) else np.empty(0)
        p = ctx.prob if np.isscalar(ctx.prob) else ctx.prob[arcs]
        fire = u < p
        tgt = network.indices[arcs[fire]].astype(np.int64)
        trep = arc_rep[fire]
        fresh = state.adopted_at[trep, tgt] < 0
        flat = np.unique(trep[fresh] * n + tgt[fresh])
        nr, nn = np.divmod(flat, n)
        state.adopted_at[nr, nn] = t
        added = np.bincount(nr, minlength=R)
        state.count += added
        changed = added > 0
        state.active = changed
        return changed
