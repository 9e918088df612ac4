"""Counter-based random numbers inside compiled kernels (numba), scalar by scalar.

The same functions as the vectorized reference in :mod:`diffusion._random`
(whose docstring describes the scheme), written with the same floating-point
expressions in the same order, so that a kernel and the numpy reference draw
identical numbers: ``stream``, ``bits``, ``unit``, fdlibm's ``log`` and
``exp``, the AS241 normal quantile, Marsaglia and Tsang's gamma, and the
samplers built on them — a node's threshold, the geometric gaps of the zero
set and of a cascade's successes, and Floyd's algorithm for random initial
adopters. Gaps are floats clamped to at least 1 (whatever ``log1p(-q)`` is,
even NaN), and a Floyd draw is clamped to ``0 .. m``, so a sampler can lead
a kernel neither backwards nor past its arrays. Every function is ``inline="always"``: a kernel pays for a draw
only where it makes one.

This module imports numba; the models import it lazily.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._random import (
    _A,
    _B,
    _C,
    _D,
    _E,
    _EXP_HI,
    _EXP_LO,
    _F,
    _INV_LN2,
    _LG1,
    _LG2,
    _LG3,
    _LG4,
    _LG5,
    _LG6,
    _LG7,
    _LN2_HI,
    _LN2_LO,
    _P1,
    _P2,
    _P3,
    _P4,
    _P5,
    _SQRT_HALF,
    TINY,
)

__all__ = ["bits", "draw_threshold", "exp", "fill_thresholds", "floyd", "log", "mix", "normal_ppf", "stream", "unit"]

_G = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_ONE = np.uint64(1)
_TWELVE = np.uint64(12)
_SCALE = 2.0 ** -53

A0, A1, A2, A3, A4, A5, A6, A7 = _A
B0, B1, B2, B3, B4, B5, B6, B7 = _B
C0, C1, C2, C3, C4, C5, C6, C7 = _C
D0, D1, D2, D3, D4, D5, D6, D7 = _D
E0, E1, E2, E3, E4, E5, E6, E7 = _E
F0, F1, F2, F3, F4, F5, F6, F7 = _F


@njit(cache=True, nogil=True, inline="always")
def mix(z):  # pragma: no cover - compiled
    """SplitMix64 finalizer of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True, inline="always")
def stream(key, purpose):  # pragma: no cover - compiled
    """``mix64(key ^ mix64(purpose * G))``."""
    return mix(np.uint64(key) ^ mix(np.uint64(purpose) * _G))


@njit(cache=True, nogil=True, inline="always")
def bits(s, c):  # pragma: no cover - compiled
    """64 random bits addressed by stream ``s`` and counter ``c`` (an integer >= 0)."""
    return mix(s ^ mix((np.uint64(c) + _ONE) * _G))


@njit(cache=True, nogil=True, inline="always")
def unit(b):  # pragma: no cover - compiled
    """``(2 (b >> 12) + 1) / 2**53``, in (0, 1)."""
    return np.float64(((b >> _TWELVE) << _ONE) | _ONE) * _SCALE


@njit(cache=True, nogil=True, inline="always")
def log(x):  # pragma: no cover - compiled
    """fdlibm's logarithm of a positive finite number (see :func:`diffusion._random.log`)."""
    m, e = math.frexp(x)
    if m < _SQRT_HALF:
        m = m * 2.0
        e -= 1
    k = np.float64(e)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


@njit(cache=True, nogil=True, inline="always")
def exp(x):  # pragma: no cover - compiled
    """fdlibm's exponential (see :func:`diffusion._random.exp`)."""
    if x > _EXP_HI:
        return np.inf
    if x < _EXP_LO:
        return 0.0
    k = math.trunc(x * _INV_LN2 + (-0.5 if x < 0.0 else 0.5))
    hi = x - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    return math.ldexp(y, int(k))


@njit(cache=True, nogil=True, inline="always")
def normal_ppf(p):  # pragma: no cover - compiled
    """Standard normal quantile, AS241 (see :func:`diffusion._random.normal_ppf`)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = ((((((A7 * r + A6) * r + A5) * r + A4) * r + A3) * r + A2) * r + A1) * r + A0
        den = ((((((B7 * r + B6) * r + B5) * r + B4) * r + B3) * r + B2) * r + B1) * r + B0
        return q * num / den
    t = p if q < 0.0 else 1.0 - p
    t = math.sqrt(-log(t))
    if t <= 5.0:
        r = t - 1.6
        num = ((((((C7 * r + C6) * r + C5) * r + C4) * r + C3) * r + C2) * r + C1) * r + C0
        den = ((((((D7 * r + D6) * r + D5) * r + D4) * r + D3) * r + D2) * r + D1) * r + D0
    else:
        r = t - 5.0
        num = ((((((E7 * r + E6) * r + E5) * r + E4) * r + E3) * r + E2) * r + E1) * r + E0
        den = ((((((F7 * r + F6) * r + F5) * r + F4) * r + F3) * r + F2) * r + F1) * r + F0
    val = num / den
    return -val if q < 0.0 else val


@njit(cache=True, nogil=True, inline="always")
def gamma_log(s, shape):  # pragma: no cover - compiled
    """Log of a Gamma(shape, 1) variate from stream ``s`` (see :func:`diffusion._random._gamma_log`)."""
    a = shape + 1.0 if shape < 1.0 else shape
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    i = 0
    while True:
        x = normal_ppf(unit(bits(s, 2 * i + 1)))
        v = 1.0 + c * x
        i += 1
        if not v > 0.0:
            continue
        v = v * v * v
        u = unit(bits(s, 2 * i))
        x2 = x * x
        if u < 1.0 - 0.0331 * (x2 * x2) or log(u) < 0.5 * x2 + d * (1.0 - v + log(v)):
            out = log(d * v)
            break
    if shape < 1.0:
        out = out + log(unit(bits(s, 0))) / shape
    return out


@njit(cache=True, nogil=True, inline="always")
def draw_threshold(spec, s, v):  # pragma: no cover - compiled
    """Threshold of node ``v`` outside the zero set (see :func:`diffusion._random.threshold_values`).

    ``spec`` is ``(kind, a, b, q, log1p(-q), low, high)``; ``s`` the replicate's
    ``THRESHOLD`` stream.
    """
    kind = spec[0]
    a = spec[1]
    b = spec[2]
    if kind == 3:
        gx = gamma_log(bits(s, 2 * v), a)
        gy = gamma_log(bits(s, 2 * v + 1), b)
        raw = 1.0 / (1.0 + exp(gy - gx))
    else:
        q = spec[3]
        u = q + (1.0 - q) * unit(bits(s, v))
        if kind == 0:
            raw = a + (b - a) * u
        elif kind == 1:
            raw = a + b * normal_ppf(u)
        else:
            raw = exp(a + b * normal_ppf(u))
    return max(min(max(raw, spec[5]), spec[6]), TINY)


@njit(cache=True, nogil=True)
def fill_thresholds(spec, s, out):  # pragma: no cover - compiled
    """``out[v]``, for every node ``v``, at least the threshold of :func:`draw_threshold` before clipping.

    The same numbers, in one pass over the nodes: a uniform distribution
    without mass at or below 0 (``q == 0``, so ``q + (1 - q) u`` is ``u``) in a
    loop of hashes and one multiply-add, which the compiler vectorizes; other
    distributions draw by :func:`draw_threshold` (clipped: clipping again, as
    the caller does, changes nothing).
    """
    if spec[0] == 0 and spec[3] == 0.0:
        a = spec[1]
        w = spec[2] - spec[1]
        for v in range(out.shape[0]):
            out[v] = a + w * unit(bits(s, v))
    else:
        for v in range(out.shape[0]):
            out[v] = draw_threshold(spec, s, v)


@njit(cache=True, nogil=True, inline="always")
def zero_gap(s, i, log1mq):  # pragma: no cover - compiled
    """Gap ``i`` between consecutive nodes of the zero set (a float: it may exceed any node count).

    At least 1 whatever ``log1mq`` is (``log1p(-q) < 0`` gives at least 1
    anyway; 0, a positive value or NaN — a caller's bug — would give a gap
    that stays in place or runs backwards), so the position it advances only
    grows; compared as a float with the nodes left, it never overflows.
    """
    g = math.floor(log(unit(bits(s, i))) / log1mq) + 1.0
    return g if g >= 1.0 else 1.0


@njit(cache=True, nogil=True, inline="always")
def floyd(s, n, k, mark, stamp, out):  # pragma: no cover - compiled
    """``k`` distinct nodes of ``n`` (Floyd's algorithm) into ``out[:k]``, in the order drawn.

    ``mark[v] == stamp`` marks the nodes chosen so far (``mark`` is a scratch
    array reused across replicates: entries are never reset, only stamped).
    Needs ``0 <= k <= n`` (the kernels check it): each ``t`` is then in
    ``0 .. m``, ``m = n - k + j < n``.
    """
    for j in range(k):
        m = n - k + j
        t = np.int64(min(math.floor(unit(bits(s, j)) * np.float64(m + 1)), np.float64(m)))
        x = m if mark[t] == stamp else t
        mark[x] = stamp
        out[j] = x
