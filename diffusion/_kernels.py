"""Compiled frontier kernels for the threshold and cascade models (numba).

Each kernel runs *all the replicates of a chunk* in one call, over the CSR
arrays of a :class:`~diffusion.network.Network`, touching only what the
cascades touch: the out-arcs of the nodes that adopted in the previous step,
and the nodes at their ends. Nothing of size ``n`` is reset between
replicates — scratch arrays are allocated once per call and *stamped* with
the replicate they belong to (``stamp[v] == r + 1``: node ``v`` has been
reached in replicate ``r``), so a cascade that reaches 12 nodes of a graph of
a million costs those 12 nodes and their arcs:

* :func:`ic_chunk` — independent cascade, one replicate after the other;
* :func:`lt_chunk` — unweighted threshold rule, one replicate after the other
  (thresholds drawn per node and replicate, lazily, when first reached);
* :func:`ltw_chunk` — weighted threshold rule, one replicate after the other;
* :func:`lt_bits_chunk` — unweighted threshold rule with thresholds shared by
  the replicates: 64 replicates at once (bit-parallel frontier, bit-sliced
  counters; each frontier node's arcs are read once per step for every
  replicate it is new in, and an arc costs a few word operations for all).

Randomness
----------
Kernels draw from no generator: every number is addressed by the replicate's
key, a purpose and a counter (:mod:`diffusion._random` describes the scheme,
:mod:`diffusion._draws` holds the compiled samplers). Replicate ``r``'s
adoption steps are therefore a function of the seed and ``r`` alone — not of
the chunk, the executor, the thread count, the order in which nodes are
reached, or the backend: the numpy reference in :mod:`diffusion.models`
computes the same draws vectorized and gets the same adoption steps, bit for
bit, which the tests check.

* Random initial adopters: ``k`` of ``n`` by Floyd's algorithm (``k`` draws).
* A node's random threshold: drawn when the node is first reached; the nodes
  whose threshold is at or below 0 (they adopt at step 1 without any adopted
  neighbour) are found by geometric gaps over the node order before step 1.
* Independent cascade with one probability ``p``: when node ``u`` adopts,
  the successes among its out-arcs are drawn by geometric skips from draws
  ``indptr[u] + j`` (one draw per success, plus one that finds no more);
  with per-arc probabilities, one draw per tried arc, addressed by the arc.

Outputs
-------
``sink`` says where adoptions go: either dense rows (``rows[r, v]``, the step
at which ``v`` adopted in replicate ``r``, ``-1`` never; every entry of each
row is written) or, when per-node rows are not needed, per-node tallies over
the chunk's replicates (``tally[v, 0]`` += 1 and ``tally[v, 1]`` += the step,
at each adoption) — the reductions of :mod:`diffusion.reductions`, computed where
the adoptions happen, with no ``(runs, n)`` array anywhere. Dense rows come
with the tallies too when ``tally`` has rows (so that an ensemble that keeps
its rows does not read them all again to reduce them). ``hist[t, r]``
counts the nodes of replicate ``r`` that adopted at step ``t``; a replicate
stops after the first step that changes nothing, or at ``max_steps`` (``-1``:
no cap) — exactly the steps the runner's step loop would evaluate
(``steps[r]``). A kernel returns ``-1`` instead of the histogram's length
when a step exceeds what ``rows`` can hold (``sink.limit``); the caller then
runs the chunk again with wider rows. ``work`` counts what was touched
(:data:`WORK_FIELDS`), which is how tests check that the cost of a cascade
does not depend on the size of the graph.

Arguments
---------
Every public kernel checks, before its first write, the arguments that decide
where it reads and writes: the CSR row pointers (``indptr[0] == 0``,
non-decreasing, within ``indices``), the per-node and per-arc arrays against
``n`` and the number of arcs, the initial adopters (``k <= n``; or pointers
non-decreasing within ``idx``, each node in ``0 .. n - 1``), the sink
(``rows`` of shape ``(len(keys), n)`` and ``limit`` within the dtype of
``rows``, or ``tally`` of shape ``(n, 2)``), the zero lists, the
independent-cascade table and ``log1p(-p) < 0``, the count planes of
:func:`lt_bits_chunk` (as :func:`lt_meta` lays them out for ``need``) and the
largest out-degree. A violation raises :class:`ValueError`: a bug in the
caller, never bad input (parameters are validated before any kernel runs).
The checks cost ``O(n)`` once per call, nothing per arc; ``indices`` is
trusted (a :class:`~diffusion.network.Network` validated it when it was built).

Within the kernels, nothing a parameter can be makes them index outside their
arrays: a repeated initial adopter counts once, geometric gaps are clamped (a
cascade's skip to the arcs not yet passed, a gap of the zero set to at least
1, both compared as floats, so no sum overflows), adoption steps stop at
``sink.limit`` (a chunk runs again into wider rows, as above), and a NaN
threshold never fires (its integer threshold is ``deg + 1``). The bit-parallel
kernel runs its replicates in batches of at most :data:`BATCH` = 64 (one bit
each in a word).

This module imports numba; the models import it lazily.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from . import _draws as D
from ._random import ARC, SEEDS, THRESHOLD, TINY, ZERO

__all__ = [
    "BATCH",
    "FIRED_BLOCK",
    "WORK_FIELDS",
    "Seeds",
    "Sink",
    "ic_chunk",
    "lt_bits_chunk",
    "lt_chunk",
    "lt_meta",
    "lt_need",
    "ltw_chunk",
]

#: What the ``work`` counters of a kernel count: arcs read, draws made, nodes reached
#: (stamped for the first time in a replicate, seeds included), adoptions.
WORK_FIELDS = ("arcs", "draws", "reached", "adoptions")
_ARCS, _DRAWS, _REACHED, _ADOPTIONS = range(4)

#: Independent-cascade modes of :func:`ic_chunk`.
IC_NONE, IC_SKIPS, IC_ALL, IC_PER_ARC = range(4)


class Seeds(NamedTuple):
    """Initial adopters of the replicates of a chunk.

    ``k > 0``: each replicate draws ``k`` distinct nodes itself (Floyd's
    algorithm, purpose ``SEEDS``). Else replicate ``r``'s are
    ``idx[ptr[r]:ptr[r + 1]]`` (distinct), or ``idx[ptr[0]:ptr[1]]`` for every
    replicate when ``shared``.
    """

    k: int
    ptr: np.ndarray
    idx: np.ndarray
    shared: bool


class Sink(NamedTuple):
    """Where a kernel puts adoptions: dense ``rows`` or per-node tallies (see the module docstring).

    ``tally[v]`` is ``(replicates in which v adopted, sum of its adoption
    steps)``: both in one cache line, updated together at each adoption.
    """

    dense: bool
    rows: np.ndarray
    tally: np.ndarray
    limit: int


_ONE = np.uint64(1)


@njit(cache=True, nogil=True, inline="always")
def _u(i):  # pragma: no cover - compiled
    """``i``, a non-negative index, as ``uint64``.

    Indexing with an unsigned integer skips the test for a negative index
    (and its correction) that numba adds for signed ones: fewer instructions
    in the loops over arcs, the same elements.
    """
    return np.uint64(i)


# ----------------------------------------------------------------- argument checks
@njit(cache=True, nogil=True)
def _nodes_ok(a, lo, hi, n):  # pragma: no cover - compiled
    """Whether ``a[lo:hi]`` are node indices ``0 .. n - 1``."""
    for i in range(lo, hi):
        if a[i] < 0 or a[i] >= n:
            return False
    return True


@njit(cache=True, nogil=True)
def _check_args(indptr, indices, seeds, keys, sink, work):  # pragma: no cover - compiled
    """Check the arguments every kernel takes (see the module docstring); returns the largest out-degree."""
    if indptr.shape[0] < 1 or indptr[0] != 0:
        raise ValueError("kernel: indptr is not the row pointer of a CSR graph")
    n = indptr.shape[0] - 1
    width = 0
    for u in range(n):
        d = indptr[u + 1] - indptr[u]
        if d < 0:
            raise ValueError("kernel: indptr decreases")
        width = max(width, d)
    if indptr[n] > indices.shape[0]:
        raise ValueError("kernel: indptr runs past indices")
    if work.shape[0] < len(WORK_FIELDS):
        raise ValueError("kernel: work has fewer counters than WORK_FIELDS")
    R = keys.shape[0]
    if sink.dense:
        if sink.rows.shape[0] != R or sink.rows.shape[1] != n:
            raise ValueError("kernel: sink rows are not (replicates, n)")
        if sink.limit < 0 or sink.limit > np.iinfo(sink.rows.dtype).max:
            raise ValueError("kernel: sink limit outside the dtype of the rows")
        if sink.tally.shape[0] != 0 and (sink.tally.shape[0] != n or sink.tally.shape[1] < 2):
            raise ValueError("kernel: sink tally is neither empty nor (n, 2)")
    elif sink.tally.shape[0] != n or sink.tally.shape[1] < 2:
        raise ValueError("kernel: sink tally is not (n, 2)")
    if seeds.k > 0:
        if seeds.k > n:
            raise ValueError("kernel: more random initial adopters than nodes")
    else:
        m = 1 if seeds.shared else R
        ptr = seeds.ptr
        if ptr.shape[0] < m + 1 or ptr[0] < 0 or ptr[m] > seeds.idx.shape[0]:
            raise ValueError("kernel: seed pointers outside the seed indices")
        for i in range(m):
            if ptr[i + 1] < ptr[i]:
                raise ValueError("kernel: seed pointers decrease")
        if not _nodes_ok(seeds.idx, ptr[0], ptr[m], n):
            raise ValueError("kernel: initial adopter out of range")
    return width


@njit(cache=True, nogil=True)
def _check_spec(spec):  # pragma: no cover - compiled
    """A threshold spec ``(kind, a, b, q, log1p(-q), low, high)`` with ``log1p(-q) <= 0`` (not NaN)."""
    if len(spec) < 7:
        raise ValueError("kernel: threshold spec has fewer than 7 entries")
    if spec[0] >= 0 and not spec[4] <= 0.0:
        raise ValueError("kernel: threshold spec's log1p(-q) is not <= 0")


# ----------------------------------------------------------------- shared pieces
@njit(cache=True, nogil=True)
def _grow(hist, t):  # pragma: no cover - compiled
    if t < hist.shape[0]:
        return hist
    out = np.zeros((2 * hist.shape[0] + t, hist.shape[1]), dtype=hist.dtype)
    out[: hist.shape[0]] = hist
    return out


@njit(cache=True, nogil=True, inline="always")
def _seed(seeds, key, r, n, stamp, sid, queue):  # pragma: no cover - compiled
    """Replicate ``r``'s initial adopters into ``queue[:q]``, stamped ``sid``; returns ``q``."""
    if seeds.k > 0:
        D.floyd(D.stream(key, SEEDS), n, seeds.k, stamp, sid, queue)
        return seeds.k
    j = 0 if seeds.shared else r
    q = 0
    for i in range(seeds.ptr[j], seeds.ptr[j + 1]):
        v = seeds.idx[i]
        if stamp[v] == sid:  # repeated: counts once
            continue
        stamp[v] = sid
        queue[q] = v
        q += 1
    return q


@njit(cache=True, nogil=True, inline="always")
def _record(dense, rows, counts, limit, r, v, t):  # pragma: no cover - compiled
    """Node ``v`` adopted at step ``t`` in replicate ``r`` (``False``: ``t`` does not fit the rows).

    The sink's fields come unpacked (``dense, rows, counts, limit``): kernels
    read them once, outside their loops.
    """
    if dense:
        if t > limit:
            return False
        rows[r, v] = t
        if counts.shape[0] == 0:  # rows only
            return True
    counts[v, 0] += 1
    counts[v, 1] += t
    return True


@njit(cache=True, nogil=True, inline="always")
def _need(th, d, fraction):  # pragma: no cover - compiled
    """Integer threshold of one node (see :func:`lt_need`)."""
    if th != th:  # NaN: no level reaches it
        return np.int64(d) + 1
    if fraction:
        if d == 0:
            return 0 if th <= 0.0 else 1
        c = np.ceil(th * d)
        if c < 0.0:
            c = 0.0
        if c > d + 1.0:
            c = d + 1.0
        k = np.int64(c)
        while k > 0 and (k - 1) / d >= th:
            k -= 1
        while k <= d and k / d < th:
            k += 1
        return k
    c = np.ceil(th)
    if c < 0.0:
        c = 0.0
    if c > d + 1.0:
        c = d + 1.0
    return np.int64(c)


@njit(cache=True, nogil=True)
def lt_need(theta, deg, fraction, need, zero):  # pragma: no cover - compiled
    """Integer threshold: the least number of adopted in-neighbours that suffices.

    Fraction rule: the least ``k`` in ``0 .. deg`` with ``k / deg >= theta``
    (``deg + 1`` if none; a node without in-neighbours needs 0 if ``theta <= 0``,
    else never adopts). Count rule: ``ceil(theta)`` capped at ``deg + 1``.
    A NaN threshold is never reached (``deg + 1``). Writes ``need`` and the
    nodes needing 0 into ``zero``; returns how many.
    """
    n = theta.shape[0]
    if deg.shape[0] != n or need.shape[0] < n or zero.shape[0] < n:
        raise ValueError("lt_need: deg, need or zero shorter than theta")
    nz = 0
    for i in range(theta.shape[0]):
        k = _need(theta[i], deg[i], fraction)
        need[i] = k
        if k <= 0:
            zero[nz] = i
            nz += 1
    return nz


# ----------------------------------------------------------------- independent cascade
@njit(cache=True, nogil=True, inline="always")
def _seed_row(seeds, key, r, n, row, queue):  # pragma: no cover - compiled
    """Replicate ``r``'s initial adopters into ``queue[:q]`` and ``row`` (step 0; ``row`` all ``-1`` before)."""
    if seeds.k > 0:
        D.floyd(D.stream(key, SEEDS), n, seeds.k, row, 0, queue)
        return seeds.k
    j = 0 if seeds.shared else r
    q = 0
    for i in range(seeds.ptr[j], seeds.ptr[j + 1]):
        v = seeds.idx[i]
        if row[v] == 0:  # repeated: counts once
            continue
        row[v] = 0
        queue[q] = v
        q += 1
    return q


@njit(cache=True, nogil=True, inline="always")
def _ic_fire(indices, fired, nf, dense, row, stamp, sid, counts, queue, q, t, over):  # pragma: no cover
    """The arcs ``fired[:nf]`` fire at step ``t``: each head not reached yet adopts (marked, queued, tallied).

    Returns the new queue length, or ``-1`` if a node adopts while ``over``
    (step ``t`` does not fit the rows).
    """
    for i in range(nf):
        v = _u(indices[_u(fired[i])])
        if (row[v] < 0) if dense else (stamp[v] != sid):
            if over:
                return -1
            if dense:
                row[v] = t
            else:
                stamp[v] = sid
            queue[q] = np.int64(v)
            q += 1
            if counts.shape[0] > 0:
                counts[v, 0] += 1
                counts[v, 1] += t
    return q


@njit(cache=True, nogil=True, inline="always")
def _add_work(work, arcs, draws, reached, adoptions):  # pragma: no cover - compiled
    work[_ARCS] += arcs
    work[_DRAWS] += draws
    work[_REACHED] += reached
    work[_ADOPTIONS] += adoptions


#: Fired arcs an independent-cascade step collects before reading their heads.
FIRED_BLOCK = 256


@njit(cache=True, nogil=True)
def ic_chunk(indptr, indices, seeds, keys, mode, qtab, log1mp, prob, sink, max_steps,
             work):  # pragma: no cover - compiled
    """Independent cascades of the replicates of a chunk (``len(keys)`` of them), one after the other.

    ``mode``: :data:`IC_NONE` (p = 0: nothing fires), :data:`IC_SKIPS` (one
    probability ``p < 1``: node ``u``'s draw ``j`` — counter
    ``indptr[u] + j`` of purpose ``ARC`` — finds the first success among the
    ``d`` arcs not yet passed: none if ``u <= qtab[d] = (1 - p)**d``, else at
    offset ``min(floor(log(u) / log1mp), d - 1)``), :data:`IC_ALL` (p = 1:
    every arc fires) or :data:`IC_PER_ARC` (arc ``a`` fires when draw ``a``
    is below ``prob[a]``). A replicate without initial adopters evaluates no
    step. Returns ``(hist, steps)``, ``hist`` of length ``-1`` on overflow.

    A step goes over its frontier in two passes, alternating by blocks of
    about :data:`FIRED_BLOCK` arcs: the draws find the arcs that fire, then
    their heads are read (reads that do not wait for one another), in the
    same order — frontier order, then arc order. A node adopts once, so with
    dense rows the replicate's row (set to ``-1`` just before its cascade,
    which brings it into cache) is also the record of who was reached, and no
    stamps are needed. Initial adopters shared by every replicate adopt at
    step 0 in each: they are tallied once for the chunk, after the last
    replicate.
    """
    width = _check_args(indptr, indices, seeds, keys, sink, work)
    if mode < IC_NONE or mode > IC_PER_ARC:
        raise ValueError("ic_chunk: no such mode")
    if mode == IC_SKIPS and (qtab.shape[0] <= width or not log1mp < 0.0):
        raise ValueError("ic_chunk: qtab shorter than the largest out-degree + 1, or log1p(-p) not < 0")
    if mode == IC_PER_ARC and prob.shape[0] < indptr[-1]:
        raise ValueError("ic_chunk: fewer probabilities than arcs")
    n = indptr.shape[0] - 1
    R = keys.shape[0]
    dense, rows, counts, limit = sink.dense, sink.rows, sink.tally, sink.limit
    fixed = seeds.k == 0 and seeds.shared  # the same initial adopters in every replicate
    stamp = np.zeros(0 if dense else n, dtype=np.int32)
    none = np.empty(0, dtype=rows.dtype)
    queue = np.empty(n, dtype=np.int64)
    fired = np.empty(FIRED_BLOCK + width, dtype=np.int64)  # a node adds at most width to a block
    hist = np.zeros((16, R), dtype=np.int64)
    steps = np.zeros(R, dtype=np.int64)
    arcs, draws, reached = 0, 0, 0
    q0 = 0
    for r in range(R):
        sid = np.int32(r + 1)
        if dense:
            row = rows[r]
            row[:] = -1
            q = _seed_row(seeds, keys[r], r, n, row, queue)
        else:
            row = none
            q = _seed(seeds, keys[r], r, n, stamp, sid, queue)
        q0 = q
        if counts.shape[0] > 0 and not fixed:
            for i in range(q):
                counts[queue[i], 0] += 1
        reached += q
        hist[0, r] = q
        if q == 0 or max_steps == 0:
            continue
        s = D.stream(keys[r], ARC)
        lo, hi, t = 0, q, 0
        while max_steps < 0 or t < max_steps:
            t += 1
            if t >= hist.shape[0]:
                hist = _grow(hist, t)
            over = dense and t > limit  # a node adopting now does not fit the rows
            start = q
            nf = 0
            for k in range(lo, hi):
                u = queue[k]
                a0 = indptr[u]
                d = indptr[u + 1] - a0
                if mode == IC_SKIPS:
                    j = 0
                    off = 0
                    left = d
                    while left > 0:
                        x = D.unit(D.bits(s, a0 + j))
                        j += 1
                        if x <= qtab[left]:
                            break
                        g = np.floor(D.log(x) / log1mp)
                        if not g <= left - 1:  # (or NaN) the last arc not yet passed
                            g = left - 1
                        elif g < 0.0:
                            g = 0.0
                        fired[nf] = a0 + off + np.int64(g)
                        nf += 1
                        off += np.int64(g) + 1
                        left = d - off
                    draws += j
                elif mode == IC_ALL or mode == IC_PER_ARC:
                    for a in range(a0, a0 + d):
                        if mode == IC_PER_ARC:
                            draws += 1
                            if not D.unit(D.bits(s, a)) < prob[a]:
                                continue
                        fired[nf] = a
                        nf += 1
                if nf >= FIRED_BLOCK or (k == hi - 1 and nf > 0):
                    arcs += nf
                    q = _ic_fire(indices, fired, nf, dense, row, stamp, sid, counts, queue, q, t, over)
                    nf = 0
                    if q < 0:
                        _add_work(work, arcs, draws, reached, reached)
                        return hist[:0], steps
            hist[t, r] = q - start
            reached += q - start
            if q == start:
                break
            lo, hi = start, q
        steps[r] = t
    if fixed and counts.shape[0] > 0 and R > 0:  # queue[:q0] still holds the distinct initial adopters
        for i in range(q0):
            counts[queue[i], 0] += R
    _add_work(work, arcs, draws, reached, reached)
    return hist, steps


# ----------------------------------------------------------------- threshold, one replicate at a time
@njit(cache=True, nogil=True)
def lt_chunk(indptr, indices, deg, fraction, spec, seeds, keys, sink, max_steps, work):  # pragma: no cover
    """Unweighted threshold cascades with random thresholds, one replicate after the other.

    Node ``v``'s integer threshold (:func:`lt_need`) comes from the
    distribution ``spec`` (:func:`diffusion._draws.draw_threshold`, drawn
    with the replicate's ``THRESHOLD`` stream at counter ``v``); the nodes at
    or below 0 are the geometric gaps of the ``ZERO`` stream (``spec[4]`` is
    ``log1p(-q)``) and adopt at step 1, which every replicate evaluates. Each
    node reached has a countdown ``rem[v]`` (threshold minus the adopted
    in-neighbours seen so far); it adopts in the step its countdown reaches
    0, and adopted nodes are below 0.

    Thresholds are drawn *lazily* — a step first collects the nodes its
    frontier reaches for the first time (independent loads, which overlap),
    then draws their thresholds (independent draws, which overlap too), then
    counts down — or, when the previous replicate of the chunk reached more
    than a quarter of the nodes, *eagerly*, all ``n`` in two tight passes
    (:func:`diffusion._draws.fill_thresholds`, then the integer thresholds)
    without stamps. The draws are addressed, so both give the same cascade.
    Returns ``(hist, steps)``.
    """
    _check_args(indptr, indices, seeds, keys, sink, work)
    _check_spec(spec)
    n = indptr.shape[0] - 1
    if deg.shape[0] != n or spec[0] < 0:
        raise ValueError("lt_chunk: deg is not of n nodes, or thresholds are not drawn")
    R = keys.shape[0]
    dense, rows, counts, limit = sink.dense, sink.rows, sink.tally, sink.limit
    log1mq = spec[4]
    stamp = np.zeros(n, dtype=np.int32)
    rem = np.empty(n, dtype=np.int32)
    queue = np.empty(n, dtype=np.int64)
    fresh = np.empty(n, dtype=np.int64)
    th = np.empty(n, dtype=np.float64)
    hist = np.zeros((16, R), dtype=np.int64)
    steps = np.zeros(R, dtype=np.int64)
    reached = 0
    lazy_reached = 0  # nodes the last lazily drawn replicate reached
    for r in range(R):
        sid = np.int32(r + 1)
        s = D.stream(keys[r], THRESHOLD)
        eager = 4 * lazy_reached > n
        if eager:
            D.fill_thresholds(spec, s, th)
            lo_c, hi_c = spec[5], spec[6]
            for v in range(n):
                rem[v] = _need(max(min(max(th[v], lo_c), hi_c), TINY), deg[v], fraction)
            work[_DRAWS] += n
            work[_REACHED] += n
        if dense:
            rows[r, :] = -1
        q = _seed(seeds, keys[r], r, n, stamp, sid, queue)
        for i in range(q):
            rem[queue[i]] = -1
            _record(dense, rows, counts, limit, r, queue[i], 0)
        reached = q
        hist[0, r] = q
        lo, hi, t = 0, q, 0
        while max_steps < 0 or t < max_steps:
            t += 1
            if t >= hist.shape[0]:
                hist = _grow(hist, t)
            start = q
            if t == 1 and log1mq != 0.0:
                sz = D.stream(keys[r], ZERO)
                pos = -1
                i = 0
                while True:
                    g = D.zero_gap(sz, i, log1mq)
                    i += 1
                    if g > n - 1 - pos:
                        break
                    pos += np.int64(g)
                    if (rem[pos] >= 0) if eager else (stamp[pos] != sid):  # not an initial adopter
                        stamp[pos] = sid
                        rem[pos] = -1
                        queue[q] = pos
                        q += 1
                        if not _record(dense, rows, counts, limit, r, pos, 1):
                            return hist[:0], steps
                work[_DRAWS] += i
                reached += q - start
            if not eager:
                nf = 0
                for k in range(lo, hi):
                    u = _u(queue[k])
                    for a in range(_u(indptr[u]), _u(indptr[u + _ONE])):
                        v = _u(indices[a])
                        if stamp[v] != sid:
                            stamp[v] = sid
                            fresh[nf] = np.int64(v)
                            nf += 1
                for i in range(nf):
                    v = _u(fresh[i])
                    rem[v] = _need(D.draw_threshold(spec, s, v), deg[v], fraction)
                reached += nf
                work[_DRAWS] += nf
            for k in range(lo, hi):
                u = _u(queue[k])
                work[_ARCS] += indptr[u + _ONE] - indptr[u]
                for a in range(_u(indptr[u]), _u(indptr[u + _ONE])):
                    v = _u(indices[a])
                    x = rem[v] - 1
                    rem[v] = x
                    if x == 0:
                        queue[q] = np.int64(v)
                        q += 1
                        if not _record(dense, rows, counts, limit, r, v, t):
                            return hist[:0], steps
            hist[t, r] = q - start
            if q == start:
                break
            lo, hi = start, q
        steps[r] = t
        if not eager:
            lazy_reached = reached
            work[_REACHED] += reached
        work[_ADOPTIONS] += q
    return hist, steps


@njit(cache=True, nogil=True)
def ltw_chunk(indptr, indices, weights, denom, fraction, theta, zero, spec, seeds, keys, sink, max_steps,
              work):  # pragma: no cover - compiled
    """Weighted threshold cascades of the replicates of a chunk, one after the other.

    Node ``v`` adopts when ``received[v] / denom[v] >= theta[v]`` (fraction
    rule; level 0 when ``denom[v] == 0``) or ``received[v] >= theta[v]``
    (count rule). Thresholds are ``theta`` (fixed; ``zero`` lists the nodes
    at or below 0) or drawn as in :func:`lt_chunk` when ``spec[0] >= 0``.
    Each step's adopters are sorted before their arcs are pushed, so the
    additions happen in the order of the numpy reference (ascending source
    node, then arc order). ``stamp[v]`` is ``sid`` once ``v`` is reached and
    ``-sid`` once it adopted. Returns ``(hist, steps)``.
    """
    _check_args(indptr, indices, seeds, keys, sink, work)
    _check_spec(spec)
    n = indptr.shape[0] - 1
    if weights.shape[0] < indptr[-1] or (fraction and denom.shape[0] != n):
        raise ValueError("ltw_chunk: weights or denominators do not match the graph")
    if spec[0] < 0 and (theta.shape[0] != n or not _nodes_ok(zero, 0, zero.shape[0], n)):
        raise ValueError("ltw_chunk: thresholds not of n nodes, or zero lists a node out of range")
    R = keys.shape[0]
    dense, rows, counts, limit = sink.dense, sink.rows, sink.tally, sink.limit
    random = spec[0] >= 0
    log1mq = spec[4]
    stamp = np.zeros(n, dtype=np.int32)
    received = np.empty(n, dtype=np.float64)
    th = np.empty(n if random else 0, dtype=np.float64)
    queue = np.empty(n, dtype=np.int64)
    hist = np.zeros((16, R), dtype=np.int64)
    steps = np.zeros(R, dtype=np.int64)
    for r in range(R):
        sid = np.int32(r + 1)
        if dense:
            rows[r, :] = -1
        q = _seed(seeds, keys[r], r, n, stamp, sid, queue)
        for i in range(q):
            stamp[queue[i]] = -sid
            _record(dense, rows, counts, limit, r, queue[i], 0)
        queue[:q].sort()
        work[_REACHED] += q
        hist[0, r] = q
        s = D.stream(keys[r], THRESHOLD)
        lo, hi, t = 0, q, 0
        while max_steps < 0 or t < max_steps:
            t += 1
            if t >= hist.shape[0]:
                hist = _grow(hist, t)
            start = q
            if t == 1:
                if random:
                    if log1mq != 0.0:
                        sz = D.stream(keys[r], ZERO)
                        pos = -1
                        i = 0
                        while True:
                            g = D.zero_gap(sz, i, log1mq)
                            i += 1
                            if g > n - 1 - pos:
                                break
                            pos += np.int64(g)
                            if stamp[pos] != -sid:
                                stamp[pos] = -sid
                                queue[q] = pos
                                q += 1
                                if not _record(dense, rows, counts, limit, r, pos, 1):
                                    return hist[:0], steps
                        work[_DRAWS] += i
                else:
                    for v in zero:
                        if stamp[v] != -sid:
                            stamp[v] = -sid
                            queue[q] = v
                            q += 1
                            if not _record(dense, rows, counts, limit, r, v, 1):
                                return hist[:0], steps
                work[_REACHED] += q - start
            for k in range(lo, hi):
                u = _u(queue[k])
                work[_ARCS] += indptr[u + _ONE] - indptr[u]
                for a in range(_u(indptr[u]), _u(indptr[u + _ONE])):
                    v = _u(indices[a])
                    sv = stamp[v]
                    if sv == -sid:
                        continue
                    if sv != sid:
                        stamp[v] = sid
                        received[v] = 0.0
                        work[_REACHED] += 1
                        if random:
                            work[_DRAWS] += 1
                            th[v] = D.draw_threshold(spec, s, v)
                    x = received[v] + weights[a]
                    received[v] = x
                    if fraction:
                        dv = denom[v]
                        level = x / dv if dv > 0.0 else 0.0
                    else:
                        level = x
                    if level >= (th[v] if random else theta[v]):
                        stamp[v] = -sid
                        queue[q] = np.int64(v)
                        q += 1
                        if not _record(dense, rows, counts, limit, r, v, t):
                            return hist[:0], steps
            hist[t, r] = q - start
            if q == start:
                break
            queue[start:q].sort()
            lo, hi = start, q
        steps[r] = t
        work[_ADOPTIONS] += q
    return hist, steps


# ----------------------------------------------------------------- threshold, 64 replicates at once
#: Replicates advanced together by :func:`lt_bits_chunk` (one bit each in a uint64 word).
BATCH = 64

# de Bruijn sequence and table: index of the lowest set bit of a uint64 (fallback)
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_BIT_INDEX = np.array([
    0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
    62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
    63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
    46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6,
], dtype=np.int64)


try:  # count trailing zeros as one instruction (LLVM cttz)
    from numba.cpython.unsafe.numbers import trailing_zeros as _lowest_bit
except ImportError:  # pragma: no cover - older or future numba: de Bruijn lookup
    @njit(cache=True, nogil=True, inline="always")
    def _lowest_bit(low):
        return _BIT_INDEX[((low * _DEBRUIJN) >> np.uint64(58)) & np.uint64(63)]


@njit(cache=True, nogil=True, inline="always")
def _popcount(x):  # pragma: no cover - compiled
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


#: Words of a node's record in :func:`lt_bits_chunk`: replicates still to adopt, count planes 0
#: and 1, and ``batch << 40 | offset << 6 | planes`` (the batch that initialized the record,
#: where its further planes are, how many planes it has).
_ALIVE, _P0, _P1, _META = range(4)
REC = 4
_STAMP_SHIFT = np.uint64(40)
_OFFSETS = np.uint64((1 << 34) - 1)  # offset bits of a record's last word, once shifted by 6


@njit(cache=True, nogil=True)
def lt_meta(need):  # pragma: no cover - compiled
    """Where each node's further count planes live: ``offset << 6 | planes``, and how many there are.

    A node with integer threshold ``k`` has ``w = bit_length(max(k, 1))``
    planes; planes 2 .. w - 1 are ``hi[offset : offset + w - 2]`` in
    :func:`lt_bits_chunk`. Returns ``(meta, total)``.
    """
    n = need.shape[0]
    meta = np.empty(n, dtype=np.uint64)
    total = 0
    for v in range(n):
        k = max(np.int64(need[v]), 1)
        w = 0
        while (k >> w) != 0:
            w += 1
        meta[v] = np.uint64((total << 6) | w)
        total += max(w - 2, 0)
    return meta, total


@njit(cache=True, nogil=True, inline="always")
def _init_record(rec, hi, need, meta, v, bid, full):  # pragma: no cover - compiled
    """Node ``v``'s record for batch ``bid``: every replicate still to adopt, counts at ``need[v]``."""
    x = np.uint64(REC) * np.uint64(v)
    k = max(np.int64(need[v]), 1)
    m = meta[v]
    rec[x] = full
    rec[x + np.uint64(_P0)] = full if (k & 1) != 0 else np.uint64(0)
    rec[x + np.uint64(_P1)] = full if (k & 2) != 0 else np.uint64(0)
    rec[x + np.uint64(_META)] = (bid << _STAMP_SHIFT) | m
    j = m >> np.uint64(6)
    k >>= 2
    while k != 0:
        hi[j] = full if (k & 1) != 0 else np.uint64(0)
        k >>= 1
        j += np.uint64(1)
    return x


@njit(cache=True, nogil=True, inline="always")
def _touch(rec, hi, need, meta, v, bid, full, work):  # pragma: no cover - compiled
    """Initialize node ``v``'s record for batch ``bid`` if it has not been yet; returns its offset."""
    x = np.uint64(REC) * np.uint64(v)
    if (rec[x + np.uint64(_META)] >> _STAMP_SHIFT) == bid:
        return x
    work[_REACHED] += 1
    return _init_record(rec, hi, need, meta, v, bid, full)


@njit(cache=True, nogil=True, inline="always")
def _adopt_bits(dense, at, counts, v, z, full, t, tally):  # pragma: no cover - compiled
    """Node ``v`` adopts at step ``t`` in the replicates of mask ``z`` (bit ``b``: replicate ``b`` of the batch).

    Dense: ``at[v, b]`` takes the step (node-major, transposed into the rows
    at the end of the batch); ``counts[v]`` (the sink's tallies, if it has
    rows) grows by the number of replicates and their steps. ``tally`` is a bit-sliced
    counter of the step's adopters per replicate, to which ``z`` is added with
    a ripple carry.
    """
    if dense:
        if z == full:
            at[v, :] = t
        else:
            y = z
            while y != 0:
                low = y & (~y + np.uint64(1))
                at[v, np.uint64(_lowest_bit(low))] = t
                y ^= low
    if not dense or counts.shape[0] > 0:
        c = _popcount(z)
        counts[v, 0] += c
        counts[v, 1] += c * t
    c = z
    j = 0
    while c != 0:
        h = tally[j]
        tally[j] = h ^ c
        c &= h
        j += 1


@njit(cache=True, nogil=True)
def lt_bits_chunk(indptr, indices, need, meta, planes, zero, width, seeds, keys, sink, max_steps,
                  work):  # pragma: no cover - compiled
    """Unweighted threshold cascades with shared integer thresholds, 64 replicates at a time.

    Replicate ``r0 + b`` of a batch is bit ``b`` of the uint64 masks; the
    replicates share the nodes' integer thresholds ``need`` (:func:`lt_need`;
    ``zero`` lists the nodes needing 0, which adopt at step 1). Each node's
    remaining count (threshold minus adopted in-neighbours) is held
    *bit-sliced* for the 64 replicates in its 32-byte record (plane ``j``
    holds bit ``j`` of every replicate's count; planes beyond 1 in ``hi``, at
    the offsets of :func:`lt_meta`, ``planes`` of them in all): a frontier arc
    subtracts its 64-bit mask (the replicates in which the target has not
    adopted) with a ripple borrow that stops as soon as the borrow is zero,
    and the replicates whose count reached 0 (the node adopts) are those whose
    bits are clear in every plane. A record is initialized when its node is
    first reached in a batch (its stamp is the batch number), so a batch costs
    what its cascades touch — or all records at the start of the batch, in
    one sequential pass, when the previous batch reached more than a quarter
    of the nodes (and for the first of several batches). ``width`` is the
    largest out-degree.

    Dense rows are first written node-major (a node's steps in the 64
    replicates side by side) and transposed at the end of the batch. A step's
    frontier is walked in node order (a scan of the masks) when it is large,
    else through the list of its nodes; the result is the same.
    Returns ``(hist, steps)``.
    """
    widest = _check_args(indptr, indices, seeds, keys, sink, work)
    n = indptr.shape[0] - 1
    if need.shape[0] != n or meta.shape[0] != n or planes < 0 or width < widest:
        raise ValueError("lt_bits_chunk: need or meta not of n nodes, or width below the largest out-degree")
    if not _nodes_ok(zero, 0, zero.shape[0], n):
        raise ValueError("lt_bits_chunk: zero lists a node out of range")
    for v in range(n):  # the planes _init_record writes are the ones lt_meta laid out, within hi
        k = max(np.int64(need[v]), 1)
        w = 0
        while (k >> w) != 0:
            w += 1
        mt = meta[v]
        if np.int64(mt & np.uint64(63)) != w or \
                np.int64((mt >> np.uint64(6)) & _OFFSETS) + max(w - 2, 0) > planes:
            raise ValueError("lt_bits_chunk: count planes do not match need, or lie outside hi")
    R = keys.shape[0]
    rows = sink.rows
    dense = sink.dense
    counts = sink.tally
    hist = np.zeros((64, R), dtype=np.int64)
    steps = np.zeros(R, dtype=np.int64)
    rec = np.zeros(REC * n, dtype=np.uint64)  # zero stamps: no batch has initialized a record
    hi = np.empty(planes, dtype=np.uint64)
    front = np.zeros(n, dtype=np.uint64)
    nxt = np.zeros(n, dtype=np.uint64)
    cur_list = np.empty(n, dtype=np.int64)
    nxt_list = np.empty(n, dtype=np.int64)
    mark = np.zeros(n if seeds.k > 0 else 0, dtype=np.int32)
    picked = np.empty(seeds.k, dtype=np.int64)
    B0 = min(R, BATCH)
    at_flat = np.empty(n * B0 if dense else 0, dtype=rows.dtype)
    tally = np.zeros(64, dtype=np.uint64)
    cand = np.empty(width, dtype=np.uint64)
    one = np.uint64(1)
    two, three, six = np.uint64(2), np.uint64(3), np.uint64(6)
    offs = _OFFSETS
    touched = n if R > BATCH else 0  # records the last batch initialized (a first batch of several: all)
    for r0 in range(0, R, BATCH):
        B = min(BATCH, R - r0)
        bid = np.uint64(r0 // BATCH + 1)
        reached0 = work[_REACHED]
        # records are initialized when first reached, or all at once (a sequential pass, and no
        # check per arc) when the last batch reached more than a quarter of the nodes
        eager = 4 * touched > n
        at = at_flat[: n * B if dense else 0].reshape((n if dense else 0, B))
        if dense:
            at_flat[: n * B] = -1
        full = np.uint64(0)
        for b in range(B):
            full |= one << np.uint64(b)
        if eager:
            for v in range(n):
                _init_record(rec, hi, need, meta, v, bid, full)
            work[_REACHED] += n
        ncur = 0
        for b in range(B):
            r = r0 + b
            bit = one << np.uint64(b)
            if seeds.k > 0:
                D.floyd(D.stream(keys[r], SEEDS), n, seeds.k, mark, np.int32(r + 1), picked)
                lo_s, hi_s = 0, seeds.k
            else:
                j = 0 if seeds.shared else r
                lo_s, hi_s = seeds.ptr[j], seeds.ptr[j + 1]
            ns = 0
            for i in range(lo_s, hi_s):
                s = picked[i] if seeds.k > 0 else seeds.idx[i]
                x = _touch(rec, hi, need, meta, s, bid, full, work)
                if (rec[x] & bit) == 0:  # repeated: counts once
                    continue
                ns += 1
                rec[x] &= ~bit
                if dense:
                    at[s, b] = 0
                if not dense or counts.shape[0] > 0:
                    counts[s, 0] += 1
                if front[s] == 0:
                    cur_list[ncur] = s
                    ncur += 1
                front[s] |= bit
            hist[0, r] = ns
        active = full
        t = 0
        nn = 0
        while active != 0 and (max_steps < 0 or t < max_steps):
            t += 1
            if t >= hist.shape[0]:
                hist = _grow(hist, t)
            if dense and t > sink.limit:
                return hist[:0], steps
            nn = 0
            if t == 1:
                for v in zero:
                    x = _touch(rec, hi, need, meta, v, bid, full, work)
                    z = rec[x]
                    if z != 0:
                        rec[x] = 0
                        nxt_list[nn] = v
                        nn += 1
                        nxt[v] = z
                        _adopt_bits(dense, at, counts, v, z, full, t, tally)
            dense_scan = ncur * 16 > n
            count = n if dense_scan else ncur
            for k in range(count):
                u = k if dense_scan else cur_list[k]
                m = front[u]
                if m == 0:
                    continue
                front[u] = 0
                work[_ARCS] += indptr[u + 1] - indptr[u]
                # pass 1, without branching on the loaded masks (the loads overlap): the targets
                # still to adopt in some replicate of m (records first reached are initialized)
                nc = 0
                for a in range(_u(indptr[u]), _u(indptr[u + 1])):
                    v = _u(indices[a])  # unsigned indices: no negative-index wraparound checks
                    x = np.uint64(REC) * v
                    if not eager and (rec[x + three] >> _STAMP_SHIFT) != bid:
                        _touch(rec, hi, need, meta, v, bid, full, work)
                    cand[nc] = v
                    nc += (m & rec[x]) != 0
                # pass 2, in arc order: count the arc down in those replicates
                for c in range(nc):
                    v = cand[c]
                    x = np.uint64(REC) * v
                    d = m & rec[x]  # again: a repeated arc may have made v adopt meanwhile
                    if d == 0:
                        continue
                    # subtract d: ripple borrow (no count goes below 0); words x + 1, 2, 3 of the
                    # record: planes 0 and 1, where the further planes are
                    p0 = rec[x + one]
                    p1 = rec[x + two]
                    b = d & ~p0
                    p0 ^= d
                    rec[x + one] = p0
                    if b != 0:
                        p1 ^= b
                        rec[x + two] = p1
                        b &= p1  # borrowed where plane 1 was clear (now set)
                        j = (rec[x + three] >> six) & offs
                        while b != 0:
                            p = hi[j]
                            hi[j] = p ^ b
                            b &= ~p
                            j += one
                    z = d & ~(p0 | p1)  # counts that reached 0 (v adopts), if no higher plane is set
                    if z != 0:
                        mt = rec[x + three]
                        w = np.int64(mt & np.uint64(63))
                        if w > 2:
                            o = (mt >> six) & offs
                            left = np.uint64(0)
                            for j in range(o, o + np.uint64(w - 2)):
                                left |= hi[j]
                            z &= ~left
                    if z != 0:
                        rec[x] &= ~z
                        if nxt[v] == 0:
                            nxt_list[nn] = v
                            nn += 1
                        nxt[v] |= z
                        _adopt_bits(dense, at, counts, v, z, full, t, tally)
            top = 0
            for j in range(64):
                if tally[j] != 0:
                    top = j + 1
            for b in range(B):
                c = 0
                for j in range(top):
                    c |= np.int64((tally[j] >> np.uint64(b)) & one) << j
                hist[t, r0 + b] = c
                work[_ADOPTIONS] += c
            tally[:top] = 0
            for b in range(B):
                bit = one << np.uint64(b)
                if (active & bit) != 0 and hist[t, r0 + b] == 0:
                    steps[r0 + b] = t
                    active &= ~bit
            front, nxt = nxt, front
            cur_list, nxt_list = nxt_list, cur_list
            ncur = nn
        for b in range(B):
            if (active & (one << np.uint64(b))) != 0:
                steps[r0 + b] = t
            work[_ADOPTIONS] += hist[0, r0 + b]
        for k in range(ncur):  # a capped run leaves its last adopters in the frontier
            front[cur_list[k]] = 0
        touched = work[_REACHED] - reached0
        if dense:  # transpose, 256 nodes at a time (unsigned indices: no wraparound checks)
            un = np.uint64(n)
            ub = np.uint64(B)
            ur0 = np.uint64(r0)
            blk = np.uint64(256)
            for v0 in range(np.uint64(0), un, blk):
                v1 = min(v0 + blk, un)
                for b in range(ub):
                    for v in range(v0, v1):
                        rows[ur0 + b, v] = at_flat[v * ub + b]
    return hist, steps
