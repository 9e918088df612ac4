"""Seeding and random numbers: generators spawned from one seed, and counter-based draws.

Generators
----------
The unit of randomness is the *replicate*. Replicate ``r`` of a run seeded
with ``seed`` always draws from the ``r``-th child of
``numpy.random.SeedSequence(seed)``, so a replicate's numbers do not depend on
how replicates are chunked, which worker runs them, or how many there are.
Models must draw replicate ``r``'s numbers only from ``rngs[r]`` and in an
order that depends only on that replicate's own history.

Counter-based draws
-------------------
The threshold and cascade models carry no generator. Replicate ``r`` has one
64-bit key (:func:`replicate_keys`, a hash of the seed sequence and ``r``),
and every number it uses is a hash of ``(key, purpose, counter)``::

    stream(key, purpose) = mix64(key ^ mix64(purpose * G))
    bits(stream, c)      = mix64(stream ^ mix64((c + 1) * G))     G = 0x9E3779B97F4A7C15
    unit(b)              = (2 * (b >> 12) + 1) / 2**53            in (0, 1), never 0 or 1

``mix64`` is the SplitMix64 finalizer, a bijection of 64-bit words in which
every input bit flips every output bit with probability about 1/2, so
``bits`` is SplitMix64 addressed by counter rather than stepped. A number is
*addressed*, not consumed: node ``v``'s threshold is the same whichever order
the nodes are reached in, a node that is never reached costs nothing, and the
draws of replicate ``r`` depend only on the seed and ``r`` — not on the chunk,
the executor, the number of threads or the backend. The purposes and their
counters:

==============  ===================================================  ==========================
purpose         what is drawn                                        counter
==============  ===================================================  ==========================
``SEEDS``       random initial adopters (Floyd's algorithm, k of n)  step ``j`` of the algorithm
``THRESHOLD``   a node's threshold                                   node ``v`` (rejection
                                                                     samplers: a sub-stream
                                                                     ``bits(s, 2v)``, ``bits(s, 2v + 1)``)
``ZERO``        which nodes have threshold <= 0 (they adopt at       gap ``i`` between them
                step 1 unprompted): geometric gaps over node order
``ARC``         independent cascade: per-arc probabilities, one      arc position ``a``
                draw per tried arc; one probability p, the
                successes among node ``u``'s out-arcs by geometric   ``indptr[u] + j``
                skips, draw ``j`` of node ``u``
==============  ===================================================  ==========================

The samplers are written twice with the same floating-point expressions, in
the same order: vectorized here (the numpy reference) and as scalar compiled
functions (:mod:`diffusion._draws`), so both give the same bits. ``+ - * /``,
``sqrt``, ``floor``, ``frexp`` and ``ldexp`` are exact or correctly rounded
everywhere; ``log`` and ``exp`` are not (numpy's SIMD loops and the C library
may differ in the last bit), so both are implemented here with those
operations only, by fdlibm's algorithms (error below one unit in the last
place). Samplers:

* uniform: ``low + (high - low) u``; normal: Wichura's AS241 quantile
  (relative error about 1e-16); lognormal: ``exp`` of a normal;
  beta: ``X / (X + Y)`` of two gamma variates, by Marsaglia and Tsang's
  rejection method (shape < 1: ``G(a + 1) U^(1/a)``, in logarithms);
* a threshold of a distribution with mass at or below 0 (a normal, a uniform
  with ``low < 0``): the nodes at or below 0 are drawn first, as geometric
  gaps over the node order (purpose ``ZERO``, ``P(theta <= 0) = q``), and every
  other node's threshold from the distribution conditioned on ``theta > 0``
  (the quantile of ``q + (1 - q) u``, at least the smallest positive double):
  exactly the law of the clipped draw, without drawing every node;
* geometric skips with success probability ``p``: the first success among
  the ``d`` remaining arcs is none when ``u <= (1 - p)**d`` (a table shared by
  both backends), else at offset ``min(floor(log(u) / log1p(-p)), d - 1)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import ParameterError

__all__ = [
    "ARC", "SEEDS", "THRESHOLD", "TINY", "ZERO", "as_seed_sequence", "counter_bits", "default_rng", "exp",
    "floyd_seeds", "log", "mix64", "normal_ppf", "replicate_generators", "replicate_keys", "replicate_seeds",
    "stream_keys", "threshold_values", "uniform_rows", "unit", "zero_mask",
]

SeedLike = int | np.random.SeedSequence | None


def as_seed_sequence(seed: SeedLike | np.random.Generator) -> np.random.SeedSequence:
    """Normalize ``seed`` to a :class:`numpy.random.SeedSequence`.

    ``None`` draws fresh entropy from the operating system (the run is then not
    reproducible unless the returned sequence's ``entropy`` is recorded).
    A :class:`~numpy.random.Generator` is accepted and spawns a child sequence.
    Anything else (a negative integer, a float) raises
    :class:`~diffusion.errors.ParameterError` naming ``seed``.

    Examples
    --------
    >>> from diffusion._random import as_seed_sequence
    >>> as_seed_sequence(7).entropy
    7
    >>> as_seed_sequence(-1)
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: seed: must be a non-negative integer, got -1
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return seed.bit_generator.seed_seq.spawn(1)[0]  # type: ignore[attr-defined]
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ParameterError("seed", f"must be a non-negative integer, a SeedSequence, a Generator or None, "
                             f"not {type(seed).__name__}")
    if seed < 0:
        raise ParameterError("seed", f"must be a non-negative integer, got {seed}")
    return np.random.SeedSequence(int(seed))


def default_rng(seed: SeedLike | np.random.Generator) -> np.random.Generator:
    """A Generator from ``seed`` (a Generator is returned as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(as_seed_sequence(seed))


def replicate_seeds(seed: SeedLike, runs: int, start: int = 0) -> list[np.random.SeedSequence]:
    """Seed sequences of replicates ``start, ..., start + runs - 1``.

    The children are those of ``SeedSequence(seed).spawn(start + runs)``, so
    replicate ``r`` gets the same sequence whatever ``start`` and ``runs``.
    """
    root = as_seed_sequence(seed)
    # SeedSequence children are addressed by spawn_key; build them directly so
    # replicate r is the same object whichever chunk asks for it.
    return [
        np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, r), pool_size=root.pool_size)
        for r in range(start, start + runs)
    ]


def replicate_generators(seed: SeedLike, runs: int, start: int = 0) -> list[np.random.Generator]:
    """One :class:`numpy.random.Generator` per replicate (see :func:`replicate_seeds`)."""
    return [np.random.default_rng(s) for s in replicate_seeds(seed, runs, start)]


def uniform_rows(rngs: Sequence[np.random.Generator], n: int) -> np.ndarray:
    """An ``(len(rngs), n)`` array of U[0, 1) draws, row ``r`` from ``rngs[r]``.

    One vectorized call per replicate: the loop is over replicates, never
    over nodes or edges, and it is what keeps replicate ``r``'s stream
    independent of the chunk it runs in.
    """
    out = np.empty((len(rngs), n))
    for r, g in enumerate(rngs):
        g.random(n, out=out[r])
    return out


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finalizer: a bijective, well-mixing hash of 64-bit integers (vectorized).

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion._random import mix64
    >>> mix64(np.array([0, 1], dtype=np.uint64)).tolist()
    [0, 6238072747940578789]
    """
    z = np.array(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def replicate_keys(seed: SeedLike, runs: int, start: int = 0) -> np.ndarray:
    """One 64-bit key per replicate ``start .. start + runs - 1``, for counter-based draws.

    Compiled kernels draw replicate ``r``'s random numbers as a hash of
    ``(key[r], counter)`` (e.g. a node index), so a node's draw does not depend
    on the order in which nodes are visited, and no per-replicate
    :class:`~numpy.random.Generator` has to be built. The keys depend only on
    the seed sequence (its entropy and spawn key) and ``r``.

    Examples
    --------
    >>> from diffusion._random import replicate_keys
    >>> a = replicate_keys(5, 4)
    >>> bool((replicate_keys(5, 2, start=2) == a[2:]).all()), len(set(a.tolist()))
    (True, 4)
    """
    root = as_seed_sequence(seed)
    k = root.generate_state(2, np.uint64)
    r = np.arange(start, start + runs, dtype=np.uint64)
    return mix64(mix64(r * _GOLDEN + k[0]) ^ k[1])


# ----------------------------------------------------------------- counter-based draws (reference)
#: Purposes of counter-based draws (see the module docstring).
SEEDS, THRESHOLD, ZERO, ARC = 1, 2, 3, 4

_U = np.uint64


def stream_keys(keys: np.ndarray, purpose: int) -> np.ndarray:
    """The stream of each replicate key for one purpose (``mix64(key ^ mix64(purpose * G))``)."""
    with np.errstate(over="ignore"):
        tag = mix64(np.array([purpose], dtype=np.uint64) * _GOLDEN)[0]
    return mix64(np.asarray(keys, dtype=np.uint64) ^ tag)


def counter_bits(streams: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """``bits(stream, c)``: 64 random bits addressed by stream and counter (broadcast).

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion._random import counter_bits, unit
    >>> s = np.array([7, 7, 8], dtype=np.uint64)
    >>> u = unit(counter_bits(s, np.array([0, 1, 0])))
    >>> bool(((u > 0) & (u < 1)).all()), len(set(u.tolist()))
    (True, 3)
    """
    c = np.asarray(counters).astype(np.uint64) + _U(1)
    with np.errstate(over="ignore"):  # wrapping uint64 products are the intent
        return mix64(np.asarray(streams, dtype=np.uint64) ^ mix64(c * _GOLDEN))


def unit(b: np.ndarray) -> np.ndarray:
    """Uniform numbers in the open interval (0, 1) from random bits: ``(2 (b >> 12) + 1) / 2**53``."""
    return (((np.asarray(b, dtype=np.uint64) >> _U(12)) << _U(1)) | _U(1)).astype(np.float64) * 2.0 ** -53


# fdlibm e_log.c / e_exp.c constants
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LG1, _LG2, _LG3, _LG4 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, \
    2.222219843214978396e-01
_LG5, _LG6, _LG7 = 1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01
_SQRT_HALF = 0.70710678118654752440
_INV_LN2 = 1.44269504088896338700e+00
_P1, _P2, _P3 = 1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05
_P4, _P5 = -1.65339022054652515390e-06, 4.13813679705723846039e-08
_EXP_HI, _EXP_LO = 7.09782712893383973096e+02, -7.45133219101941108420e+02
#: Smallest positive double: a drawn threshold outside the zero set is never below it.
TINY = 5e-324


def log(x: np.ndarray) -> np.ndarray:
    """Natural logarithm of positive finite numbers, fdlibm's algorithm with exact operations only.

    Examples
    --------
    >>> import math, numpy as np
    >>> from diffusion._random import log
    >>> x = np.array([1e-300, 0.1, 1.0, 2.5, 1e300])
    >>> bool(np.allclose(log(x), [math.log(v) for v in x], rtol=2e-16, atol=0))
    True
    """
    m, e = np.frexp(np.asarray(x, dtype=np.float64))
    small = m < _SQRT_HALF
    m = np.where(small, m * 2.0, m)
    k = (e - small).astype(np.float64)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


def exp(x: np.ndarray) -> np.ndarray:
    """Exponential, fdlibm's algorithm with exact operations only (``inf`` above 709.78, 0 below -745.13).

    Examples
    --------
    >>> import math, numpy as np
    >>> from diffusion._random import exp
    >>> x = np.array([-700.0, -1.0, 0.0, 1e-10, 3.0, 700.0])
    >>> bool(np.allclose(exp(x), [math.exp(v) for v in x], rtol=3e-16, atol=0))
    True
    """
    x = np.asarray(x, dtype=np.float64)
    xc = np.clip(x, _EXP_LO - 1.0, _EXP_HI + 1.0)
    k = np.trunc(xc * _INV_LN2 + np.where(xc < 0.0, -0.5, 0.5))
    hi = xc - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    with np.errstate(over="ignore"):  # overflow to inf is masked just below
        out = np.ldexp(y, k.astype(np.int32))
    return np.where(x > _EXP_HI, np.inf, np.where(x < _EXP_LO, 0.0, out))


# Wichura (1988), algorithm AS241 PPND16
_A = (3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
      45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727)
_B = (1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867,
      39307.89580009271061, 28729.085735721942674, 5226.495278852545925)
_C = (1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
      1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4)
_D = (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
      0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9)
_E = (6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
      0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7)
_F = (1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
      7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15)


def _poly(c: tuple[float, ...], r: np.ndarray) -> np.ndarray:
    """``c[0] + c[1] r + ... + c[7] r**7`` by Horner's rule, highest coefficient first."""
    v = c[7] * r + c[6]
    for k in (5, 4, 3, 2, 1, 0):
        v = v * r + c[k]
    return v


def normal_ppf(p: np.ndarray) -> np.ndarray:
    """Standard normal quantile of ``p`` in (0, 1) (Wichura's AS241, relative error about 1e-16).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import ndtri
    >>> from diffusion._random import normal_ppf
    >>> p = np.array([1e-300, 1e-10, 0.02, 0.5, 0.7, 1 - 2.0 ** -53])
    >>> bool(np.allclose(normal_ppf(p), ndtri(p), rtol=1e-15, atol=1e-300))
    True
    """
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    central = np.abs(q) <= 0.425
    r = 0.180625 - q * q
    mid = q * _poly(_A, r) / _poly(_B, r)
    tail = np.where(q < 0.0, p, 1.0 - p)
    tail = np.sqrt(-log(np.where(central, 0.5, tail)))
    near = tail <= 5.0
    r1 = tail - 1.6
    r2 = tail - 5.0
    val = np.where(near, _poly(_C, r1) / _poly(_D, r1), _poly(_E, r2) / _poly(_F, r2))
    val = np.where(q < 0.0, -val, val)
    return np.where(central, mid, val)


def _gamma_log(streams: np.ndarray, shape: float) -> np.ndarray:
    """Logarithms of Gamma(shape, 1) variates, one per stream (Marsaglia and Tsang 2000).

    Attempt ``i`` reads draws ``2 i + 1`` (a normal) and ``2 i + 2`` (a uniform) of
    the stream; a shape below 1 is boosted, ``G(a + 1) U^(1/a)``, with ``U`` draw 0.
    """
    a = shape + 1.0 if shape < 1.0 else shape
    d = a - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    out = np.empty(len(streams))
    todo = np.arange(len(streams))
    i = 0
    while len(todo):
        s = streams[todo]
        x = normal_ppf(unit(counter_bits(s, 2 * i + 1)))
        v = 1.0 + c * x
        ok = v > 0.0
        v = np.where(ok, v, 1.0)
        v = v * v * v
        u = unit(counter_bits(s, 2 * i + 2))
        x2 = x * x
        accept = ok & ((u < 1.0 - 0.0331 * (x2 * x2)) | (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))))
        out[todo[accept]] = log(d * v[accept])
        todo = todo[~accept]
        i += 1
    if shape < 1.0:
        out = out + log(unit(counter_bits(streams, 0))) / shape
    return out


def threshold_values(spec: tuple, streams: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Thresholds of ``nodes`` (one per stream, purpose ``THRESHOLD``) outside the zero set.

    ``spec`` is ``(kind, a, b, q, log1p(-q), low, high)`` (see
    :func:`diffusion.models.threshold.draw_spec`): kind 0 uniform on
    ``[a, b]``, 1 normal ``(a, b)``, 2 lognormal ``(a, b)``, 3 beta ``(a, b)``;
    ``q`` the probability of a value at or below 0; values are clipped to
    ``[low, high]`` and are at least :data:`TINY`.
    """
    kind, a, b, q = int(spec[0]), float(spec[1]), float(spec[2]), float(spec[3])
    lo, hi = float(spec[5]), float(spec[6])
    streams = np.asarray(streams, dtype=np.uint64)
    nodes = np.asarray(nodes, dtype=np.int64)
    if kind == 3:
        sub_x = counter_bits(streams, 2 * nodes)
        sub_y = counter_bits(streams, 2 * nodes + 1)
        gx, gy = _gamma_log(sub_x, a), _gamma_log(sub_y, b)
        raw = 1.0 / (1.0 + exp(gy - gx))
    else:
        u = unit(counter_bits(streams, nodes))
        u = q + (1.0 - q) * u
        if kind == 0:
            raw = a + (b - a) * u
        elif kind == 1:
            raw = a + b * normal_ppf(u)
        else:
            raw = exp(a + b * normal_ppf(u))
    return np.maximum(np.minimum(np.maximum(raw, lo), hi), TINY)


def zero_mask(streams: np.ndarray, n: int, log1mq: float) -> np.ndarray:
    """Which nodes have a threshold at or below 0, per replicate: ``(R, n)`` booleans.

    The nodes are the positions ``-1 + g_0 + ... + g_i`` below ``n``, with
    gap ``g_i = 1 + floor(log(u_i) / log1p(-q))`` and ``u_i`` draw ``i`` of the
    replicate's ``ZERO`` stream (drawn in blocks, vectorized over replicates).
    """
    streams = np.asarray(streams, dtype=np.uint64)
    R = len(streams)
    out = np.zeros((R, n), dtype=bool)
    if log1mq == 0.0 or n == 0 or R == 0:
        return out
    q = -np.expm1(log1mq)
    block = int(min(n, q * n * 1.25)) + 16
    pos = np.full(R, -1.0)
    i = 0
    live = np.arange(R)
    while len(live):
        u = unit(counter_bits(streams[live, None], np.arange(i, i + block)[None, :]))
        g = np.floor(log(u) / log1mq) + 1.0
        p = pos[live, None] + np.cumsum(np.where(g >= 1.0, g, 1.0), axis=1)  # as _draws.zero_gap
        inside = p < n
        rows = np.broadcast_to(live[:, None], p.shape)
        out[rows[inside], p[inside].astype(np.int64)] = True
        pos[live] = p[:, -1]
        live = live[inside[:, -1]]
        i += block
    return out


def floyd_seeds(streams: np.ndarray, n: int, k: int) -> np.ndarray:
    """Random initial adopters: ``k`` distinct nodes of ``n`` per replicate (Floyd's algorithm).

    Step ``j`` (``j = 0 .. k - 1``) draws ``t = min(floor(u_j (m + 1)), m)``,
    ``m = n - k + j``, from the replicate's ``SEEDS`` stream and adds ``t``, or
    ``m`` if ``t`` is already chosen. Returns a boolean ``(R, n)`` array (the
    reference is dense; vectorized over replicates, one pass per step).
    """
    R = len(streams)
    chosen = np.zeros((R, n), dtype=bool)
    rows = np.arange(R)
    streams = np.asarray(streams, dtype=np.uint64)
    for j in range(k):
        m = n - k + j
        t = np.minimum(np.floor(unit(counter_bits(streams, j)) * float(m + 1)), float(m)).astype(np.int64)
        x = np.where(chosen[rows, t], m, t)
        chosen[rows, x] = True
    return chosen
