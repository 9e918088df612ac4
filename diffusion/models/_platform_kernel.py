"""Compiled step of :class:`~diffusion.models.platform.PlatformCompetition` (numba).

One call advances every replicate of a batch by one step: it evaluates the
utilities of the revising firms (reading their in-neighbours' platforms for
the local effect), makes the logit choices from the draws the model took from
each replicate's generator, and then applies all changes (synchronous update).
The vectorized numpy implementation in :mod:`diffusion.models.platform` is the
tested reference: the kernel computes the utilities with the same
floating-point operations in the same order, and its logit choices are those of
exact exponentials (fast ones where they cannot change a comparison), so for
equal draws the two give the same choices.

This module imports numba; the model imports it lazily.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["platform_step", "revision_positions"]

_BLOCK = 256  # revising firms whose counts and utilities are computed together (they stay in cache)
# a comparison of a draw with a cumulative logit weight closer than _NEAR * (K + 1) ** 2 is decided by
# the exact exponentials: the fast ones (relative error < 1.2e-14 each, weights <= 1, K + 1 of them)
# move it by less than 1e-13 * (K + 1) ** 2
_NEAR = 1e-10

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 in two parts (Cody-Waite): k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_SHIFTER = 1023.0 + 2.0**52  # k + _SHIFTER holds k + 1023 in its low bits (k integer in [-1022, 0])


@intrinsic
def _float_from_bits(typingctx, bits):  # pragma: no cover - compiled
    """The float64 whose IEEE bits are the int64 ``bits``."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _bits_of_float(typingctx, x):  # pragma: no cover - compiled
    """The IEEE bits of the float64 ``x``, as an int64."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@njit(cache=True, nogil=True)
def _exp_nonpositive(d):  # pragma: no cover - compiled
    """``exp(d)`` for ``d <= 0`` within a relative 1.2e-14, without a branch (loops over it vectorize).

    ``exp(0)`` is exactly 1, ``exp(d)`` for ``d < -708`` is 0 (the exact one
    is below 3.3e-308) and NaN stays NaN. Reduction ``d = k ln 2 + r`` with
    ``|r| <= ln(2) / 2``, the Taylor polynomial of degree 11 in ``r``
    (truncation below 9e-15 there), and ``2**k`` assembled from its bits.
    """
    ok = d >= -708.0
    dc = d if ok else -708.0
    k = np.floor(dc * _LOG2E + 0.5)
    r = (dc - k * _LN2_HI) - k * _LN2_LO
    p = 2.505210838544172e-08
    p = p * r + 2.755731922398589e-07
    p = p * r + 2.7557319223985893e-06
    p = p * r + 2.48015873015873e-05
    p = p * r + 0.0001984126984126984
    p = p * r + 0.001388888888888889
    p = p * r + 0.008333333333333333
    p = p * r + 0.041666666666666664
    p = p * r + 0.16666666666666666
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    e = p * _float_from_bits(_bits_of_float(k + _SHIFTER) << 52)
    return e if ok else (0.0 if d < -708.0 else d)


@njit(cache=True, nogil=True)
def _logit_choice(V, mx, u):  # pragma: no cover - compiled
    """Option drawn by inversion of the softmax of ``V`` (maximum ``mx``) with the uniform ``u``.

    The exact computation of the numpy reference: weights ``exp(V_k - mx)``
    (the best option's is 1, an unavailable option's 0) summed in order, and
    the option is the number of cumulative sums at or below ``u`` times the
    total (capped at the last option by the caller).
    """
    acc = 0.0
    cum = np.empty(V.shape[0])
    for k in range(V.shape[0]):
        if V[k] == mx:
            acc += 1.0  # exp(0)
        elif V[k] != -np.inf:  # exp(-inf) = 0: the unavailable outside option
            acc += np.exp(V[k] - mx)
        cum[k] = acc
    x = u * acc
    c = 0
    for k in range(V.shape[0]):
        c += x >= cum[k]
    return c


@njit(cache=True, nogil=True)
def platform_step(
    rep,
    node,
    draws,
    starts,
    primary,
    second,
    fit_r,
    fit_n,
    cost,
    holders,
    weighted,
    adopted_at,
    count,
    in_indptr,
    in_indices,
    in_w,
    instrength,
    bg,
    bl,
    sw,
    tau,
    outside,
    has_out,
    mh_n,
    has_mh,
    t,
    changed,
    kappa,
    avail,
    apply_now,
    best_out,
    sec_out,
):  # pragma: no cover - compiled
    """Advance every replicate of the batch.

    Replicate ``r``'s revising firms are rows ``starts[r] .. starts[r + 1] - 1``.
    Raises :class:`ValueError` before any write if an index argument (a
    replicate, a firm, a row pointer) or an array's length is out of range.
    """
    _check(rep, node, draws, starts, primary, second, fit_r, fit_n, cost, holders, weighted,
           adopted_at, count, in_indptr, in_indices, in_w, instrength, mh_n, has_mh, changed, kappa, avail,
           apply_now, best_out, sec_out)
    for r in range(starts.shape[0] - 1):
        _replicate_step(
            r,
            starts[r],
            starts[r + 1],
            node,
            draws,
            primary,
            second,
            fit_r,
            fit_n,
            cost,
            holders,
            weighted,
            adopted_at,
            count,
            in_indptr,
            in_indices,
            in_w,
            instrength,
            bg,
            bl,
            sw,
            tau,
            outside,
            has_out,
            mh_n,
            has_mh,
            t,
            changed,
            kappa,
            avail,
            apply_now,
            best_out,
            sec_out,
        )


@njit(cache=True, nogil=True)
def _check(rep, node, draws, starts, primary, second, fit_r, fit_n, cost, holders, weighted, adopted_at,
           count, in_indptr, in_indices, in_w, instrength, mh_n, has_mh, changed, kappa, avail, apply_now,
           best_out, sec_out):  # pragma: no cover - compiled
    """Raise :class:`ValueError` unless every index :func:`platform_step` follows is in range."""
    R, n = primary.shape
    K = cost.shape[0]
    m = rep.shape[0]
    if (second.shape != primary.shape or adopted_at.shape != primary.shape or holders.shape != (R, K)
            or weighted.shape != (R, K) or count.shape[0] < R or changed.shape[0] < R
            or node.shape[0] != m or draws.shape[0] < (m * (K + 1) if has_mh else m)):
        raise ValueError("platform_step: state arrays do not match")
    if fit_r.shape[0] > 0:
        if fit_r.shape != (R, n, K):
            raise ValueError("platform_step: fit_r is not (R, n, K)")
    elif fit_n.shape != (n, K):
        raise ValueError("platform_step: fit_n is not (n, K)")
    if (in_indptr.shape[0] != n + 1 or in_indptr[0] != 0 or in_indptr[n] > in_indices.shape[0]
            or (in_w.shape[0] > 0 and in_w.shape[0] != in_indices.shape[0]) or instrength.shape[0] != n):
        raise ValueError("platform_step: in-arc arrays are not of n firms")
    if ((has_mh and mh_n.shape[0] != n)
            or (kappa.shape[0] > 0 and (kappa.shape[1] != n or (kappa.shape[0] > 1 and kappa.shape[0] < R)))
            or (avail.shape[0] > 0 and avail.shape != (R, K))
            or (not apply_now and (best_out.shape[0] < m or sec_out.shape[0] < m))):
        raise ValueError("platform_step: per-firm or per-platform arrays do not match")
    B = starts.shape[0] - 1
    if B > R or (B >= 0 and (starts[0] < 0 or starts[B] > m)):
        raise ValueError("platform_step: row pointers out of range")
    for r in range(B):
        if starts[r + 1] < starts[r]:
            raise ValueError("platform_step: row pointers out of range")
    for r in range(B):
        for i in range(starts[r], starts[r + 1]):
            if rep[i] != r:
                raise ValueError("platform_step: a row pointer range holds another replicate's firms")
    for i in range(m):
        if rep[i] < 0 or rep[i] >= R or node[i] < 0 or node[i] >= n:
            raise ValueError("platform_step: revising firm out of range")
        p = primary[rep[i], node[i]]
        s = second[rep[i], node[i]]
        if p < 0 or p > K or s < 0 or s > K:
            raise ValueError("platform_step: a revising firm holds a platform code outside 0..K")


@njit(cache=True, nogil=True, inline="always")
def _neighbour_weight(loc, row, in_indices, in_w, a0, a1, top, weighted_arcs):  # pragma: no cover - compiled
    """Add to ``loc[code]`` the weight (or 1) of each in-arc ``a0 .. a1 - 1``, by the code its tail holds in ``row``.

    A code is clamped to ``0 .. top`` before it indexes ``loc``.
    """
    if weighted_arcs:
        for a in range(a0, a1):
            loc[min(np.uint64(row[np.uint64(in_indices[a])]), top)] += in_w[a]
    else:
        for a in range(a0, a1):
            loc[min(np.uint64(row[np.uint64(in_indices[a])]), top)] += 1.0


@njit(cache=True, nogil=True)
def _replicate_step(
    r,
    lo,
    hi,
    node,
    draws,
    primary,
    second,
    fit_r,
    fit_n,
    cost,
    holders,
    weighted,
    adopted_at,
    count,
    in_indptr,
    in_indices,
    in_w,
    instrength,
    bg,
    bl,
    sw,
    tau,
    outside,
    has_out,
    mh_n,
    has_mh,
    t,
    changed,
    kappa,
    avail,
    apply_now,
    best_out,
    sec_out,
):  # pragma: no cover - compiled
    """Choose and apply the new platforms of replicate ``r``'s revising firms, rows ``lo .. hi - 1``.

    ``draws`` holds one uniform per firm (logit choice by inversion) or, with
    multi-homing (``has_mh``), ``K + 1`` Gumbel shocks per firm. ``fit_r`` is
    the per-replicate fit ``(R, n, K)`` (empty when the fit is common, then
    ``fit_n`` ``(n, K)`` is used); ``in_w`` the in-arc weights (empty if
    unweighted). ``mh_n`` is each firm's multi-homing cost (``inf``: it may
    not multi-home). ``kappa`` is the conformity weight multiplying the global
    and local terms: ``(0, 0)`` none, ``(1, n)`` per firm, ``(R, n)`` per
    firm and replicate. ``avail`` ``(R, K)`` (or ``(0, 0)``): ``1`` closes a
    platform to firms that do not hold it, ``2`` to every firm; a firm left
    with no option keeps what it holds. With ``apply_now`` the choices are
    applied (updating ``primary``, ``second``, ``holders``, ``weighted``,
    ``adopted_at``, ``count`` and setting ``changed[r]``); otherwise they are
    only written to ``best_out`` / ``sec_out`` (rows ``lo .. hi - 1``).

    The rows go by blocks of ``_BLOCK``: first the in-neighbour counts of the
    block's firms (a tight loop over their in-arcs; with unit weights and
    ``K <= 3`` the counts are four 16-bit lanes of one register), then their
    utilities one platform at a time over the block (loops the compiler
    vectorizes), then each firm's choice. Indices into the network's arrays
    are unsigned (no negative-index handling; the network's CSR arrays are
    valid by construction) and a neighbour's platform code is clamped to
    ``0 .. K`` before it indexes a count. Every floating-point operation on a
    utility is the numpy reference's, in its order (a count of unit weights
    is exact). The logit choice inverts the softmax with fast exponentials
    (:func:`_exp_nonpositive`) and keeps every comparison of the draw with a
    cumulative weight that they cannot have flipped; the few closer than that
    bound to a tie are decided by the exact exponentials
    (:func:`_logit_choice`), so the choices are those of the reference.
    """
    K = cost.shape[0]
    n = primary.shape[1]
    if hi <= lo:
        return
    m = hi - lo
    per_rep = fit_r.shape[0] > 0
    weighted_arcs = in_w.shape[0] > 0
    has_kappa = kappa.shape[0] > 0
    kappa_rep = kappa.shape[0] > 1
    has_avail = avail.shape[0] > 0
    best = np.zeros(m, dtype=np.int16)
    sec = np.zeros(m, dtype=np.int16)
    U = np.empty(K + 1)
    g = np.zeros(K)
    loc = np.zeros(K + 1)
    loc2 = np.zeros(K + 1)
    lc = np.zeros((K + 1, _BLOCK))
    UU = np.empty((K + 1, _BLOCK))
    EW = np.empty((K + 1, _BLOCK))
    accv = np.empty(_BLOCK)
    xv = np.empty(_BLOCK)
    cnt = np.empty(_BLOCK, dtype=np.int64)
    close = np.empty(_BLOCK, dtype=np.bool_)
    near = _NEAR * (K + 1) * (K + 1)
    scl = np.zeros(_BLOCK)
    kp = np.ones(_BLOCK)
    mxv = np.empty(_BLOCK)
    vv = np.empty(_BLOCK, dtype=np.int64)
    pn = np.empty(_BLOCK, dtype=primary.dtype)
    held2 = np.empty(_BLOCK, dtype=second.dtype)
    top = np.uint64(K)  # platform codes are clamped to 0 .. K before indexing
    packed = not weighted_arcs and K <= 3
    one = np.uint64(1)
    lane = np.uint64(16)
    lanes = np.uint64(1 << 16)
    mask = np.uint64(0xFFFF)
    prow = primary[r]
    srow = second[r]
    fitrow = fit_r[r] if per_rep else np.zeros((0, K), dtype=np.float32)
    for k in range(K):
        g[k] = (bg / n) * holders[r, k]
    for b0 in range(0, m, _BLOCK):  # a block's counts stay in cache until its choices are made
        b1 = min(b0 + _BLOCK, m)
        if bl != 0.0:
            # pass 1: in-neighbour weight on each platform (reads only this replicate's row of platforms)
            for i in range(b0, b1):
                v = node[lo + i]
                for k in range(K + 1):
                    loc[k] = 0.0
                a0 = np.uint64(in_indptr[v])
                a1 = np.uint64(in_indptr[v + 1])
                if packed and a1 - a0 < lanes:
                    # unit weights, K <= 3: count in four 16-bit lanes of one register
                    c1 = np.uint64(0)
                    for a in range(a0, a1):
                        c1 += one << (lane * min(np.uint64(prow[np.uint64(in_indices[a])]), top))
                    c2 = np.uint64(0)
                    if has_mh:
                        for a in range(a0, a1):
                            c2 += one << (lane * min(np.uint64(srow[np.uint64(in_indices[a])]), top))
                    for k in range(1, K + 1):
                        sh = lane * np.uint64(k)
                        x = np.float64((c1 >> sh) & mask)
                        if has_mh:
                            x = (0.0 + x) + np.float64((c2 >> sh) & mask)
                        lc[k, i - b0] = x
                    continue
                _neighbour_weight(loc, prow, in_indices, in_w, a0, a1, top, weighted_arcs)
                if has_mh:
                    for k in range(K + 1):
                        loc2[k] = 0.0
                    _neighbour_weight(loc2, srow, in_indices, in_w, a0, a1, top, weighted_arcs)
                    for k in range(1, K + 1):
                        loc[k] = (0.0 + loc[k]) + loc2[k]
                for k in range(1, K + 1):
                    lc[k, i - b0] = loc[k]
        # pass 2: utilities, one platform at a time over the block's firms, then the choices
        nb = b1 - b0
        for j in range(nb):
            v = node[lo + b0 + j]
            vv[j] = v
            pn[j] = prow[v]
            held2[j] = srow[v]
        if has_kappa:
            for j in range(nb):
                kp[j] = kappa[r, vv[j]] if kappa_rep else kappa[0, vv[j]]
        if bl != 0.0:
            for j in range(nb):
                d = instrength[vv[j]]
                sc = bl / d if d > 0 else 0.0
                if has_kappa:
                    sc *= kp[j]
                scl[j] = sc
        for k in range(K):
            ck = cost[k]
            row = UU[k + 1]
            if per_rep:
                for j in range(nb):
                    row[j] = np.float64(fitrow[vv[j], k]) - ck
            else:
                for j in range(nb):
                    row[j] = fit_n[vv[j], k] - ck
            if bg != 0.0:
                gk = g[k]
                if has_kappa:
                    for j in range(nb):
                        row[j] += gk * kp[j]
                else:
                    for j in range(nb):
                        row[j] += gk
            if bl != 0.0:
                lrow = lc[k + 1]
                for j in range(nb):
                    row[j] += lrow[j] * scl[j]
            if sw != 0.0:
                for j in range(nb):
                    row[j] -= sw
        for j in range(nb):
            p_now = pn[j]
            s_held = held2[j]
            if sw != 0.0:
                if 0 < p_now <= K:
                    UU[p_now, j] += sw
                if has_mh and 0 < s_held <= K:
                    UU[s_held, j] += sw
            UU[0, j] = outside - sw * (1.0 if p_now > 0 else 0.0)
            if has_avail:
                for k in range(K):
                    a = avail[r, k]
                    if a == 2 or (a == 1 and p_now != k + 1 and s_held != k + 1):
                        UU[k + 1, j] = -np.inf
        if not has_mh:
            if not has_out:
                UU[0, :nb] = -np.inf
            if tau != 1.0:
                for k in range(K + 1):
                    row = UU[k]
                    for j in range(nb):
                        row[j] = row[j] / tau
            mxv[:nb] = -np.inf
            for k in range(K + 1):
                row = UU[k]
                for j in range(nb):
                    mxv[j] = row[j] if row[j] > mxv[j] else mxv[j]
            # inversion of the softmax with fast exponentials (vectorized over the block); a
            # comparison of a draw with a cumulative weight within `near` of a tie is left to the
            # exact exponentials (_logit_choice), so the choices are those of the exact ones
            for k in range(K + 1):
                row = UU[k]
                er = EW[k]
                for j in range(nb):
                    er[j] = _exp_nonpositive(row[j] - mxv[j])
            accv[:nb] = 0.0
            for k in range(K + 1):
                er = EW[k]
                for j in range(nb):
                    accv[j] += er[j]
                    er[j] = accv[j]
            for j in range(nb):
                xv[j] = draws[lo + b0 + j] * accv[j]
            cnt[:nb] = 0
            close[:nb] = False
            for k in range(K + 1):
                er = EW[k]
                for j in range(nb):
                    gap = xv[j] - er[j]
                    cnt[j] += gap >= 0.0
                    close[j] |= not abs(gap) > near  # (NaN: decided exactly)
            for j in range(nb):
                i = b0 + j
                if mxv[j] == -np.inf:  # no option open: keep what it holds
                    best[i] = pn[j]
                    sec[i] = held2[j]
                    continue
                c = cnt[j]
                if close[j]:
                    for k in range(K + 1):
                        U[k] = UU[k, j]
                    c = _logit_choice(U, mxv[j], draws[lo + i])
                best[i] = min(c, K)
        else:
            for j in range(nb):
                i = b0 + j
                for k in range(K + 1):
                    U[k] = UU[k, j] + tau * draws[(lo + i) * (K + 1) + k]
                out_u = U[0]
                if not has_out:
                    U[0] = -np.inf
                b = 0
                for k in range(1, K + 1):
                    if U[k] > U[b]:
                        b = k
                if U[b] == -np.inf:  # no option open: keep what it holds
                    best[i] = pn[j]
                    sec[i] = held2[j]
                    continue
                best[i] = b
                U[0] = -np.inf
                U[b] = -np.inf
                s2 = 0
                for k in range(1, K + 1):
                    if U[k] > U[s2]:
                        s2 = k
                if b > 0 and U[s2] - mh_n[vv[j]] > out_u:
                    sec[i] = s2
    if not apply_now:
        for i in range(m):
            best_out[lo + i] = best[i]
            sec_out[lo + i] = sec[i]
        return
    # apply every change after all choices (synchronous update)
    arow = adopted_at[r]
    hrow = holders[r]
    wrow = weighted[r]
    moved = False
    for i in range(m):
        v = node[lo + i]
        op = prow[v]
        os_ = srow[v]
        np_ = best[i]
        ns = sec[i]
        if op == np_ and os_ == ns:
            continue
        moved = True
        oh = max((1.0 if op > 0 else 0.0) + (1.0 if os_ > 0 else 0.0), 1.0)
        nh = max((1.0 if np_ > 0 else 0.0) + (1.0 if ns > 0 else 0.0), 1.0)
        if op > 0:
            hrow[op - 1] -= 1
            wrow[op - 1] -= 1.0 / oh
        if os_ > 0:
            hrow[os_ - 1] -= 1
            wrow[os_ - 1] -= 1.0 / oh
        if np_ > 0:
            hrow[np_ - 1] += 1
            wrow[np_ - 1] += 1.0 / nh
        if ns > 0:
            hrow[ns - 1] += 1
            wrow[ns - 1] += 1.0 / nh
        if op == 0 and np_ > 0:
            arow[v] = t
            count[r] += 1
        elif op > 0 and np_ == 0:
            arow[v] = -1
            count[r] -= 1
        prow[v] = np_
        srow[v] = ns
    if moved:
        changed[r] = True


@njit(cache=True, nogil=True)
def revision_positions(z, scale, n, last, out):  # pragma: no cover - compiled
    """Positions of the revising firms from standard exponential variates ``z``.

    Gap ``g`` is ``min(ceil(z[g] / scale), n + 1)`` (``scale = -log1p(-r)``:
    numpy's geometric variate by inversion, see
    :func:`diffusion.models.platform._gaps`); the running sum of the gaps,
    from ``last``, is one past a position. Writes the positions below ``n``
    to ``out`` (room for ``len(z)`` of them) and returns ``(count, last)``: the
    list is complete once ``last > n``, else more variates are needed.

    Examples
    --------
    >>> import numpy as np
    >>> out = np.empty(4, dtype=np.int64)
    >>> revision_positions(np.array([0.5, 2.5, 0.1, 9.0]), 1.0, 5, 0, out)
    (3, 11)
    >>> out[:3].tolist()
    [0, 3, 4]
    """
    cap = np.float64(n + 1)
    count = 0
    for i in range(min(z.shape[0], out.shape[0])):
        last += np.int64(min(np.ceil(z[i] / scale), cap))
        if last > n:
            break
        out[count] = last - 1
        count += 1
    return count, last

