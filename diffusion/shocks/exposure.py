"""Exposure matrices: how much of a firm's buffer another firm's distress destroys.

Convention (used by every function of :mod:`diffusion.shocks`): ``W[i, j]``
is the fraction of firm ``j``'s capacity (its buffer, ``resources``) lost when
firm ``i`` is fully distressed. Distress flows along the arcs ``i -> j`` of
the network: in a directed supply graph with arcs supplier -> customer, a
customer is exposed to its suppliers (pass ``network.reverse`` for the other
reading); an undirected tie exposes both firms to each other.

Rule (:func:`exposure_matrix`)
------------------------------
With edge weight ``w_ij`` (1 if unweighted), firm size ``s`` and buffer
``b`` (``resources``)::

    d_ij = w_ij s_i / sum_k w_kj s_k           share of j's business tied to i
    W_ij = min(cap, lgd * d_ij * s_j / b_j)    that business, lost at rate lgd,
                                               relative to j's buffer

``d`` sums to 1 over each firm's partners: losing every partner destroys the
whole business volume ``s_j``, which costs ``lgd s_j / b_j`` buffers. Sizes
and buffers are in the same units (e.g. revenue); a firm whose buffer equals
its business volume and partners are all lost at ``lgd = 1`` is exactly wiped
out. Defaults: ``size`` = the node attribute ``"size"`` if the network has it,
else 1; ``resources`` = the attribute ``"resources"`` if present, else equal
to the size (so ``W = lgd * d``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError
from ..network import Network

__all__ = ["as_exposure", "exposure_columns", "exposure_matrix", "spectral_radius"]


def _node_column(network: Network, value: Any, key: str, default: str,
                 fallback: np.ndarray | None) -> np.ndarray:
    if value is None:
        if default in network.attributes:
            value = default
        elif fallback is not None:
            return fallback
        else:
            return np.ones(network.n)
    if isinstance(value, str):
        if value not in network.attributes:
            have = ", ".join(sorted(network.attributes)) or "none"
            raise ParameterError(key, f"node attribute {value!r} not found (the network has: {have})")
        col = network.attributes[value]
        if not np.issubdtype(col.dtype, np.number):
            raise ParameterError(key, f"node attribute {value!r} is not numeric")
        arr = col.astype(np.float64)
    elif np.isscalar(value):
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ParameterError(key, f"must be an attribute name, a number or an array, got {value!r}")
        arr = np.full(network.n, float(value))
    else:
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != (network.n,):
            raise ParameterError(key, f"has {arr.size} values but the network has {network.n} nodes")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ParameterError(key, "values must be positive and finite")
    return arr


def exposure_columns(network: Network, size: Any = None, resources: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Firm sizes and buffers of the exposure rule (see :func:`exposure_matrix`), checked.

    Raises
    ------
    ParameterError
        An attribute that is missing or not numeric, values that are not positive and finite.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import exposure_columns
    >>> net = diffusion.Network.from_edges(2, [0], [1], attributes={"size": [1.0, 3.0]})
    >>> [c.tolist() for c in exposure_columns(net, resources=0.5)]
    [[1.0, 3.0], [0.5, 0.5]]
    """
    s = _node_column(network, size, "size", "size", None)
    b = _node_column(network, resources, "resources", "resources", s)
    return s, b


def exposure_matrix(network: Network, *, size: Any = None, resources: Any = None,
                    loss_given_default: float = 1.0, cap: float | None = 1.0,
                    weighted: bool = True) -> sp.csr_array:
    """Exposure matrix from edge weights, firm sizes and buffers (rule in the module docs).

    Parameters
    ----------
    network : Network
    size : str, float or array, optional
        Firm size (attribute name, scalar or per-node array); default the
        ``"size"`` attribute if present, else 1.
    resources : str, float or array, optional
        Buffer (capacity) in the units of ``size``; default the
        ``"resources"`` attribute if present, else the size. Must be positive.
    loss_given_default : float, default 1.0
        Share of the business tied to a failed partner that is lost (``lgd``).
    cap : float or None, default 1.0
        Upper bound of each entry (``None`` for none).
    weighted : bool, default True
        Use edge weights (else every tie counts 1).

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n)
        ``W[i, j]``: fraction of ``j``'s capacity lost when ``i`` is fully distressed.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import exposure_matrix
    >>> net = diffusion.Network.from_edges(3, [0, 1], [1, 2])   # path 0 - 1 - 2
    >>> exposure_matrix(net).toarray().tolist()
    [[0.0, 0.5, 0.0], [1.0, 0.0, 1.0], [0.0, 0.5, 0.0]]
    >>> exposure_matrix(net, resources=0.5, cap=None).toarray()[1].tolist()
    [2.0, 0.0, 2.0]
    """
    if not isinstance(network, Network):
        raise ParameterError("network", f"must be a diffusion.Network, got {type(network).__name__}")
    lgd = loss_given_default
    if isinstance(lgd, bool) or not isinstance(lgd, int | float | np.number) or not np.isfinite(lgd) or lgd < 0:
        raise ParameterError("loss_given_default", f"must be a non-negative number, got {lgd!r}")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int | float | np.number)
                            or not cap > 0):
        raise ParameterError("cap", f"must be a positive number or None, got {cap!r}")
    s, b = exposure_columns(network, size, resources)
    n = network.n
    rows = np.repeat(np.arange(n), network.out_degree)
    cols = np.asarray(network.indices, dtype=np.int64)
    w = network.weights if (weighted and network.weights is not None) else np.ones(network.nnz)
    if np.any(w < 0):
        raise ParameterError("weights", "edge weights must be non-negative to define exposures")
    mass = w * s[rows]
    tot = np.bincount(cols, weights=mass, minlength=n)
    d = np.divide(mass, tot[cols], out=np.zeros_like(mass), where=tot[cols] > 0)
    vals = float(lgd) * d * (s / b)[cols]
    if cap is not None:
        np.minimum(vals, float(cap), out=vals)
    W = sp.csr_array((vals, np.array(network.indices), np.array(network.indptr)), shape=(n, n))
    W.eliminate_zeros()
    return W


def as_exposure(exposure: Any, n: int | None = None, key: str = "exposure") -> sp.csr_array:
    """Validate an exposure matrix (dense or sparse) and return it as CSR float64.

    Entries must be finite and non-negative; the matrix square (``n × n``
    when ``n`` is given).
    """
    if isinstance(exposure, Network):
        return exposure_matrix(exposure)
    try:
        W = sp.csr_array(exposure, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(key, f"must be a square matrix (dense or scipy sparse): {exc}") from None
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ParameterError(key, f"must be a square matrix, got shape {W.shape}")
    if n is not None and W.shape[0] != n:
        raise ParameterError(key, f"has {W.shape[0]} rows but there are {n} firms")
    if not (W.has_canonical_format and W.data.all()):
        # (a copy: the caller's matrix may be shared, even read-only, e.g. memory-mapped by a worker)
        W = W.copy()
        W.sum_duplicates()
        W.eliminate_zeros()
    if not np.all(np.isfinite(W.data)) or np.any(W.data < 0):
        raise ParameterError(key, "entries must be finite and non-negative")
    return W


def spectral_radius(exposure: Any, *, dense_below: int = 1500, tol: float = 1e-10) -> float:
    """Largest absolute eigenvalue of an exposure matrix.

    Uses the Perron–Frobenius bounds first (for a non-negative matrix the
    spectral radius lies between the smallest and the largest row sum, and the
    same for columns), a dense eigen-solver for small matrices, and ARPACK
    (falling back to power iteration with Collatz–Wielandt bounds) otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.shocks import spectral_radius
    >>> round(spectral_radius(np.array([[0, 0.5], [0.5, 0]])), 12)
    0.5
    """
    W = as_exposure(exposure)
    n = W.shape[0]
    if n == 0 or W.nnz == 0:
        return 0.0
    rs, cs = W.sum(axis=1), W.sum(axis=0)
    hi = min(rs.max(), cs.max())
    lo = max(rs.min(), cs.min())
    if hi - lo <= tol * max(hi, 1.0):
        return float(hi)
    if n <= dense_below:
        return float(np.abs(np.linalg.eigvals(W.toarray())).max())
    try:
        from scipy.sparse.linalg import eigs

        val = eigs(W.astype(np.float64), k=1, which="LM", return_eigenvectors=False, tol=1e-8,
                   maxiter=20 * n)
        return float(np.abs(val).max())
    except Exception:  # ARPACK did not converge: power iteration on W + I (aperiodic)
        x = np.ones(n)
        M = W.T.tocsr()
        est = hi
        for _ in range(10_000):
            y = M @ x + x
            ratio = y / x
            lo_b, hi_b = ratio.min() - 1.0, ratio.max() - 1.0
            est = 0.5 * (lo_b + hi_b)
            if hi_b - lo_b <= 1e-8 * max(abs(est), 1.0):
                break
            x = y / y.max()
        return float(est)
