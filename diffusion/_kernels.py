"""Compiled frontier kernels for the threshold and cascade models (numba).

The kernels run *whole cascades* over the CSR arrays of a
:class:`~diffusion.network.Network`, touching only the out-arcs of the nodes
that adopted in the previous step (total work: the arcs of the adopters, not
arcs × steps):

* :func:`lt_batch_cascade` — unweighted threshold rule, 64 replicates at once
  (bit-parallel frontier and bit-sliced counters: each frontier node's arcs
  are read once per step for every replicate it is new in, and an arc costs a
  few word operations for all of them);
* :func:`lt_count_cascade` — unweighted threshold rule, one replicate (used
  when thresholds differ between replicates, so cascades rarely overlap);
* :func:`lt_weighted_cascade` — weighted threshold rule, one replicate;
* :func:`ic_uniform_batch` — independent cascade with one probability, all
  replicates of a batch in one call, from pre-drawn geometric gaps;
* :func:`ic_edge_cascade` — independent cascade with per-arc probabilities,
  one replicate, drawing from its :class:`numpy.random.Generator`.

The models in :mod:`diffusion.models` keep a vectorized numpy implementation
of the same rules as the tested reference; for equal seeds the two give
identical adoption steps, because

* replicates consume their generators in the same order (numba's generator
  methods advance the same bit generator and return the same numbers as
  numpy's ``random()`` and ``geometric(p)``, scalar or vectorized);
* the frontier of a step is processed in a defined order where the order
  matters: the order in which its nodes were discovered (cascade), ascending
  node order (weighted threshold, where floating-point additions must happen
  in the same order); the unweighted threshold rule does not depend on it;
* thresholds are compared with the same floating-point expressions.

Conventions
-----------
``row``/``rows`` hold adoption steps, ``-1`` except at the seeds (distinct
node indices, which may already be marked 0); the kernels write the step of
every adopter. ``hist[t]`` (per replicate) counts the nodes that adopted at
step ``t``, for ``t = 0 .. L``, ``L`` being the number of steps evaluated: a
replicate stops after the first step that changes nothing, or at
``max_steps`` (``-1`` for no cap) — exactly the steps the runner's step loop
would have evaluated.

This module imports numba; the models import it lazily (``backend="auto"``
falls back to the numpy path when numba is not installed).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "ic_edge_cascade",
    "ic_uniform_batch",
    "lt_batch_cascade",
    "lt_count_cascade",
    "lt_need",
    "lt_planes",
    "lt_weighted_cascade",
]

#: Geometric skips are capped at this many trials: no replicate ever tries more
#: arcs than the graph stores, so a larger skip means "no further success".
SKIP_CAP = 1 << 40


@njit(cache=True, nogil=True, inline="always")
def _need(th, d, fraction):  # pragma: no cover - compiled
    """Integer threshold of one node (see :func:`lt_need`)."""
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
    Writes ``need`` and the nodes needing 0 into ``zero``; returns how many.
    """
    nz = 0
    for i in range(theta.shape[0]):
        k = _need(theta[i], deg[i], fraction)
        need[i] = k
        if k <= 0:
            zero[nz] = i
            nz += 1
    return nz


#: Replicates advanced together by :func:`lt_batch_cascade` (one bit each in a uint64 word).
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


@njit(cache=True, nogil=True)
def _grow(hist, t):  # pragma: no cover - compiled
    if t < hist.shape[0]:
        return hist
    out = np.zeros((2 * hist.shape[0] + t, hist.shape[1]), dtype=hist.dtype)
    out[: hist.shape[0]] = hist
    return out


#: Words of a node's record in :func:`lt_planes`: replicates still to adopt, count planes 0 and 1,
#: where its further planes are (offset << 6 | number of planes).
_ALIVE, _P0, _P1, _META = range(4)
REC = 4


@njit(cache=True, nogil=True)
def lt_planes(need, full):  # pragma: no cover - compiled
    """Bit-sliced countdown counters of up to 64 replicates sharing integer thresholds.

    Each replicate's remaining count of node ``v`` starts at ``need[v]`` (at 1
    for threshold 0: such nodes adopt at step 1 regardless) and is held
    bit-sliced: bit ``r`` of plane ``j`` is bit ``j`` of replicate ``r``'s
    count, over the ``w = bit_length(max(need[v], 1))`` planes. Node ``v``'s
    record ``rec[4 v : 4 v + 4]`` (32 bytes: the words an arc needs, side by
    side) holds the mask of replicates in which it has not adopted
    (``full`` at first), planes 0 and 1, and ``o << 6 | w``: planes 2 .. w - 1
    are ``hi[o : o + w - 2]``. Returns ``(rec, hi)``.
    """
    n = need.shape[0]
    rec = np.empty(REC * n, dtype=np.uint64)
    total = 0
    for v in range(n):
        k = max(np.int64(need[v]), 1)
        w = 0
        while (k >> w) != 0:
            w += 1
        rec[REC * v + _ALIVE] = full
        rec[REC * v + _P0] = full if (k & 1) != 0 else np.uint64(0)
        rec[REC * v + _P1] = full if (k & 2) != 0 else np.uint64(0)
        rec[REC * v + _META] = np.uint64((total << 6) | w)
        total += max(w - 2, 0)
    hi = np.empty(total, dtype=np.uint64)
    j = 0
    for v in range(n):
        k = max(np.int64(need[v]), 1) >> 2
        while k != 0:
            hi[j] = full if (k & 1) != 0 else np.uint64(0)
            k >>= 1
            j += 1
    return rec, hi


@njit(cache=True, nogil=True, inline="always")
def _record(at, v, z, full, t, tally, one):  # pragma: no cover - compiled
    """Node ``v`` adopts at step ``t`` in the replicates of mask ``z``.

    ``at[v, r]`` takes the step (a node's replicates are contiguous: one or
    two cache lines); ``tally`` is a bit-sliced counter of the step's adopters
    per replicate, to which ``z`` is added with a ripple carry.
    """
    if z == full:
        at[v, :] = t
    else:
        y = z
        while y != 0:
            low = y & (~y + one)
            at[v, np.uint64(_lowest_bit(low))] = t
            y ^= low
    c = z
    j = 0
    while c != 0:
        h = tally[j]
        tally[j] = h ^ c
        c &= h
        j += 1


@njit(cache=True, nogil=True)
def lt_batch_cascade(indptr, indices, rec, hi, zero, seed_ptr, seed_idx, rows, max_steps):  # pragma: no cover
    """Unweighted threshold cascades of up to 64 replicates at once (bit-parallel).

    Replicate ``r`` of the batch is bit ``r`` of the uint64 masks, and the
    replicates share the nodes' integer thresholds (:func:`lt_need`). Each
    node's remaining count (threshold minus adopted in-neighbours) is held
    *bit-sliced* for the 64 replicates in its record ``rec`` and in ``hi``
    (:func:`lt_planes`; plane ``j`` holds bit ``j`` of every replicate's count):
    a frontier arc subtracts its 64-bit mask (the replicates in which the
    target has not adopted yet) with a ripple borrow across the planes, which
    stops as soon as the borrow is zero, and the replicates whose count reached
    0 (the node adopts) are those whose bits are clear in every plane. So a
    frontier node's arcs are read once per step for all the replicates it is
    new in, and each arc costs a few word operations for all of them (within
    the target's 32-byte record when its threshold is below 4). ``zero`` lists
    the nodes with threshold 0 (they adopt at step 1).
    Replicate ``r``'s seeds are ``seed_idx[seed_ptr[r]:seed_ptr[r + 1]]``
    (distinct); its adoption steps go to ``rows[r]`` (every entry is written).

    Adoption steps are first written node-major (a node's steps in all the
    replicates side by side) and transposed into ``rows`` at the end, block by
    block; the adopters of a step are tallied per replicate by bit-sliced
    counters. A step's frontier is walked in node order (a scan of the masks)
    when it is large, else through the list of its nodes; the result is the
    same.

    Returns ``(steps, hist)``: the number of steps each replicate evaluated and
    ``hist[t, r]``, its adopters at step ``t``.
    """
    n = rows.shape[1]
    B = rows.shape[0]
    hist = np.zeros((64, B), dtype=np.int64)
    steps = np.zeros(B, dtype=np.int64)
    front = np.zeros(n, dtype=np.uint64)
    nxt = np.zeros(n, dtype=np.uint64)
    cur_list = np.empty(n, dtype=np.int64)
    nxt_list = np.empty(n, dtype=np.int64)
    at_flat = np.empty(n * B, dtype=rows.dtype)
    at_flat[:] = -1
    at = at_flat.reshape((n, B))
    tally = np.zeros(64, dtype=np.uint64)
    one = np.uint64(1)
    two, three, six = np.uint64(2), np.uint64(3), np.uint64(6)
    rw = np.uint64(REC)
    full = np.uint64(0)
    for r in range(B):
        full |= one << np.uint64(r)
    width = 0
    for u in range(n):
        width = max(width, indptr[u + 1] - indptr[u])
    cand = np.empty(width, dtype=np.uint64)
    ncur = 0
    for r in range(B):
        bit = one << np.uint64(r)
        for k in range(seed_ptr[r], seed_ptr[r + 1]):
            s = seed_idx[k]
            at[s, r] = 0
            rec[REC * s] &= ~bit
            if front[s] == 0:
                cur_list[ncur] = s
                ncur += 1
            front[s] |= bit
        hist[0, r] = seed_ptr[r + 1] - seed_ptr[r]
    active = full
    t = 0
    while active != 0 and (max_steps < 0 or t < max_steps):
        t += 1
        hist = _grow(hist, t)
        nn = 0
        if t == 1:
            for v in zero:
                z = rec[REC * v]
                if z != 0:
                    rec[REC * v] = 0
                    nxt_list[nn] = v
                    nn += 1
                    nxt[v] = z
                    _record(at, v, z, full, t, tally, one)
        dense = ncur * 16 > n
        count = n if dense else ncur
        for k in range(count):
            u = k if dense else cur_list[k]
            m = front[u]
            if m == 0:
                continue
            front[u] = 0
            # pass 1, without branching on the loaded masks (the loads overlap): the targets
            # still to adopt in some replicate of m
            nc = 0
            for a in range(indptr[u], indptr[u + 1]):
                v = np.uint64(indices[a])  # unsigned indices: no negative-index wraparound checks
                cand[nc] = v
                nc += (m & rec[rw * v]) != 0
            # pass 2, in arc order: count the arc down in those replicates
            for c in range(nc):
                v = cand[c]
                x = rw * v
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
                    j = rec[x + three] >> six
                    while b != 0:
                        p = hi[j]
                        hi[j] = p ^ b
                        b &= ~p
                        j += one
                z = d & ~(p0 | p1)  # counts that reached 0 (v adopts), if no higher plane is set
                if z != 0:
                    meta = rec[x + three]
                    w = np.int64(meta & np.uint64(63))
                    if w > 2:
                        o = meta >> six
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
                    _record(at, v, z, full, t, tally, one)
        top = 0
        for j in range(64):
            if tally[j] != 0:
                top = j + 1
        for r in range(B):
            c = 0
            for j in range(top):
                c |= np.int64((tally[j] >> np.uint64(r)) & one) << j
            hist[t, r] = c
        tally[:top] = 0
        for r in range(B):
            bit = one << np.uint64(r)
            if (active & bit) != 0 and hist[t, r] == 0:
                steps[r] = t
                active &= ~bit
        front, nxt = nxt, front
        cur_list, nxt_list = nxt_list, cur_list
        ncur = nn
    for r in range(B):
        if (active & (one << np.uint64(r))) != 0:
            steps[r] = t
    un = np.uint64(n)
    ub = np.uint64(B)
    blk = np.uint64(256)
    for v0 in range(np.uint64(0), un, blk):  # transpose, 256 nodes at a time (unsigned: no wraparound)
        v1 = min(v0 + blk, un)
        for r in range(ub):
            for v in range(v0, v1):
                rows[r, v] = at_flat[v * ub + r]
    return steps, hist


@njit(cache=True, nogil=True)
def lt_count_cascade(indptr, indices, rem, zero, seeds, row, max_steps, queue, hist):  # pragma: no cover
    """Unweighted threshold cascade of one replicate.

    ``rem`` holds each node's integer threshold (:func:`lt_need`) and is
    consumed: it counts down as in-neighbours adopt, and a node adopts in the
    step its count reaches 0. ``zero`` lists the nodes with threshold 0 (they
    adopt at step 1 without any adopted neighbour).
    """
    q = 0
    for s in seeds:
        row[s] = 0
        rem[s] = -1  # counts only go down from here: never reaches 0 again
        queue[q] = s
        q += 1
    hist[0] = q
    lo = 0
    hi = q
    t = 0
    while max_steps < 0 or t < max_steps:
        t += 1
        start = q
        if t == 1:
            for z in zero:
                if row[z] < 0:
                    row[z] = 1
                    rem[z] = -1
                    queue[q] = z
                    q += 1
        for k in range(lo, hi):
            u = queue[k]
            for a in range(indptr[u], indptr[u + 1]):
                v = indices[a]
                r = rem[v] - 1
                rem[v] = r
                if r == 0:
                    row[v] = t
                    queue[q] = v
                    q += 1
        hist[t] = q - start
        if q == start:
            break
        lo = start
        hi = q
    return t


@njit(cache=True, nogil=True)
def lt_weighted_cascade(indptr, indices, weights, denom, theta, fraction, seeds, row, max_steps,
                        received, queue, hist):  # pragma: no cover - compiled
    """Weighted threshold cascade of one replicate.

    Node ``v`` adopts when ``received[v] / denom[v] >= theta[v]`` (fraction
    rule; level 0 when ``denom[v] == 0``) or ``received[v] >= theta[v]`` (count
    rule). ``received`` must be zero on entry. Each step's adopters are sorted
    before their arcs are pushed, so the additions happen in the order of the
    numpy reference (ascending source node, then arc order).
    """
    n = row.shape[0]
    q = 0
    for s in seeds:
        row[s] = 0
        queue[q] = s
        q += 1
    queue[:q].sort()
    hist[0] = q
    lo = 0
    hi = q
    t = 0
    while max_steps < 0 or t < max_steps:
        t += 1
        start = q
        if t == 1:
            for i in range(n):
                if row[i] < 0 and theta[i] <= 0.0:
                    row[i] = 1
                    queue[q] = i
                    q += 1
        for k in range(lo, hi):
            u = queue[k]
            for a in range(indptr[u], indptr[u + 1]):
                v = indices[a]
                if row[v] >= 0:
                    continue
                x = received[v] + weights[a]
                received[v] = x
                if fraction:
                    d = denom[v]
                    level = x / d if d > 0.0 else 0.0
                else:
                    level = x
                if level >= theta[v]:
                    row[v] = t
                    queue[q] = v
                    q += 1
        hist[t] = q - start
        if q == start:
            break
        queue[start:q].sort()
        lo = start
        hi = q
    return t


# slots of the state vector of a replicate suspended by ic_uniform_batch
_T, _LO, _HI, _Q, _K, _POS, _NXT, _START, _NEED, _GI, _LIVE = range(11)
IC_STATE_SIZE = 11


@njit(cache=True, nogil=True)
def ic_uniform_batch(indptr, indices, draw, seed_ptr, seed_idx, rows, fill, max_steps, gaps, gap_ptr, r0,
                     st, queue, hist, steps):  # pragma: no cover - compiled
    """Independent cascades with one probability ``p`` on every arc, replicate after replicate.

    The arcs a replicate tries form one sequence of Bernoulli(``p``) trials
    (each step's new adopters in the order they were discovered, each node's
    out-arcs in CSR order, step after step); only the successes are visited,
    ``gaps`` giving the distances between them (``Generator.geometric(p)``
    draws, capped at :data:`SKIP_CAP`; one draw per success, not per tried
    arc). Replicate ``r``'s gaps are ``gaps[gap_ptr[r - r0]:gap_ptr[r - r0 + 1]]``,
    drawn beforehand from its own generator; ``draw`` is False when ``p = 0``
    (no success, no draws).

    With ``fill``, each replicate's row is set to ``-1`` first (``rows`` may
    then be uninitialized). Runs replicates ``r0 .. rows.shape[0] - 1``. When a replicate has used all
    its gaps, its state is saved in ``st`` and the function returns
    ``(r, hist)``: the caller draws more gaps for ``r`` (continuing its stream)
    and calls again with ``r0 = r`` and the same ``st``, ``queue`` and
    ``hist``. Returns ``(-1, hist)`` when all are done; ``hist[t, r]`` is the
    number of adopters at step ``t`` and ``steps[r]`` the steps evaluated.
    """
    R = rows.shape[0]
    for r in range(r0, R):
        row = rows[r]
        g = gaps[gap_ptr[r - r0]:gap_ptr[r - r0 + 1]]
        if st[_LIVE] == 1:  # resume a suspended replicate
            t, lo, hi, q, k, pos, nxt, start, need = st[_T], st[_LO], st[_HI], st[_Q], st[_K], \
                st[_POS], st[_NXT], st[_START], st[_NEED]
            st[_LIVE] = 0
        else:
            if fill:
                row[:] = -1  # the row is then in cache for this replicate's cascade
            q = 0
            for i in range(seed_ptr[r], seed_ptr[r + 1]):
                s = seed_idx[i]
                row[s] = 0
                queue[q] = s
                q += 1
            hist[0, r] = q
            if q == 0 or max_steps == 0:
                steps[r] = 0
                continue
            t, lo, hi, k, pos, nxt, start, need = 1, 0, q, 0, 0, -1, q, 1
            if not draw:
                nxt, need = SKIP_CAP, 0
        gi = 0
        suspended = False
        while True:
            if need == 1:
                if gi == g.shape[0]:
                    suspended = True
                    break
                nxt += min(g[gi], SKIP_CAP)
                gi += 1
                need = 0
            if k == hi:  # step t is complete
                if t >= hist.shape[0]:
                    hist = _grow(hist, t)
                hist[t, r] = q - start
                if q == start or (max_steps >= 0 and t >= max_steps):
                    break
                lo, hi, k, start = start, q, start, q
                t += 1
                continue
            u = queue[k]
            a0 = indptr[u]
            end = pos + (indptr[u + 1] - a0)
            while nxt < end:
                v = indices[a0 + (nxt - pos)]
                if row[v] < 0:
                    row[v] = t
                    queue[q] = v
                    q += 1
                if gi == g.shape[0]:
                    need = 1
                    break
                nxt += min(g[gi], SKIP_CAP)
                gi += 1
            if need == 1:  # out of gaps inside this node's arcs: resume on the same node
                suspended = True
                break
            pos = end
            k += 1
        if suspended:
            st[_T], st[_LO], st[_HI], st[_Q], st[_K], st[_POS], st[_NXT], st[_START], st[_NEED] = \
                t, lo, hi, q, k, pos, nxt, start, need
            st[_LIVE] = 1
            return r, hist
        steps[r] = t
    return -1, hist


@njit(cache=True, nogil=True)
def ic_edge_cascade(indptr, indices, prob, seeds, row, rng, max_steps, queue, hist):  # pragma: no cover
    """Independent cascade with one probability per arc, one replicate.

    One ``rng.random()`` per tried arc (the frontier in discovery order, each
    node's arcs in CSR order); the arc fires when the draw is below its
    probability.
    """
    q = 0
    for s in seeds:
        row[s] = 0
        queue[q] = s
        q += 1
    hist[0] = q
    if q == 0:
        return 0
    lo = 0
    hi = q
    t = 0
    while max_steps < 0 or t < max_steps:
        t += 1
        start = q
        for k in range(lo, hi):
            u = queue[k]
            for a in range(indptr[u], indptr[u + 1]):
                if rng.random() < prob[a]:
                    v = indices[a]
                    if row[v] < 0:
                        row[v] = t
                        queue[q] = v
                        q += 1
        hist[t] = q - start
        if q == start:
            break
        lo = start
        hi = q
    return t

