"""Faithful reduced views of networks too large to draw node by node.

Two views, both ``O(n + m)`` numpy/scipy work:

- :func:`largest_firms`: the ``k`` largest firms (by an attribute such as
  ``size``, or by degree) and the ties among them;
- :func:`group_quotient`: one node per group of firms (e.g. sector × region)
  with the number of firms and of ties between groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError
from ..network import Network

__all__ = ["GroupView", "group_codes", "group_quotient", "largest_firms", "subgraph_edges"]


def largest_firms(network: Network, k: int, by: str | None = None) -> np.ndarray:
    """Indices of the ``k`` largest nodes, sorted ascending.

    Parameters
    ----------
    network : Network
    k : int
        Number of nodes to keep.
    by : str, optional
        Numeric node attribute ranking the firms (default: ``size`` when the
        network has it, otherwise the degree). Ties break towards the lower index.

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.Network.from_edges(4, [0, 0, 0, 1], [1, 2, 3, 2])
    >>> largest_firms(net, 2).tolist()
    [0, 1]
    """
    if k < 0:
        raise ParameterError("max_nodes", "must be non-negative")
    if k >= network.n:
        return np.arange(network.n)
    if by is None:
        by = "size" if "size" in network.attributes else "degree"
    score = network.degree if by == "degree" else network.attribute(by)
    score = np.nan_to_num(np.asarray(score, dtype=np.float64), nan=-np.inf)
    # argpartition is O(n); the stable lexsort below only touches the survivors' boundary.
    part = np.argpartition(-score, k - 1)[:k] if k > 0 else np.array([], dtype=np.int64)
    if k > 0:
        cut = score[part].min()
        above = np.flatnonzero(score > cut)
        ties = np.flatnonzero(score == cut)[: k - len(above)]
        part = np.concatenate([above, ties])
    return np.sort(part)


def subgraph_edges(network: Network, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Edges among the nodes ``keep`` (sorted indices), renumbered ``0 .. len(keep)-1``.

    Undirected edges are listed once. Returns ``(sources, targets, weights)``
    (weights ``None`` when the network is unweighted).

    Examples
    --------
    >>> import diffusion, numpy as np
    >>> net = diffusion.Network.from_edges(4, [0, 1, 2], [1, 2, 3])
    >>> s, t, w = subgraph_edges(net, np.array([1, 2, 3]))
    >>> s.tolist(), t.tolist(), w
    ([0, 1], [1, 2], None)
    """
    keep = np.asarray(keep, dtype=np.int64)
    A = network.to_scipy()
    sub = A[keep][:, keep].tocoo() if len(keep) < network.n else A.tocoo()
    r, c, d = sub.row.astype(np.int64), sub.col.astype(np.int64), sub.data
    if not network.directed:
        m = r <= c
        r, c, d = r[m], c[m], d[m]
    order = np.lexsort((c, r))
    r, c, d = r[order], c[order], d[order]
    return r, c, (None if network.weights is None else np.asarray(d, dtype=np.float64))


def group_codes(network: Network, by: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Group index of every node from the combination of the attributes ``by``.

    Returns ``(codes, labels)``: ``codes`` of shape ``(n,)`` in
    ``0 .. len(labels)-1`` and a label per group ("retail · north").

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.Network.from_edges(3, [0], [1], attributes={"sector": ["a", "b", "a"]})
    >>> codes, labels = group_codes(net, ("sector",))
    >>> codes.tolist(), labels
    ([0, 1, 0], ['a', 'b'])
    """
    if not by:
        raise ParameterError("reduce", "grouping needs at least one node attribute")
    code = np.zeros(network.n, dtype=np.int64)
    levels: list[np.ndarray] = []
    for name in by:
        col = network.attribute(name)
        uniq, inv = np.unique(col.astype(str) if col.dtype.kind == "O" else col, return_inverse=True)
        levels.append(uniq)
        code = code * len(uniq) + inv.ravel()
    used, codes = np.unique(code, return_inverse=True)
    labels = []
    for c in used.tolist():
        parts = []
        for uniq in reversed(levels):
            c, j = divmod(c, len(uniq))
            parts.append(str(uniq[j].item() if isinstance(uniq[j], np.generic) else uniq[j]))
        labels.append(" · ".join(reversed(parts)))
    return codes.ravel(), labels


@dataclass
class GroupView:
    """The quotient graph of a grouping of firms.

    Attributes
    ----------
    codes : ndarray of int, shape (n,)
        Group of every firm.
    labels : list of str
        Group names.
    counts : ndarray of int, shape (G,)
        Firms per group.
    sources, targets : ndarray of int
        Ties between distinct groups (each unordered pair once if undirected).
    ties : ndarray of float
        Number (or total weight) of firm-level ties behind each group tie.
    internal : ndarray of float, shape (G,)
        Ties inside each group.
    """

    codes: np.ndarray
    labels: list[str]
    counts: np.ndarray
    sources: np.ndarray
    targets: np.ndarray
    ties: np.ndarray
    internal: np.ndarray


def group_quotient(network: Network, by: tuple[str, ...]) -> GroupView:
    """Aggregate firms into groups and their ties into group-to-group ties.

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.Network.from_edges(4, [0, 1, 2], [1, 2, 3], attributes={"sector": list("aabb")})
    >>> q = group_quotient(net, ("sector",))
    >>> q.counts.tolist(), q.ties.tolist(), q.internal.tolist()
    ([2, 2], [1.0], [1.0, 1.0])
    """
    codes, labels = group_codes(network, by)
    G = len(labels)
    n = network.n
    P = sp.csr_array((np.ones(n), (np.arange(n), codes)), shape=(n, G))
    A = network.to_scipy()
    Q = (P.T @ A @ P).toarray()
    internal = np.diag(Q).copy()
    if not network.directed:
        internal /= 2.0  # each undirected edge is stored in both directions
        iu = np.triu_indices(G, k=1)
    else:
        iu = np.nonzero(~np.eye(G, dtype=bool))
    vals = Q[iu]
    nz = vals != 0
    return GroupView(
        codes=codes,
        labels=labels,
        counts=np.bincount(codes, minlength=G),
        sources=iu[0][nz].astype(np.int64),
        targets=iu[1][nz].astype(np.int64),
        ties=vals[nz].astype(np.float64),
        internal=internal,
    )
