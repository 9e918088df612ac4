"""Homogeneity and diversity metrics: concentration, diversity, similarity, assortativity.

Every function takes shares (or counts, normalized along the last axis) and
works on a single vector or on a batch: a leading ``(R, ...)`` axis gives one
value per replicate. Shares equal to zero are ignored (``0 · ln 0 = 0``).

========================  ======================================  ================
metric                    formula                                  range
========================  ======================================  ================
:func:`hhi`               ``Σ s_k²``                                1/K … 1
:func:`shannon`           ``−Σ s_k ln s_k``                         0 … ln K
:func:`hill`              ``(Σ s_k^q)^(1/(1−q))``                   1 … K
:func:`gini_simpson`      ``1 − Σ s_k²``                            0 … 1 − 1/K
========================  ======================================  ================

``hill(s, 0)`` is the richness (number of platforms in use), ``hill(s, 1)`` is
``exp(shannon(s))`` and ``hill(s, 2)`` is ``1 / hhi(s)`` — the *effective
number* of equally sized platforms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ParameterError
from .network import Network

__all__ = [
    "assortativity",
    "effective_number",
    "gini_simpson",
    "hhi",
    "hill",
    "profile_similarity",
    "shannon",
    "shares_from_labels",
]


def _shares(shares: Any, name: str = "shares") -> np.ndarray:
    s = np.asarray(shares, dtype=np.float64)
    if s.ndim == 0:
        raise ParameterError(name, "must be a vector (or a batch of vectors) of shares")
    if not np.all(np.isfinite(s)) or (s.size and s.min() < 0):
        raise ParameterError(name, "must be finite and non-negative")
    total = s.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, s / np.where(total > 0, total, 1.0), 0.0)
    return out


def hhi(shares: Any, *, antitrust: bool = False) -> np.ndarray | float:
    """Herfindahl–Hirschman index ``Σ s_k²`` along the last axis.

    Parameters
    ----------
    shares : array_like, shape (..., K)
        Market shares or counts (normalized to sum to one; an all-zero row gives 0).
    antitrust : bool, default False
        Multiply by 10 000 (the scale used by competition authorities).

    Examples
    --------
    >>> from diffusion.metrics import hhi
    >>> hhi([0.5, 0.5]), hhi([1.0, 0.0]), hhi([30, 30, 40], antitrust=True)
    (0.5, 1.0, 3400.0)
    """
    s = _shares(shares)
    h = np.sum(s * s, axis=-1)
    if antitrust:
        h = h * 10_000.0
    return float(h) if h.ndim == 0 else h


def shannon(shares: Any, *, base: float | None = None) -> np.ndarray | float:
    """Shannon entropy ``−Σ s_k ln s_k`` (natural log unless ``base``).

    Examples
    --------
    >>> from diffusion.metrics import shannon
    >>> round(shannon([0.25] * 4), 6), round(shannon([0.5, 0.5], base=2), 6)
    (1.386294, 1.0)
    """
    s = _shares(shares)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(s > 0, -s * np.log(np.where(s > 0, s, 1.0)), 0.0)
    h = terms.sum(axis=-1)
    if base is not None:
        if base <= 0 or base == 1:
            raise ParameterError("base", "must be positive and not 1")
        h = h / np.log(base)
    return float(h) if h.ndim == 0 else h


def hill(shares: Any, q: float = 1.0) -> np.ndarray | float:
    """Hill number of order ``q``: the effective number of equally abundant types.

    ``q = 0`` counts the types with a positive share, ``q = 1`` is
    ``exp(shannon)``, ``q = 2`` is ``1 / hhi``; an all-zero row gives 0.

    Examples
    --------
    >>> from diffusion.metrics import hill
    >>> s = [0.5, 0.25, 0.25, 0.0]
    >>> hill(s, 0), round(hill(s, 1), 6), round(hill(s, 2), 6)
    (3.0, 2.828427, 2.666667)
    """
    if (
        isinstance(q, bool)
        or not isinstance(q, int | float | np.number)
        or not np.isfinite(q)
        or q < 0
    ):
        raise ParameterError("q", f"must be a finite number >= 0, got {q!r}")
    s = _shares(shares)
    pos = s > 0
    if q == 0:
        d = pos.sum(axis=-1).astype(np.float64)
    elif q == 1:
        d = np.exp(np.asarray(shannon(s)))
    else:
        with np.errstate(divide="ignore"):
            powered = np.where(pos, np.where(pos, s, 1.0) ** q, 0.0).sum(axis=-1)
            d = np.where(powered > 0, np.where(powered > 0, powered, 1.0) ** (1.0 / (1.0 - q)), 0.0)
    d = np.where(pos.any(axis=-1), d, 0.0)
    return float(d) if d.ndim == 0 else d


def effective_number(shares: Any, q: float = 2.0) -> np.ndarray | float:
    """Effective number of platforms, the Hill number of order ``q`` (default ``1 / HHI``).

    Examples
    --------
    >>> from diffusion.metrics import effective_number
    >>> effective_number([0.25] * 4)
    4.0
    """
    return hill(shares, q)


def gini_simpson(shares: Any) -> np.ndarray | float:
    """Gini–Simpson index ``1 − HHI``: probability two random firms use different platforms.

    Examples
    --------
    >>> from diffusion.metrics import gini_simpson
    >>> gini_simpson([0.5, 0.5])
    0.5
    """
    s = _shares(shares)
    g = np.where(s.sum(axis=-1) > 0, 1.0 - np.sum(s * s, axis=-1), 0.0)
    return float(g) if g.ndim == 0 else g


def shares_from_labels(labels: Any, k: int, *, exclude_zero: bool = True) -> np.ndarray:
    """Shares of each label ``1 .. k`` (``0 .. k`` if not ``exclude_zero``) along the last axis.

    Parameters
    ----------
    labels : array_like of int, shape (..., n)
        E.g. the platform of each firm (0 = none), one row per replicate.
    k : int
        Number of labels (platforms).
    exclude_zero : bool, default True
        Shares over the firms with a label ``>= 1`` (firms on a platform).

    Returns
    -------
    ndarray, shape (..., k) (or (..., k + 1))

    Examples
    --------
    >>> from diffusion.metrics import shares_from_labels
    >>> shares_from_labels([[0, 1, 1, 2], [2, 2, 2, 2]], 2).tolist()
    [[0.6666666666666666, 0.3333333333333333], [0.0, 1.0]]
    """
    lab = np.asarray(labels)
    if not np.issubdtype(lab.dtype, np.integer):
        raise ParameterError("labels", "must be integers")
    if lab.size and (lab.min() < 0 or lab.max() > k):
        raise ParameterError("labels", f"must lie in 0 .. {k}")
    lead = lab.shape[:-1]
    flat = lab.reshape(-1, lab.shape[-1]).astype(np.int64)
    rows = flat.shape[0]
    codes = (np.arange(rows)[:, None] * (k + 1) + flat).ravel()
    counts = np.bincount(codes, minlength=rows * (k + 1)).reshape(rows, k + 1).astype(np.float64)
    if exclude_zero:
        counts = counts[:, 1:]
    return _shares(counts).reshape(*lead, counts.shape[1])


def profile_similarity(profiles: Any, metric: str = "cosine") -> float:
    """Mean pairwise similarity of firms' strategy profiles (rows), over all pairs ``i != j``.

    Parameters
    ----------
    profiles : array_like, shape (n, m)
        One row per firm, one column per technology/practice (adoption 0/1 or
        an intensity).
    metric : {"cosine", "jaccard"}
        ``cosine``: ``x_i·x_j / (|x_i| |x_j|)`` (a firm with an all-zero
        profile has similarity 0 to everyone). ``jaccard``: ``|A ∩ B| / |A ∪ B|``
        of the adopted sets (entries > 0); two empty profiles count as identical (1).

    Notes
    -----
    Vectorized without forming the ``n × n`` matrix: cosine uses
    ``Σ_{i≠j} x̂_i·x̂_j = |Σ_i x̂_i|² − Σ_i |x̂_i|²``; Jaccard works on the distinct
    profiles weighted by their multiplicity.

    Examples
    --------
    >>> from diffusion.metrics import profile_similarity
    >>> X = [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    >>> round(profile_similarity(X), 6), round(profile_similarity(X, "jaccard"), 6)
    (0.333333, 0.333333)
    """
    X = np.asarray(profiles, dtype=np.float64)
    if X.ndim != 2:
        raise ParameterError("profiles", "must be a 2-d array (firms x technologies)")
    if not np.all(np.isfinite(X)) or (X.size and X.min() < 0):
        raise ParameterError("profiles", "must be finite and non-negative")
    n = X.shape[0]
    if n < 2:
        raise ParameterError("profiles", "needs at least two firms")
    pairs = n * (n - 1)
    if metric == "cosine":
        norm = np.linalg.norm(X, axis=1)
        Xh = np.divide(X, norm[:, None], out=np.zeros_like(X), where=norm[:, None] > 0)
        tot = Xh.sum(axis=0)
        return float((tot @ tot - np.count_nonzero(norm > 0)) / pairs)
    if metric == "jaccard":
        B = X > 0
        uniq, counts = np.unique(B, axis=0, return_counts=True)
        U = uniq.astype(np.float64)
        inter = U @ U.T
        size = U.sum(axis=1)
        union = size[:, None] + size[None, :] - inter
        J = np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
        c = counts.astype(np.float64)
        total = c @ J @ c - c @ np.diag(J)
        return float(total / pairs)
    raise ParameterError("metric", f"must be 'cosine' or 'jaccard', got {metric!r}")


def assortativity(
    network: Network, labels: Any, *, exclude: int | None = None, weighted: bool = False
) -> np.ndarray | float:
    """Newman's assortativity coefficient of a categorical label (e.g. platform choice) along edges.

    ``r = (Σ_k e_kk − Σ_k a_k b_k) / (1 − Σ_k a_k b_k)`` where ``e_kl`` is the
    fraction of arcs from label ``k`` to label ``l`` and ``a``, ``b`` its row and
    column sums: 1 when every edge joins firms on the same platform, 0 for
    random mixing, negative for disassortative mixing.

    Parameters
    ----------
    network : Network
    labels : array_like of int, shape (n,) or (R, n)
        A label per node, optionally one row per replicate.
    exclude : int, optional
        A label to leave out (e.g. ``0``, firms on no platform): arcs touching it are dropped.
    weighted : bool, default False
        Weight arcs by the network's edge weights.

    Returns
    -------
    float or ndarray of shape (R,)
        ``nan`` when undefined (no arcs left, or a single label everywhere).

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.metrics import assortativity
    >>> net = diffusion.Network.from_edges(4, [0, 2, 0], [1, 3, 2])
    >>> round(assortativity(net, [1, 1, 2, 2]), 6)   # e_11 = e_22 = 1/3, a = b = (1/2, 1/2)
    0.333333
    """
    lab = np.asarray(labels)
    if not np.issubdtype(lab.dtype, np.integer):
        raise ParameterError("labels", "must be integers")
    single = lab.ndim == 1
    lab2 = np.atleast_2d(lab)
    if lab2.ndim != 2 or lab2.shape[1] != network.n:
        raise ParameterError("labels", f"must have shape (n,) or (R, n) with n = {network.n}")
    if lab2.size and lab2.min() < 0:
        raise ParameterError("labels", "must be non-negative")
    k = int(lab2.max()) + 1 if lab2.size else 1
    src = np.repeat(np.arange(network.n), network.out_degree)
    dst = np.asarray(network.indices, dtype=np.int64)
    w = network.weights if (weighted and network.weights is not None) else None
    R = lab2.shape[0]
    out = np.full(R, np.nan)
    block = max(1, int(2e7 // max(len(src), 1)))
    for a in range(0, R, block):  # blocks of replicates bound the memory of the arc arrays
        rows = lab2[a : a + block].astype(np.int64)
        ls, ld = rows[:, src], rows[:, dst]
        keep = (
            np.ones(ls.shape, dtype=bool) if exclude is None else (ls != exclude) & (ld != exclude)
        )
        rep = np.broadcast_to(np.arange(len(rows))[:, None], ls.shape)
        codes = (rep * k * k + ls * k + ld)[keep]
        wt = None if w is None else np.broadcast_to(w, ls.shape)[keep]
        e = np.bincount(codes, weights=wt, minlength=len(rows) * k * k).reshape(len(rows), k, k)
        tot = e.sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            e = e / tot[:, None, None]
            tr = np.trace(e, axis1=1, axis2=2)
            ab = np.sum(e.sum(axis=2) * e.sum(axis=1), axis=1)
            r = (tr - ab) / (1.0 - ab)
        ok = (tot > 0) & (ab < 1.0 - 1e-12)
        out[a : a + block] = np.where(ok, r, np.nan)
    return float(out[0]) if single else out
