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
from ._kernels import _ONE, _ZERO, EPS, _bit, _hit_in_order, _lowest


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
def _update8(typingctx, tmp, q, Sh, j, mb, cj, tots, smax):  # pragma: no cover - compiled
    """In the lanes of ``mb``: ``s = min(tmp[q], 1)`` into ``Sh[j]``, ``tots += s * cj``, and
    ``smax[j]`` raised to the largest such ``s``.

    Returns the lanes of ``mb`` whose sum is not > 0 (bits). The other lanes
    of ``Sh[j]`` keep their values, and ``tots`` gets ``+0.0`` there.
    """
    sig = types.uint64(tmp, q, Sh, j, mb, cj, tots, smax)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        vec = ir.VectorType(ir.DoubleType(), 8)
        q_ = context.cast(builder, args[1], signature.args[1], types.int64)
        j_ = context.cast(builder, args[3], signature.args[3], types.int64)
        tp, sh, tt, sm = (_data(context, builder, signature.args[k], args[k]) for k in (0, 2, 6, 7))
        mask = builder.bitcast(builder.trunc(args[4], ir.IntType(8)), ir.VectorType(ir.IntType(1), 8))
        y = builder.load(_row(builder, tp, q_, 8, vec), align=8)
        one = ir.Constant(vec, [1.0] * 8)
        zero = ir.Constant(vec, [0.0] * 8)
        s = builder.select(builder.fcmp_ordered("<", y, one), y, one)
        rp = _row(builder, sh, j_, 8, vec)
        builder.store(builder.select(mask, s, builder.load(rp, align=8)), rp, align=8)
        tv = builder.bitcast(tt, vec.as_pointer())
        add = builder.select(mask, builder.fmul(s, _splat(builder, args[5], vec)), zero)
        builder.store(builder.fadd(builder.load(tv, align=8), add), tv, align=8)
        i32 = ir.IntType(32)
        h = builder.select(mask, s, zero)  # the largest new distress of firm j into smax[j]
        for width in (4, 2, 1):
            lo = builder.shuffle_vector(h, ir.Constant(h.type, ir.Undefined),
                                        ir.Constant(ir.VectorType(i32, width), list(range(width))))
            hi = builder.shuffle_vector(h, ir.Constant(h.type, ir.Undefined),
                                        ir.Constant(ir.VectorType(i32, width), list(range(width, 2 * width))))
            h = builder.select(builder.fcmp_ordered(">", lo, hi), lo, hi)
        h = builder.extract_element(h, ir.Constant(i32, 0))
        mp = builder.gep(sm, [j_])
        old = builder.load(mp)
        builder.store(builder.select(builder.fcmp_ordered(">", h, old), h, old), mp)
        bad = builder.and_(mask, builder.not_(builder.fcmp_ordered(">", y, zero)))
        return builder.zext(builder.bitcast(bad, ir.IntType(8)), i64)

    return sig, codegen


@intrinsic
def _gather_bucket(typingctx, lo, hi, bk, bw, bg, gbit, Sh, zrow):  # pragma: no cover - compiled
    """The 8 sums ``sum_{a in [lo, hi)} bw[a] * Sh[bk[a] if bg[a] & gbit else zrow, l]``, each in
    the order of ``a`` (row ``zrow`` of ``Sh`` is zeros).

    One vector multiply and one vector add per exposure (not fused: each
    lane rounds as the scalar ``y += w * x``).
    """
    sig = types.UniTuple(types.float64, 8)(lo, hi, bk, bw, bg, gbit, Sh, zrow)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        vec = ir.VectorType(ir.DoubleType(), 8)
        lo_, hi_, zr = (context.cast(builder, args[k], signature.args[k], types.int64) for k in (0, 1, 7))
        gb = context.cast(builder, args[5], signature.args[5], types.uint8)
        kk, ww, gg, sh = (_data(context, builder, signature.args[k], args[k]) for k in (2, 3, 4, 6))
        pre = builder.block
        head = builder.append_basic_block("bucket.head")
        body = builder.append_basic_block("bucket.body")
        done = builder.append_basic_block("bucket.done")
        builder.branch(head)
        builder.position_at_end(head)
        a = builder.phi(i64)
        acc = builder.phi(vec)
        a.add_incoming(lo_, pre)
        acc.add_incoming(ir.Constant(vec, [0.0] * 8), pre)
        builder.cbranch(builder.icmp_signed("<", a, hi_), body, done)
        builder.position_at_end(body)
        k = builder.load(builder.gep(kk, [a]))
        if k.type.width < 64:
            k = builder.sext(k, i64)
        g = builder.load(builder.gep(gg, [a]))
        on = builder.icmp_unsigned("!=", builder.and_(g, gb), ir.Constant(g.type, 0))
        w = _splat(builder, builder.load(builder.gep(ww, [a])), vec)
        row = builder.load(_row(builder, sh, builder.select(on, k, zr), 8, vec), align=8)
        acc2 = builder.fadd(acc, builder.fmul(w, row))
        a.add_incoming(builder.add(a, ir.Constant(i64, 1)), builder.block)
        acc.add_incoming(acc2, builder.block)
        builder.branch(head)
        builder.position_at_end(done)
        vals = [builder.extract_element(acc, ir.Constant(ir.IntType(32), k)) for k in range(8)]
        return context.make_tuple(builder, signature.return_type, vals)

    return sig, codegen


@njit(cache=True, nogil=True)
def _resized(a, size, keep):  # pragma: no cover - compiled
    """A buffer of ``size`` elements of ``a``'s type holding ``a[:keep]``."""
    out = np.empty(size, a.dtype)
    out[:keep] = a[:keep]
    return out


@njit(cache=True, nogil=True)
def _groups_of(x):  # pragma: no cover - compiled
    """Bit g set where byte g of ``x`` (the lanes of group g) is not zero."""
    y = x | (x >> np.uint64(4))
    y |= y >> np.uint64(2)
    y |= y >> np.uint64(1)
    y &= np.uint64(0x0101010101010101)
    return np.uint8((y * np.uint64(0x0102040810204080)) >> np.uint64(56))


@njit(cache=True, nogil=True)
def _transpose64(A, col, tw):  # pragma: no cover - compiled
    """tw[b, col] = word whose bit e is bit b of A[e] (A: 64 words; destroyed)."""
    j = 32
    m = np.uint64(0x00000000FFFFFFFF)
    while j != 0:
        k = 0
        while k < 64:
            t = ((A[k] >> np.uint64(j)) ^ A[k + j]) & m
            A[k + j] ^= t
            A[k] ^= t << np.uint64(j)
            k = (k + j + 1) & ~j
        j >>= 1
        m ^= m << np.uint64(j)
    for b in range(64):
        tw[b, col] = A[b]


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
    (the masks, ``smax`` and the bitmap zero; ``S`` is cleared a group at a time when the group
    starts). ``grow`` holds the buffers the kernel may replace with larger ones:
    ``[rj, rm, tw, rblk, boff, bk, bw, bg]`` (the rounds' firms and masks, their transposed
    masks, where each round starts; then each new firm's exposures in the frontier: where they
    start, the firm sending, the weight, the groups whose lanes it sends in)."""

    S: np.ndarray  # float64 (8, n + 1, 8): lane 8 g + l's distress of firm j at [g, j, l]; row n zero
    tmp: np.ndarray  # float64 (n, 8): the sums of a round
    smax: np.ndarray  # float64 (n,)
    reach: np.ndarray  # uint64 (n,)
    front: np.ndarray  # uint64 (n,)
    newm: np.ndarray  # uint64 (n,)
    bits: np.ndarray  # uint64 (n / 64 + 1,)
    cl: np.ndarray  # int64 (n,)
    fl: np.ndarray  # int64 (n,)
    buf: np.ndarray  # int64 (n,)
    grow: list


def new_group_scratch(n: int) -> GroupScratch:
    """A :class:`GroupScratch` for ``n`` firms, at rest."""
    return GroupScratch(np.zeros((8, n + 1, 8)), np.zeros((n, 8)), np.zeros(n),
                        np.zeros(n, np.uint64), np.zeros(n, np.uint64), np.zeros(n, np.uint64),
                        np.zeros(n // 64 + 1, np.uint64), np.zeros(n, np.int64), np.zeros(n, np.int64),
                        np.zeros(n, np.int64),
                        [np.zeros(4 * n + 64, np.int64), np.zeros(4 * n + 64, np.uint64),
                         np.zeros((64, 4 * n // 64 + 2), np.uint64), np.zeros(64, np.int64),
                         np.zeros(4 * n + 65, np.int64), np.zeros(16 * n + 64, np.int32 if n < 2**31 else np.int64),
                         np.zeros(16 * n + 64),
                         np.zeros(16 * n + 64, np.uint8)])


def run_groups(W, Wt, sc: GroupScratch, sources, value, cw, max_rounds, total, failed, redo) -> None:
    """:func:`single_hit_groups` on a :class:`GroupScratch` (keeps the buffers it grew)."""
    n = sc.reach.shape[0]
    if (sc.S.shape != (8, n + 1, 8) or sc.tmp.shape != (n, 8) or W.indptr.shape[0] != n + 1
            or Wt.indptr.shape[0] != n + 1 or value.shape[0] != n or cw.shape[0] != n
            or total.shape[0] != sources.shape[0] or failed.shape[0] != sources.shape[0]
            or redo.shape[0] != sources.shape[0]):
        raise ValueError("shock kernels: the exposure, the scratch or the outputs do not match the firms")
    if sources.size and (sources.min() < 0 or sources.max() >= n):
        raise ValueError("shock kernels: a source is not a firm")
    rj, rm, tw, rblk, boff, bk, bw, bg = sc.grow
    sc.grow[:] = single_hit_groups(W, Wt, sources, value, cw, max_rounds, total, failed, redo, sc.S, sc.reach,
                                   sc.front, sc.newm, sc.bits, sc.cl, sc.fl, rj, rm, tw, rblk, sc.buf, sc.tmp,
                                   sc.smax, boff, bk, bw, bg)


@njit(cache=True, nogil=True)
def single_hit_groups(W, Wt, sources, value, cw, max_rounds, total, failed, redo, S, reach, front, newm,
                      bits, cl, fl, rj, rm, tw, rblk, buf, tmp, smax, boff, bk, bw, bg):  # pragma: no cover - compiled
    """Single-hit DebtRank criticality of ``sources``, as :func:`._kernels.single_hit_chunk`.

    The same losses and failures, computed otherwise. A batch of 64 sources
    first finds, by a 64-lane breadth-first push over ``W``, the firms first
    hit in each round and in which lanes (the layers), recorded per round in
    blocks of 64 firms whose lane masks are transposed into one word per lane
    and block. Each round also records, for every firm it hits, its
    exposures to the frontier (the firms that send in a lane where it is
    newly hit), in the order of its row of ``Wt`` (the order of the
    reference's sums), with the groups of 8 lanes they send in. Then 8
    lanes at a time, round by round, every firm first hit in one of the 8
    lanes sums over those exposures the distress of the 8 lanes as one
    vector, from the group's table ``S[g]`` (cleared when the group starts);
    an exposure that sends in none of the group's lanes reads a row of
    zeros. A firm of layer L is exposed only to firms of layer L - 1 or
    later, and layers L and later hold nothing yet, so every term outside
    the lane's own frontier is an exact zero and each lane's sum is the
    reference's bit for bit. The tables of the 8 groups
    stay until the batch ends, and the losses are then corrected from them
    as in :func:`._kernels.single_hit_chunk`. The layers assume every sum of
    a firm hit is positive; a lane where one is not (exposures stored as
    zeros, underflow) is flagged in ``redo`` and its results must be
    computed by :func:`._kernels.single_hit_chunk`.

    Returns the buffers ``rj, rm, tw, rblk, boff, bk, bw, bg`` (grown when a batch needed more).
    """
    n = reach.shape[0]
    NS = sources.shape[0]
    B = 64
    corr = np.zeros(B)
    bad = np.zeros(B, np.bool_)
    tots = np.zeros(64)
    A = np.zeros(64, np.uint64)
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
        ne = 0
        nblk = 0
        rblk[0] = 0
        p = 0
        while nf > 0 and t < max_rounds:  # structural breadth-first layers, 64 sources at once
            t += 1
            nc = 0
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
                            bits[j >> np.uint64(6)] |= _bit(j & np.uint64(63))
                        newm[j] |= x
            _hit_in_order(bits, cl, nc, n)
            need = ne + nc + 64
            if need > rj.shape[0]:
                m2 = max(2 * rj.shape[0], need)
                rj = _resized(rj, m2, ne)
                rm = _resized(rm, m2, ne)
                boff = _resized(boff, m2 + 1, ne)
            for q in range(nc):  # each new firm's exposures in the frontier, in the order of its row
                j = cl[q]
                m = newm[j]
                lo = _u(Wt.indptr[j])
                hi = _u(Wt.indptr[j + 1])
                if p + (hi - lo) > bk.shape[0]:
                    m2 = max(2 * bk.shape[0], p + (hi - lo))
                    bk = _resized(bk, m2, p)
                    bw = _resized(bw, m2, p)
                    bg = _resized(bg, m2, p)
                boff[ne + q] = p
                for a in range(lo, hi):
                    k = Wt.indices[a]
                    x = front[_u(k)] & m
                    bk[p] = k
                    bw[p] = Wt.data[a]
                    bg[p] = _groups_of(x)
                    p += np.int64(x != _ZERO)
            for q in range(nc, (nc + 63) // 64 * 64):
                boff[ne + q] = p
            for f in range(nf):
                front[fl[f]] = _ZERO
            if nblk + (nc + 63) // 64 + 1 > tw.shape[1]:
                t2 = np.empty((64, 2 * tw.shape[1] + (nc + 63) // 64 + 1), np.uint64)
                t2[:, :nblk] = tw[:, :nblk]
                tw = t2
            for q in range(nc):
                j = cl[q]
                m = newm[j]
                newm[j] = _ZERO
                front[j] = m
                reach[j] |= m
                rj[ne + q] = j
                rm[ne + q] = m
            for q in range(nc, (nc + 63) // 64 * 64):  # pad the round to whole blocks
                rj[ne + q] = 0
                rm[ne + q] = _ZERO
            for c in range((nc + 63) // 64):
                for e in range(64):
                    A[e] = rm[ne + 64 * c + e]
                _transpose64(A, nblk + c, tw)
            ne += (nc + 63) // 64 * 64
            nblk += (nc + 63) // 64
            if t + 1 >= rblk.shape[0]:
                rblk = _resized(rblk, 2 * rblk.shape[0], rblk.shape[0])
            rblk[t] = nblk
            fl, cl = cl, fl
            nf = nc
        T = t
        boff[ne] = p
        pending = nf > 0
        LM = np.uint64((1 << 8) - 1)
        for gi in range((nb + 7) // 8):  # values, 8 lanes at a time
            b0 = 8 * gi
            Sh = S[gi]  # the group's lanes, zero until their firms are hit
            Sh[:, :] = 0.0
            sh = np.uint64(b0)
            for ln in range(8):
                b = b0 + ln
                bad[b] = False
                if b < nb:
                    i = sources[s0 + b]
                    tots[ln] = cw[i]
                    Sh[i, ln] = 1.0
                    smax[i] = 1.0
                else:
                    tots[ln] = 0.0
            for t in range(1, T + 1):
                nq = 0
                for c in range(rblk[t - 1], rblk[t]):
                    x = tw[b0 + 0, c] | tw[b0 + 1, c] | tw[b0 + 2, c] | tw[b0 + 3, c] | tw[b0 + 4, c] | tw[b0 + 5, c] | tw[b0 + 6, c] | tw[b0 + 7, c]
                    while x != _ZERO:
                        e = _lowest(x)
                        x &= x - _ONE
                        buf[nq] = 64 * c + e
                        nq += 1
                if nq == 0:
                    break
                gbit = np.uint8(1 << gi)
                for q in range(nq):  # gather: the exposures in the frontier, 8 lanes as one vector
                    e = buf[q]
                    y0, y1, y2, y3, y4, y5, y6, y7 = _gather_bucket(boff[e], boff[e + 1], bk, bw, bg, gbit, Sh, n)
                    tmp[q, 0] = y0
                    tmp[q, 1] = y1
                    tmp[q, 2] = y2
                    tmp[q, 3] = y3
                    tmp[q, 4] = y4
                    tmp[q, 5] = y5
                    tmp[q, 6] = y6
                    tmp[q, 7] = y7
                for q in range(nq):  # then the firms' distress, in the lanes where they are hit
                    e = buf[q]
                    j = rj[e]
                    mb = (rm[e] >> sh) & LM
                    cj = cw[j]
                    bb = _update8(tmp, q, Sh, j, mb, cj, tots, smax)
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
                    for c in range(rblk[T - 1], rblk[T]):
                        x = tw[b, c]
                        while x != _ZERO:
                            e = _lowest(x)
                            x &= x - _ONE
                            j = rj[64 * c + e]
                            tot -= Sh[j, ln] * cw[j]
                elif pending:
                    tot -= cw[i]
                total[s0 + b] = tot
                failed[s0 + b] = 1
        acc = np.zeros(B)
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
                    while x != _ZERO:
                        b = _lowest(x)
                        acc[b] += w * S[b >> 3, k, b & 7]
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
    return rj, rm, tw, rblk, boff, bk, bw, bg
