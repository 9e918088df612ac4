"""Independent cascade model (Kempe, Kleinberg & Tardos 2003).

Two implementations give identical adoption steps for equal seeds
(:mod:`diffusion.models._frontier`): a compiled frontier kernel
(:mod:`diffusion._kernels`, the default) running a chunk's cascades in one
call, and a vectorized numpy reference that steps all replicates of a chunk
together. Both address every draw by replicate and arc
(:mod:`diffusion._random`), so the order in which a cascade's frontier is
walked does not matter:

* one probability ``p``: when node ``u`` adopts, the successes among its
  ``d`` out-arcs are found by geometric skips — draw ``j`` (counter
  ``indptr[u] + j``) puts the next success after the ``d'`` arcs not yet
  passed at none if ``x <= (1 - p)**d'``, else at offset
  ``min(floor(log(x) / log1p(-p)), d' - 1)``: one draw per success plus one;
* per-arc probabilities: one draw per tried arc, counter the arc's position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .._random import ARC, counter_bits, log, stream_keys, unit
from ..engine import Batch, Model
from ..errors import ParameterError
from ..network import Network
from ..reductions import Adoptions
from ._common import check_probability, frontier_arcs
from ._frontier import (
    FrontierState,
    adoptions_of,
    check_backend,
    run_kernel,
    sparse_bytes,
    start_state,
    upgrade_steps,
    use_numba,
)

__all__ = ["IndependentCascade"]


@dataclass
class _ICContext:
    prob: float | np.ndarray  # scalar, or one probability per stored arc
    mode: int  # the kernel's mode (diffusion._kernels.IC_*)
    qtab: np.ndarray  # (1 - p) ** d for d = 0 .. max out-degree (one probability)
    log1mp: float  # log1p(-p) (one probability)


@dataclass
class _ICState(FrontierState):
    streams: np.ndarray | None = None  # numpy reference: each replicate's ARC stream


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
    backend : {"auto", "numba", "numpy"}, default "auto"
        ``"numba"``: compiled frontier kernel, one call per chunk of
        replicates; ``"numpy"``: the vectorized reference. ``"auto"`` is
        ``"numba"`` when numba is installed. Results are identical; the
        backend is not a model parameter and is not recorded in :meth:`params`.

    Notes
    -----
    Whether arc ``u -> j`` fires in replicate ``r`` depends only on the seed,
    ``r`` and the arc (:mod:`diffusion._random`): with one probability the
    successes among ``u``'s out-arcs are drawn, when ``u`` adopts, by
    geometric skips (one draw per success plus one), with per-arc
    probabilities by one draw per tried arc. Without kept replicates
    (``keep="summary"``) the compiled path keeps no per-node row, so a cascade
    that reaches a dozen firms of a million costs those firms and their arcs.

    With uniform ``p`` on an undirected graph the final adopter set is the
    cluster of the seeds in bond percolation with occupation ``p`` (Newman 2002).
    The rule is that of NDlib's ``IndependentCascadesModel`` (with every edge's
    ``threshold`` set to ``p``; NDlib fires on ``u <= p``, this package on
    ``u < p``, which differ with probability 0) and of EoN's discrete SIR with
    transmission probability ``p``.

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.generators.complete_graph(50)
    >>> res = diffusion.simulate(net, diffusion.IndependentCascade(1.0), initial=1, runs=3, seed=0)
    >>> res.final_count.tolist(), res.steps.tolist()
    ([50, 50, 50], [1, 1, 1])
    >>> path = diffusion.Network.from_edges(4, [0, 1, 2], [1, 2, 3], directed=True)
    >>> model = diffusion.IndependentCascade([1.0, 0.0, 1.0])   # one value per arc
    >>> diffusion.simulate(path, model, initial=[0], runs=1, seed=0).adoption_step[0].tolist()
    [0, 1, -1, -1]
    """

    name: ClassVar[str] = "independent_cascade"
    progressive: ClassVar[bool] = True

    def __init__(self, probability: Any = 0.1, *, backend: str = "auto") -> None:
        if isinstance(probability, str):
            if probability != "weight":
                raise ParameterError("probability", f"must be a number, 'weight' or an array, got {probability!r}")
            self.probability: Any = probability
        elif isinstance(probability, Sequence | np.ndarray):
            try:
                arr = np.asarray(probability, dtype=np.float64)
            except (TypeError, ValueError):
                raise ParameterError("probability", "per-edge probabilities must be numbers") from None
            if arr.ndim != 1 or not np.all((arr >= 0) & (arr <= 1)):
                raise ParameterError("probability", "per-edge probabilities must be a 1-d array in [0, 1]")
            self.probability = arr
        else:
            self.probability = check_probability("probability", probability)
        self.backend = check_backend(backend)

    def params(self) -> dict[str, Any]:
        return {"probability": self.probability}

    @property
    def _compiled(self) -> bool:
        return use_numba(self.backend)

    def prepare(self, network: Network) -> _ICContext:
        # modes of diffusion._kernels.ic_chunk: nothing fires, skips, every arc fires, per arc
        none, skips, every, per_arc = range(4)
        p = self.probability
        empty = np.empty(0)
        if isinstance(p, str):
            if network.weights is None:
                raise ParameterError("probability", "'weight' needs a weighted network")
            w = network.weights
            if w.size and (w.min() < 0 or w.max() > 1):
                raise ParameterError("probability", "edge weights used as probabilities must lie in [0, 1]")
            return _ICContext(np.asarray(w, dtype=np.float64), per_arc, empty, 0.0)
        if isinstance(p, np.ndarray):
            if p.shape != (network.nnz,):
                raise ParameterError("probability",
                                     f"has {p.size} values but the network stores {network.nnz} arcs")
            return _ICContext(np.ascontiguousarray(p, dtype=np.float64), per_arc, empty, 0.0)
        p = float(p)
        if p <= 0.0:
            return _ICContext(p, none, empty, 0.0)
        if p >= 1.0:
            return _ICContext(p, every, empty, 0.0)
        log1mp = float(np.log1p(-p))
        width = int(network.out_degree.max(initial=0))
        return _ICContext(p, skips, np.exp(np.arange(width + 1) * log1mp), log1mp)

    def start(self, ctx: _ICContext, network: Network, batch: Batch) -> _ICState:
        return start_state(_ICState, batch, network, self._compiled, active_without_seeds=False)

    def adoptions(self, ctx: _ICContext, state: _ICState) -> Adoptions:
        return adoptions_of(state, state.adopted_at.shape[1] if state.adopted_at is not None
                            else len(state.tallies[0]))  # type: ignore[index]

    def memory_per_replicate(self, network: Network, max_steps: int | None) -> tuple[int, int]:
        kept, working = super().memory_per_replicate(network, max_steps)
        # the compiled kernel keeps its state per chunk (counted by sparse_memory), not per replicate
        return kept, (0 if self._compiled else working)

    def sparse_memory(self, network: Network, max_steps: int | None) -> tuple[int, int] | None:
        # stamps, queue, tallies, and a block of fired arcs (at most one per node beyond the block)
        return sparse_bytes(network, max_steps, 40) if self._compiled else None

    # ------------------------------------------------------------ compiled path
    def run_to_end(self, ctx: _ICContext, network: Network, state: _ICState,
                   max_steps: int | None) -> tuple[np.ndarray, np.ndarray] | None:
        if not state.compiled:
            return None
        from .. import _kernels as K

        cap = -1 if max_steps is None else int(max_steps)
        prob = ctx.prob if isinstance(ctx.prob, np.ndarray) else np.empty(0)
        assert state.plan is not None
        seeds = state.plan.kernel()
        return run_kernel(state, network.n, lambda sink: K.ic_chunk(
            network.indptr, network.indices, seeds, state.keys, ctx.mode, ctx.qtab, ctx.log1mp, prob, sink,
            cap, state.work))

    # --------------------------------------------------------------- numpy path
    def _fired(self, ctx: _ICContext, network: Network, rep: np.ndarray, node: np.ndarray,
               streams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The arcs that fire from the frontier ``(rep, node)``, and the frontier entry of each."""
        indptr = network.indptr
        if ctx.mode == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        if ctx.mode != 1:
            arcs, owner = frontier_arcs(indptr, node)
            if ctx.mode == 3:
                fire = unit(counter_bits(streams[rep[owner]], arcs)) < ctx.prob[arcs]  # type: ignore[index]
                arcs, owner = arcs[fire], owner[fire]
            return arcs, owner
        # geometric skips, one round per draw, vectorized over the frontier nodes still drawing
        a0 = indptr[node]
        d = indptr[node + 1] - a0
        off = np.zeros(len(node), dtype=np.int64)
        j = np.zeros(len(node), dtype=np.int64)
        live = np.flatnonzero(d > 0)
        arcs, owner = [], []
        while len(live):
            x = unit(counter_bits(streams[rep[live]], a0[live] + j[live]))
            j[live] += 1
            left = d[live] - off[live]
            go = x > ctx.qtab[left]
            live, x, left = live[go], x[go], left[go]
            g = np.minimum(np.floor(log(x) / ctx.log1mp), left - 1).astype(np.int64)
            arcs.append(a0[live] + off[live] + g)
            owner.append(live)
            off[live] += g + 1
            live = live[off[live] < d[live]]
        if not arcs:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(arcs), np.concatenate(owner)

    def step(self, ctx: _ICContext, network: Network, state: _ICState, t: int) -> np.ndarray:
        R, n = state.adopted_at.shape
        if state.streams is None:
            state.streams = stream_keys(state.keys, ARC)
        upgrade_steps(state, t)
        assert state.front is not None
        done = state.adopted_at.reshape(-1)
        rep, node = np.divmod(state.front, n)
        arcs, owner = self._fired(ctx, network, rep, node, state.streams)
        target = rep[owner] * n + network.indices[arcs]
        new = np.unique(target[done[target] < 0])
        done[new] = t
        state.front = new
        added = np.bincount(new // n, minlength=R)
        state.count += added
        changed = added > 0
        state.active = changed
        return changed
