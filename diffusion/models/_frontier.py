"""What the threshold and cascade models share: backends, initial adopters, state, kernel runs.

Both models have two implementations of their rule that give identical
adoption steps for equal seeds: compiled kernels (:mod:`diffusion._kernels`,
one call per chunk of replicates, state kept sparse when per-node rows are not
needed) and a vectorized numpy reference that steps the replicates of a chunk
together over dense ``(R, n)`` arrays. Both draw every random number by
address (:mod:`diffusion._random`): the initial adopters of replicate ``r``,
a node's threshold, an arc's chance — so neither depends on the other's order
of work.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._random import SEEDS, floyd_seeds, stream_keys
from ..engine import Batch, State
from ..errors import ParameterError
from ..network import Network
from ..reductions import Adoptions

__all__ = ["FrontierState", "SeedPlan", "check_backend", "history_from_matrix", "use_numba"]

_BACKENDS = ("auto", "numba", "numpy")

#: Largest adoption step an int16 array holds; runs that go further are stored as int32.
STEP16 = int(np.iinfo(np.int16).max)


def check_backend(backend: Any) -> str:
    """Validate a ``backend`` keyword (``"auto"``, ``"numba"`` or ``"numpy"``)."""
    if backend not in _BACKENDS:
        raise ParameterError("backend", f"must be one of {', '.join(map(repr, _BACKENDS))}, got {backend!r}")
    if backend == "numba" and not _numba_installed():
        raise ParameterError("backend", "'numba' needs the numba package (pip install numba)")
    return str(backend)


def use_numba(backend: str) -> bool:
    """Whether ``backend`` resolves to the compiled kernels (``"auto"``: when numba is installed)."""
    return backend == "numba" or (backend == "auto" and _numba_installed())


@functools.cache
def _numba_installed() -> bool:
    """Whether numba can be imported (looked up once: the search costs file-system calls)."""
    return importlib.util.find_spec("numba") is not None


def upgrade_steps(state: State, t: int) -> None:
    """Before step ``t`` of the step loop: widen int16 adoption steps that ``t`` would overflow."""
    if t > STEP16 and state.adopted_at.dtype == np.int16:
        state.adopted_at = state.adopted_at.astype(np.int32)


def _distinct(seeds: np.ndarray) -> np.ndarray:
    a = np.asarray(seeds, dtype=np.int64).ravel()
    if len(a) > 1 and not np.all(a[1:] > a[:-1]):
        a = np.unique(a)
    return a


@dataclass(frozen=True)
class SeedPlan:
    """The initial adopters of a chunk, as the kernels take them (see :class:`diffusion._kernels.Seeds`).

    ``k > 0``: every replicate draws ``k`` distinct nodes itself from its key
    (Floyd's algorithm); else replicate ``r``'s are ``idx[ptr[r]:ptr[r + 1]]``,
    or ``idx[ptr[0]:ptr[1]]`` for all when ``shared`` (fixed initial adopters).
    """

    k: int
    ptr: np.ndarray
    idx: np.ndarray
    shared: bool

    @classmethod
    def of(cls, batch: Batch, network: Network) -> SeedPlan:
        """The plan of ``batch``: random counts are drawn by the kernels, fixed sets are shared."""
        if batch.explicit:
            lists = [_distinct(s) for s in batch.seeds]
            bad = [s for s in lists if len(s) and (s[0] < 0 or s[-1] >= network.n)]
            if bad:
                raise ParameterError("seeds", f"initial adopters must be node indices in 0..{network.n - 1}, "
                                     f"got {bad[0].tolist()[:5]}")
            ptr = np.zeros(len(lists) + 1, dtype=np.int64)
            ptr[1:] = np.cumsum([len(s) for s in lists])
            idx = np.concatenate(lists) if lists else np.empty(0, np.int64)
            return cls(0, ptr, idx.astype(np.int64), False)
        init = batch.initial
        if init.kind in ("count", "fraction") and init.count_for(network.n) > 0:
            return cls(init.count_for(network.n), np.zeros(2, np.int64), np.empty(0, np.int64), True)
        fixed = _distinct(init.resolve(network, [None])[0])  # type: ignore[list-item]
        return cls(0, np.array([0, len(fixed)], dtype=np.int64), fixed, True)

    def counts(self, runs: int) -> np.ndarray:
        """Number of initial adopters of each replicate."""
        if self.k > 0:
            return np.full(runs, self.k, dtype=np.int64)
        if self.shared:
            return np.full(runs, int(self.ptr[1] - self.ptr[0]), dtype=np.int64)
        return np.diff(self.ptr).astype(np.int64)

    def part(self, a: int, b: int) -> SeedPlan:
        """The plan of replicates ``a .. b - 1`` of the chunk."""
        if self.k > 0 or self.shared:
            return self
        return SeedPlan(0, self.ptr[a : b + 1], self.idx, False)

    def kernel(self) -> Any:
        """The :class:`diffusion._kernels.Seeds` record."""
        from .. import _kernels as K

        return K.Seeds(int(self.k), self.ptr, self.idx, bool(self.shared))

    def flat(self, keys: np.ndarray, n: int) -> np.ndarray:
        """Flat indices ``r * n + v`` of every replicate's initial adopters, ascending (numpy reference)."""
        R = len(keys)
        if self.k > 0:
            return np.flatnonzero(floyd_seeds(stream_keys(keys, SEEDS), n, self.k))
        if self.shared:
            own = self.idx[self.ptr[0] : self.ptr[1]]
            return (np.arange(R, dtype=np.int64)[:, None] * n + own[None, :]).ravel()
        rep = np.repeat(np.arange(R, dtype=np.int64), np.diff(self.ptr))
        return rep * n + self.idx


@dataclass
class FrontierState(State):
    """State of a chunk of a frontier model (threshold or cascade).

    Compiled path: ``adopted_at`` is filled by the kernel when per-node rows are
    needed (``dense``), and the kernel tallies adoptions per node into
    ``tallies`` (replicates adopted, sum of steps) in both cases. ``work`` holds the
    kernels' counters (:data:`diffusion._kernels.WORK_FIELDS`). Numpy
    reference: dense arrays, stepped by the model.
    """

    keys: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    plan: SeedPlan | None = None
    dense: bool = True
    compiled: bool = False
    tallies: tuple[np.ndarray, np.ndarray] | None = None
    work: np.ndarray = field(default_factory=lambda: np.zeros(4, dtype=np.int64))
    ready: bool = False  # numpy reference: arrays built
    front: np.ndarray | None = None  # numpy reference: flat indices r * n + v of the last step's adopters


def start_state(cls: type[FrontierState], batch: Batch, network: Network, compiled: bool,
                active_without_seeds: bool, **extra: Any) -> FrontierState:
    """A chunk's initial state. Numpy reference: ``(R, n)`` adoption steps with the seeds at 0."""
    R, n = batch.runs, network.n
    plan = SeedPlan.of(batch, network)
    count = plan.counts(R)
    active = np.ones(R, dtype=bool) if active_without_seeds else count > 0
    if compiled:
        rows = np.empty((R, n), dtype=np.int16) if batch.dense else None
        return cls(rows, count, active, [], keys=batch.keys, plan=plan, dense=batch.dense, compiled=True,
                   **extra)
    adopted_at = np.full((R, n), -1, dtype=np.int16)
    flat = plan.flat(batch.keys, n)
    adopted_at.reshape(-1)[flat] = 0
    return cls(adopted_at, count, active, [], keys=batch.keys, plan=plan, dense=True, compiled=False,
               front=flat, **extra)


def run_kernel(state: FrontierState, n: int, call: Any) -> tuple[np.ndarray, np.ndarray]:
    """Run a chunk through ``call(sink) -> (hist, steps)``; ``(counts, steps)`` for the runner.

    Dense rows are int16 unless a replicate passes step 32,767: the kernel then
    stops and the chunk runs again into int32 rows (the draws are addressed,
    so the rerun is the same cascade). Without rows, adoptions are tallied.
    """
    from .. import _kernels as K

    R = state.runs
    tally = np.zeros((n, 2), dtype=np.int64)  # tallied in both modes: rows are not read again to reduce them
    if state.dense:
        rows = state.adopted_at
        hist, steps = call(K.Sink(True, rows, tally, STEP16))
        if hist.shape[0] == 0:
            state.adopted_at = np.empty((R, n), dtype=np.int32)
            state.work[:] = 0
            tally[:] = 0
            hist, steps = call(K.Sink(True, state.adopted_at, tally, np.iinfo(np.int32).max))
    else:
        hist, steps = call(K.Sink(False, np.empty((0, 0), np.int16), tally, 0))
    state.tallies = (tally[:, 0], tally[:, 1])
    return history_from_matrix(hist, steps, state)


def adoptions_of(state: FrontierState, n: int) -> Adoptions:
    """Dense rows, or the tallies the kernel made where the adoptions happened."""
    if state.adopted_at is not None:
        if state.tallies is not None:  # the kernel tallied while it wrote the rows
            return Adoptions(n, state.runs, dense=state.adopted_at, totals=state.tallies)
        return Adoptions.from_dense(state.adopted_at)
    assert state.tallies is not None
    return Adoptions.tallied(n, state.runs, *state.tallies)


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


def sparse_bytes(network: Network, max_steps: int | None, per_node: int) -> tuple[int, int]:
    """``(per chunk, per replicate)`` bytes of a kernel that keeps its state sparse.

    ``per_node`` scratch bytes per node for the chunk (stamps, queue, counters
    and the two per-node tallies); per replicate, its histogram of adopters per
    step and a few scalars.
    """
    steps = min((max_steps if max_steps is not None else 64) + 1, network.n + 2)
    return per_node * network.n, 8 * steps + 64
