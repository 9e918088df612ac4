"""Seeding: every random draw comes from a Generator spawned from one seed.

The unit of randomness is the *replicate*. Replicate ``r`` of a run seeded
with ``seed`` always draws from the ``r``-th child of
``numpy.random.SeedSequence(seed)``, so a replicate's numbers do not depend on
how replicates are chunked, which worker runs them, or how many there are.
Models must draw replicate ``r``'s numbers only from ``rngs[r]`` and in an
order that depends only on that replicate's own history.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["as_seed_sequence", "default_rng", "replicate_generators", "replicate_seeds", "uniform_rows"]

SeedLike = int | np.random.SeedSequence | None


def as_seed_sequence(seed: SeedLike | np.random.Generator) -> np.random.SeedSequence:
    """Normalize ``seed`` to a :class:`numpy.random.SeedSequence`.

    ``None`` draws fresh entropy from the operating system (the run is then not
    reproducible unless the returned sequence's ``entropy`` is recorded).
    A :class:`~numpy.random.Generator` is accepted and spawns a child sequence.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return seed.bit_generator.seed_seq.spawn(1)[0]  # type: ignore[attr-defined]
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, a SeedSequence, a Generator or None, not {type(seed).__name__}")
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
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
    z = np.asarray(x, dtype=np.uint64).copy()
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
