"""Compiled frontier rounds of the shock propagation rules (numba).

One loop, :func:`propagate_lanes`, runs up to 64 propagations at once — the
*lanes*: replicates of :func:`~diffusion.shocks.propagate`, or single-firm
shocks of :func:`~diffusion.shocks.criticality` — over the CSR arrays of the
exposure matrix ``W``. A round touches only the out-exposures of the
*frontier*: the firms whose distress changed in the round before, in some lane
(threshold rule: the firms that failed; single-hit DebtRank: the firms that
became distressed; linear DebtRank: the firms whose distress increased). Each
frontier firm carries the mask of lanes it is in: its exposures are read once
for all of them, and its contributions are added lane by lane when few lanes
share it, or as one vector over all lanes (zero where it is not in the
frontier) when many do. So a batch costs the exposures its frontiers read, not
``n`` per round, and propagations that spread alike (single-firm shocks of
neighbouring firms) share most of their reads.

The state lives in a :class:`Scratch` of per-firm rows of lanes, put back at
rest only where the batch touched it. Two drivers use the loop:
:func:`propagate_rows` (dense ``(R, n)`` rows in and out) and
:func:`criticality_chunk` (one shock per source firm, reduced to its losses on
the spot: nothing of size ``n`` is kept per source).

Single-hit DebtRank criticality has its own loop, :func:`single_hit_chunk`.
There each shock distresses nearly every firm, each firm sends once, and
what it sends depends only on the round before: a round pushes from the
frontier to find the firms first hit in it (and in which lanes), then each
of those pulls, lane by lane, only from its exposures in the frontier, with
the values of the next firms' senders fetched ahead. Losses are summed from
what each firm sends; only the few firms whose distress may reach 1 (a
bound shared by the lanes tells them apart) are summed again, exactly.

The numpy implementation in :mod:`diffusion.shocks.propagation` is the tested
reference, and every lane of :func:`propagate_lanes` reproduces it exactly
(single-hit criticality: the distress each firm sends exactly, the losses
to rounding, summed in another order): a round's contributions to a
firm are summed from zero in ascending order of the sending firm (the order of
the reference's sparse products; adding a zero contribution changes nothing),
then added to its distress, with the same floating-point expressions and
comparisons (both loops). Losses are summed over the touched firms in
ascending order, so a lane's losses do not depend on the other lanes of its
batch.

Rules are numbered :data:`THRESHOLD`, :data:`SINGLE_HIT`, :data:`LINEAR`.

The entry points check, before their first write, every argument that
decides where they read or write — the CSR arrays of ``W`` (in
:func:`exposure_arrays`), the scratch's rows against ``n`` and its lanes, the
capacity rows, the firms named, the output lengths — and raise
:class:`ValueError` on a mismatch, so no argument can make them index outside
their arrays.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .._kernels import _u

__all__ = [
    "EPS",
    "LANES",
    "LINEAR",
    "RULES",
    "SINGLE_HIT",
    "THRESHOLD",
    "Exposure",
    "HitScratch",
    "Scratch",
    "criticality_chunk",
    "exposure_arrays",
    "hit_lanes_for",
    "lanes_for",
    "new_hit_scratch",
    "new_scratch",
    "propagate_lanes",
    "propagate_rows",
    "single_hit_chunk",
]

THRESHOLD, SINGLE_HIT, LINEAR = 0, 1, 2
#: Rule names of :func:`diffusion.shocks.propagate` -> rule numbers.
RULES = {"threshold": THRESHOLD, "debtrank": SINGLE_HIT, "linear_debtrank": LINEAR}

#: Distress at or above ``1 - EPS`` is failure; a loss at or above ``capacity - EPS`` fails.
EPS = 1e-12
#: Most lanes of a batch (one bit each in a uint64 mask).
LANES = 64
#: A frontier firm in at most this many lanes adds its contributions lane by lane.
_SPARSE = 4

_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_BYTE = np.uint64(0xFF)

try:  # index of the lowest set bit as one instruction (LLVM cttz)
    from numba.cpython.unsafe.numbers import trailing_zeros as _lowest
except ImportError:  # pragma: no cover - other numba versions
    @njit(cache=True, nogil=True, inline="always")
    def _lowest(x):
        b = 0
        while (x >> np.uint64(b)) & np.uint64(1) == 0:
            b += 1
        return b


class Exposure(NamedTuple):
    """CSR arrays of ``W`` (row ``i``: the firms exposed to ``i`` and by how much)."""

    indptr: np.ndarray  # int64 (n + 1,)
    indices: np.ndarray  # int32 or int64 (nnz,), distinct within a row
    data: np.ndarray  # float64 (nnz,)


def exposure_arrays(W: Any) -> Exposure:
    """The :class:`Exposure` of a canonical (duplicate-free) scipy CSR matrix.

    Raises :class:`ValueError` unless the arrays describe ``n`` rows of
    columns ``0 .. n - 1`` (the kernels trust them).
    """
    n = W.shape[0]
    itype = np.int32 if n < 2**31 - 1 else np.int64
    g = Exposure(np.asarray(W.indptr, dtype=np.int64), np.asarray(W.indices, dtype=itype),
                 np.asarray(W.data, dtype=np.float64))
    if (W.ndim != 2 or W.shape[1] != n or g.indptr.shape != (n + 1,) or g.indptr[0] != 0
            or g.indptr[-1] != g.indices.shape[0] or g.data.shape != g.indices.shape
            or np.any(np.diff(g.indptr) < 0)
            or (g.indices.size and (g.indices.min() < 0 or g.indices.max() >= n))):
        raise ValueError("the exposure matrix is not a valid n x n CSR matrix")
    return g


class Scratch(NamedTuple):
    """State of a batch of propagations (``B`` lanes); at rest outside the firms it touched.

    At rest: ``h``, ``acc`` and the masks are zero, ``fr`` is -1, the bitmaps
    are clear. A batch changes ``h`` and ``fr`` only in the lanes ``tm``
    marks (a row-wide update leaves the other lanes as they are). ``delta``
    (linear rule) and ``fr`` (failure rounds, wanted by :func:`propagate_rows`
    only) may have no rows when unused.
    """

    h: np.ndarray  # float64 (n, B): distress (DebtRank) or loss (threshold)
    acc: np.ndarray  # float64 (n, B): contributions of the current round
    delta: np.ndarray  # float64 (n or 0, B): increment of the last round (linear rule)
    fr: np.ndarray  # int32 (n or 0, B): round of failure, -1 never
    on: np.ndarray  # uint64 (n,): lanes where the firm failed (threshold) / was distressed
    fm: np.ndarray  # uint64 (n,): lanes where the firm is in the frontier
    rm: np.ndarray  # uint64 (n,): lanes where the firm receives in the current round
    tm: np.ndarray  # uint64 (n,): lanes where the batch touched the firm
    recv: np.ndarray  # int64 (n,): firms receiving in the current round
    front: np.ndarray  # int64 (n,): frontier (ascending)
    nxt: np.ndarray  # int64 (n,): next frontier (in discovery order)
    order: np.ndarray  # uint64 (n / 64 + 1,): bitmap to put a large frontier in order
    touched: np.ndarray  # uint64 (n / 64 + 1,): bitmap of the firms the batch touched
    pv: np.ndarray  # float64 (B,): a frontier firm's contribution per lane
    stat: np.ndarray  # float64 (B,): largest increment of the round per lane (linear rule)


def lanes_for(n: int, runs: int = LANES, budget: int = 1 << 28) -> int:
    """Lanes of a batch: up to :data:`LANES` (and ``runs``), halved down to 8 while a
    scratch's rows of lanes (16 bytes a lane and firm) would exceed ``budget`` bytes."""
    lanes = LANES
    while lanes > 8 and 16 * lanes * n > budget:
        lanes //= 2
    return max(1, min(lanes, runs))


def new_scratch(n: int, lanes: int, *, linear: bool = False, rounds: bool = False) -> Scratch:
    """A :class:`Scratch` for ``n`` firms and ``lanes`` lanes, at rest.

    ``linear``: room for the linear rule's increments; ``rounds``: for the
    failure rounds.
    """
    if not 1 <= lanes <= LANES:
        raise ValueError(f"lanes must be in 1 .. {LANES}")
    w = n // 64 + 1
    return Scratch(np.zeros((n, lanes)), np.zeros((n, lanes)), np.zeros((n if linear else 0, lanes)),
                   np.full((n if rounds else 0, lanes), -1, np.int32), np.zeros(n, np.uint64),
                   np.zeros(n, np.uint64), np.zeros(n, np.uint64), np.zeros(n, np.uint64),
                   np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64),
                   np.zeros(w, np.uint64), np.zeros(w, np.uint64), np.zeros(lanes), np.zeros(lanes))


@njit(cache=True, nogil=True)
def _check_scratch(rule, W, sc, n):  # pragma: no cover - compiled
    """Raise unless ``W`` and the scratch ``sc`` have the shapes of ``n`` firms and its lanes."""
    B = sc.h.shape[1]
    w = n // 64 + 1
    if (rule < THRESHOLD or rule > LINEAR or B < 1 or B > LANES or W.indptr.shape[0] != n + 1
            or W.indptr[n] > W.indices.shape[0] or W.data.shape[0] < W.indices.shape[0]
            or sc.h.shape[0] != n or sc.acc.shape != sc.h.shape
            or (sc.delta.shape[0] != (n if rule == LINEAR else sc.delta.shape[0]))
            or sc.delta.shape[1] != B or (sc.fr.shape[0] != 0 and sc.fr.shape[0] != n) or sc.fr.shape[1] != B
            or sc.on.shape[0] != n or sc.fm.shape[0] != n or sc.rm.shape[0] != n or sc.tm.shape[0] != n
            or sc.recv.shape[0] != n or sc.front.shape[0] != n or sc.nxt.shape[0] != n
            or sc.order.shape[0] != w or sc.touched.shape[0] != w or sc.pv.shape[0] != B
            or sc.stat.shape[0] != B):
        raise ValueError("shock kernels: the exposure or the scratch does not match the firms and lanes")


@njit(cache=True, nogil=True)
def _check_firms(a, n):  # pragma: no cover - compiled
    for i in range(a.shape[0]):
        if a[i] < 0 or a[i] >= n:
            raise ValueError("shock kernels: firm out of range")


@njit(cache=True, nogil=True, inline="always")
def _bit(b):  # pragma: no cover - compiled
    return _ONE << np.uint64(b)


@njit(cache=True, nogil=True, inline="always")
def _many(x):  # pragma: no cover - compiled
    """Whether the mask ``x`` has more than ``_SPARSE`` lanes."""
    for _ in range(_SPARSE + 1):
        if x == _ZERO:
            return False
        x &= x - _ONE
    return True


@njit(cache=True, nogil=True)
def _ascending(sc, nn):  # pragma: no cover - compiled
    """Copy the next frontier ``sc.nxt[:nn]`` (distinct firms) into ``sc.front``, ascending."""
    n = sc.on.shape[0]
    if nn * 512 < n:
        sc.nxt[:nn].sort()
        sc.front[:nn] = sc.nxt[:nn]
        return
    for q in range(nn):
        j = sc.nxt[q]
        sc.order[j >> 6] |= _bit(j & 63)
    m = 0
    for w in range(sc.order.shape[0]):
        x = sc.order[w]
        if x != _ZERO:
            sc.order[w] = _ZERO
            while x != _ZERO:
                sc.front[m] = (w << 6) + np.int64(_lowest(x))
                m += 1
                x &= x - _ONE


@njit(cache=True, nogil=True, inline="always")
def _push_values(rule, sc, k, m, sparse):  # pragma: no cover - compiled
    """``sc.pv``: what frontier firm ``k`` sends per unit of exposure in its lanes ``m``
    (threshold 1, single hit its distress, linear its last increment); zero in the other
    lanes unless ``sparse`` (then only the lanes of ``m`` are read)."""
    if not sparse:
        sc.pv[:] = 0.0
    x = m
    if rule == THRESHOLD:
        while x != _ZERO:
            sc.pv[np.int64(_lowest(x))] = 1.0
            x &= x - _ONE
    elif rule == SINGLE_HIT:
        while x != _ZERO:
            b = np.int64(_lowest(x))
            x &= x - _ONE
            sc.pv[b] = sc.h[k, b]
    else:
        while x != _ZERO:
            b = np.int64(_lowest(x))
            x &= x - _ONE
            sc.pv[b] = sc.delta[k, b]


@njit(cache=True, nogil=True, inline="always")
def _update_some(rule, sc, j, lanes, cap, caprow, t, want_fr):  # pragma: no cover - compiled
    """Firm ``j`` receives in a few lanes (``lanes``): update them one by one.

    Returns ``(new frontier lanes, changed lanes)``.
    """
    nm = _ZERO
    ch = _ZERO
    x = lanes
    if rule == THRESHOLD:
        while x != _ZERO:
            b = np.int64(_lowest(x))
            x &= x - _ONE
            new = sc.h[j, b] + sc.acc[j, b]
            sc.acc[j, b] = 0.0
            sc.h[j, b] = new
            if new >= cap[caprow[b], j] - EPS:
                nm |= _bit(b)
        nm &= ~sc.on[j]
        sc.on[j] |= nm
        ch = nm
        if want_fr:
            x = nm
            while x != _ZERO:
                sc.fr[j, np.int64(_lowest(x))] = t
                x &= x - _ONE
        return nm, ch
    if rule == SINGLE_HIT:
        while x != _ZERO:
            b = np.int64(_lowest(x))
            x &= x - _ONE
            old = sc.h[j, b]
            new = min(old + sc.acc[j, b], 1.0)
            sc.acc[j, b] = 0.0
            sc.h[j, b] = new
            if new > 0.0:
                nm |= _bit(b)
            if new != old:
                ch |= _bit(b)
        nm &= ~sc.on[j]
        sc.on[j] |= nm
    else:
        while x != _ZERO:
            b = np.int64(_lowest(x))
            x &= x - _ONE
            old = sc.h[j, b]
            new = min(old + sc.acc[j, b], 1.0)
            sc.acc[j, b] = 0.0
            sc.h[j, b] = new
            d = new - old
            sc.delta[j, b] = d
            if d > 0.0:
                nm |= _bit(b)
                sc.stat[b] = max(sc.stat[b], d)
    if want_fr:
        _failure_rounds(sc, j, lanes, t)
    return nm, ch


@njit(cache=True, nogil=True, inline="always")
def _failure_rounds(sc, j, lanes, t):  # pragma: no cover - compiled
    """DebtRank rules: the lanes of ``j`` whose distress reached 1 in round ``t``."""
    x = lanes
    while x != _ZERO:
        b = np.int64(_lowest(x))
        x &= x - _ONE
        if sc.h[j, b] >= 1.0 - EPS and sc.fr[j, b] < 0:
            sc.fr[j, b] = t


@njit(cache=True, nogil=True, inline="always")
def _update_all(rule, sc, j, lanes, cap, caprow, t, want_fr):  # pragma: no cover - compiled
    """Firm ``j`` receives in many lanes (``lanes``): update all lanes of its row at once.

    The other lanes received nothing (their contribution is zero), which
    leaves them as they are. Returns ``(new frontier lanes, changed lanes)``.
    """
    B = sc.h.shape[1]
    nm = _ZERO
    ch = _ZERO
    if rule == THRESHOLD:
        for g0 in range(0, B, 8):
            if (lanes >> np.uint64(g0)) & _BYTE == _ZERO:
                continue
            for b in range(g0, min(g0 + 8, B)):
                new = sc.h[j, b] + sc.acc[j, b]
                sc.acc[j, b] = 0.0
                sc.h[j, b] = new
                nm |= np.uint64(new >= cap[caprow[b], j] - EPS) << np.uint64(b)
        nm &= lanes & ~sc.on[j]  # (a firm without capacity fails in the lanes that seeded it only)
        sc.on[j] |= nm
        ch = nm
        if want_fr:
            x = nm
            while x != _ZERO:
                sc.fr[j, np.int64(_lowest(x))] = t
                x &= x - _ONE
        return nm, ch
    if rule == SINGLE_HIT:
        for g0 in range(0, B, 8):
            if (lanes >> np.uint64(g0)) & _BYTE == _ZERO:
                continue
            for b in range(g0, min(g0 + 8, B)):
                old = sc.h[j, b]
                new = min(old + sc.acc[j, b], 1.0)
                sc.acc[j, b] = 0.0
                sc.h[j, b] = new
                nm |= np.uint64(new > 0.0) << np.uint64(b)
                ch |= np.uint64(new != old) << np.uint64(b)
        nm &= lanes & ~sc.on[j]
        sc.on[j] |= nm
    else:
        for g0 in range(0, B, 8):
            if (lanes >> np.uint64(g0)) & _BYTE == _ZERO:
                continue
            for b in range(g0, min(g0 + 8, B)):
                old = sc.h[j, b]
                new = min(old + sc.acc[j, b], 1.0)
                sc.acc[j, b] = 0.0
                sc.h[j, b] = new
                d = new - old
                sc.delta[j, b] = d
                nm |= np.uint64(d > 0.0) << np.uint64(b)
                sc.stat[b] = max(sc.stat[b], d)
        nm &= lanes
    if want_fr:
        _failure_rounds(sc, j, lanes, t)
    return nm, ch


@njit(cache=True, nogil=True)
def propagate_lanes(rule, W, sc, nf, cap, caprow, max_rounds, tol, rounds):  # pragma: no cover
    """Run the rounds of a batch whose initial state is set (see :func:`_seed`).

    The initial frontier is ``sc.front[:nf]`` (ascending) with its lanes in
    ``sc.fm``. ``cap[caprow[b]]`` holds lane ``b``'s capacities (threshold
    rule), ``max_rounds`` caps the rounds, ``tol`` is the linear rule's
    stopping level: a lane stops after a round whose largest increment is at
    most ``tol``. Writes ``rounds[b]``, the last round in which lane ``b``'s
    distress changed (threshold: some firm failed).
    """
    B = sc.h.shape[1]
    n = sc.on.shape[0]
    _check_scratch(rule, W, sc, n)
    if nf < 0 or nf > n or rounds.shape[0] < B or caprow.shape[0] < B or (rule == THRESHOLD and cap.shape[1] != n):
        raise ValueError("propagate_lanes: frontier, capacities or rounds do not match")
    _check_firms(sc.front[:nf], n)
    for b in range(B):
        if rule == THRESHOLD and (caprow[b] < 0 or caprow[b] >= cap.shape[0]):
            raise ValueError("propagate_lanes: capacity row out of range")
    want_fr = sc.fr.shape[0] > 0
    t = 0
    while nf > 0 and t < max_rounds:
        t += 1
        # the frontier's contributions, summed from zero in ascending order of the sender
        nr = 0
        for f in range(nf):
            k = sc.front[f]
            m = sc.fm[k]
            sc.fm[k] = _ZERO
            sparse = not _many(m)
            _push_values(rule, sc, k, m, sparse)
            for a in range(_u(W.indptr[k]), _u(W.indptr[k + 1])):
                j = _u(W.indices[a])
                w = W.data[a]
                if sc.rm[j] == _ZERO:
                    sc.recv[nr] = np.int64(j)
                    nr += 1
                sc.rm[j] |= m
                if sparse:
                    x = m
                    while x != _ZERO:
                        b = np.int64(_lowest(x))
                        x &= x - _ONE
                        sc.acc[j, b] += w * sc.pv[b]
                else:  # whole groups of 8 lanes (a cache line), skipping the idle groups
                    for g0 in range(0, B, 8):
                        if (m >> np.uint64(g0)) & _BYTE != _ZERO:
                            for b in range(g0, min(g0 + 8, B)):
                                sc.acc[j, b] += w * sc.pv[b]
        # the round's update, lane by lane, and the next frontier
        nn = 0
        changed = _ZERO
        if rule == LINEAR:
            sc.stat[:] = 0.0
        for q in range(nr):
            j = sc.recv[q]
            x = sc.rm[j]
            sc.rm[j] = _ZERO
            sc.touched[j >> 6] |= _bit(j & 63)
            sc.tm[j] |= x
            if _many(x):
                new_front, ch = _update_all(rule, sc, j, x, cap, caprow, t, want_fr)
            else:
                new_front, ch = _update_some(rule, sc, j, x, cap, caprow, t, want_fr)
            changed |= ch
            if new_front != _ZERO:
                sc.fm[j] = new_front
                sc.nxt[nn] = j
                nn += 1
        if rule == LINEAR:
            stop = _ZERO
            for b in range(B):
                if sc.stat[b] > 0.0:
                    changed |= _bit(b)
                if not sc.stat[b] > tol:
                    stop |= _bit(b)
            if stop != _ZERO:  # lanes whose increments all stayed below tol end here
                keep = 0
                for q in range(nn):
                    j = sc.nxt[q]
                    sc.fm[j] &= ~stop
                    if sc.fm[j] != _ZERO:
                        sc.nxt[keep] = j
                        keep += 1
                nn = keep
        x = changed
        while x != _ZERO:
            b = np.int64(_lowest(x))
            x &= x - _ONE
            rounds[b] = t
        _ascending(sc, nn)
        nf = nn
    for f in range(nf):  # round cap reached: clear the pending frontier
        sc.fm[sc.front[f]] = _ZERO


@njit(cache=True, nogil=True, inline="always")
def _seed(rule, sc, j, b, x, capj, nf):  # pragma: no cover - compiled
    """Lane ``b`` starts with distress (loss) ``x`` at firm ``j``; returns the frontier length."""
    bit = _bit(b)
    sc.h[j, b] = x
    sc.touched[j >> 6] |= _bit(j & 63)
    sc.tm[j] |= bit
    if rule == THRESHOLD:
        if not x >= capj - EPS:
            return nf
        sc.on[j] |= bit
        if sc.fr.shape[0] > 0:
            sc.fr[j, b] = 0
    else:
        if not x > 0.0:
            return nf
        if sc.fr.shape[0] > 0 and x >= 1.0 - EPS:
            sc.fr[j, b] = 0
        sc.on[j] |= bit
        if rule == LINEAR:
            sc.delta[j, b] = x
    if sc.fm[j] == _ZERO:
        sc.front[nf] = j
        nf += 1
    sc.fm[j] |= bit
    return nf


@njit(cache=True, nogil=True)
def _start(rule, sc, nf, tol, top):  # pragma: no cover - compiled
    """Order the initial frontier; drop the linear lanes whose initial distress is at most ``tol``."""
    if rule == LINEAR:
        stop = _ZERO
        for b in range(sc.h.shape[1]):
            if not top[b] > tol:
                stop |= _bit(b)
        if stop != _ZERO:
            keep = 0
            for f in range(nf):
                j = sc.front[f]
                sc.fm[j] &= ~stop
                if sc.fm[j] != _ZERO:
                    sc.front[keep] = j
                    keep += 1
            nf = keep
    sc.front[:nf].sort()
    return nf


@njit(cache=True, nogil=True, inline="always")
def _add_losses(rule, sc, j, vj, total, failed):  # pragma: no cover - compiled
    """Add firm ``j``'s final distress (times its value ``vj``) and failures to its lanes' sums.

    Final distress: threshold rule 1 if failed, else the loss capped at 1.
    """
    y = sc.tm[j]
    if rule == THRESHOLD:
        while y != _ZERO:
            b = np.int64(_lowest(y))
            y &= y - _ONE
            if sc.on[j] & _bit(b):
                total[b] += vj
                failed[b] += 1
            else:
                total[b] += vj * min(sc.h[j, b], 1.0)
        return
    while y != _ZERO:
        b = np.int64(_lowest(y))
        y &= y - _ONE
        hb = sc.h[j, b]
        total[b] += vj * hb
        if hb >= 1.0 - EPS:
            failed[b] += 1


@njit(cache=True, nogil=True, inline="always")
def _write_rows(rule, sc, j, distress, failed, failed_round):  # pragma: no cover - compiled
    """Firm ``j``'s final distress, failure and failure round in its lanes (column ``j`` of
    the lanes' output rows)."""
    y = sc.tm[j]
    while y != _ZERO:
        b = np.int64(_lowest(y))
        y &= y - _ONE
        hb = sc.h[j, b]
        if rule == THRESHOLD:
            f = sc.on[j] & _bit(b) != _ZERO
            distress[b] = 1.0 if f else min(hb, 1.0)
        else:
            f = hb >= 1.0 - EPS
            distress[b] = hb
        failed[b] = f
        failed_round[b] = sc.fr[j, b]


@njit(cache=True, nogil=True, inline="always")
def _rest(sc, j):  # pragma: no cover - compiled
    """Put firm ``j`` back at rest (only its touched lanes hold anything)."""
    x = sc.tm[j]
    while x != _ZERO:
        b = np.int64(_lowest(x))
        x &= x - _ONE
        sc.h[j, b] = 0.0
        if sc.fr.shape[0] > 0:
            sc.fr[j, b] = -1
    sc.on[j] = _ZERO
    sc.tm[j] = _ZERO


@njit(cache=True, nogil=True)
def propagate_rows(rule, W, sc, h0, cap, max_rounds, tol, distress, failed, failed_round,
                   rounds):  # pragma: no cover - compiled
    """Propagate every row of ``h0`` (R, n) and write the outcome rows.

    ``cap`` has one row per replicate, or one row for all. The output rows
    must hold the outcome of a propagation that touches nothing: ``distress``
    the initial distress (threshold: 1 where it fails at once), ``failed``
    those failures, ``failed_round`` 0 there and -1 elsewhere; the kernel
    writes the touched firms and ``rounds``. The scratch must have room for
    the failure rounds (and the increments, for the linear rule); its lanes
    take the replicates in turn.
    """
    R, n = h0.shape
    B = sc.h.shape[1]
    _check_scratch(rule, W, sc, n)
    if (sc.fr.shape[0] != n or cap.shape[1] != n or (cap.shape[0] != 1 and cap.shape[0] < R)
            or distress.shape != h0.shape or failed.shape != h0.shape or failed_round.shape != h0.shape
            or rounds.shape[0] < R):
        raise ValueError("propagate_rows: capacities or outputs do not match the rows")
    caprow = np.zeros(B, np.int64)
    top = np.zeros(B)
    lane_rounds = np.zeros(B, np.int64)
    for r0 in range(0, R, B):
        nb = min(B, R - r0)
        nf = 0
        for b in range(nb):
            r = r0 + b
            caprow[b] = r if cap.shape[0] > 1 else 0
            top[b] = 0.0
            lane_rounds[b] = 0
            for j in range(n):
                x = h0[r, j]
                if x > 0.0 or (rule == THRESHOLD and x >= cap[caprow[b], j] - EPS):
                    nf = _seed(rule, sc, j, b, x, cap[caprow[b], j], nf)
                    top[b] = max(top[b], x)
        for b in range(nb, B):
            top[b] = 0.0
        nf = _start(rule, sc, nf, tol, top)
        propagate_lanes(rule, W, sc, nf, cap, caprow, max_rounds, tol, lane_rounds)
        for w in range(sc.touched.shape[0]):
            x = sc.touched[w]
            sc.touched[w] = _ZERO
            while x != _ZERO:
                j = (w << 6) + np.int64(_lowest(x))
                x &= x - _ONE
                _write_rows(rule, sc, j, distress[r0:, j], failed[r0:, j], failed_round[r0:, j])
                _rest(sc, j)
        rounds[r0 : r0 + nb] = lane_rounds[:nb]


@njit(cache=True, nogil=True)
def criticality_chunk(rule, W, sc, sources, zero_cap, cap, value, max_rounds, tol, total,
                      failed):  # pragma: no cover - compiled
    """For each ``s``, firm ``sources[s]`` alone fully distressed: its value-weighted final
    distress ``total[s]`` (the sum of ``value * h`` in ascending order of the firms, not
    normalized) and its number of failed firms ``failed[s]``.

    ``zero_cap`` lists the firms that fail with no loss at all (threshold
    rule, capacity at most ``EPS``); they join every shock. The sources take
    the lanes in turn (neighbouring firms side by side share the most reads).
    """
    B = sc.h.shape[1]
    n = sc.on.shape[0]
    _check_scratch(rule, W, sc, n)
    if cap.shape[0] != n or value.shape[0] != n or total.shape[0] < sources.shape[0] or \
            failed.shape[0] < sources.shape[0]:
        raise ValueError("criticality_chunk: capacities, values or outputs do not match the firms")
    _check_firms(sources, n)
    _check_firms(zero_cap, n)
    caprow = np.zeros(B, np.int64)
    cap2 = cap.reshape((1, cap.shape[0]))
    top = np.ones(B)
    lane_rounds = np.zeros(B, np.int64)
    S = sources.shape[0]
    for s0 in range(0, S, B):
        nb = min(B, S - s0)
        nf = 0
        for b in range(nb):
            i = sources[s0 + b]
            nf = _seed(rule, sc, i, b, 1.0, cap[i], nf)
            for q in range(zero_cap.shape[0]):
                z = zero_cap[q]
                if z != i:
                    nf = _seed(rule, sc, z, b, 0.0, cap[z], nf)
        nf = _start(rule, sc, nf, tol, top)
        propagate_lanes(rule, W, sc, nf, cap2, caprow, max_rounds, tol, lane_rounds)
        for b in range(nb):
            total[s0 + b] = 0.0
            failed[s0 + b] = 0
        for w in range(sc.touched.shape[0]):
            x = sc.touched[w]
            sc.touched[w] = _ZERO
            while x != _ZERO:
                j = (w << 6) + np.int64(_lowest(x))
                x &= x - _ONE
                _add_losses(rule, sc, j, value[j], total[s0:], failed[s0:])
                _rest(sc, j)


# ----------------------------------------------------------------- single-hit criticality
def _prefetch_intrinsic_name() -> str | None:
    """Name of LLVM's prefetch intrinsic for a byte pointer in this LLVM (None: unknown)."""
    try:
        import llvmlite.binding as llvm
    except ImportError:  # pragma: no cover
        return None
    for name in ("llvm.prefetch.p0", "llvm.prefetch.p0i8"):
        src = (f"declare void @{name}(i8*, i32, i32, i32)\n"
               f"define void @f(i8* %p) {{\n  call void @{name}(i8* %p, i32 0, i32 3, i32 1)\n"
               "  ret void\n}\n")
        try:
            llvm.parse_assembly(src).verify()
        except Exception:  # any parse or verification failure: try the next name
            continue
        return name
    return None  # pragma: no cover


_PREFETCH = _prefetch_intrinsic_name()


@intrinsic
def _prefetch(typingctx, arr, i, j):  # pragma: no cover - compiled
    """Ask the processor to fetch ``arr[i, j]`` into the caches (a hint; no-op where unknown)."""
    sig = types.void(arr, i, j)

    def codegen(context, builder, signature, args):
        if _PREFETCH is not None:
            aryty = signature.args[0]
            ii = context.cast(builder, args[1], signature.args[1], types.intp)
            jj = context.cast(builder, args[2], signature.args[2], types.intp)
            a = context.make_array(aryty)(context, builder, args[0])
            ptr = cgutils.get_item_pointer(context, builder, aryty, a, [ii, jj])
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), _PREFETCH)
            builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                              ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


#: Candidates ahead of the current one whose senders' values are prefetched.
_AHEAD = 3


class HitScratch(NamedTuple):
    """State of a batch of single-firm single-hit DebtRank shocks (``B`` lanes; see
    :func:`single_hit_chunk`). At rest, the masks, ``smax`` and the bitmap are zero;
    ``s`` holds stale values, read only in the lanes ``reach`` marks.
    """

    s: np.ndarray  # float64 (n, B): the distress a firm sends (its distress when it was first hit)
    smax: np.ndarray  # float64 (n,): largest of a firm's ``s`` over the lanes of the batch
    reach: np.ndarray  # uint64 (n,): lanes where the firm is distressed
    front: np.ndarray  # uint64 (n,): lanes where the firm is in the frontier
    newm: np.ndarray  # uint64 (n,): lanes where the firm is first hit in the current round
    bits: np.ndarray  # uint64 (n / 64 + 1,): bitmap to put the firms hit in a round in order
    lists: np.ndarray  # int64 (3, n): frontier, firms hit in the round, next frontier
    acc: np.ndarray  # float64 (B,): a firm's contributions of the round


def hit_lanes_for(n: int, runs: int = LANES, budget: int = 1 << 28) -> int:
    """Lanes of a :class:`HitScratch`: up to :data:`LANES` (and ``runs``), halved down to 8
    while its rows of lanes (8 bytes a lane and firm) would exceed ``budget`` bytes."""
    lanes = LANES
    while lanes > 8 and 8 * lanes * n > budget:
        lanes //= 2
    return max(1, min(lanes, runs))


def new_hit_scratch(n: int, lanes: int) -> HitScratch:
    """A :class:`HitScratch` for ``n`` firms and ``lanes`` lanes, at rest."""
    if not 1 <= lanes <= LANES:
        raise ValueError(f"lanes must be in 1 .. {LANES}")
    return HitScratch(np.zeros((n, lanes)), np.zeros(n), np.zeros(n, np.uint64), np.zeros(n, np.uint64),
                      np.zeros(n, np.uint64), np.zeros(n // 64 + 1, np.uint64), np.zeros((3, n), np.int64),
                      np.zeros(lanes))


@njit(cache=True, nogil=True)
def _check_hit(W, Wt, sc, sources, value, cw, total, failed):  # pragma: no cover - compiled
    """Raise unless the arguments of :func:`single_hit_chunk` fit ``n`` firms and the lanes."""
    n = sc.reach.shape[0]
    B = sc.s.shape[1]
    if (B < 1 or B > LANES or sc.s.shape[0] != n or sc.smax.shape[0] != n or sc.front.shape[0] != n
            or sc.newm.shape[0] != n or sc.bits.shape[0] != n // 64 + 1 or sc.lists.shape[0] != 3
            or sc.lists.shape[1] != n or sc.acc.shape[0] != B
            or W.indptr.shape[0] != n + 1 or W.indptr[n] > W.indices.shape[0]
            or Wt.indptr.shape[0] != n + 1 or Wt.indptr[n] > Wt.indices.shape[0]
            or Wt.data.shape[0] < Wt.indices.shape[0]
            or value.shape[0] != n or cw.shape[0] != n
            or total.shape[0] != sources.shape[0] or failed.shape[0] != sources.shape[0]):
        raise ValueError("shock kernels: the exposure, the scratch or the outputs do not match the firms")
    _check_firms(sources, n)


@njit(cache=True, nogil=True)
def _push_round(W, fl, nf, front, reach, newm, bits, cl, n):  # pragma: no cover - compiled
    """One round of a 64-lane breadth-first push over ``W`` from the firms ``fl[:nf]``.

    Each firm hit in a lane it had not reached gets those lanes in
    ``newm``; the firms hit are listed in ``cl`` in ascending order and
    their number returned (``bits`` is left zero). A round with few
    exposures lists the firms as they come and sorts them; a larger one
    pushes without a branch per exposure (whether a lane is new is not
    predictable) and reads the firms off the bitmap ``bits`` in order.
    """
    nc = 0
    ne = 0
    for f in range(nf):
        ne += W.indptr[fl[f] + 1] - W.indptr[fl[f]]
    if ne * 64 < n:
        for f in range(nf):
            k = fl[f]
            fm = front[k]
            for a in range(_u(W.indptr[k]), _u(W.indptr[k + 1])):
                j = _u(W.indices[a])
                x = fm & ~reach[j]
                if x != _ZERO:
                    if newm[j] == _ZERO:
                        cl[nc] = np.int64(j)
                        nc += 1
                    newm[j] |= x
        cl[:nc].sort()
        return nc
    for f in range(nf):
        k = fl[f]
        fm = front[k]
        for a in range(_u(W.indptr[k]), _u(W.indptr[k + 1])):
            j = _u(W.indices[a])
            x = fm & ~reach[j]
            newm[j] |= x
            bits[j >> np.uint64(6)] |= np.uint64(x != _ZERO) << (j & np.uint64(63))
    for w in range(bits.shape[0]):
        x = bits[w]
        if x != _ZERO:
            bits[w] = _ZERO
            while x != _ZERO:
                cl[nc] = (w << 6) + np.int64(_lowest(x))
                nc += 1
                x &= x - _ONE
    return nc


@njit(cache=True, nogil=True, inline="always")
def _sent_to(Wt, S, reach, front, j, b):  # pragma: no cover - compiled
    """What firm ``j`` receives in lane ``b`` from the firms that sent, summed in their order."""
    y = 0.0
    for a in range(Wt.indptr[j], Wt.indptr[j + 1]):
        k = Wt.indices[a]
        if (reach[k] & ~front[k]) & _bit(b) != _ZERO:
            y += Wt.data[a] * S[k, b]
    return y


@njit(cache=True, nogil=True)
def single_hit_chunk(W, Wt, sc, sources, value, cw, max_rounds, total, failed):  # pragma: no cover
    """Single-hit DebtRank criticality of ``sources`` (one lane each, :data:`LANES` at a time).

    ``Wt`` holds the CSR arrays of ``W.T`` (row ``j``: the firms ``j`` is
    exposed to, in the order its sums take: the reference's is ascending
    firm number, which a caller that renames the firms keeps); ``cw[k] =
    sum_j W[k, j] value[j]``. Writes each
    source's total loss (``sum_j value_j h_j``) and number of failed firms.

    A firm sends once, in the round after it is first hit, the distress it has
    then: the sum, from zero and in ascending order of the sender, of what the
    frontier of the round before sent it, capped at 1 — in each lane exactly
    the reference's value. A round pushes from the frontier to find the firms
    first hit in it (in which lanes), then each of them, in ascending order,
    pulls from its exposures in the frontier, lane by lane where both are
    (the values of the next firms' senders are fetched ahead).

    Losses need no further pass over the exposures. A firm's final distress
    ``h_j`` is ``min(1, sum_k W[k, j] s_k)`` over the firms that sent, so the
    total loss is ``sum_k s_k cw[k]`` (added as each firm is hit) minus
    ``value_j (h_j - 1)`` where that sum exceeds 1. Only a firm whose bound
    ``sum_k W[k, j] max_lanes s_k`` reaches ``1 - EPS`` can exceed 1 or fail;
    for those (few) firms, and for the sources (distress 1), the sum is
    taken lane by lane and the loss corrected. Floating-point rounding is
    monotone, so the bound computed in the same order bounds that sum: no
    firm is missed. Where the correction would cancel most of the sum (huge
    exposures, or their sums overflowing), the lane's loss is summed again
    firm by firm. The losses agree with the reference to rounding (the sums
    are associated differently); each lane's operations and their order
    depend only on its own source, never on the other lanes of its batch.
    """
    _check_hit(W, Wt, sc, sources, value, cw, total, failed)
    n = sc.reach.shape[0]
    B = sc.s.shape[1]
    S, smax, reach, front, newm, acc = sc.s, sc.smax, sc.reach, sc.front, sc.newm, sc.acc
    fl, cl, nl = sc.lists[0], sc.lists[1], sc.lists[2]
    NS = sources.shape[0]
    corr = np.zeros(B)  # per lane: what the capped firms' sums exceed 1 by, weighted by value
    for s0 in range(0, NS, B):
        nb = min(B, NS - s0)
        nf = 0
        corr[:] = 0.0
        for b in range(nb):
            i = sources[s0 + b]
            total[s0 + b] = cw[i]
            failed[s0 + b] = 1  # the source: distress 1
            S[i, b] = 1.0
            smax[i] = 1.0
            if front[i] == _ZERO:
                fl[nf] = i
                nf += 1
            front[i] |= _bit(b)
            reach[i] |= _bit(b)
        fl[:nf].sort()
        t = 0
        while nf > 0 and t < max_rounds:
            t += 1
            nc = _push_round(W, fl, nf, front, reach, newm, sc.bits, cl, n)  # the firms first hit, and in which lanes
            nn = 0
            for q in range(nc):  # pull, in ascending order of the firms hit
                j = _u(cl[q])
                need = newm[j]
                if q + _AHEAD < nc:  # fetch the values a later firm will read
                    jj = _u(cl[q + _AHEAD])
                    nd = newm[jj]
                    for a in range(_u(Wt.indptr[jj]), _u(Wt.indptr[jj + _ONE])):
                        k = _u(Wt.indices[a])
                        x = front[k] & nd
                        while x != _ZERO:
                            b = _lowest(x)
                            _prefetch(S, k, b)
                            x &= ~(_BYTE << (b & np.uint64(56)))  # one fetch per 8 lanes
                acc[:] = 0.0  # every lane at once (vector stores); only the lanes of ``need`` are read
                for a in range(_u(Wt.indptr[j]), _u(Wt.indptr[j + _ONE])):
                    k = _u(Wt.indices[a])
                    x = front[k] & need
                    if x != _ZERO:
                        w = Wt.data[a]
                        while x != _ZERO:
                            b = _lowest(x)
                            acc[b] += w * S[k, b]
                            x &= x - _ONE
                got = _ZERO
                mx = 0.0
                cj = cw[j]
                x = need
                while x != _ZERO:
                    b = _lowest(x)
                    x &= x - _ONE
                    y = acc[b]
                    if y > 0.0:  # the reference's min(0 + y, 1) of a firm not yet hit
                        y = min(0.0 + y, 1.0)
                        S[j, b] = y
                        mx = max(mx, y)
                        total[s0 + b] += y * cj
                        got |= _bit(b)
                newm[j] = got
                if got != _ZERO:
                    smax[j] = max(smax[j], mx)
                    nl[nn] = np.int64(j)  # ascending
                    nn += 1
            for f in range(nf):  # the frontier has sent
                front[fl[f]] = _ZERO
            for q in range(nn):
                j = nl[q]
                front[j] = newm[j]
                reach[j] |= newm[j]
            for q in range(nc):
                newm[cl[q]] = _ZERO
            fl, nl = nl, fl
            nf = nn
        for f in range(nf):  # round cap: the pending frontier is distressed but does not send
            k = fl[f]
            x = front[k]
            while x != _ZERO:
                b = _lowest(x)
                x &= x - _ONE
                total[s0 + b] -= S[k, b] * cw[k]
        for j in range(n):  # firms whose distress may reach 1: exact sums, loss corrected
            r = reach[j]
            if r == _ZERO:
                continue
            bound = 0.0
            for a in range(_u(Wt.indptr[j]), _u(Wt.indptr[j + 1])):
                bound += Wt.data[a] * smax[_u(Wt.indices[a])]
            if bound < 1.0 - EPS:
                continue
            acc[:] = 0.0
            for a in range(_u(Wt.indptr[j]), _u(Wt.indptr[j + 1])):
                k = _u(Wt.indices[a])
                x = reach[k] & ~front[k] & r  # lanes where k sent and j is distressed
                if x != _ZERO:
                    w = Wt.data[a]
                    while x != _ZERO:
                        b = _lowest(x)
                        acc[b] += w * S[k, b]
                        x &= x - _ONE
            vj = value[j]
            x = r
            while x != _ZERO:
                b = _lowest(x)
                x &= x - _ONE
                if sources[s0 + b] == j:
                    continue
                y = acc[b]
                if y >= 1.0 - EPS:
                    failed[s0 + b] += 1
                if y > 1.0:
                    corr[b] += (y - 1.0) * vj
        for b in range(nb):  # a source's distress is 1, whatever it receives
            i = sources[s0 + b]
            y = _sent_to(Wt, S, reach, front, i, b)
            lin = total[s0 + b]
            c = corr[b] + y * value[i]
            total[s0 + b] = (lin - c) + value[i]
            if not (lin + c <= 16.0 * total[s0 + b]):  # cancellation (or overflow): sum firm by firm
                x = 0.0
                for j in range(n):
                    if reach[j] & _bit(b) != _ZERO:
                        x += value[j] * (1.0 if j == i else min(_sent_to(Wt, S, reach, front, j, b), 1.0))
                total[s0 + b] = x
        for f in range(nf):
            front[fl[f]] = _ZERO
        for j in range(n):
            if reach[j] != _ZERO:
                reach[j] = _ZERO
                smax[j] = 0.0
