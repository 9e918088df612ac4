"""The :class:`Network`: an immutable SMB interaction graph in CSR form.

Node order is the order of :attr:`Network.node_ids`; every per-node array in
the package (attributes, states, adoption steps) uses that order. Row ``i``
of the CSR structure lists the *out*-neighbours of node ``i`` (edges
``i -> j``); an undirected graph stores each edge in both directions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .errors import DiffusionError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

__all__ = ["Network"]

_INT32_MAX = np.iinfo(np.int32).max


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


def _int_array(values: Iterable[int] | np.ndarray) -> np.ndarray:
    """A flat integer array of ``values`` (integer arrays are not copied)."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu" or arr.dtype.itemsize > 8 or arr.dtype == np.uint64:
        arr = np.asarray(values, dtype=np.int64)
    return arr.ravel()


def _index_dtype(n: int, nnz: int) -> type:
    return np.int32 if max(n, nnz) < _INT32_MAX else np.int64


class Network:
    """An immutable directed or undirected graph of firms, stored as CSR arrays.

    Build one with :meth:`from_edges`, :meth:`from_networkx`, :meth:`from_scipy`,
    a generator from :mod:`diffusion.generators` or a loader from
    :mod:`diffusion.readwrite`; the constructor takes ready CSR arrays.

    Parameters
    ----------
    indptr : array of int, shape (n + 1,)
        CSR row pointer; row ``i`` holds the out-neighbours of node ``i``.
    indices : array of int, shape (nnz,)
        Column indices (targets), sorted within each row, no duplicates.
    weights : array of float, shape (nnz,), optional
        Edge weights aligned with ``indices``; ``None`` means every weight is 1.
    directed : bool
        If False, the structure must be symmetric (each edge stored both ways).
    node_ids : array-like, shape (n,), optional
        Original node identifiers (default ``0 .. n-1``).
    attributes : mapping of str to array-like, optional
        Node attributes, each of length ``n`` (``sector``, ``region``, ``size``,
        ``resources``, ``uncertainty``, or any other column).

    Attributes
    ----------
    n : int
        Number of nodes.

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.Network.from_edges(3, [0, 1], [1, 2])
    >>> net
    <Network: 3 nodes, 2 edges, undirected>
    >>> net.degree.tolist()
    [1, 2, 1]
    >>> net.neighbors(1).tolist()
    [0, 2]
    """

    __slots__ = ("__dict__", "_attributes", "_node_ids", "directed", "indices", "indptr", "n", "weights")

    def __init__(
        self,
        indptr: np.ndarray,
        indices: np.ndarray,
        weights: np.ndarray | None = None,
        *,
        directed: bool = False,
        node_ids: Iterable[Any] | np.ndarray | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        indptr = np.asarray(indptr)
        indices = np.asarray(indices)
        n = len(indptr) - 1
        if n < 0 or indptr.ndim != 1 or indices.ndim != 1:
            raise DiffusionError("indptr and indices must be one-dimensional arrays")
        if indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0):
            raise DiffusionError("indptr is not a valid CSR row pointer")
        if len(indices) and (indices.min() < 0 or indices.max() >= n):
            raise DiffusionError("edge target out of range")
        idx_dtype = _index_dtype(n, len(indices))
        self.n: int = int(n)
        self.indptr = _readonly(indptr.astype(np.int64, copy=False))
        self.indices = _readonly(indices.astype(idx_dtype, copy=False))
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            if weights.shape != indices.shape:
                raise DiffusionError("weights must have one value per stored edge")
            if not np.all(np.isfinite(weights)):
                raise DiffusionError("edge weights must be finite")
            weights = _readonly(weights)
        self.weights: np.ndarray | None = weights
        self.directed: bool = bool(directed)
        if node_ids is None:
            ids = np.arange(n)
        else:
            ids = np.array(node_ids) if isinstance(node_ids, np.ndarray) else np.asarray(list(node_ids))
            if ids.shape != (n,):
                raise DiffusionError(f"node_ids must have length {n}, got {ids.shape}")
        self._node_ids = _readonly(ids)
        attrs: dict[str, np.ndarray] = {}
        for key, col in (attributes or {}).items():
            arr = np.array(col) if isinstance(col, np.ndarray) and col.flags.writeable else np.asarray(col)
            if arr.shape[:1] != (n,):
                raise DiffusionError(f"attribute {key!r} must have length {n}, got {arr.shape}")
            attrs[str(key)] = _readonly(arr)
        self._attributes = MappingProxyType(attrs)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_edges(
        cls,
        n: int,
        sources: Iterable[int] | np.ndarray,
        targets: Iterable[int] | np.ndarray,
        weights: Iterable[float] | np.ndarray | None = None,
        *,
        directed: bool = False,
        node_ids: Iterable[Any] | np.ndarray | None = None,
        attributes: Mapping[str, Any] | None = None,
        self_loops: bool = False,
    ) -> Network:
        """Build a network from edge arrays of node *indices* ``0 .. n-1``.

        Parallel edges are merged (their weights summed); self-loops are
        dropped unless ``self_loops=True``. For an undirected network each
        pair is stored in both directions.

        Parameters
        ----------
        n : int
            Number of nodes.
        sources, targets : array-like of int
            Edge end points.
        weights : array-like of float, optional
            Edge weights (default: unweighted).
        directed : bool, default False
        node_ids, attributes
            See :class:`Network`.
        self_loops : bool, default False
            Keep edges ``i -> i``.

        Examples
        --------
        >>> import diffusion
        >>> net = diffusion.Network.from_edges(3, [0, 0], [1, 2], [0.5, 2.0], directed=True)
        >>> net.out_strength.tolist()
        [2.5, 0.0, 0.0]
        """
        n = int(n)
        if n < 0:
            raise ParameterError("n", "must be non-negative")
        src = _int_array(sources)
        dst = _int_array(targets)
        if src.shape != dst.shape:
            raise DiffusionError("sources and targets must have the same length")
        if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
            raise DiffusionError(f"edge end point out of range 0..{n - 1}")
        w = None if weights is None else np.asarray(weights, dtype=np.float64).ravel()
        if w is not None and w.shape != src.shape:
            raise DiffusionError("weights must have one value per edge")
        # Work in the final index dtype from here on (int32 below 2**31 arcs): a
        # national-scale graph has 10**8 edges, and every copy of them counts.
        idx = _index_dtype(n, len(src) * (1 if directed else 2))
        src, dst = src.astype(idx, copy=False), dst.astype(idx, copy=False)
        if not self_loops:
            keep = src != dst
            if not keep.all():
                src, dst = src[keep], dst[keep]
                w = None if w is None else w[keep]
            del keep
        if not directed:
            src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
            if w is not None:
                w = np.concatenate([w, w])
            if self_loops:  # a self-loop was doubled above; keep one copy
                loop = src == dst
                if loop.any():
                    first = np.ones(len(src), dtype=bool)
                    first[len(src) // 2 :][loop[len(src) // 2 :]] = False
                    src, dst = src[first], dst[first]
                    w = None if w is None else w[first]
        # Unweighted: boolean data, whose sum of duplicates is a logical or
        # (one byte per arc instead of eight).
        data = np.ones(len(src), dtype=bool) if w is None else w
        mat = sp.csr_array((data, (src, dst)), shape=(n, n))
        weighted = w is not None
        del src, dst, data, w
        mat.sum_duplicates()
        return cls(
            mat.indptr,
            mat.indices,
            mat.data if weighted else None,
            directed=directed,
            node_ids=node_ids,
            attributes=attributes,
        )

    @classmethod
    def from_scipy(
        cls,
        matrix: Any,
        *,
        directed: bool | None = None,
        weighted: bool = True,
        node_ids: Iterable[Any] | np.ndarray | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Network:
        """Build a network from a square sparse (or dense) adjacency matrix.

        ``matrix[i, j] != 0`` is an edge ``i -> j`` with that weight. With
        ``directed=None`` the network is undirected exactly when the matrix is
        symmetric.
        """
        m = sp.csr_array(matrix)
        if m.shape[0] != m.shape[1]:
            raise DiffusionError("adjacency matrix must be square")
        m.sum_duplicates()
        m.eliminate_zeros()
        if directed is None:
            directed = (m != m.T).nnz > 0
        elif not directed and (m != m.T).nnz > 0:
            m = m.maximum(m.T).tocsr()
        m.setdiag(0)
        m.eliminate_zeros()
        m.sort_indices()
        return cls(
            m.indptr,
            m.indices,
            m.data if weighted else None,
            directed=bool(directed),
            node_ids=node_ids,
            attributes=attributes,
        )

    @classmethod
    def from_networkx(
        cls,
        graph: nx.Graph,
        weight: str | None = "weight",
        *,
        nodelist: Iterable[Any] | None = None,
        attributes: Iterable[str] | None = None,
    ) -> Network:
        """Convert a networkx graph.

        Parameters
        ----------
        graph : networkx.Graph or networkx.DiGraph
            Multigraphs are collapsed (weights summed).
        weight : str or None, default "weight"
            Edge attribute holding the weight. ``None``, or a graph where no
            edge has that attribute, gives an unweighted network; edges lacking
            it in a weighted graph get weight 1.
        nodelist : iterable, optional
            Node order (default: ``graph.nodes`` order).
        attributes : iterable of str, optional
            Node attributes to keep (default: every attribute that all nodes have).

        Examples
        --------
        >>> import networkx as nx, diffusion
        >>> G = nx.path_graph(4)
        >>> nx.set_node_attributes(G, {i: "retail" for i in G}, "sector")
        >>> net = diffusion.Network.from_networkx(G)
        >>> net.n, net.number_of_edges, net.attributes["sector"][0]
        (4, 3, np.str_('retail'))
        """
        nodes = list(graph.nodes) if nodelist is None else list(nodelist)
        index = {v: i for i, v in enumerate(nodes)}
        if len(index) != len(nodes):
            raise DiffusionError("nodelist contains duplicates")
        src, dst, w = [], [], []
        has_weight = False
        for u, v, d in graph.edges(data=True):
            if u not in index or v not in index:
                continue
            src.append(index[u])
            dst.append(index[v])
            if weight is not None and weight in d:
                has_weight = True
                w.append(float(d[weight]))
            else:
                w.append(1.0)
        cols: dict[str, Any] = {}
        if nodes:
            data = graph.nodes
            if attributes is None:
                keys = set(data[nodes[0]])
                for v in nodes[1:]:
                    keys &= set(data[v])
                attributes = sorted(keys)
            for key in attributes:
                try:
                    cols[key] = _column([data[v][key] for v in nodes])
                except KeyError as exc:
                    raise DiffusionError(f"node {exc.args[0]!r} lacks attribute {key!r}") from None
        return cls.from_edges(
            len(nodes),
            np.asarray(src, dtype=np.int64),
            np.asarray(dst, dtype=np.int64),
            np.asarray(w) if has_weight else None,
            directed=graph.is_directed(),
            node_ids=_column(nodes),
            attributes=cols,
        )

    def to_networkx(self, weight: str | None = "weight") -> nx.Graph:
        """Convert to a :class:`networkx.Graph` (or ``DiGraph`` if directed).

        Node ids and attributes are carried over; weights go to the ``weight``
        edge attribute when the network is weighted.

        Examples
        --------
        >>> import diffusion
        >>> G = diffusion.Network.from_edges(3, [0, 1], [1, 2]).to_networkx()
        >>> sorted(G.edges())
        [(0, 1), (1, 2)]
        """
        import networkx as nx

        G: nx.Graph = nx.DiGraph() if self.directed else nx.Graph()
        ids = self.node_ids.tolist()
        cols = {k: v.tolist() for k, v in self._attributes.items()}
        G.add_nodes_from((ids[i], {k: c[i] for k, c in cols.items()}) for i in range(self.n))
        src, dst = self.edges()
        s, d = src.tolist(), dst.tolist()
        if self.weights is not None and weight is not None:
            ww = self.edge_weights()[0].tolist()
            G.add_weighted_edges_from(((ids[a], ids[b], x) for a, b, x in zip(s, d, ww, strict=True)), weight=weight)
        else:
            G.add_edges_from((ids[a], ids[b]) for a, b in zip(s, d, strict=True))
        return G

    # ------------------------------------------------------------ properties
    @property
    def node_ids(self) -> np.ndarray:
        """Original node identifiers, in node order (read-only)."""
        return self._node_ids

    @property
    def attributes(self) -> Mapping[str, np.ndarray]:
        """Node attributes: a read-only mapping of name to array of length ``n``."""
        return self._attributes

    @property
    def nnz(self) -> int:
        """Number of stored arcs (each undirected edge counts twice)."""
        return len(self.indices)

    @cached_property
    def number_of_edges(self) -> int:
        """Number of edges (undirected edges counted once)."""
        if self.directed:
            return self.nnz
        loops = int(np.count_nonzero(self.indices == np.repeat(np.arange(self.n), np.diff(self.indptr))))
        return (self.nnz - loops) // 2 + loops

    @property
    def mean_degree(self) -> float:
        """Mean (out-)degree: ``2m/n`` undirected, ``m/n`` directed."""
        return float(self.nnz / self.n) if self.n else 0.0

    @cached_property
    def out_degree(self) -> np.ndarray:
        """Number of out-neighbours of each node (the degree if undirected)."""
        return _readonly(np.diff(self.indptr))

    @cached_property
    def in_degree(self) -> np.ndarray:
        """Number of in-neighbours of each node (the degree if undirected)."""
        if not self.directed:
            return self.out_degree
        return _readonly(np.bincount(self.indices, minlength=self.n).astype(np.int64))

    @property
    def degree(self) -> np.ndarray:
        """Degree (undirected) or total degree ``in + out`` (directed)."""
        return self.out_degree if not self.directed else _readonly(self.in_degree + self.out_degree)

    @cached_property
    def out_strength(self) -> np.ndarray:
        """Sum of out-edge weights of each node."""
        if self.weights is None:
            return _readonly(self.out_degree.astype(np.float64))
        rows = np.repeat(np.arange(self.n), self.out_degree)
        return _readonly(np.bincount(rows, weights=self.weights, minlength=self.n))

    @cached_property
    def in_strength(self) -> np.ndarray:
        """Sum of in-edge weights of each node."""
        if not self.directed:
            return self.out_strength
        if self.weights is None:
            return _readonly(self.in_degree.astype(np.float64))
        return _readonly(np.bincount(self.indices, weights=self.weights, minlength=self.n))

    @cached_property
    def reverse(self) -> Network:
        """The network with every edge reversed (itself if undirected).

        Its CSR rows list each node's *in*-neighbours, which is what threshold
        rules read.
        """
        if not self.directed:
            return self
        t = self.to_scipy().T.tocsr()
        t.sort_indices()
        return Network(
            t.indptr, t.indices, None if self.weights is None else t.data,
            directed=True, node_ids=self._node_ids, attributes=self._attributes,
        )

    # --------------------------------------------------------------- access
    def to_scipy(self, weighted: bool = True) -> sp.csr_array:
        """Adjacency as a :class:`scipy.sparse.csr_array` (``A[i, j]`` = edge ``i -> j``).

        The result shares memory with the network; do not modify it.
        """
        data = self.weights if (weighted and self.weights is not None) else np.ones(self.nnz)
        return sp.csr_array((data, self.indices, self.indptr), shape=(self.n, self.n))

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Edge end points as index arrays ``(sources, targets)``.

        Undirected edges are listed once, with ``source <= target``.
        """
        src = np.repeat(np.arange(self.n, dtype=self.indices.dtype), self.out_degree)
        dst = np.asarray(self.indices)
        if not self.directed:
            keep = src <= dst
            return src[keep], dst[keep]
        return src, dst

    def edge_weights(self) -> tuple[np.ndarray]:
        """Weights aligned with :meth:`edges` (ones if unweighted), as a 1-tuple."""
        w = self.weights if self.weights is not None else np.ones(self.nnz)
        if not self.directed:
            src = np.repeat(np.arange(self.n, dtype=self.indices.dtype), self.out_degree)
            w = w[src <= self.indices]
        return (np.asarray(w),)

    def neighbors(self, i: int) -> np.ndarray:
        """Out-neighbour indices of node index ``i``."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    @cached_property
    def _id_index(self) -> dict[Any, int]:
        return {v: i for i, v in enumerate(self._node_ids.tolist())}

    @cached_property
    def _range_ids(self) -> bool:
        """Whether the node ids are the integers ``0 .. n-1`` in order (ids are indices)."""
        ids = self._node_ids
        return ids.dtype.kind in "iu" and bool(np.array_equal(ids, np.arange(self.n)))

    def index_of(self, ids: Iterable[Any] | Any) -> np.ndarray:
        """Node indices of the given original ids.

        Raises
        ------
        DiffusionError
            If an id is not a node of the network.

        Examples
        --------
        >>> import diffusion
        >>> net = diffusion.Network.from_edges(2, [0], [1], node_ids=["a", "b"])
        >>> net.index_of(["b"]).tolist()
        [1]
        """
        seq = [ids] if np.isscalar(ids) else list(ids)  # type: ignore[arg-type]
        arr = np.asarray(seq) if seq else np.empty(0, dtype=np.int64)
        if arr.ndim == 1 and arr.dtype.kind in "iu" and self._range_ids:  # vectorized: ids are indices
            bad = (arr < 0) | (arr >= self.n)
            if bad.any():
                raise DiffusionError(f"node {arr[bad][0].item()!r} is not in the network")
            return arr.astype(np.int64)
        table = self._id_index
        out = np.empty(len(seq), dtype=np.int64)
        for k, v in enumerate(seq):
            key = v.item() if isinstance(v, np.generic) else v
            if key not in table and isinstance(key, str) and key.lstrip("-").isdigit():
                key = int(key)
            if key not in table:
                raise DiffusionError(f"node {v!r} is not in the network")
            out[k] = table[key]
        return out

    def attribute(self, name: str) -> np.ndarray:
        """The node attribute ``name``; raises a clear error if absent."""
        try:
            return self._attributes[name]
        except KeyError:
            have = ", ".join(sorted(self._attributes)) or "none"
            raise DiffusionError(f"node attribute {name!r} not found (the network has: {have})") from None

    def with_attributes(self, **columns: Any) -> Network:
        """A copy of the network with node attributes added or replaced."""
        attrs = dict(self._attributes)
        attrs.update(columns)
        return Network(
            self.indptr, self.indices, self.weights,
            directed=self.directed, node_ids=self._node_ids, attributes=attrs,
        )

    def _repr_html_(self) -> str:  # notebooks
        from ._repr import html_block

        attrs = ", ".join(f"{k} ({np.asarray(v).dtype})" for k, v in self.attributes.items()) or "none"
        return html_block("Network", [("nodes", f"{self.n:,}"), ("edges", f"{self.number_of_edges:,}"),
                                      ("directed", "yes" if self.directed else "no"),
                                      ("mean degree", f"{self.mean_degree:.2f}"),
                                      ("weighted", "yes" if self.weights is not None else "no"),
                                      ("node attributes", attrs)])

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        w = ", weighted" if self.weights is not None else ""
        return f"<Network: {self.n} nodes, {self.number_of_edges} edges, {kind}{w}>"

    def __len__(self) -> int:
        return self.n

    def __getstate__(self) -> dict[str, Any]:
        # Pickle only the defining fields: cached derived values (``reverse``,
        # degrees) are recomputed on demand, not shipped to worker processes;
        # numpy sends the arrays out of band under pickle protocol 5.
        state = {k: getattr(self, k) for k in self.__slots__ if k != "__dict__" and hasattr(self, k)}
        state["_attributes"] = dict(self._attributes)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            if key == "_attributes":
                value = MappingProxyType({k: _readonly(v) for k, v in value.items()})
            elif isinstance(value, np.ndarray):
                value = _readonly(value)
            object.__setattr__(self, key, value)


def _column(values: list[Any]) -> np.ndarray:
    """A numpy column from Python values: numeric when possible, else str."""
    arr = np.asarray(values)
    if arr.ndim != 1:  # tuple (or other sequence) values, e.g. grid coordinates as node ids
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return arr
    if arr.dtype == object:
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            arr = np.asarray([str(v) for v in values])
    return arr
