"""Propagation of distress along an exposure network, vectorized over replicates.

All rules read an exposure matrix ``W`` (``W[i, j]``: fraction of ``j``'s
capacity lost when ``i`` is fully distressed; see
:mod:`diffusion.shocks.exposure`) and an initial distress ``h0`` of shape
``(R, n)`` (one row per replicate) or ``(n,)``. Replicates advance together:
each round is one sparse product ``X @ W`` for the whole batch.

Rules
-----
``"threshold"`` — default cascade (Watts 2002; Gai & Kapadia 2010).
    A firm's loss is its own hit plus the exposures to the partners that have
    failed, ``l_j = h0_j + sum_{i failed} W_ij``; it fails when ``l_j >=
    capacity_j`` (default 1: the buffer is used up). Failed firms have
    distress 1, survivors ``min(1, l_j)``. A firm whose own hit reaches its
    capacity fails in round 0 (and counts as initial loss 1).
``"debtrank"`` — DebtRank, single hit (Battiston et al. 2012).
    States undistressed / distressed / inactive. Every firm with ``h0 > 0``
    starts distressed. Each round
    ``h_j <- min(1, h_j + sum_{i distressed} W_ij h_i)``; then the distressed
    firms become inactive and the undistressed firms with ``h > 0`` become
    distressed: each firm propagates its distress once.
``"linear_debtrank"`` — linear DebtRank (Bardoscia et al. 2015).
    Only increments propagate:
    ``h_j(t+1) = min(1, h_j(t) + sum_i W_ij (h_i(t) - h_i(t-1)))`` with
    ``h(0) = 0``, ``h(1) = h0``. Without saturation this converges to
    ``h(1) (I - W)^{-1}`` when the spectral radius of ``W`` is below 1; a
    :class:`StabilityWarning` is issued otherwise (distress then grows until it
    saturates at 1).

Losses are value-weighted: ``L(h) = sum_i v_i h_i / sum_i v_i``; the
*systemic loss* is ``L(h_final) - L(h0)`` (the DebtRank ``R`` of Battiston et
al.), the *total loss* ``L(h_final)``.

Backends
--------
``backend="numba"`` (the default ``"auto"`` when numba is installed) runs the
rounds in a compiled loop that touches only the out-exposures of the firms
whose distress changed in the round before (the *frontier*), for up to 64
replicates at once: a frontier firm's exposures are read once for all the
replicates it is in (see :mod:`diffusion.shocks._kernels`). A batch costs the
exposures its frontiers read, not ``n`` per round. ``backend="numpy"``
advances all replicates together, one sparse product per round (expanding
only the frontier's arcs when it is small), and is the reference. The two
give identical distress, failures, failure rounds, round counts and losses:
the contributions to a firm are added in the same order.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError
from .exposure import as_exposure, spectral_radius
from .metrics import fragility_summary

__all__ = [
    "BACKENDS",
    "PROPAGATIONS",
    "PropagationResult",
    "StabilityWarning",
    "debtrank",
    "propagate",
    "threshold_cascade",
]

PROPAGATIONS = ("threshold", "debtrank", "linear_debtrank")
BACKENDS = ("auto", "numba", "numpy")


class StabilityWarning(UserWarning):
    """The linear DebtRank dynamics are unstable (spectral radius of ``W`` >= 1)."""


@dataclass(frozen=True)
class PropagationResult:
    """Outcome of a propagation for ``R`` replicates.

    Attributes
    ----------
    method : str
        ``"threshold"``, ``"debtrank"`` or ``"linear_debtrank"``.
    initial : ndarray, shape (R, n)
        Distress after the shock (round 0).
    distress : ndarray, shape (R, n)
        Final distress ``h`` in ``[0, 1]``.
    failed : ndarray of bool, shape (R, n)
        Firms that failed (threshold rule) or are fully distressed (``h = 1``).
    rounds : ndarray of int, shape (R,)
        Last round in which some distress changed (0: nothing propagated).

    With a one-dimensional initial distress the replicate axis is dropped
    (``distress`` of shape ``(n,)``, ``rounds`` an int, scalar losses).
    value : ndarray, shape (n,)
        Firm values used to weight losses.
    failed_round : ndarray of int, shape (R, n)
        Round in which each firm failed (reached distress 1), ``0`` for the
        shock itself, ``-1`` never.

    The loss properties are arrays of shape ``(R,)`` (scalars when the input
    distress was one-dimensional).
    """

    method: str
    initial: np.ndarray
    distress: np.ndarray
    failed: np.ndarray
    rounds: np.ndarray
    value: np.ndarray
    single: bool = False
    failed_round: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.single:  # one-dimensional input: drop the replicate axis
            for name in ("initial", "distress", "failed", "failed_round"):
                a = getattr(self, name)
                if a is not None and a.ndim == 2:
                    object.__setattr__(self, name, a[0])
            r = np.asarray(self.rounds)
            if r.ndim:
                object.__setattr__(self, "rounds", int(r[0]))

    def _out(self, x: np.ndarray) -> Any:
        return x[0].item() if self.single else x

    def _loss(self, h: np.ndarray) -> np.ndarray:
        v = self.value
        # row by row (not a BLAS product, whose rounding depends on how many rows there are),
        # so a replicate's loss does not depend on the batch it was propagated in
        return (np.ascontiguousarray(np.atleast_2d(h)) * v).sum(axis=1) / v.sum()

    @property
    def runs(self) -> int:
        return int(np.atleast_2d(self.distress).shape[0])

    @property
    def initial_loss(self) -> Any:
        """Value-weighted loss caused directly by the shock."""
        return self._out(self._loss(self.initial))

    @property
    def total_loss(self) -> Any:
        """Value-weighted loss after propagation."""
        return self._out(self._loss(self.distress))

    @property
    def systemic_loss(self) -> Any:
        """Loss added by propagation: total minus initial (Battiston et al.'s DebtRank)."""
        return self._out(self._loss(self.distress) - self._loss(self.initial))

    @property
    def failed_fraction(self) -> Any:
        """Share of firms failed at the end (including those the shock knocked out)."""
        return self._out(np.atleast_2d(self.failed).mean(axis=1))

    @property
    def amplification(self) -> Any:
        """Total loss / initial loss (1 where the shock caused no loss)."""
        a, b = self._loss(self.distress), self._loss(self.initial)
        return self._out(np.divide(a, b, out=np.ones_like(a), where=b > 0))

    def summary(self, *, level: float = 0.1, alpha: float = 0.95) -> dict[str, Any]:
        """Fragility summary over replicates (see :func:`~diffusion.shocks.fragility_summary`)."""
        return fragility_summary(self, level=level, alpha=alpha)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat record per replicate: run, initial/systemic/total loss, failed fraction, ..."""
        cols = {
            "initial_loss": np.atleast_1d(self.initial_loss),
            "systemic_loss": np.atleast_1d(self.systemic_loss),
            "total_loss": np.atleast_1d(self.total_loss),
            "failed_fraction": np.atleast_1d(self.failed_fraction),
            "amplification": np.atleast_1d(self.amplification),
            "rounds": np.atleast_1d(self.rounds),
        }
        return [{"run": r, **{k: v[r].item() for k, v in cols.items()}} for r in range(self.runs)]


# ----------------------------------------------------------------- helpers
def _initial(initial_distress: Any, n: int | None) -> tuple[np.ndarray, bool]:
    h0 = np.asarray(initial_distress, dtype=np.float64)
    single = h0.ndim == 1
    if single:
        h0 = h0[None, :]
    if h0.ndim != 2:
        raise ParameterError("initial_distress", f"must have shape (n,) or (R, n), got {h0.shape}")
    if n is not None and h0.shape[1] != n:
        raise ParameterError("initial_distress", f"has {h0.shape[1]} columns but there are {n} firms")
    if not np.all(np.isfinite(h0)) or (h0.size and (h0.min() < 0 or h0.max() > 1)):
        raise ParameterError("initial_distress", "values must be in [0, 1]")
    return np.array(h0, copy=True), single


def _value(value: Any, n: int) -> np.ndarray:
    if value is None:
        return np.ones(n)
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(n, float(v))
    if v.shape != (n,):
        raise ParameterError("value", f"must have one entry per firm ({n}), got shape {v.shape}")
    if not np.all(np.isfinite(v)) or np.any(v < 0) or v.sum() <= 0:
        raise ParameterError("value", "must be non-negative and finite, with a positive sum")
    return v


def _compiled(backend: Any) -> bool:
    """Whether ``backend`` resolves to the compiled kernels."""
    if backend not in BACKENDS:
        raise ParameterError("backend", f"must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "numpy":
        return False
    available = importlib.util.find_spec("numba") is not None
    if backend == "numba" and not available:
        raise ParameterError("backend", "'numba' needs the numba package (pip install numba)")
    return available


def _outcome(method: str, W: sp.csr_array, h0: np.ndarray, cap: np.ndarray, limit: int, tol: float,
             backend: str) -> tuple[np.ndarray, ...]:
    """``(initial, distress, failed, failed_round, rounds)`` of the rows of ``h0`` (R, n).

    ``cap`` holds the threshold rule's capacities, one row per replicate or
    one row for all; ``backend`` picks the compiled kernels or the numpy rounds
    (same outcome).
    """
    R, n = h0.shape
    if method == "threshold":
        failed = h0 >= cap - 1e-12
        initial = np.where(failed, 1.0, h0)
    else:
        failed = h0 >= 1.0 - 1e-12
        initial = h0
    if not _compiled(backend):
        return (initial, *_reference(method, W, h0, cap, limit, tol))
    from . import _kernels as K

    distress = initial.copy()
    fr = np.where(failed, 0, -1).astype(np.int32)
    rounds = np.zeros(R, dtype=np.int64)
    sc = K.new_scratch(n, K.lanes_for(n, R), linear=method == "linear_debtrank", rounds=True)
    K.propagate_rows(K.RULES[method], K.exposure_arrays(W), sc, h0,
                     np.ascontiguousarray(cap, dtype=np.float64), limit, tol, distress, failed, fr,
                     rounds)
    return initial, distress, failed, fr, rounds


def _reference(method: str, W: sp.csr_array, h0: np.ndarray, cap: np.ndarray, limit: int,
               tol: float) -> tuple[np.ndarray, ...]:
    """``(distress, failed, failed_round, rounds)`` by the numpy rounds (see :func:`_outcome`)."""
    push = _Pusher(W)
    if method == "threshold":
        return _threshold(push, h0, np.broadcast_to(cap, h0.shape), limit)
    H = np.array(h0.T, order="C")  # replicates as columns (a copy: h0 is kept)
    failed_round = np.where(H >= 1.0 - 1e-12, 0, -1).astype(np.int32)
    if method == "debtrank":
        rounds = _single_hit(push, H, limit, failed_round)
    else:
        rounds = _linear(push, H, limit, tol, failed_round)
    h = H.T
    return h, h >= 1.0 - 1e-12, failed_round.T, rounds


def _max_rounds(max_rounds: Any, default: int) -> int:
    if max_rounds is None:
        return default
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int | np.integer) or max_rounds < 0:
        raise ParameterError("max_rounds", f"must be a non-negative integer, got {max_rounds!r}")
    return int(max_rounds)


class _Pusher:
    """Spreads distress along the exposures for a batch of replicates.

    The kernels keep their state with replicates as *columns* (``(n, R)``,
    C-ordered; flat index ``i * R + r``). A round either multiplies the whole
    batch (``W.T @ X``, one CSR times dense-matrix product) or, when only a few
    firms changed in the last round (the *frontier*), expands just their
    out-arcs and adds their contributions: the work is then proportional to
    the exposures the frontier touches, not to ``nnz × R``.
    """

    #: Frontier rounds touching fewer than this share of ``nnz × R`` arcs run sparse.
    sparse_share = 0.05

    def __init__(self, W: sp.csr_array) -> None:
        self.W = W
        self.Wt = W.T.tocsr()
        self.indptr = np.asarray(W.indptr, dtype=np.int64)
        self.indices = np.asarray(W.indices, dtype=np.int64)
        self.data = np.asarray(W.data, dtype=np.float64)
        self.out_degree = np.diff(self.indptr)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.Wt @ X)

    def contributions(self, keys: np.ndarray, vals: np.ndarray, R: int) -> tuple[np.ndarray, np.ndarray]:
        """Distress the frontier ``keys`` (flat ``i * R + r``) with values ``vals`` sends.

        Returns the flat keys that receive some (sorted) and the amounts.
        """
        n = self.Wt.shape[0]
        src, col = np.divmod(keys, R)
        lens = self.out_degree[src]
        touched = int(lens.sum())
        if touched >= self.sparse_share * max(self.W.nnz, 1) * R:
            X = np.zeros(n * R)
            X[keys] = vals
            push = self(X.reshape(n, R)).ravel()
            uk = np.flatnonzero(push)
            return uk, push[uk]
        owner = np.repeat(np.arange(keys.size), lens)
        pos = np.arange(touched) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(self.indptr[src], lens)
        tgt = self.indices[pos] * R + col[owner]
        uk, inv = np.unique(tgt, return_inverse=True)
        return uk, np.bincount(inv, weights=self.data[pos] * vals[owner], minlength=uk.size)


def _columns(active: np.ndarray) -> tuple[Any, np.ndarray]:
    """Selector of the active replicates (a slice when all are: views, no copies) and their ids."""
    ids = np.flatnonzero(active)
    return (slice(None) if ids.size == active.size else ids), ids


def check_stability(W: Any, *, stacklevel: int = 3) -> float:
    """Spectral radius of ``W``; issue a :class:`StabilityWarning` when it is >= 1."""
    rho = spectral_radius(W)
    if rho >= 1 - 1e-12:
        warnings.warn(
            f"spectral radius of the exposure matrix is {rho:.4g} >= 1: linear DebtRank is unstable "
            "(distress grows until it saturates); (I - W)^-1 does not describe the outcome",
            StabilityWarning, stacklevel=stacklevel,
        )
    return rho


# ----------------------------------------------------------------- rules
def _mark(failed_round: np.ndarray, c: Any, new: np.ndarray, t: int) -> None:
    fr = failed_round[:, c]
    hit = (new >= 1.0 - 1e-12) & (fr < 0)
    if hit.any():
        fr[hit] = t
        failed_round[:, c] = fr


def _single_hit(push: _Pusher, H: np.ndarray, max_rounds: int, failed_round: np.ndarray) -> np.ndarray:
    """Battiston et al.'s rule on ``H`` (n, R), in place; returns the rounds per replicate.

    Only the distressed firms propagate, once each, so every round starts from
    the frontier of newly distressed firms (see :class:`_Pusher`).
    """
    R = H.shape[1]
    rounds = np.zeros(R, dtype=np.int64)
    h = H.reshape(-1)  # views: flat index i * R + r
    fr = failed_round.reshape(-1)
    state = np.zeros(h.size, dtype=np.int8)  # 0 undistressed, 1 distressed, 2 inactive
    frontier = np.flatnonzero(h > 0)
    state[frontier] = 1
    t = 0
    while frontier.size and t < max_rounds:
        t += 1
        uk, add = push.contributions(frontier, h[frontier], R)
        old = h[uk]
        new = np.minimum(old + add, 1.0)
        h[uk] = new
        rounds[uk[new != old] % R] = t
        fr[uk[(new >= 1.0 - 1e-12) & (old < 1.0 - 1e-12)]] = t
        state[frontier] = 2
        cand = uk[new > 0]
        frontier = cand[state[cand] == 0]
        state[frontier] = 1
    return rounds


def _linear(push: _Pusher, H: np.ndarray, max_rounds: int, tol: float,
            failed_round: np.ndarray) -> np.ndarray:
    """Bardoscia et al.'s rule on ``H`` (n, R), in place; returns the rounds per replicate."""
    R = H.shape[1]
    rounds = np.zeros(R, dtype=np.int64)
    delta = H.copy()
    active = (delta > tol).any(axis=0)
    t = 0
    while active.any() and t < max_rounds:
        t += 1
        c, ids = _columns(active)
        hc = H[:, c]
        new = hc + push(delta[:, c])
        np.minimum(new, 1.0, out=new)
        d = new - hc
        _mark(failed_round, c, new, t)
        H[:, c] = new
        delta[:, c] = d
        dmax = d.max(axis=0)
        rounds[ids[dmax > 0]] = t
        active[ids] = dmax > tol
    return rounds


def debtrank(exposure: Any, initial_distress: Any, value: Any = None, variant: str = "single_hit",
             max_rounds: int | None = None, *, tol: float = 1e-12,
             check_stability_: bool = True, backend: str = "auto") -> PropagationResult:
    """DebtRank: single hit (Battiston et al. 2012) or linear (Bardoscia et al. 2015).

    Parameters
    ----------
    exposure : array-like or scipy sparse matrix, shape (n, n)
        ``exposure[i, j]``: fraction of ``j``'s capacity lost when ``i`` is
        fully distressed (non-negative).
    initial_distress : array-like, shape (n,) or (R, n)
        Initial distress ``h(1)`` in ``[0, 1]``; one row per replicate.
    value : array-like, shape (n,), optional
        Firm values weighting the losses (default: equal).
    variant : {"single_hit", "linear"}, default "single_hit"
        Update rule (see :mod:`diffusion.shocks.propagation`).
    max_rounds : int, optional
        Round cap (default ``n + 1`` for single hit, which always terminates by
        then, and 10,000 for linear).
    tol : float, default 1e-12
        Linear variant: stop once no distress increment exceeds ``tol``.
    backend : {"auto", "numba", "numpy"}, default "auto"
        Compiled frontier rounds or the numpy reference (see
        :mod:`diffusion.shocks.propagation`); the results are identical.

    Returns
    -------
    PropagationResult
        ``distress`` (final ``h``), ``systemic_loss`` (value-weighted final
        minus initial distress: the DebtRank), ``total_loss``,
        ``initial_loss``, ``failed_fraction`` (``h = 1``), ``rounds``.

    Warns
    -----
    StabilityWarning
        Linear variant with spectral radius of ``exposure`` >= 1.

    References
    ----------
    S. Battiston, M. Puliga, R. Kaushik, P. Tasca, G. Caldarelli (2012),
    "DebtRank: too central to fail?", Scientific Reports 2, 541.
    M. Bardoscia, S. Battiston, F. Caccioli, G. Caldarelli (2015), "DebtRank:
    a microscopic foundation for shock propagation", PLoS ONE 10, e0130406.

    Examples
    --------
    A chain 0 -> 1 -> 2 where each firm loses half its capacity when its
    predecessor fails:

    >>> import numpy as np
    >>> from diffusion.shocks import debtrank
    >>> W = np.array([[0, 0.5, 0], [0, 0, 0.5], [0, 0, 0]])
    >>> res = debtrank(W, [1.0, 0, 0])
    >>> res.distress.tolist(), res.systemic_loss, res.rounds
    ([1.0, 0.5, 0.25], 0.25, 2)
    >>> debtrank(W, [[1.0, 0, 0], [0, 0.2, 0]], variant="linear").distress.round(3).tolist()
    [[1.0, 0.5, 0.25], [0.0, 0.2, 0.1]]
    """
    if variant not in ("single_hit", "linear"):
        raise ParameterError("variant", f"must be 'single_hit' or 'linear', got {variant!r}")
    h0, single = _initial(initial_distress, None)
    n = h0.shape[1]
    W = as_exposure(exposure, n)
    v = _value(value, n)
    method = "debtrank" if variant == "single_hit" else "linear_debtrank"
    limit = _max_rounds(max_rounds, n + 1 if variant == "single_hit" else 10_000)
    if variant == "linear" and check_stability_:
        check_stability(W)
    _, h, failed, fr, rounds = _outcome(method, W, h0, np.ones((1, n)), limit, float(tol), backend)
    return PropagationResult(method, h0, h, failed, rounds, v, single, fr)


def _capacity(capacity: Any, n: int) -> np.ndarray:
    c = np.asarray(capacity, dtype=np.float64)
    if c.ndim == 0:
        c = np.full(n, float(c))
    if c.shape[-1:] != (n,) or c.ndim > 2:
        raise ParameterError("capacity", f"must be a number or have one value per firm ({n})")
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ParameterError("capacity", "must be positive and finite")
    return c


def threshold_cascade(exposure: Any, initial_distress: Any, capacity: Any = 1.0, value: Any = None,
                      max_rounds: int | None = None, *, backend: str = "auto") -> PropagationResult:
    """Default cascade: a firm fails when its hit plus its losses on failed partners reach its capacity.

    Parameters
    ----------
    exposure : array-like or scipy sparse matrix, shape (n, n)
        ``exposure[i, j]``: loss of ``j`` (in units of its buffer) when ``i`` fails.
    initial_distress : array-like, shape (n,) or (R, n)
        The shock's hit ``h0`` in ``[0, 1]``.
    capacity : float or array of shape (n,) or (R, n), default 1.0
        Loss at which a firm fails (positive).
    value : array-like, shape (n,), optional
        Firm values weighting the losses (default: equal).
    max_rounds : int, optional
        Round cap (default ``n``: the cascade always ends by then).
    backend : {"auto", "numba", "numpy"}, default "auto"
        Compiled frontier rounds or the numpy reference (identical results).

    Returns
    -------
    PropagationResult

    References
    ----------
    D. J. Watts (2002), "A simple model of global cascades on random networks", PNAS 99.
    P. Gai, S. Kapadia (2010), "Contagion in financial networks", Proc. R. Soc. A 466.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.shocks import threshold_cascade
    >>> W = np.array([[0, 0.6, 0], [0, 0, 0.6], [0, 0.6, 0]])
    >>> res = threshold_cascade(W, [1.0, 0, 0], capacity=0.5)
    >>> res.failed.tolist(), res.rounds, res.failed_fraction
    ([True, True, True], 2, 1.0)
    >>> threshold_cascade(W, [1.0, 0, 0], capacity=0.7).distress.tolist()
    [1.0, 0.6, 0.0]
    """
    h0, single = _initial(initial_distress, None)
    R, n = h0.shape
    W = as_exposure(exposure, n)
    v = _value(value, n)
    cap = _capacity(capacity, n)
    if cap.ndim == 2 and cap.shape[0] != R:
        raise ParameterError("capacity", f"has {cap.shape[0]} rows but there are {R} replicates")
    rows = cap if cap.ndim == 2 else cap[None, :]  # one row per replicate, or one for all
    limit = _max_rounds(max_rounds, n)
    initial, distress, failed, fr, rounds = _outcome("threshold", W, h0, rows, limit, 0.0, backend)
    return PropagationResult("threshold", initial, distress, failed, rounds, v, single, fr)


def _threshold(push: _Pusher, h0: np.ndarray, cap: np.ndarray, limit: int) -> tuple[np.ndarray, ...]:
    """The default cascade of the rows of ``h0`` (capacities ``cap``, same shape) by numpy rounds."""
    R = h0.shape[0]
    eps = 1e-12
    capf = np.ascontiguousarray(cap.T).reshape(-1)  # flat index i * R + r
    L = np.array(h0.T, order="C")  # losses, replicates as columns (a copy)
    loss = L.reshape(-1)
    failed = loss >= capf - eps
    failed_round = np.where(failed, 0, -1).astype(np.int32)
    rounds = np.zeros(R, dtype=np.int64)
    frontier = np.flatnonzero(failed)
    t = 0
    while frontier.size and t < limit:
        t += 1
        uk, add = push.contributions(frontier, np.ones(frontier.size), R)
        lu = loss[uk] + add
        loss[uk] = lu
        cand = uk[lu >= capf[uk] - eps]
        frontier = cand[~failed[cand]]
        failed[frontier] = True
        failed_round[frontier] = t
        rounds[frontier % R] = t
    failed = failed.reshape(-1, R).T
    distress = np.where(failed, 1.0, np.minimum(L.T, 1.0))
    return distress, failed, failed_round.reshape(-1, R).T, rounds


def propagate(exposure: Any, initial_distress: Any, method: str = "threshold", *, capacity: Any = 1.0,
              value: Any = None, max_rounds: int | None = None,
              check_stability_: bool = True, backend: str = "auto") -> PropagationResult:
    """Propagate a shock with one of the rules ``"threshold"``, ``"debtrank"``, ``"linear_debtrank"``.

    ``capacity`` is used by the threshold rule only; ``backend`` chooses the
    compiled frontier rounds or the numpy reference (see the module notes).

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.shocks import propagate
    >>> W = np.array([[0, 1.0], [0, 0]])
    >>> propagate(W, [[1.0, 0]], "debtrank").total_loss.tolist()
    [1.0]
    """
    if method == "threshold":
        return threshold_cascade(exposure, initial_distress, capacity, value, max_rounds, backend=backend)
    if method == "debtrank":
        return debtrank(exposure, initial_distress, value, "single_hit", max_rounds, backend=backend)
    if method == "linear_debtrank":
        return debtrank(exposure, initial_distress, value, "linear", max_rounds,
                        check_stability_=check_stability_, backend=backend)
    raise ParameterError("propagation", f"must be one of {', '.join(PROPAGATIONS)}, got {method!r}")
