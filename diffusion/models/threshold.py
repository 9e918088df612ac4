"""Linear threshold model (Granovetter 1978; Watts 2002; Centola's complex contagion).

Two implementations of the same rule give identical adoption steps for equal
seeds (:mod:`diffusion.models._frontier`): compiled kernels
(:mod:`diffusion._kernels`, the default) that run a chunk's cascades in one
call — 64 replicates per pass with bit-sliced counters when the replicates
share their thresholds, one replicate after the other with thresholds drawn
lazily when they do not — and a vectorized numpy reference that advances all
replicates of a chunk together, one step at a time. Both touch only the
out-arcs of the nodes that adopted in the previous step, so a cascade costs
the arcs of its adopters, not arcs × steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .._random import THRESHOLD, ZERO, stream_keys, threshold_values, zero_mask
from ..distributions import Distribution
from ..engine import Batch, Model
from ..errors import ParameterError
from ..network import Network
from ..reductions import Adoptions
from ._common import NodeValue, frontier_arcs
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

__all__ = ["LinearThreshold", "draw_spec", "integer_thresholds"]

_KINDS = {"uniform": 0, "normal": 1, "lognormal": 2, "beta": 3}


def draw_spec(dist: Distribution) -> tuple[int, float, float, float, float, float, float] | float:
    """How the kernels draw thresholds from ``dist``, or the constant it reduces to.

    Returns ``(kind, a, b, q, log1p(-q), low, high)``: the distribution
    (0 uniform on ``[a, b]``, 1 normal with mean ``a`` and sd ``b``, 2
    lognormal, 3 beta), ``q`` the probability of a value at or below 0 (the
    nodes that adopt unprompted) and the clip bounds. A constant, or a
    distribution without spread, gives its (clipped) value.

    Examples
    --------
    >>> from diffusion.distributions import parse_distribution
    >>> spec = draw_spec(parse_distribution({"distribution": "normal", "mean": 0.2, "sd": 0.1}, "t", (0, 1)))
    >>> spec[0], round(spec[3], 4)
    (1, 0.0228)
    >>> draw_spec(parse_distribution({"distribution": "uniform", "low": 0.3, "high": 0.3}, "t", (0, 1)))
    0.3
    """
    p = dict(dist.params)
    lo, hi = dist.clip if dist.clip is not None else (-np.inf, np.inf)

    def clipped(x: float) -> float:
        return float(min(max(x, lo), hi))

    if dist.kind == "constant":
        return clipped(p["value"])
    if dist.kind == "uniform":
        a, b = p["low"], p["high"]
        if a == b:
            return clipped(a)
        q = min(max(-a / (b - a), 0.0), 1.0)
    elif dist.kind == "normal":
        a, b = p["mean"], p["sd"]
        if b == 0:
            return clipped(a)
        q = 0.5 * math.erfc(a / (b * math.sqrt(2.0)))
    elif dist.kind == "lognormal":
        a, b = p["mean"], p["sigma"]
        if b == 0:
            return clipped(math.exp(a))
        q = 0.0
    else:
        a, b, q = p["a"], p["b"], 0.0
    log1mq = -math.inf if q >= 1.0 else math.log1p(-q)
    return (_KINDS[dist.kind], float(a), float(b), float(q), float(log1mq), float(lo), float(hi))


_FIXED = (-1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)  # the kernels' spec when thresholds are not drawn


def integer_thresholds(theta: np.ndarray, deg: np.ndarray, rule: str = "fraction") -> np.ndarray:
    """The least number of adopted in-neighbours at which each node adopts.

    Fraction rule: the least ``k`` in ``0 .. deg`` with ``k / deg >= theta``
    (computed in floating point exactly as the rule is stated), ``deg + 1``
    (never) if none; a node without in-neighbours adopts only if
    ``theta <= 0``. Count rule: ``ceil(theta)``, capped at ``deg + 1``. A
    NaN threshold is never reached (``deg + 1``).

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
    c = np.clip(np.ceil(theta * d) if rule == "fraction" else np.ceil(theta), 0.0, d + 1.0)
    k = np.where(np.isnan(c), d + 1.0, c).astype(np.int64)  # NaN: never reached
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
    theta: np.ndarray | None  # fixed thresholds (n,), float64
    spec: tuple  # how random thresholds are drawn (_FIXED when they are not)
    need: np.ndarray | None  # integer thresholds (unweighted, fixed threshold)
    zero: np.ndarray  # nodes with threshold 0 (fixed thresholds; they adopt at step 1)
    meta: np.ndarray | None = None  # where the bit-sliced counters' further planes are (lt_meta)
    planes: int = 0
    width: int = 0  # largest out-degree

    @property
    def random(self) -> bool:
        return self.spec[0] >= 0


@dataclass
class _LTState(FrontierState):
    rem: np.ndarray | None = None  # numpy reference: (R, n) integer threshold minus adopted in-neighbours
    received: np.ndarray | None = None  # numpy reference: (R, n) weighted influence received
    theta: np.ndarray | None = None  # numpy reference: (R, n) or (n,) thresholds (weighted rule)
    zero: np.ndarray | None = None  # numpy reference: flat indices of threshold-0 nodes (adopt at step 1)


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
        ``"numba"``: compiled frontier kernels, one call per chunk of
        replicates; ``"numpy"``: the vectorized reference, all replicates of a
        chunk stepped together. ``"auto"`` is ``"numba"`` when numba is
        installed. Results are identical; the backend is not a model parameter
        and is not recorded in :meth:`params`.
    threads : int, default 1
        Threads the compiled path may use inside one chunk of replicates (for
        fixed thresholds, whose cascades run 64 replicates per pass). Results
        do not depend on it; with a process pool already using every core,
        leave it at 1.

    Notes
    -----
    A node with no in-neighbours has adopted fraction 0, so it adopts at step 1
    only if its threshold is 0 (Watts's "innately active" nodes); more
    generally every node with threshold 0 adopts at step 1.

    Thresholds drawn from a distribution are drawn per node and replicate,
    by address (:mod:`diffusion._random`): node ``v``'s threshold in replicate
    ``r`` depends only on the seed, ``r`` and ``v``, and is drawn only if a
    cascade reaches ``v``. The nodes whose threshold is at or below 0 (a
    normal, or a uniform with ``low < 0``) adopt at step 1; they are drawn as
    geometric gaps over the nodes, and every other node's threshold from the
    distribution conditioned on being positive, which is the law of the
    clipped draw. A degenerate distribution (constant, zero spread) is its
    constant.

    Without kept replicates (``simulate(..., keep="summary")``) the compiled
    path keeps no per-node row: a chunk's cascades cost what they touch, and
    their adoptions are tallied per node as they happen.

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
    progressive: ClassVar[bool] = True

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

    @property
    def _compiled(self) -> bool:
        return use_numba(self.backend)

    # ------------------------------------------------------------ shared set-up
    def prepare(self, network: Network) -> _LTContext:
        n = network.n
        weighted = self.weighted and network.weights is not None
        threshold = self._threshold.resolve(network)
        spec: tuple = _FIXED
        if isinstance(threshold, Distribution):
            d = draw_spec(threshold)
            if isinstance(d, tuple):
                spec = d
            else:
                threshold = d
        theta = None if spec[0] >= 0 else \
            np.ascontiguousarray(np.broadcast_to(np.asarray(threshold, dtype=np.float64), (n,)))
        deg = np.asarray(network.in_degree, dtype=np.int64)
        width = int(network.out_degree.max(initial=0))
        if weighted:
            w = np.asarray(network.weights, dtype=np.float64)
            if w.size and w.min() < 0:
                raise ParameterError("weighted", "the threshold rule needs non-negative edge weights "
                                     "(use weighted=false to ignore them)")
            denom = np.asarray(network.in_strength, dtype=np.float64) if self.rule == "fraction" else None
            zero = np.flatnonzero(theta <= 0.0).astype(np.int64) if theta is not None else np.empty(0, np.int64)
            return _LTContext(deg, w, denom, theta, spec, None, zero, width=width)
        if theta is None:
            return _LTContext(deg, None, None, None, spec, None, np.empty(0, np.int64), width=width)
        if self._compiled:  # the same integers, in one compiled pass
            from .. import _kernels as K

            need = np.empty(n, dtype=np.int32)
            zero = np.empty(n, dtype=np.int64)
            zero = zero[: K.lt_need(theta, deg, self.rule == "fraction", need, zero)].copy()
            meta, planes = K.lt_meta(need)
            return _LTContext(deg, None, None, theta, spec, need, zero, meta, int(planes), width)
        need = integer_thresholds(theta, deg, self.rule)
        return _LTContext(deg, None, None, theta, spec, need, np.flatnonzero(need <= 0).astype(np.int64),
                          width=width)

    def starts_without_initial(self, ctx: _LTContext) -> bool:
        """Nodes whose threshold is 0 adopt without neighbours (random thresholds may be 0)."""
        if ctx.random:
            return ctx.spec[3] > 0.0
        return len(ctx.zero) > 0

    def start(self, ctx: _LTContext, network: Network, batch: Batch) -> _LTState:
        # step 1 is always evaluated: nodes with threshold 0 adopt without neighbours
        return start_state(_LTState, batch, network, self._compiled, active_without_seeds=True)

    def adoptions(self, ctx: _LTContext, state: _LTState) -> Adoptions:
        return adoptions_of(state, len(ctx.deg))

    def memory_per_replicate(self, network: Network, max_steps: int | None) -> tuple[int, int]:
        kept, working = super().memory_per_replicate(network, max_steps)
        if self._compiled:
            # the kernels keep their state per chunk (counted by sparse_memory), not per replicate;
            # a bit-parallel batch writes node-major adoption steps before transposing them
            working = 2 * network.n if (not self.weighted or network.weights is None) else 0
        return kept, working

    def replicate_batch(self, network: Network) -> int:
        # unweighted compiled threshold kernel: 64 replicates share each pass over the arcs
        return 64 if self._compiled and (not self.weighted or network.weights is None) else 1

    def sparse_memory(self, network: Network, max_steps: int | None) -> tuple[int, int] | None:
        if not self._compiled:
            return None
        # bit-sliced batches: 32-byte records, two frontier masks, two lists, tallies (and planes)
        # one replicate at a time: stamps, counters or received influence and thresholds, queue, tallies
        per_node = 100 * self.threads if (not self.weighted or network.weights is None) else 48
        return sparse_bytes(network, max_steps, per_node)

    # ------------------------------------------------------------ compiled path
    def run_to_end(self, ctx: _LTContext, network: Network, state: _LTState,
                   max_steps: int | None) -> tuple[np.ndarray, np.ndarray] | None:
        if not state.compiled:
            return None
        from .. import _kernels as K

        cap = -1 if max_steps is None else int(max_steps)
        indptr, indices = network.indptr, network.indices
        fraction = self.rule == "fraction"
        assert state.plan is not None
        plan, keys, work = state.plan, state.keys, state.work
        if ctx.weights is not None:
            theta = ctx.theta if ctx.theta is not None else np.empty(0)
            denom = ctx.denom if ctx.denom is not None else np.empty(0)
            return run_kernel(state, network.n, lambda sink: K.ltw_chunk(
                indptr, indices, ctx.weights, denom, fraction, theta, ctx.zero, ctx.spec, plan.kernel(), keys,
                sink, cap, work))
        if ctx.random:
            return run_kernel(state, network.n, lambda sink: K.lt_chunk(
                indptr, indices, ctx.deg, fraction, ctx.spec, plan.kernel(), keys, sink, cap, work))
        # shared thresholds: cascades overlap, so 64 replicates share each pass over the arcs,
        # with bit-sliced counters (a few word operations per arc for all of them)
        R = state.runs

        def bits(a: int, b: int, sink: Any, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return K.lt_bits_chunk(indptr, indices, ctx.need, ctx.meta, ctx.planes, ctx.zero, ctx.width,
                                   plan.part(a, b).kernel(), keys[a:b], sink, cap, w)

        if self.threads == 1 or R <= 1:
            return run_kernel(state, network.n, lambda sink: bits(0, R, sink, work))
        return run_kernel(state, network.n, lambda sink: self._threaded(bits, R, sink, work))

    def _threaded(self, bits: Any, R: int, sink: Any, work: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split a chunk into one contiguous part per thread (the kernel releases the GIL)."""
        from concurrent.futures import ThreadPoolExecutor

        from .. import _kernels as K

        per = -(-R // self.threads)
        parts = [(a, min(a + per, R)) for a in range(0, R, per)]

        def one(ab: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, Any, np.ndarray]:
            a, b = ab
            w = np.zeros_like(work)
            # each thread tallies into its own array (added up below): no shared writes
            rows = sink.rows[a:b] if sink.dense else sink.rows
            own = K.Sink(sink.dense, rows, np.zeros_like(sink.tally), sink.limit)
            h, s = bits(a, b, own, w)
            return h, s, own, w

        with ThreadPoolExecutor(len(parts)) as pool:
            done = list(pool.map(one, parts))
        if any(h.shape[0] == 0 for h, _, _, _ in done):
            return done[0][0][:0], np.zeros(R, np.int64)
        T = max(h.shape[0] for h, _, _, _ in done)
        hist = np.zeros((T, R), dtype=np.int64)
        for (a, b), (h, _, own, w) in zip(parts, done, strict=True):
            hist[: h.shape[0], a:b] = h
            work += w
            np.add(sink.tally, own.tally, out=sink.tally)
        return hist, np.concatenate([s for _, s, _, _ in done])

    # --------------------------------------------------------------- numpy path
    def _init_numpy(self, ctx: _LTContext, network: Network, state: _LTState) -> None:
        R, n = state.adopted_at.shape
        if ctx.random:
            theta = self._reference_thresholds(ctx, state.keys, n)
        else:
            theta = ctx.theta
        if ctx.weights is None:
            if ctx.random:
                rem = integer_thresholds(theta.ravel(), np.tile(ctx.deg, R), self.rule).reshape(R, n)
            else:
                rem = np.tile(ctx.need, (R, 1))
            state.rem = rem
            state.zero = np.flatnonzero(rem <= 0)
        else:
            state.theta = theta
            state.received = np.zeros((R, n))
            state.zero = np.flatnonzero(np.broadcast_to(theta <= 0.0, (R, n)))
        state.ready = True

    def _reference_thresholds(self, ctx: _LTContext, keys: np.ndarray, n: int) -> np.ndarray:
        """Every node's threshold in every replicate, ``(R, n)``: the draws the kernels make lazily."""
        R = len(keys)
        streams = np.repeat(stream_keys(keys, THRESHOLD), n)
        theta = threshold_values(ctx.spec, streams, np.tile(np.arange(n, dtype=np.int64), R)).reshape(R, n)
        if ctx.spec[3] > 0.0:
            theta[zero_mask(stream_keys(keys, ZERO), n, ctx.spec[4])] = 0.0
        return theta

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
