"""Compiled step of :class:`~diffusion.models.platform.PlatformCompetition` (numba).

One call advances every replicate of a batch by one step: it evaluates the
utilities of the revising firms (reading their in-neighbours' platforms for
the local effect), makes the logit choices from the draws the model took from
each replicate's generator, and then applies all changes (synchronous update).
The vectorized numpy implementation in :mod:`diffusion.models.platform` is the
tested reference: the kernel performs the same floating-point operations in the
same order, so for equal draws the two give the same choices.

This module imports numba; the model imports it lazily.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["platform_step"]


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
            starts[r],
            starts[r + 1],
            rep,
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
    for i in range(m):
        if rep[i] < 0 or rep[i] >= R or node[i] < 0 or node[i] >= n:
            raise ValueError("platform_step: revising firm out of range")


@njit(cache=True, nogil=True)
def _replicate_step(
    lo,
    hi,
    rep,
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
    """Choose and apply the new platforms of the revising firms ``lo .. hi - 1`` (one replicate).

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
    """
    K = cost.shape[0]
    n = primary.shape[1]
    per_rep = fit_r.shape[0] > 0
    weighted_arcs = in_w.shape[0] > 0
    has_kappa = kappa.shape[0] > 0
    kappa_rep = kappa.shape[0] > 1
    has_avail = avail.shape[0] > 0
    best = np.zeros(hi - lo, dtype=np.int16)
    sec = np.zeros(hi - lo, dtype=np.int16)
    U = np.empty(K + 1)
    loc = np.zeros(K)
    loc2 = np.zeros(K)
    for i in range(lo, hi):
        r = rep[i]
        v = node[i]
        for k in range(K):
            if per_rep:
                U[k + 1] = np.float64(fit_r[r, v, k])
            else:
                U[k + 1] = fit_n[v, k]
            U[k + 1] -= cost[k]
        kap = 1.0
        if has_kappa:
            kap = kappa[r, v] if kappa_rep else kappa[0, v]
        if bg != 0.0:
            for k in range(K):
                if has_kappa:
                    U[k + 1] += ((bg / n) * holders[r, k]) * kap
                else:
                    U[k + 1] += (bg / n) * holders[r, k]
        if bl != 0.0:
            for k in range(K):
                loc[k] = 0.0
                loc2[k] = 0.0
            for a in range(in_indptr[v], in_indptr[v + 1]):
                j = in_indices[a]
                w = in_w[a] if weighted_arcs else 1.0
                p = primary[r, j]
                if p > 0:
                    loc[p - 1] += w
                if has_mh:
                    s = second[r, j]
                    if s > 0:
                        loc2[s - 1] += w
            d = instrength[v]
            scale = bl / d if d > 0 else 0.0
            if has_kappa:
                scale *= kap
            for k in range(K):
                if has_mh:
                    loc[k] = (0.0 + loc[k]) + loc2[k]
                U[k + 1] += loc[k] * scale
        p_now = primary[r, v]
        if sw != 0.0:
            for k in range(K):
                U[k + 1] -= sw
            if p_now > 0:
                U[p_now] += sw
            if has_mh:
                s_now = second[r, v]
                if s_now > 0:
                    U[s_now] += sw
        U[0] = outside - sw * (1.0 if p_now > 0 else 0.0)
        s_held = second[r, v]
        if has_avail:
            for k in range(K):
                a = avail[r, k]
                if a == 2 or (a == 1 and p_now != k + 1 and s_held != k + 1):
                    U[k + 1] = -np.inf
        if not has_mh:
            if not has_out:
                U[0] = -np.inf
            mx = -np.inf
            for k in range(K + 1):
                U[k] = U[k] / tau
                if U[k] > mx:
                    mx = U[k]
            if mx == -np.inf:  # no option open: keep what it holds
                best[i - lo] = p_now
                sec[i - lo] = s_held
                continue
            acc = 0.0
            for k in range(K + 1):
                if U[k] != -np.inf:  # exp(-inf) = 0: the unavailable outside option
                    acc += np.exp(U[k] - mx)
                U[k] = acc
            x = draws[i] * U[K]
            c = 0
            for k in range(K + 1):
                if x >= U[k]:
                    c += 1
            best[i - lo] = min(c, K)
        else:
            for k in range(K + 1):
                U[k] += tau * draws[i * (K + 1) + k]
            out_u = U[0]
            if not has_out:
                U[0] = -np.inf
            b = 0
            for k in range(1, K + 1):
                if U[k] > U[b]:
                    b = k
            if U[b] == -np.inf:  # no option open: keep what it holds
                best[i - lo] = p_now
                sec[i - lo] = s_held
                continue
            best[i - lo] = b
            U[0] = -np.inf
            U[b] = -np.inf
            s2 = 0
            for k in range(1, K + 1):
                if U[k] > U[s2]:
                    s2 = k
            if b > 0 and U[s2] - mh_n[v] > out_u:
                sec[i - lo] = s2
    if not apply_now:
        for i in range(lo, hi):
            best_out[i] = best[i - lo]
            sec_out[i] = sec[i - lo]
        return
    # apply every change after all choices (synchronous update)
    for i in range(lo, hi):
        r = rep[i]
        v = node[i]
        op = primary[r, v]
        os_ = second[r, v]
        np_ = best[i - lo]
        ns = sec[i - lo]
        if op == np_ and os_ == ns:
            continue
        changed[r] = True
        oh = max((1.0 if op > 0 else 0.0) + (1.0 if os_ > 0 else 0.0), 1.0)
        nh = max((1.0 if np_ > 0 else 0.0) + (1.0 if ns > 0 else 0.0), 1.0)
        if op > 0:
            holders[r, op - 1] -= 1
            weighted[r, op - 1] -= 1.0 / oh
        if os_ > 0:
            holders[r, os_ - 1] -= 1
            weighted[r, os_ - 1] -= 1.0 / oh
        if np_ > 0:
            holders[r, np_ - 1] += 1
            weighted[r, np_ - 1] += 1.0 / nh
        if ns > 0:
            holders[r, ns - 1] += 1
            weighted[r, ns - 1] += 1.0 / nh
        if op == 0 and np_ > 0:
            adopted_at[r, v] = t
            count[r] += 1
        elif op > 0 and np_ == 0:
            adopted_at[r, v] = -1
            count[r] -= 1
        primary[r, v] = np_
        second[r, v] = ns
