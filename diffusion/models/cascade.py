"""Independent cascade model (Kempe, Kleinberg & Tardos 2003).

Two implementations give identical adoption steps for equal seeds: a compiled
frontier kernel (:mod:`diffusion._kernels`, the default) running each
replicate's whole cascade in one call, and a vectorized numpy reference that
steps all replicates of a batch together. Both define the random draws the
same way, so a replicate consumes its generator identically in either:

* uniform probability ``p``: the arcs a replicate tries, in order (each step's
  new adopters in the order they were discovered, each node's out-arcs in CSR
  order, step after step), form one sequence of Bernoulli(``p``) trials, of
  which only the successes are drawn, as geometric gaps
  (``Generator.geometric(p)``): one draw per success, not per tried arc;
* per-arc probabilities: one ``Generator.random()`` per tried arc, in the same
  order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..engine import Batch, Model, State
from ..errors import ParameterError
from ..network import Network
from ._common import check_probability, frontier_arcs
from .threshold import (
    adoption_dtype,
    check_backend,
    distinct_seeds,
    history_from_hists,
    history_from_matrix,
    mark_seeds,
    run_compact,
    upgrade_steps,
    use_numba,
)

__all__ = ["IndependentCascade"]

#: Geometric gaps are capped here (no replicate tries more arcs than the graph stores).
_SKIP_CAP = 1 << 40


@dataclass
class _ICContext:
    prob: float | np.ndarray  # scalar, or one probability per stored arc


@dataclass
class _ICState(State):
    seeds: list[np.ndarray] = field(default_factory=list)
    ready: bool = False
    front: np.ndarray | None = None  # flat indices r * n + v of the last step's adopters, discovery order
    pos: np.ndarray | None = None  # (R,) arcs tried so far (uniform p)
    last: np.ndarray | None = None  # (R,) position of the last success drawn (uniform p)
    pending: list[np.ndarray] = field(default_factory=list)  # drawn, not yet reached successes
    filled: bool = True  # adopted_at holds -1 and the seeds (else it is uninitialized)


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
        ``"numba"``: compiled frontier kernel, one call per replicate's whole
        cascade; ``"numpy"``: the vectorized reference. ``"auto"`` is
        ``"numba"`` when numba is installed. Results are identical; the
        backend is not a model parameter and is not recorded in :meth:`params`.

    Notes
    -----
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

    def prepare(self, network: Network) -> _ICContext:
        p = self.probability
        if isinstance(p, str):
            if network.weights is None:
                raise ParameterError("probability", "'weight' needs a weighted network")
            w = network.weights
            if w.size and (w.min() < 0 or w.max() > 1):
                raise ParameterError("probability", "edge weights used as probabilities must lie in [0, 1]")
            return _ICContext(np.asarray(w, dtype=np.float64))
        if isinstance(p, np.ndarray) and p.shape != (network.nnz,):
            raise ParameterError("probability", f"has {p.size} values but the network stores {network.nnz} arcs")
        return _ICContext(p)

    def start(self, ctx: _ICContext, network: Network, batch: Batch) -> _ICState:
        R, n, rngs = batch.runs, network.n, batch.rngs
        clean = distinct_seeds(batch.seeds)
        count = np.array([len(s) for s in clean], dtype=np.int64)
        dtype = adoption_dtype(n, batch.max_steps)
        if use_numba(self.backend) and isinstance(self.probability, float):
            # the compiled path fills each replicate's row itself, just before its cascade
            return _ICState(np.empty((R, n), dtype=dtype), count, count > 0, rngs, seeds=clean, filled=False)
        adopted_at = np.full((R, n), -1, dtype=dtype)
        mark_seeds(adopted_at, clean)
        return _ICState(adopted_at, count, count > 0, rngs, seeds=clean)

    # ------------------------------------------------------------ compiled path
    def run_to_end(self, ctx: _ICContext, network: Network, state: _ICState,
                   max_steps: int | None) -> tuple[np.ndarray, np.ndarray] | None:
        if not use_numba(self.backend) or state.ready:
            return None

        def reset() -> None:
            state.adopted_at = np.empty(state.adopted_at.shape, dtype=np.int32)
            if state.filled:  # per-arc path: the kernel expects -1 and the seeds
                state.adopted_at.fill(-1)
                mark_seeds(state.adopted_at, state.seeds)

        out = run_compact(state, max_steps, lambda cap: self._run_compiled(ctx, network, state, cap), reset)
        state.filled = True
        return out

    def _run_compiled(self, ctx: _ICContext, network: Network, state: _ICState,
                      cap: int) -> tuple[np.ndarray, np.ndarray]:
        from .. import _kernels as K

        R, n = state.adopted_at.shape
        indptr, indices = network.indptr, network.indices
        queue = np.empty(n, dtype=np.int64)
        if not np.isscalar(ctx.prob):
            hist = np.zeros(n + 2, dtype=np.int64)
            hists = []
            for r in range(R):
                steps = K.ic_edge_cascade(indptr, indices, ctx.prob, state.seeds[r],
                                          state.adopted_at[r], state.rngs[r], cap, queue, hist)
                hists.append(hist[: steps + 1].copy())
            return history_from_hists(hists, state)
        # uniform p: every replicate's geometric gaps are drawn ahead from its generator, in
        # blocks; one compiled call runs the whole batch, pausing only when a replicate needs more
        p = float(ctx.prob)  # type: ignore[arg-type]
        draw = p > 0.0
        seed_ptr = np.zeros(R + 1, dtype=np.int64)
        seed_ptr[1:] = np.cumsum([len(x) for x in state.seeds])
        seed_idx = np.concatenate(state.seeds) if R else np.empty(0, np.int64)
        sizes = np.zeros(R, dtype=np.int64)
        if draw:
            seed_arcs = np.add.reduceat(np.append(network.out_degree[seed_idx], 0), seed_ptr[:-1])
            seed_arcs[seed_ptr[:-1] == seed_ptr[1:]] = 0
            sizes = (4.0 * p * seed_arcs).astype(np.int64) + 32
        blocks = [state.rngs[r].geometric(p, int(sizes[r])) if draw else np.empty(0, np.int64)
                  for r in range(R)]
        gaps = np.concatenate(blocks) if R else np.empty(0, np.int64)
        gap_ptr = np.zeros(R + 1, dtype=np.int64)
        gap_ptr[1:] = np.cumsum(sizes)
        st = np.zeros(K.IC_STATE_SIZE, dtype=np.int64)
        hist = np.zeros((16, max(R, 1)), dtype=np.int64)
        steps = np.zeros(R, dtype=np.int64)
        r0 = 0
        while True:
            r, hist = K.ic_uniform_batch(indptr, indices, draw, seed_ptr, seed_idx, state.adopted_at,
                                         not state.filled, cap, gaps, gap_ptr, r0, st, queue, hist, steps)
            if r < 0:
                break
            # replicate r used up its gaps: continue its stream with a block twice as large
            sizes[r] *= 2
            more = state.rngs[r].geometric(p, int(sizes[r]))
            rest = gap_ptr[r - r0 + 1 :]
            gaps = np.concatenate([more, gaps[rest[0]:]])
            gap_ptr = np.concatenate([[0], len(more) + rest - rest[0]])
            r0 = r
        return history_from_matrix(hist, steps, state)

    # --------------------------------------------------------------- numpy path
    def _init_numpy(self, state: _ICState, n: int) -> None:
        R = state.runs
        if not state.filled:
            state.adopted_at.fill(-1)
            mark_seeds(state.adopted_at, state.seeds)
            state.filled = True
        state.front = np.concatenate(
            [r * n + s for r, s in enumerate(state.seeds)] or [np.empty(0, np.int64)]
        ).astype(np.int64)
        state.pos = np.zeros(R, dtype=np.int64)
        state.last = np.full(R, -1, dtype=np.int64)
        state.pending = [np.empty(0, dtype=np.int64) for _ in range(R)]
        state.ready = True

    def _successes(self, p: float, state: _ICState, tried: np.ndarray) -> np.ndarray:
        """Positions, in this step's concatenated arc list, of the arcs that fire."""
        assert state.pos is not None and state.last is not None
        base = np.cumsum(tried) - tried  # where each replicate's arcs start in the list
        out = []
        for r in np.flatnonzero(tried):  # per-replicate generators: one vectorized draw each
            end = state.pos[r] + tried[r]
            buf = state.pending[r]
            while state.last[r] < end:
                k = max(16, int(p * (end - state.last[r]) * 1.25) + 16)
                gaps = np.minimum(state.rngs[r].geometric(p, size=k), _SKIP_CAP)
                more = state.last[r] + np.cumsum(gaps)
                buf = np.concatenate([buf, more])
                state.last[r] = more[-1]
            i = np.searchsorted(buf, end)
            out.append(base[r] + buf[:i] - state.pos[r])
            state.pending[r] = buf[i:]
            state.pos[r] = end
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)

    def step(self, ctx: _ICContext, network: Network, state: _ICState, t: int) -> np.ndarray:
        R, n = state.adopted_at.shape
        if not state.ready:
            self._init_numpy(state, n)
        upgrade_steps(state, t)
        assert state.front is not None
        done = state.adopted_at.reshape(-1)
        rep, node = np.divmod(state.front, n)
        indptr = network.indptr
        if np.isscalar(ctx.prob):
            p = float(ctx.prob)  # type: ignore[arg-type]
            deg = indptr[node + 1] - indptr[node]
            tried = np.bincount(rep, weights=deg, minlength=R).astype(np.int64)
            hits = self._successes(p, state, tried) if p > 0 else np.empty(0, dtype=np.int64)
            ends = np.cumsum(deg)
            owner = np.searchsorted(ends, hits, side="right")
            arcs = indptr[node[owner]] + hits - (ends[owner] - deg[owner])
            target = rep[owner] * n + network.indices[arcs]
        else:
            arcs, owner = frontier_arcs(indptr, node)
            arc_rep = rep[owner]
            tried = np.bincount(arc_rep, minlength=R)
            u = np.empty(len(arcs))
            a = 0
            for r in np.flatnonzero(tried):  # one vectorized draw per replicate, in arc order
                state.rngs[r].random(int(tried[r]), out=u[a : a + tried[r]])
                a += int(tried[r])
            fire = u < ctx.prob[arcs]  # type: ignore[index]
            target = arc_rep[fire] * n + network.indices[arcs[fire]]
        target = target[done[target] < 0]
        _, first = np.unique(target, return_index=True)
        new = target[np.sort(first)]  # each new adopter once, in order of discovery
        done[new] = t
        state.front = new
        added = np.bincount(new // n, minlength=R)
        state.count += added
        changed = added > 0
        state.active = changed
        return changed
