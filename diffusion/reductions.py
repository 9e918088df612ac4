"""Reductions of an ensemble: what a chunk of replicates sends back, and how chunks merge.

A chunk of ``R`` replicates (see :func:`diffusion.engine.run_chunk`) ends with
per-node arrays of shape ``(R, n)`` or, for sparse cascades, lists of who
adopted when. Where it ran — in the calling process, a pool worker or a Dask
worker — it is reduced to a :class:`ChunkSummary`:

* per replicate: the adoption counts after every step, the last step that
  changed something, the model's run outputs and series (all small);
* per node, summed over the chunk's replicates: in how many replicates the
  node adopted and the sum of its adoption steps, the count of every category
  of every declared categorical node output, and the sum of every declared
  numeric node output (with how many replicates define it);
* the per-node arrays of the replicates asked for (``keep``), and nothing
  else.

Only summaries travel and are merged: no array of shape ``(runs, n)`` exists
unless every replicate is kept. All per-node sums are integers — counts,
integer steps, and real values in fixed point within their declared bounds —
so a merged summary is exactly the same, bit for bit, whatever the chunk size,
the executor or the order in which chunks finish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .declarations import Declarations, Output

__all__ = ["Adoptions", "ChunkData", "ChunkSummary", "FixedPoint", "NodeTotals", "merge_summaries",
           "reduce_chunk"]


# ----------------------------------------------------------------- adoptions
@dataclass
class Adoptions:
    """Who adopted when in the ``R`` replicates of a chunk: dense rows or sparse lists.

    Either ``dense`` (``(R, n)`` adoption steps, ``-1`` never), or the
    replicate-major lists ``ptr`` (``(R + 1,)`` offsets), ``node`` and
    ``step`` (replicate ``r``'s adopters are ``node[ptr[r]:ptr[r + 1]]``),
    which cost the adoptions, not ``R × n``, or already ``tallied`` where the
    adoptions happened (per node: replicates in which it adopted, sum of its
    adoption steps), which costs ``2 n`` integers whatever ``R``; neither of the
    last two has per-node rows to keep.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.reductions import Adoptions
    >>> a = Adoptions.sparse(4, np.array([0, 2, 3]), np.array([1, 3, 1]), np.array([0, 2, 0]))
    >>> a.rows([0, 1]).tolist()
    [[-1, 0, -1, 2], [-1, 0, -1, -1]]
    >>> [x.tolist() for x in a.tally()]
    [[0, 2, 0, 1], [0, 0, 0, 2]]
    """

    n: int
    runs: int
    dense: np.ndarray | None = None
    ptr: np.ndarray | None = None
    node: np.ndarray | None = None
    step: np.ndarray | None = None
    totals: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_dense(cls, steps: np.ndarray) -> Adoptions:
        steps = np.asarray(steps)
        return cls(steps.shape[1], steps.shape[0], dense=steps)

    @classmethod
    def sparse(cls, n: int, ptr: np.ndarray, node: np.ndarray, step: np.ndarray) -> Adoptions:
        return cls(int(n), len(ptr) - 1, ptr=np.asarray(ptr, np.int64), node=np.asarray(node, np.int64),
                   step=np.asarray(step, np.int64))

    @classmethod
    def tallied(cls, n: int, runs: int, count: np.ndarray, step_sum: np.ndarray) -> Adoptions:
        """Adoptions of ``runs`` replicates already reduced per node (see :meth:`tally`).

        Examples
        --------
        >>> import numpy as np
        >>> from diffusion.reductions import Adoptions
        >>> a = Adoptions.tallied(3, 2, np.array([2, 0, 1]), np.array([0, 0, 4]))
        >>> [x.tolist() for x in a.tally()], a.rows([]).shape
        ([[2, 0, 1], [0, 0, 4]], (0, 3))
        """
        return cls(int(n), int(runs), totals=(np.asarray(count, np.int64), np.asarray(step_sum, np.int64)))

    @property
    def dtype(self) -> np.dtype:
        if self.dense is not None:
            return self.dense.dtype
        top = int(self.step.max(initial=0)) if self.step is not None else 0
        return np.dtype(np.int16 if top < np.iinfo(np.int16).max else np.int32)

    def rows(self, idx: Sequence[int] | np.ndarray) -> np.ndarray:
        """Dense adoption steps of the replicates ``idx`` (positions within the chunk)."""
        idx = np.asarray(idx, dtype=np.int64)
        if self.dense is not None:
            if _is_all(idx, len(self.dense)):  # every replicate kept: hand the rows over
                return self.dense
            return self.dense[idx]
        if self.totals is not None:
            if len(idx):
                raise ValueError("these adoptions were tallied where they happened: no per-node rows were kept")
            return np.empty((0, self.n), dtype=np.int16)
        out = np.full((len(idx), self.n), -1, dtype=self.dtype)
        assert self.ptr is not None and self.node is not None and self.step is not None
        for j, r in enumerate(idx):  # one slice per kept replicate
            a, b = self.ptr[r], self.ptr[r + 1]
            out[j, self.node[a:b]] = self.step[a:b]
        return out

    def tally(self) -> tuple[np.ndarray, np.ndarray]:
        """Per node: number of replicates in which it adopted, and the sum of its adoption steps."""
        if self.totals is not None:
            return self.totals
        if self.dense is not None:
            d = self.dense
            count = np.count_nonzero(d >= 0, axis=0).astype(np.int64)
            # a row holds -1 where the node never adopted: add those back
            # instead of masking the sum (one pass, no mask read)
            return count, d.sum(axis=0, dtype=np.int64) + (len(d) - count)
        if self.totals is not None:
            return self.totals
        assert self.node is not None and self.step is not None
        count = np.bincount(self.node, minlength=self.n).astype(np.int64)
        # integer steps summed in float64 are exact below 2**53
        total = np.bincount(self.node, weights=self.step, minlength=self.n)
        return count, total.astype(np.int64)


# ----------------------------------------------------------------- fixed point
@dataclass(frozen=True)
class FixedPoint:
    """Exact, order-independent sums of reals in ``[low, high]``, for ``runs`` terms at most.

    A value ``x`` is stored as the integer ``round((x - low) / (high - low) * 2**bits)``
    with ``bits`` as large as lets ``runs`` of them add up in an int64
    (at most 52, the precision of a double): the sum of any set of values
    is the same integer in any order.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.reductions import FixedPoint
    >>> fp = FixedPoint(0.0, 1.0, runs=1000)
    >>> q = fp.encode(np.array([0.1, 0.2, 0.7]))
    >>> float(fp.mean(q.sum(), 3)) == float(np.mean([0.1, 0.2, 0.7]))
    True
    """

    low: float
    high: float
    runs: int

    @property
    def bits(self) -> int:
        return int(min(52, 62 - int(np.ceil(np.log2(max(self.runs, 1) + 1)))))

    def encode(self, x: np.ndarray) -> np.ndarray:
        scale = float(2 ** self.bits) / (self.high - self.low)
        y = np.clip(np.asarray(x, dtype=np.float64), self.low, self.high)
        return np.rint((y - self.low) * scale).astype(np.int64)

    def mean(self, total: np.ndarray, count: np.ndarray) -> np.ndarray:
        total = np.asarray(total, dtype=np.float64)
        count = np.asarray(count)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = total / count / float(2 ** self.bits)
        return np.where(count > 0, self.low + m * (self.high - self.low), np.nan)


# ----------------------------------------------------------------- chunk data
@dataclass
class ChunkData:
    """Everything a chunk produced, before reduction (lives only where the chunk ran).

    Attributes
    ----------
    start, runs : int
        Replicates ``start .. start + runs - 1``.
    adoptions : Adoptions
    counts : ndarray of int64, shape (T + 1, R)
    steps : ndarray of int64, shape (R,)
    values : dict
        Declared outputs by name: ``(R, ...)`` for node and run outputs,
        ``(T + 1, R, ...)`` for series, ``(T + 1, k, n)`` for node series of
        the kept replicates.
    kept : ndarray of int
        Positions (within the chunk) of the replicates whose per-node arrays
        are kept.
    seed : numpy.random.SeedSequence or None
        The cascade's root seed (a stage that replays the cascade's draws, e.g.
        a recovery that lets the model run on, rebuilds its generators from it).
    """

    start: int
    runs: int
    adoptions: Adoptions
    counts: np.ndarray
    steps: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)
    kept: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    seed: np.random.SeedSequence | None = None

    def holdings(self, declarations: Declarations) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """``(holding, second, names)`` per replicate, from the outputs with those roles.

        A model without a ``"holding"`` output is read as holding one thing,
        ``"adopted"``, where it adopted.
        """
        hold = declarations.role("holding")
        if hold is None:
            rows = self.adoptions.rows(np.arange(self.runs))
            plat = (rows >= 0).astype(np.int16)
            return plat, np.zeros_like(plat), ("adopted",)
        plat = np.asarray(self.values[hold.name]).astype(np.int16, copy=False)
        sec_out = declarations.role("second_holding")
        second = (np.asarray(self.values[sec_out.name]).astype(np.int16, copy=False) if sec_out is not None
                  else np.zeros_like(plat))
        return plat, second, tuple(hold.labels[1 - hold.start:])


# ----------------------------------------------------------------- summaries
@dataclass
class NodeTotals:
    """Per-node sums over replicates (all integers, so merging is exact).

    Attributes
    ----------
    runs : int
        Replicates summed.
    adopted : ndarray of int64, shape (n,)
        Replicates in which the node adopted.
    step_sum : ndarray of int64, shape (n,)
        Sum of its adoption steps over those replicates.
    categories : dict of str to ndarray of int64, shape (n, K)
        Per categorical node output: replicates in which the node was in each category.
    values : dict of str to (count, total)
        Per numeric node output: replicates where it is defined, and the sum
        (exact integers, or fixed point, see :class:`FixedPoint`).
    """

    runs: int
    adopted: np.ndarray
    step_sum: np.ndarray
    categories: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def add(self, other: NodeTotals) -> None:
        self.runs += other.runs
        self.adopted += other.adopted
        self.step_sum += other.step_sum
        for k, v in other.categories.items():
            self.categories[k] += v
        for k, (c, s) in other.values.items():
            c0, s0 = self.values[k]
            c0 += c
            s0 += s


@dataclass
class ChunkSummary:
    """What a chunk sends back: per-replicate results, per-node totals and kept rows."""

    start: int
    runs: int
    counts: np.ndarray
    steps: np.ndarray
    run_values: dict[str, np.ndarray]
    series: dict[str, np.ndarray]
    totals: NodeTotals
    kept: np.ndarray  # global replicate indices, ascending
    kept_adoption: np.ndarray  # (k, n)
    kept_values: dict[str, np.ndarray]  # node outputs (k, n) and node series (T + 1, k, n)


def _tally_category(codes: np.ndarray, out: Output, n: int) -> np.ndarray:
    codes = np.asarray(codes)
    K = out.K
    if codes.ndim == 2 and codes.dtype.kind in "biu" and K <= 16:
        # a few categories: one comparison and one column sum per category (no int64 copy of the codes)
        res = np.empty((K, n), dtype=np.int64)
        eq = np.empty(codes.shape, dtype=bool)
        for j in range(K):
            np.equal(codes, out.start + j, out=eq)
            np.sum(eq, axis=0, dtype=np.int64, out=res[j])
        return np.ascontiguousarray(res.T)
    k = codes.astype(np.int64) - out.start
    ok = (k >= 0) & (k < K)
    node = np.broadcast_to(np.arange(n), codes.shape)
    return np.bincount(node[ok] * K + k[ok], minlength=n * K).reshape(n, K).astype(np.int64)


def _tally_value(x: np.ndarray, out: Output, runs_total: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    defined = np.ones(x.shape, dtype=bool) if out.missing is None else x != out.missing
    if x.dtype.kind == "f":
        defined &= ~np.isnan(x)
    count = np.count_nonzero(defined, axis=0).astype(np.int64)
    if out.integer or x.dtype.kind in "biu":
        total = np.asarray(x).sum(axis=0, dtype=np.int64, where=defined)
    else:
        q = FixedPoint(*out.bounds, runs=runs_total).encode(np.where(defined, x, out.bounds[0]))
        total = q.sum(axis=0, dtype=np.int64, where=defined)
    return count, total


def reduce_chunk(data: ChunkData, declarations: Declarations, n: int, runs_total: int) -> ChunkSummary:
    """Reduce a chunk's arrays to a :class:`ChunkSummary` (see the module docstring)."""
    adopted, step_sum = data.adoptions.tally()
    totals = NodeTotals(data.runs, adopted, step_sum)
    run_values: dict[str, np.ndarray] = {}
    series: dict[str, np.ndarray] = {}
    kept_values: dict[str, np.ndarray] = {}
    kept = np.asarray(data.kept, dtype=np.int64)
    for out in declarations:
        if out.name not in data.values:
            raise KeyError(f"output {out.name!r} was declared but not produced")
        v = data.values[out.name]
        if out.kind == "node_category":
            totals.categories[out.name] = _tally_category(v, out, n)
        elif out.kind == "node_value":
            totals.values[out.name] = _tally_value(v, out, runs_total)
        elif out.kind in ("run_category", "run_value"):
            run_values[out.name] = np.asarray(v)
        elif out.kind == "series":
            series[out.name] = np.asarray(v)
        if out.kind == "node_series":
            kept_values[out.name] = np.asarray(v)
        elif out.per_node and len(kept):
            v = np.asarray(v)
            kept_values[out.name] = v if _is_all(kept, len(v)) else v[kept]
    return ChunkSummary(
        start=data.start, runs=data.runs, counts=data.counts, steps=data.steps,
        run_values=run_values, series=series, totals=totals, kept=data.start + kept,
        kept_adoption=data.adoptions.rows(kept), kept_values=kept_values,
    )


def _is_all(idx: np.ndarray, rows: int) -> bool:
    """Whether ``idx`` is ``0, 1, ..., rows - 1``."""
    return len(idx) == rows and (rows == 0 or (idx[0] == 0 and idx[-1] == rows - 1
                                               and bool(np.all(np.diff(idx) == 1))))


def _pad_rows(a: np.ndarray, rows: int) -> np.ndarray:
    """Extend ``a`` along axis 0 to ``rows`` by repeating its last row."""
    if len(a) == rows:
        return a
    pad = np.repeat(a[-1:], rows - len(a), axis=0)
    return np.concatenate([a, pad])


@dataclass
class Merged:
    """All chunks of an ensemble merged (in replicate order)."""

    counts: np.ndarray
    steps: np.ndarray
    run_values: dict[str, np.ndarray]
    series: dict[str, np.ndarray]
    totals: NodeTotals
    kept: np.ndarray
    kept_adoption: np.ndarray
    kept_values: dict[str, np.ndarray]


def merge_summaries(chunks: Sequence[ChunkSummary], declarations: Declarations) -> Merged:
    """Merge chunk summaries (in any order) into one, in replicate order.

    Per-replicate arrays are concatenated (curves padded to the longest
    chunk by repeating their last row: a replicate that stopped stays where
    it was); per-node totals are added (integers: exact).
    """
    chunks = sorted(chunks, key=lambda c: c.start)
    T = max(len(c.counts) for c in chunks)
    counts = np.concatenate([_pad_rows(c.counts, T) for c in chunks], axis=1)
    steps = np.concatenate([c.steps for c in chunks])
    run_values = {k: np.concatenate([c.run_values[k] for c in chunks], axis=0) for k in chunks[0].run_values}
    series = {k: np.concatenate([_pad_rows(c.series[k], T) for c in chunks], axis=1) for k in chunks[0].series}
    if len(chunks) == 1:  # hand over the chunk's totals
        totals = chunks[0].totals
    else:
        totals = NodeTotals(0, np.zeros_like(chunks[0].totals.adopted), np.zeros_like(chunks[0].totals.step_sum),
                            {k: np.zeros_like(v) for k, v in chunks[0].totals.categories.items()},
                            {k: (np.zeros_like(c), np.zeros_like(s)) for k, (c, s) in chunks[0].totals.values.items()})
        for c in chunks:
            totals.add(c.totals)
    with_kept = [c for c in chunks if len(c.kept)]
    kept = np.concatenate([c.kept for c in chunks]) if chunks else np.empty(0, np.int64)
    n = len(totals.adopted)
    if len(with_kept) == 1:  # hand over the arrays (no copy of the kept rows)
        c = with_kept[0]
        kept_adoption, kept_values = c.kept_adoption, dict(c.kept_values)
        for out in declarations.of_kind("node_series"):
            if out.name in kept_values:
                kept_values[out.name] = _pad_rows(kept_values[out.name], T)
    elif with_kept:
        dtype = np.result_type(*[c.kept_adoption.dtype for c in with_kept])
        kept_adoption = np.concatenate([c.kept_adoption.astype(dtype, copy=False) for c in with_kept])
        kept_values = {}
        for name in with_kept[0].kept_values:
            if declarations[name].kind == "node_series":
                kept_values[name] = np.concatenate([_pad_rows(c.kept_values[name], T) for c in with_kept], axis=1)
            else:
                kept_values[name] = np.concatenate([c.kept_values[name] for c in with_kept], axis=0)
    else:
        kept_adoption, kept_values = np.empty((0, n), dtype=np.int16), {}
    return Merged(counts, steps, run_values, series, totals, kept, kept_adoption, kept_values)
