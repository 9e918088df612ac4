"""Linear threshold model (Granovetter 1978; Watts 2002; Centola's complex contagion).

Two implementations of the same rule give identical adoption steps for equal
seeds: a compiled frontier kernel (:mod:`diffusion._kernels`, the default) that
runs each replicate's whole cascade in one call, and a vectorized numpy
reference that advances all replicates of a batch together, one step at a
time. Both touch only the out-arcs of the nodes that adopted in the previous
step, so a cascade costs the arcs of its adopters, not arcs × steps.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..distributions import Distribution
from ..engine import Batch, Model, State
from ..errors import ParameterError
from ..network import Network
from ._common import NodeValue, frontier_arcs

__all__ = ["LinearThreshold", "integer_thresholds"]

_BACKENDS = ("auto", "numba", "numpy")


def check_backend(backend: Any) -> str:
    """Validate a ``backend`` keyword (``"auto"``, ``"numba"`` or ``"numpy"``)."""
    if backend not in _BACKENDS:
        raise ParameterError("backend", f"must be one of {', '.join(map(repr, _BACKENDS))}, got {backend!r}")
    if backend == "numba" and importlib.util.find_spec("numba") is None:
        raise ParameterError("backend", "'numba' needs the numba package (pip install numba)")
    return str(backend)


def use_numba(backend: str) -> bool:
    """Whether ``backend`` resolves to the compiled kernels (``"auto"``: when numba is installed)."""
    return backend == "numba" or (backend == "auto" and importlib.util.find_spec("numba") is not None)


#: Largest adoption step an int16 array holds; runs that go further are stored as int32.
STEP16 = int(np.iinfo(np.int16).max)


def adoption_dtype(n: int, max_steps: int | None) -> type:
    """Dtype adoption steps start in: int16.

    Cascades rarely run for more than 32,767 steps; when one does (possible
    only if ``n`` and ``max_steps`` exceed that), the steps of its batch are
    stored as int32 instead, by both backends alike (see :func:`run_compact`).
    """
    return np.int16


def upgrade_steps(state: State, t: int) -> None:
    """Before step ``t`` of the step loop: widen int16 adoption steps that ``t`` would overflow."""
    if t > STEP16 and state.adopted_at.dtype == np.int16:
        state.adopted_at = state.adopted_at.astype(np.int32)


def run_compact(state: State, max_steps: int | None, run: Callable[[int], tuple[np.ndarray, np.ndarray]],
                reset: Callable[[], None]) -> tuple[np.ndarray, np.ndarray]:
    """Run a compiled batch with int16 adoption steps, again with int32 if it needs more steps.

    ``run(cap)`` runs every replicate for at most ``cap`` steps (``-1``: no
    cap) and returns ``(counts, steps)``. If some replicate is still changing
    at step 32,767, the replicates' generators are rewound, ``reset()`` gives
    ``state`` fresh int32 adoption steps and the batch runs again in full —
    so the result, dtype included, is the one the step loop produces.
    """
    cap = -1 if max_steps is None else int(max_steps)
    if state.adopted_at.dtype != np.int16 or 0 <= cap <= STEP16 or state.adopted_at.shape[1] <= STEP16:
        return run(cap)
    saved = [g.bit_generator.state for g in state.rngs]
    counts, steps = run(STEP16)
    if len(counts) <= STEP16 or not (counts[-1] > counts[-2]).any():
        return counts, steps
    for g, st in zip(state.rngs, saved, strict=True):
        g.bit_generator.state = st
    reset()
    return run(cap)


def distinct_seeds(seeds: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each replicate's initial adopters as sorted distinct int64 indices.

    Replicates that share one array (fixed initial adopters) share the result.
    """
    out: list[np.ndarray] = []
    done: dict[int, np.ndarray] = {}
    for s in seeds:
        key = id(s)
        if key not in done:
            a = np.asarray(s, dtype=np.int64).ravel()
            if len(a) > 1 and not np.all(a[1:] > a[:-1]):
                a = np.unique(a)
            done[key] = a
        out.append(done[key])
    return out


def mark_seeds(adopted_at: np.ndarray, seeds: Sequence[np.ndarray]) -> None:
    """Set the adoption step of each replicate's initial adopters to 0."""
    if seeds and all(s is seeds[0] for s in seeds):
        adopted_at[:, seeds[0]] = 0
        return
    for r, s in enumerate(seeds):
        adopted_at[r, s] = 0


def integer_thresholds(theta: np.ndarray, deg: np.ndarray, rule: str = "fraction") -> np.ndarray:
    """The least number of adopted in-neighbours at which each node adopts.

    Fraction rule: the least ``k`` in ``0 .. deg`` with ``k / deg >= theta``
    (computed in floating point exactly as the rule is stated), ``deg + 1``
    (never) if none; a node without in-neighbours adopts only if
    ``theta <= 0``. Count rule: ``ceil(theta)``, capped at ``deg + 1``.

    Parameters
    ----------
    theta : ndarray of float, shape (n,)
    deg : ndarray of int, shape (n,)
        In-degrees.
    rule : {"fraction", "count"}

    Returns
    -------
    ndarray of int32, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> integer_thresholds(np.array([0.0, 0.3, 0.3, 1.0, 0.5]), np.array([4, 10, 0, 3, 0])).tolist()
    [0, 3, 1, 3, 1]
    >>> integer_thresholds(np.array([2.5, 9.0]), np.array([4, 4]), "count").tolist()
    [3, 5]
    """
    theta = np.asarray(theta, dtype=np.float64)
    deg = np.asarray(deg, dtype=np.int64)
    d = deg.astype(np.float64)
    k = np.clip(np.ceil(theta * d) if rule == "fraction" else np.ceil(theta), 0.0, d + 1.0).astype(np.int64)
    if rule == "fraction":
        has = deg > 0
        dd = np.where(has, d, 1.0)
        while True:  # ceil(theta * d) is off by at most one from the exact answer
            down = has & (k > 0) & ((k - 1) / dd >= theta)
            if not down.any():
                break
            k[down] -= 1
        while True:
            up = has & (k <= deg) & (k / dd < theta)
            if not up.any():
                break
            k[up] += 1
        k[~has] = np.where(theta[~has] <= 0.0, 0, 1)
    return k.astype(np.int32)


@dataclass
class _LTContext:
    deg: np.ndarray  # in-degree (int64)
    weights: np.ndarray | None  # per-arc weight when the rule is weighted
    denom: np.ndarray | None  # in-strength (weighted fraction rule)
    threshold: float | np.ndarray | Distribution
    need: np.ndarray | None  # integer thresholds (unweighted, fixed threshold)
    zero: np.ndarray | None  # nodes with integer threshold 0 (unweighted, fixed threshold)


@dataclass
class _LTState(State):
    seeds: list[np.ndarray] | None = None
    ready: bool = False  # numpy-path arrays built (thresholds drawn)
    front: np.ndarray | None = None  # flat indices r * n + v of the last step's adopters, sorted
    rem: np.ndarray | None = None  # (R, n) int32 integer threshold minus adopted in-neighbours
    received: np.ndarray | None = None  # (R, n) float64 weighted influence received
    theta: np.ndarray | None = None  # (R, n) or (n,) thresholds (weighted rule)
    zero: np.ndarray | None = None  # flat indices of threshold-0 nodes (adopt at step 1)


class LinearThreshold(Model):
    """Linear threshold adoption: adopt once enough in-neighbours have adopted.

    Node ``i`` adopts at step ``t + 1`` if, among its in-neighbours, the
    (weighted) fraction that adopted by step ``t`` is at least ``θ_i``
    (``rule="fraction"``), or if at least ``k_i`` of them have (``rule="count"``,
    complex contagion; weighted sums when ``weighted``). Adoption is permanent;
    updates are synchronous.

    Parameters
    ----------
    threshold : float, array, str or dict, default 0.5
        ``θ`` (fraction rule, in [0, 1]) or ``k`` (count rule, >= 0): a scalar,
        a per-node array, the name of a numeric node attribute, or a
        distribution drawn per node and replicate, e.g.
        ``{"distribution": "uniform", "low": 0.0, "high": 1.0}`` or
        ``{"distribution": "normal", "mean": 0.2, "sd": 0.05}`` (clipped to [0, 1]
        under the fraction rule).
    rule : {"fraction", "count"}, default "fraction"
    weighted : bool, default True
        Use edge weights (when the network has them) in the sums. Weights
        must then be non-negative.
    backend : {"auto", "numba", "numpy"}, default "auto"
        ``"numba"``: compiled frontier kernel, one call per replicate's whole
        cascade; ``"numpy"``: the vectorized reference, all replicates of a
        batch stepped together. ``"auto"`` is ``"numba"`` when numba is
        installed. Results are identical; the backend is not a model parameter
        and is not recorded in :meth:`params`.
    threads : int, default 1
        Threads the compiled path may use inside one batch of replicates (for
        fixed thresholds, whose cascades run 64 replicates per pass). Results
        do not depend on it; with a process pool already using every core,
        leave it at 1.

    Notes
    -----
    A node with no in-neighbours has adopted fraction 0, so it adopts at step 1
    only if its threshold is 0 (Watts's "innately active" nodes); more
    generally every node with threshold 0 adopts at step 1.

    Thresholds drawn from a distribution are drawn once per replicate, before
    the cascade starts, from that replicate's generator (``n`` values, in node
    order); the cascade itself draws nothing.

    NDlib's ``ThresholdModel`` applies the same synchronous rule (fraction of
    neighbours, of predecessors when directed, ``>=`` threshold) without
    weights, and never activates a node that has no neighbours, even at
    threshold 0; apart from such nodes the final adopter sets coincide.

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.Network.from_edges(4, [0, 1, 2], [1, 2, 3])   # a path
    >>> res = diffusion.simulate(net, diffusion.LinearThreshold(0.5), initial=[0], runs=1, seed=0)
    >>> res.adoption_step[0].tolist()
    [0, 1, 2, 3]
    >>> net = diffusion.Network.from_edges(4, [0, 1, 0], [2, 2, 3])
    >>> model = diffusion.LinearThreshold(2, rule="count")   # two adopted neighbours needed
    >>> diffusion.simulate(net, model, initial=[0, 1], runs=1, seed=0).adoption_step[0].tolist()
    [0, 0, 1, -1]
    """

    name: ClassVar[str] = "linear_threshold"

    def __init__(self, threshold: Any = 0.5, *, rule: str = "fraction", weighted: bool = True,
                 backend: str = "auto", threads: int = 1) -> None:
        if rule not in ("fraction", "count"):
            raise ParameterError("rule", f"must be 'fraction' or 'count', got {rule!r}")
        if not isinstance(weighted, bool | np.bool_):
            raise ParameterError("weighted", f"must be true or false, got {weighted!r}")
        self.rule = rule
        self.weighted = bool(weighted)
        self.backend = check_backend(backend)
        if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
            raise ParameterError("threads", f"must be a positive integer, got {threads!r}")
        self.threads = int(threads)
        if rule == "fraction":
            self._threshold = NodeValue("threshold", threshold, 0.0, 1.0, clip=(0.0, 1.0))
        else:
            self._threshold = NodeValue("threshold", threshold, 0.0, None, clip=(0.0, np.inf))

    @property
    def threshold(self) -> Any:
        """The threshold as given (scalar, array, attribute name or distribution)."""
        return self._threshold.value

    def params(self) -> dict[str, Any]:
        return {"threshold": self._threshold.to_param(), "rule": self.rule, "weighted": self.weighted}

    # ------------------------------------------------------------ shared set-up
    def prepare(self, network: Network) -> _LTContext:
        weighted = self.weighted and network.weights is not None
        threshold = self._threshold.resolve(network)
        deg = np.asarray(network.in_degree, dtype=np.int64)
        if weighted:
            w = np.asarray(network.weights, dtype=np.float64)
            if w.size and w.min() < 0:
                raise ParameterError("weighted", "the threshold rule needs non-negative edge weights "
                                     "(use weighted=false to ignore them)")
            denom = np.asarray(network.in_strength, dtype=np.float64) if self.rule == "fraction" else None
            return _LTContext(deg, w, denom, threshold, None, None)
        need = zero = None
        if not isinstance(threshold, Distribution):
            theta = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (network.n,))
            if use_numba(self.backend):  # the same integers, in one compiled pass
                from .. import _kernels as K

                need = np.empty(network.n, dtype=np.int32)
                zero = np.empty(network.n, dtype=np.int64)
                zero = zero[: K.lt_need(np.ascontiguousarray(theta), deg, self.rule == "fraction", need, zero)]
            else:
                need = integer_thresholds(theta, deg, self.rule)
                zero = np.flatnonzero(need <= 0).astype(np.int64)
        return _LTContext(deg, None, None, threshold, need, zero)

    def starts_without_initial(self, ctx: _LTContext) -> bool:
        """Nodes whose threshold is 0 adopt without neighbours (random thresholds may be 0)."""
        th = ctx.threshold
        if isinstance(th, Distribution):
            return True
        if ctx.zero is not None:
            return len(ctx.zero) > 0
        return bool(np.any(np.asarray(th) <= 0.0))

    def start(self, ctx: _LTContext, network: Network, batch: Batch) -> _LTState:
        R, n, rngs = batch.runs, network.n, batch.rngs
        adopted_at = np.full((R, n), -1, dtype=adoption_dtype(n, batch.max_steps))
        clean = distinct_seeds(batch.seeds)
        mark_seeds(adopted_at, clean)
        count = np.array([len(s) for s in clean], dtype=np.int64)
        # step 1 is always evaluated: nodes with threshold 0 adopt without neighbours
        return _LTState(adopted_at, count, np.ones(R, dtype=bool), rngs, seeds=clean)

    def _thresholds(self, ctx: _LTContext, rng: np.random.Generator, n: int) -> np.ndarray:
        """One replicate's thresholds (drawn from its generator if random)."""
        th = ctx.threshold
        if isinstance(th, Distribution):
            return th.sample(rng, n)
        return np.broadcast_to(np.asarray(th, dtype=np.float64), (n,))

    # ------------------------------------------------------------ compiled path
    def run_to_end(self, ctx: _LTContext, network: Network, state: _LTState,
                   max_steps: int | None) -> tuple[np.ndarray, np.ndarray] | None:
        if not use_numba(self.backend) or state.ready:
            return None

        def reset() -> None:
            state.adopted_at = np.full(state.adopted_at.shape, -1, dtype=np.int32)
            mark_seeds(state.adopted_at, state.seeds or [])

        return run_compact(state, max_steps, lambda cap: self._run_compiled(ctx, network, state, cap), reset)

    def _run_compiled(self, ctx: _LTContext, network: Network, state: _LTState,
                      cap: int) -> tuple[np.ndarray, np.ndarray]:
        from .. import _kernels as K

        R, n = state.adopted_at.shape
        indptr, indices = network.indptr, network.indices
        random = isinstance(ctx.threshold, Distribution)
        hists: list[np.ndarray] = []
        if ctx.weights is None and random:
            # thresholds differ between replicates, and so do the cascades: one replicate at a
            # time keeps its counters (4n bytes) in cache
            fraction = self.rule == "fraction"
            rem = np.empty(n, dtype=np.int32)
            zero_buf = np.empty(n, dtype=np.int64)
            queue = np.empty(n, dtype=np.int64)
            hist = np.zeros(n + 2, dtype=np.int64)
            for r in range(R):
                theta = self._thresholds(ctx, state.rngs[r], n)
                nz = K.lt_need(theta, ctx.deg, fraction, rem, zero_buf)
                steps = K.lt_count_cascade(indptr, indices, rem, zero_buf[:nz], state.seeds[r],
                                           state.adopted_at[r], cap, queue, hist)
                hists.append(hist[: steps + 1].copy())
        elif ctx.weights is None:
            # shared thresholds: cascades overlap, so 64 replicates share each pass over the arcs,
            # with bit-sliced counters (a few word operations per arc for all of them)
            need = ctx.need
            per = min(K.BATCH, -(-R // self.threads))  # equal batches, one per thread at least
            bounds = [(b0, min(per, R - b0)) for b0 in range(0, R, per)]

            def run_batch(b0: int, B: int) -> list[np.ndarray]:
                rec, hi = K.lt_planes(need, np.uint64((1 << B) - 1))
                batch = state.seeds[b0 : b0 + B]  # type: ignore[index]
                seed_ptr = np.zeros(B + 1, dtype=np.int64)
                seed_ptr[1:] = np.cumsum([len(x) for x in batch])
                seed_idx = np.concatenate(batch) if B else np.empty(0, np.int64)
                bsteps, bhist = K.lt_batch_cascade(indptr, indices, rec, hi, ctx.zero, seed_ptr,
                                                   seed_idx, state.adopted_at[b0 : b0 + B], cap)
                return [bhist[: bsteps[j] + 1, j].copy() for j in range(B)]

            if self.threads > 1 and len(bounds) > 1:
                from concurrent.futures import ThreadPoolExecutor

                # the kernel releases the GIL; batches write disjoint rows of adopted_at
                with ThreadPoolExecutor(min(self.threads, len(bounds))) as pool:
                    for part in pool.map(lambda b: run_batch(*b), bounds):
                        hists.extend(part)
            else:
                for b in bounds:
                    hists.extend(run_batch(*b))
        else:
            received = np.empty(n, dtype=np.float64)
            queue = np.empty(n, dtype=np.int64)
            hist = np.zeros(n + 2, dtype=np.int64)
            denom = ctx.denom if ctx.denom is not None else np.empty(0)
            for r in range(R):
                theta = np.ascontiguousarray(self._thresholds(ctx, state.rngs[r], n))
                received.fill(0.0)
                steps = K.lt_weighted_cascade(indptr, indices, ctx.weights, denom, theta,
                                              self.rule == "fraction", state.seeds[r],
                                              state.adopted_at[r], cap, received, queue, hist)
                hists.append(hist[: steps + 1].copy())
        return history_from_hists(hists, state)

    # --------------------------------------------------------------- numpy path
    def _init_numpy(self, ctx: _LTContext, network: Network, state: _LTState) -> None:
        R, n = state.adopted_at.shape
        random = isinstance(ctx.threshold, Distribution)
        if ctx.weights is None:
            if random:
                rem = np.empty((R, n), dtype=np.int32)
                for r in range(R):
                    rem[r] = integer_thresholds(self._thresholds(ctx, state.rngs[r], n), ctx.deg, self.rule)
            else:
                rem = np.tile(ctx.need, (R, 1))
            state.rem = rem
            state.zero = np.flatnonzero(rem <= 0)
        else:
            if random:
                theta = np.empty((R, n))
                for r in range(R):
                    theta[r] = self._thresholds(ctx, state.rngs[r], n)
            else:
                theta = np.ascontiguousarray(self._thresholds(ctx, state.rngs[0], n))
            state.theta = theta
            state.received = np.zeros((R, n))
            zero = np.broadcast_to(theta <= 0.0, (R, n))
            state.zero = np.flatnonzero(zero)
        state.front = np.concatenate(
            [r * n + s for r, s in enumerate(state.seeds or [])] or [np.empty(0, np.int64)]
        ).astype(np.int64)
        state.ready = True

    def step(self, ctx: _LTContext, network: Network, state: _LTState, t: int) -> np.ndarray:
        if not state.ready:
            self._init_numpy(ctx, network, state)
        upgrade_steps(state, t)
        R, n = state.adopted_at.shape
        done = state.adopted_at.reshape(-1)
        front = state.front if state.front is not None else np.empty(0, np.int64)
        rep, node = np.divmod(front, n)
        arcs, owner = frontier_arcs(network.indptr, node)
        target = rep[owner] * n + network.indices[arcs]
        if ctx.weights is None:
            rem = state.rem.reshape(-1)  # type: ignore[union-attr]
            np.subtract.at(rem, target, 1)
            cand = np.unique(target)
            cand = cand[(done[cand] < 0) & (rem[cand] <= 0)]
        else:
            rec = state.received.reshape(-1)  # type: ignore[union-attr]
            # np.add.at adds in array order: ascending source node, then arc order
            np.add.at(rec, target, ctx.weights[arcs])
            cand = np.unique(target)
            cand = cand[done[cand] < 0]
            v = cand % n
            if ctx.denom is not None:
                d = ctx.denom[v]
                level = np.divide(rec[cand], d, out=np.zeros(len(cand)), where=d > 0)
            else:
                level = rec[cand]
            theta = state.theta.reshape(-1)[cand] if state.theta.ndim == 2 else state.theta[v]  # type: ignore[union-attr]
            cand = cand[level >= theta]
        if t == 1:
            zero = state.zero[done[state.zero] < 0]  # type: ignore[index]
            cand = np.union1d(cand, zero)
        done[cand] = t
        state.front = cand
        added = np.bincount(cand // n, minlength=R)
        state.count += added
        changed = added > 0
        state.active = changed
        return changed


def history_from_matrix(hist: np.ndarray, steps: np.ndarray, state: State) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, steps)`` for :meth:`Model.run_to_end` from adoption histograms.

    ``hist[t, r]`` is the number of nodes of replicate ``r`` that adopted at
    step ``t`` (zero after the replicate stopped) and ``steps[r]`` the number of
    steps it evaluated. Also updates ``state.count`` and ``state.active``.
    """
    R = len(steps)
    T = int(steps.max()) if R else 0
    counts = np.cumsum(hist[: T + 1, :R], axis=0)
    changed = hist[1 : T + 1, :R] > 0
    if T == 0:
        last = np.zeros(R, dtype=np.int64)
    else:
        last = T - np.argmax(changed[::-1], axis=0)  # last step with an adopter
        last = np.where(changed.any(axis=0), last, 0).astype(np.int64)
    state.count = counts[-1].copy()
    state.active = np.zeros(R, dtype=bool)
    return counts, last


def history_from_hists(hists: Sequence[np.ndarray], state: State) -> tuple[np.ndarray, np.ndarray]:
    """:func:`history_from_matrix` for per-replicate histograms ``hists[r]`` (one entry per step)."""
    R = len(hists)
    lengths = np.array([len(h) for h in hists], dtype=np.int64)
    hist = np.zeros((int(lengths.max()) if R else 1, R), dtype=np.int64)
    for r, h in enumerate(hists):
        hist[: len(h), r] = h
    return history_from_matrix(hist, lengths - 1, state)
