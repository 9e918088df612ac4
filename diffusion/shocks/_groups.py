"""Single-hit DebtRank criticality by lane groups: 8 propagations summed as one vector.

See :func:`single_hit_groups`. The vector loops are written in LLVM IR
(numba does not vectorize independent lane sums); each lane's multiply and
add are separate operations, as in the scalar kernels, so every lane's sums
are bit for bit those of :func:`._kernels.single_hit_chunk`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from .._kernels import _u
from ._kernels import _BYTE, _ONE, _ZERO, EPS, _bit, _lowest, _push_round


def _splat(builder, x, vec):
    """``x`` in every element of a vector of type ``vec``."""
    i32 = ir.IntType(32)
    v = builder.insert_element(ir.Constant(vec, ir.Undefined), x, ir.Constant(i32, 0))
    return builder.shuffle_vector(v, ir.Constant(vec, ir.Undefined), ir.Constant(ir.VectorType(i32, vec.count),
                                                                                  [0] * vec.count))


def _data(context, builder, ty, arg):
    return context.make_array(ty)(context, builder, arg).data


def _row(builder, base, i, width, vec):
    """Pointer to the ``width`` doubles of row ``i`` of a C-ordered (m, width) array, as a vector."""
    i64 = ir.IntType(64)
    return builder.bitcast(builder.gep(base, [builder.mul(i, ir.Constant(i64, width))]), vec.as_pointer())


@intrinsic
def _round_values(typingctx, f0, f1, F, ptr, idx, dat, rr, tb, tn, Sh, cw, tots,
                  smax):  # pragma: no cover - compiled
    """One round of a group: for each firm ``F[q] & (2**56 - 1)``, ``q`` in ``[f0, f1)``, first hit
    in the lanes ``F[q] >> 56``, its 8 sums, then its distress.

    ``y_l = sum_{a} dat[a] * Sh[idx[a], l]`` over the firm's row ``a`` in
    ``[ptr[j], ptr[j + 1])``, counting only the lanes ``l`` where ``idx[a]``
    was hit in round ``tb`` (byte ``l`` of ``rr[idx[a]]``, the round modulo
    256), in the order of ``a``: one vector multiply and one vector add per
    exposure (not fused: each lane rounds as the scalar ``y += w * x``; a
    lane left out adds ``+0.0``, which leaves it as it is). Every row of
    ``Sh`` is read, so its address does not wait for ``rr``. Then, in the
    firm's lanes:
    ``s = min(y, 1)`` into ``Sh[j]``, round ``tn`` into ``rr[j]``,
    ``tots += s * cw[j]`` and ``smax[j]`` raised to the largest ``s``.
    Returns the lanes where a firm's sum is not > 0 (bits).
    """
    sig = types.uint64(f0, f1, F, ptr, idx, dat, rr, tb, tn, Sh, cw, tots, smax)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        i8 = ir.IntType(8)
        i32 = ir.IntType(32)
        vec = ir.VectorType(ir.DoubleType(), 8)
        bvec = ir.VectorType(i8, 8)
        mvec = ir.VectorType(ir.IntType(1), 8)
        f0_, f1_ = (context.cast(builder, args[k], signature.args[k], types.int64) for k in (0, 1))
        tb_, tn_ = (context.cast(builder, args[k], signature.args[k], types.uint8) for k in (7, 8))
        ff, pp, ii, dd, rp_, sh, cc, tt, sm = (_data(context, builder, signature.args[k], args[k])
                                               for k in (2, 3, 4, 5, 6, 9, 10, 11, 12))
        tbv = _splat(builder, tb_, bvec)
        tnv = _splat(builder, tn_, bvec)
        zero = ir.Constant(vec, [0.0] * 8)
        one = ir.Constant(vec, [1.0] * 8)
        tv_ptr = builder.bitcast(tt, vec.as_pointer())
        tots0 = builder.load(tv_ptr, align=8)

        def wide(x):
            return builder.sext(x, i64) if x.type.width < 64 else x

        pre = builder.block
        ohead = builder.append_basic_block("rv.ohead")
        obody = builder.append_basic_block("rv.obody")
        ihead = builder.append_basic_block("rv.ihead")
        ibody = builder.append_basic_block("rv.ibody")
        idone = builder.append_basic_block("rv.idone")
        odone = builder.append_basic_block("rv.odone")
        builder.branch(ohead)

        builder.position_at_end(ohead)
        q = builder.phi(i64)
        tv = builder.phi(vec)
        badacc = builder.phi(i8)
        q.add_incoming(f0_, pre)
        tv.add_incoming(tots0, pre)
        badacc.add_incoming(ir.Constant(i8, 0), pre)
        builder.cbranch(builder.icmp_signed("<", q, f1_), obody, odone)

        builder.position_at_end(obody)
        fv = builder.load(builder.gep(ff, [q]))
        j = builder.and_(fv, ir.Constant(i64, (1 << 56) - 1))
        mb8 = builder.trunc(builder.lshr(fv, ir.Constant(i64, 56)), i8)
        lo = wide(builder.load(builder.gep(pp, [j])))
        hi = wide(builder.load(builder.gep(pp, [builder.add(j, ir.Constant(i64, 1))])))
        builder.branch(ihead)

        builder.position_at_end(ihead)
        a = builder.phi(i64)
        acc = builder.phi(vec)
        a.add_incoming(lo, obody)
        acc.add_incoming(zero, obody)
        builder.cbranch(builder.icmp_signed("<", a, hi), ibody, idone)

        builder.position_at_end(ibody)
        k = wide(builder.load(builder.gep(ii, [a])))
        r8 = builder.bitcast(builder.load(builder.gep(rp_, [k])), bvec)
        eq = builder.icmp_unsigned("==", r8, tbv)
        row = builder.load(_row(builder, sh, k, 8, vec), align=8)
        x = builder.select(eq, row, zero)
        w = _splat(builder, builder.load(builder.gep(dd, [a])), vec)
        acc2 = builder.fadd(acc, builder.fmul(w, x))
        a.add_incoming(builder.add(a, ir.Constant(i64, 1)), ibody)
        acc.add_incoming(acc2, ibody)
        builder.branch(ihead)

        builder.position_at_end(idone)
        y = acc
        mask = builder.bitcast(mb8, mvec)
        s = builder.select(builder.fcmp_ordered("<", y, one), y, one)
        sp = _row(builder, sh, j, 8, vec)
        builder.store(builder.select(mask, s, builder.load(sp, align=8)), sp, align=8)
        rj = builder.gep(rp_, [j])
        old8 = builder.bitcast(builder.load(rj), bvec)
        builder.store(builder.bitcast(builder.select(mask, tnv, old8), i64), rj)
        cj = _splat(builder, builder.load(builder.gep(cc, [j])), vec)
        tv2 = builder.fadd(tv, builder.select(mask, builder.fmul(s, cj), zero))
        h = builder.select(mask, s, zero)
        for width in (4, 2, 1):
            lo_h = builder.shuffle_vector(h, ir.Constant(h.type, ir.Undefined),
                                          ir.Constant(ir.VectorType(i32, width), list(range(width))))
            hi_h = builder.shuffle_vector(h, ir.Constant(h.type, ir.Undefined),
                                          ir.Constant(ir.VectorType(i32, width), list(range(width, 2 * width))))
            h = builder.select(builder.fcmp_ordered(">", lo_h, hi_h), lo_h, hi_h)
        h = builder.extract_element(h, ir.Constant(i32, 0))
        mp = builder.gep(sm, [j])
        old = builder.load(mp)
        builder.store(builder.select(builder.fcmp_ordered(">", h, old), h, old), mp)
        bad = builder.and_(mask, builder.not_(builder.fcmp_ordered(">", y, zero)))
        badacc2 = builder.or_(badacc, builder.bitcast(bad, i8))
        q.add_incoming(builder.add(q, ir.Constant(i64, 1)), idone)
        tv.add_incoming(tv2, idone)
        badacc.add_incoming(badacc2, idone)
        builder.branch(ohead)

        builder.position_at_end(odone)
        builder.store(tv, tv_ptr, align=8)
        return builder.zext(badacc, i64)

    return sig, codegen


@intrinsic
def _acc_masked(typingctx, acc, g, Sg, k, mb, w):  # pragma: no cover - compiled
    """``acc[g, l] += w * Sg[k, l]`` in the lanes ``l`` of ``mb``; ``+0.0`` in the others, which
    leaves them as they are (the sums are never ``-0.0``)."""
    sig = types.void(acc, g, Sg, k, mb, w)

    def codegen(context, builder, signature, args):
        vec = ir.VectorType(ir.DoubleType(), 8)
        g_ = context.cast(builder, args[1], signature.args[1], types.int64)
        k_ = context.cast(builder, args[3], signature.args[3], types.int64)
        ac, sg = (_data(context, builder, signature.args[i], args[i]) for i in (0, 2))
        mask = builder.bitcast(builder.trunc(args[4], ir.IntType(8)), ir.VectorType(ir.IntType(1), 8))
        row = builder.load(_row(builder, sg, k_, 8, vec), align=8)
        add = builder.select(mask, builder.fmul(_splat(builder, args[5], vec), row), ir.Constant(vec, [0.0] * 8))
        ap = _row(builder, ac, g_, 8, vec)
        builder.store(builder.fadd(builder.load(ap, align=8), add), ap, align=8)
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, nogil=True)
def _sent_to(Wt, S, reach, front, j, b):  # pragma: no cover - compiled
    """What firm ``j`` receives in lane ``b`` (``S[b >> 3, :, b & 7]``) from the firms that sent."""
    y = 0.0
    for a in range(Wt.indptr[j], Wt.indptr[j + 1]):
        k = Wt.indices[a]
        if (reach[k] & ~front[k]) & _bit(b) != _ZERO:
            y += Wt.data[a] * S[b >> 3, k, b & 7]
    return y


class GroupScratch(NamedTuple):
    """State of :func:`single_hit_groups` for ``n`` firms; its arrays are at rest between batches
    (the masks, ``smax`` and the bitmap zero; ``S`` and ``st`` are reset a group at a time when
    the group starts). ``grow`` holds the buffers the kernel may replace with larger ones:
    ``[F, foff]``, each group's firms first hit in one of its lanes, round after round
    (``firm | lanes << 56``), and where each round starts."""

    S: np.ndarray  # float64 (8, n + 1, 8): lane 8 g + l's distress of firm j at [g, j, l]; row n zero
    smax: np.ndarray  # float64 (n,)
    reach: np.ndarray  # uint64 (n,)
    front: np.ndarray  # uint64 (n,)
    newm: np.ndarray  # uint64 (n,)
    bits: np.ndarray  # uint64 (n / 64 + 1,)
    cl: np.ndarray  # int64 (n,)
    fl: np.ndarray  # int64 (n,)
    st: np.ndarray  # uint64 (n + 1,): byte l, the round (mod 256) the firm was hit in lane l of the group
    grow: list


def new_group_scratch(n: int) -> GroupScratch:
    """A :class:`GroupScratch` for ``n`` firms, at rest."""
    return GroupScratch(np.zeros((8, n + 1, 8)), np.zeros(n),
                        np.zeros(n, np.uint64), np.zeros(n, np.uint64), np.zeros(n, np.uint64),
                        np.zeros(n // 64 + 1, np.uint64), np.zeros(n, np.int64), np.zeros(n, np.int64),
                        np.zeros(n + 1, np.uint64), [np.zeros((8, n + 64), np.uint64), np.zeros((8, 64), np.int64)])


def run_groups(W, Wt, sc: GroupScratch, sources, value, cw, max_rounds, total, failed, redo) -> None:
    """:func:`single_hit_groups` on a :class:`GroupScratch` (keeps the buffers it grew)."""
    n = sc.reach.shape[0]
    if (sc.S.shape != (8, n + 1, 8) or sc.st.shape != (n + 1,)
            or W.indptr.shape[0] != n + 1 or Wt.indptr.shape[0] != n + 1 or value.shape[0] != n
            or cw.shape[0] != n or total.shape[0] != sources.shape[0] or failed.shape[0] != sources.shape[0]
            or redo.shape[0] != sources.shape[0]):
        raise ValueError("shock kernels: the exposure, the scratch or the outputs do not match the firms")
    if sources.size and (sources.min() < 0 or sources.max() >= n):
        raise ValueError("shock kernels: a source is not a firm")
    F, foff = sc.grow
    sc.grow[:] = single_hit_groups(W, Wt, sources, value, cw, max_rounds, total, failed, redo, sc.S, sc.reach,
                                   sc.front, sc.newm, sc.bits, sc.cl, sc.fl, sc.smax, sc.st, F, foff)


@njit(cache=True, nogil=True)
def _grown(a, cols, keep):  # pragma: no cover - compiled
    """An array of ``a``'s rows with ``cols`` columns, holding ``a[:, :keep]``."""
    out = np.empty((a.shape[0], cols), a.dtype)
    out[:, :keep] = a[:, :keep]
    return out


@njit(cache=True, nogil=True)
def single_hit_groups(W, Wt, sources, value, cw, max_rounds, total, failed, redo, S, reach, front, newm,
                      bits, cl, fl, smax, st, F, foff):  # pragma: no cover - compiled
    """Single-hit DebtRank criticality of ``sources``, as :func:`._kernels.single_hit_chunk`.

    The same losses and failures, computed otherwise. A batch of 64 sources
    first finds, by a 64-lane breadth-first push over ``W``, the firms first
    hit in each round and in which lanes (the layers), and lists them per
    group of 8 lanes and round (``F``, ``foff``). Then 8 lanes at a time,
    round by round, every firm first hit in one of the 8 lanes sums over its
    row of ``Wt`` (the reference's order) the distress of the 8 lanes as one
    vector, from the group's table ``S[g]`` (cleared when the group starts),
    and its distress is written at once (a round of a group is one call of
    :func:`_round_values`). Each term counts only in the lanes where the
    firm exposed was hit in the previous round (``st``: a byte per lane, the
    round modulo 256). So a firm written earlier in the same round (its new
    lanes carry the new round) adds nothing to the others' sums, and each lane
    sums exactly its frontier's terms, in the reference's order: bit for
    bit the reference's sum. (A firm of layer L is exposed only to firms of
    layer L - 1 or later, so a round equal modulo 256 cannot stand for an
    earlier one in a lane where the summing firm is new, and the lanes
    where it is not new are not kept.) The tables of the 8 groups stay
    until the batch ends, and the losses are then corrected from them as in
    :func:`._kernels.single_hit_chunk`. The layers assume every sum of a
    firm hit is positive; a lane where one is not (exposures stored as
    zeros, underflow) is flagged in ``redo`` and its results must be
    computed by :func:`._kernels.single_hit_chunk`.

    Returns the buffers ``F, foff`` (grown when a batch needed more).
    """
    n = reach.shape[0]
    NS = sources.shape[0]
    B = 64
    corr = np.zeros(B)
    bad = np.zeros(B, np.bool_)
    tots = np.zeros(64)
    pf = np.zeros(8, np.int64)
    for s0 in range(0, NS, B):
        nb = min(B, NS - s0)
        nf = 0
        corr[:] = 0.0
        for b in range(nb):
            i = sources[s0 + b]
            if front[i] == _ZERO:
                fl[nf] = i
                nf += 1
            front[i] |= _bit(b)
            reach[i] |= _bit(b)
        fl[:nf].sort()
        t = 0
        pf[:] = 0
        while nf > 0 and t < max_rounds:  # structural breadth-first layers, 64 sources at once
            t += 1
            nc = _push_round(W, fl, nf, front, reach, newm, bits, cl, n)  # the firms first hit, and in which lanes
            if t >= foff.shape[1]:
                foff = _grown(foff, 2 * foff.shape[1], foff.shape[1])
            for g in range(8):
                foff[g, t - 1] = pf[g]
            if pf.max() + nc > F.shape[1]:
                F = _grown(F, max(2 * F.shape[1], pf.max() + nc), pf.max())
            for q in range(nc):  # the round's new firms, by group
                j = cl[q]
                m = newm[j]
                for g in range(8):
                    mb = (m >> np.uint64(8 * g)) & _BYTE
                    F[g, pf[g]] = np.uint64(j) | (mb << np.uint64(56))
                    pf[g] += np.int64(mb != _ZERO)
            for f in range(nf):
                front[fl[f]] = _ZERO
            for q in range(nc):
                j = cl[q]
                m = newm[j]
                newm[j] = _ZERO
                front[j] = m
                reach[j] |= m
            fl, cl = cl, fl
            nf = nc
        T = t
        if T >= foff.shape[1]:
            foff = _grown(foff, 2 * foff.shape[1], foff.shape[1])
        for g in range(8):
            foff[g, T] = pf[g]
        pending = nf > 0
        for gi in range((nb + 7) // 8):  # values, 8 lanes at a time
            b0 = 8 * gi
            Sh = S[gi]  # the group's lanes, zero until their firms are hit
            Sh[:, :] = 0.0
            st[:] = ~_ZERO
            for ln in range(8):
                b = b0 + ln
                bad[b] = False
                if b < nb:
                    i = sources[s0 + b]
                    tots[ln] = cw[i]
                    Sh[i, ln] = 1.0
                    st[i] &= ~(_BYTE << np.uint64(8 * ln))  # hit in round 0
                    smax[i] = 1.0
                else:
                    tots[ln] = 0.0
            for t in range(1, T + 1):
                f0 = foff[gi, t - 1]
                f1 = foff[gi, t]
                if f0 == f1:
                    break
                tb = np.uint8((t - 1) & 255)
                tn = np.uint8(t & 255)
                bb = _round_values(f0, f1, F[gi], Wt.indptr, Wt.indices, Wt.data, st, tb, tn, Sh, cw, tots, smax)
                if bb != _ZERO:  # a sum that is not > 0: the layers do not hold in that lane
                    for ln in range(8):
                        if (bb >> np.uint64(ln)) & _ONE != _ZERO:
                            bad[b0 + ln] = True
            for ln in range(8):
                b = b0 + ln
                if b >= nb:
                    continue
                i = sources[s0 + b]
                tot = tots[ln]
                if pending and T > 0:
                    for f in range(nf):
                        j = fl[f]
                        if front[j] & _bit(b) != _ZERO:
                            tot -= Sh[j, ln] * cw[j]
                elif pending:
                    tot -= cw[i]
                total[s0 + b] = tot
                failed[s0 + b] = 1
        acc = np.zeros((8, 8))
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
                x = reach[k] & ~front[k] & r
                if x != _ZERO:
                    w = Wt.data[a]
                    for g in range(8):  # each lane's sum in the order of the row, a group as one vector
                        mb = (x >> np.uint64(8 * g)) & _BYTE
                        if mb != _ZERO:
                            _acc_masked(acc, g, S[g], k, mb, w)
            vj = value[j]
            x = r
            while x != _ZERO:
                b = _lowest(x)
                x &= x - _ONE
                if sources[s0 + b] == j:
                    continue
                y = acc[b >> 3, b & 7]
                if y >= 1.0 - EPS:
                    failed[s0 + b] += 1
                if y > 1.0:
                    corr[b] += (y - 1.0) * vj
        for b in range(nb):
            i = sources[s0 + b]
            y = _sent_to(Wt, S, reach, front, i, b)
            lin = total[s0 + b]
            c = corr[b] + y * value[i]
            total[s0 + b] = (lin - c) + value[i]
            if not (lin + c <= 16.0 * total[s0 + b]):
                x = 0.0
                for j in range(n):
                    if reach[j] & _bit(b) != _ZERO:
                        x += value[j] * (1.0 if j == i else min(_sent_to(Wt, S, reach, front, j, b), 1.0))
                total[s0 + b] = x
        for f in range(nf):
            front[fl[f]] = _ZERO
        for b in range(nb):
            redo[s0 + b] = bad[b]
        for j in range(n):
            if reach[j] != _ZERO:
                reach[j] = _ZERO
                smax[j] = 0.0
    return F, foff
