"""Reading and writing networks: edge-list CSV (+ node table), GraphML, GEXF, node-link JSON.

The format is chosen from the file extension (``.csv``, ``.tsv``,
``.graphml``, ``.gexf``, ``.json``) unless ``format=`` is given. Every
problem with a file — missing, unreadable, not a regular file, too large for
the memory available, malformed, nested too deeply, a missing column, a
non-numeric weight, duplicate or undeclared node ids, an empty graph — raises
:class:`~diffusion.errors.GraphFormatError` whose message starts with the
file name (and gives the line and column where known). A message quotes
nothing of the file but the offending value (shortened), and nothing at all
before the file is known to be a graph of its format (a CSV's header, say).
Files are written atomically: to a temporary file in the same directory,
then renamed.

Edge-list CSV
    A header row naming ``source`` and ``target`` (any order, other columns
    ignored) and optionally the weight column (``weight`` by default). The
    optional node table is a CSV with an ``id`` column; its other columns
    become node attributes (integer or float where every value parses as a
    number, else strings; an empty cell in a numeric column is NaN). Nodes of
    the table without edges are isolated nodes; an edge end point missing
    from the table is an error. Node ids stay strings unless every id is an
    integer. Without a node table the nodes are the edge end points, sorted if
    the ids are integers and in order of first appearance (row by row,
    source before target) otherwise.
    Self-loops are dropped and repeated rows merged (weights added); a CSV
    says nothing about direction, so pass ``directed=True`` for arcs.
GraphML, GEXF, node-link JSON
    Read and written with networkx; directedness, node ids (integers where
    every id is one), node attributes common to all nodes and the weight are
    kept. Every node is declared once, and every edge joins declared nodes.

Examples
--------
>>> import os, tempfile
>>> import diffusion
>>> from diffusion.readwrite import read_network, write_network
>>> net = diffusion.Network.from_edges(3, [0, 1], [1, 2], [0.5, 2.0],
...                                    attributes={"sector": ["a", "b", "a"]})
>>> with tempfile.TemporaryDirectory() as d:
...     write_network(net, os.path.join(d, "g.graphml"))
...     back = read_network(os.path.join(d, "g.graphml"))
>>> back.n, back.number_of_edges, back.attributes["sector"].tolist()
(3, 2, ['a', 'b', 'a'])
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .errors import DiffusionError, GraphFormatError
from .network import Network

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

__all__ = ["FORMATS", "read_network", "write_network"]

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".graphml": "graphml",
    ".gexf": "gexf",
    ".json": "json",
}
"""File extension to format name."""

PathLike = str | os.PathLike

#: Peak memory of reading a graph file, in bytes per byte of the file (measured with the peak
#: resident size of reading 12-50 MB files of 200,000-node graphs: 45-55 for an edge list, 20 for
#: node-link JSON, 32 for GraphML; rounded up).
READ_COST: dict[str, int] = {"csv": 60, "tsv": 60, "json": 25, "graphml": 40, "gexf": 40}


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _token(value: Any, limit: int = 40) -> str:
    """``repr(value)``, shortened to ``limit`` characters: the most of a file an error quotes."""
    return _shorten(repr(value), limit)


def _size(n: float) -> str:
    """Bytes in the largest unit that leaves at least 1 (``"1.5 GB"``, ``"320 kB"``)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} bytes"


def _open(path: Path, fmt: str) -> IO[bytes]:
    """Open a graph file for reading, once it is known to be a regular file that fits in memory.

    Opened without blocking (a FIFO with no writer would wait forever), then
    checked on the open descriptor: a device, FIFO or socket is refused, and
    so is a file whose reading needs more memory than is available
    (:data:`READ_COST`).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise GraphFormatError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise GraphFormatError(f"{path}: is a directory, not a graph file") from None
    except OSError as exc:
        raise GraphFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise GraphFormatError(f"{path}: is a directory, not a graph file")
        if not stat.S_ISREG(info.st_mode):
            raise GraphFormatError(f"{path}: is not a regular file (but a device, a pipe or a socket)")
        from .engine import available_memory

        need = info.st_size * READ_COST[fmt]
        avail = available_memory()
        if avail is not None and need > avail:
            raise GraphFormatError(
                f"{path}: reading this {_size(info.st_size)} {fmt} file needs about {_size(need)} of memory, "
                f"but only {_size(avail)} are available"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        f = str(fmt).lower().lstrip(".")
        if f not in FORMATS.values():
            raise GraphFormatError(f"{path}: unknown graph format {fmt!r} "
                                   f"(choose one of {', '.join(sorted(set(FORMATS.values())))})")
        return f
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise GraphFormatError(f"{path}: cannot tell the graph format from the extension {ext!r} "
                               f"(use one of {', '.join(FORMATS)} or pass format=)")
    return FORMATS[ext]


# ------------------------------------------------------------------ reading
def read_network(path: PathLike, *, nodes: PathLike | None = None, format: str | None = None,
                 weight: str | None = "weight", directed: bool | None = None) -> Network:
    """Read a network from a file, choosing the loader by extension.

    Parameters
    ----------
    path : str or path-like
        The graph file: ``.csv`` / ``.tsv`` edge list, ``.graphml``, ``.gexf``
        or ``.json`` (node-link).
    nodes : str or path-like, optional
        Node table CSV (``id`` column plus attribute columns) for an edge list.
    format : {"csv", "tsv", "graphml", "gexf", "json"}, optional
        Override the format implied by the extension.
    weight : str or None, default "weight"
        Name of the edge-weight column / attribute; ``None`` reads the graph
        unweighted. A graph without that column is unweighted.
    directed : bool, optional
        Edge lists are undirected unless ``directed=True``. For the other
        formats the file decides; ``True``/``False`` converts (an undirected
        edge becomes two arcs; reciprocal arcs merge, weights added).

    Returns
    -------
    Network

    Raises
    ------
    GraphFormatError
        If the file cannot be read as a graph; the message names the file.

    Examples
    --------
    >>> import os, tempfile
    >>> from diffusion.readwrite import read_network
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "edges.csv")
    ...     with open(p, "w") as f:
    ...         _ = f.write("source,target,weight\\nacme,bolt,2.5\\nbolt,corp,1\\n")
    ...     net = read_network(p)
    >>> net.node_ids.tolist(), net.weights.tolist()
    (['acme', 'bolt', 'corp'], [2.5, 2.5, 1.0, 1.0])
    """
    p = Path(path)
    fmt = _format(p, format)
    if nodes is not None and fmt not in ("csv", "tsv"):
        raise GraphFormatError(f"{p}: a node table (nodes=) goes with an edge-list CSV, not {fmt}")
    if directed is not None and not isinstance(directed, bool | np.bool_):
        raise GraphFormatError(f"{p}: directed must be true or false, got {directed!r}")
    if fmt in ("csv", "tsv"):
        return _read_edgelist(p, None if nodes is None else Path(nodes), "\t" if fmt == "tsv" else ",",
                              weight, bool(directed))
    net = _read_networkx(p, fmt, weight)
    if directed is not None and bool(directed) != net.directed:
        net = _convert_direction(net, bool(directed))
    return net


def _convert_direction(net: Network, directed: bool) -> Network:
    if directed:  # each undirected edge is already stored as two arcs
        return Network(net.indptr, net.indices, net.weights, directed=True,
                       node_ids=net.node_ids, attributes=net.attributes)
    src = np.repeat(np.arange(net.n), net.out_degree)
    return Network.from_edges(net.n, src, net.indices, net.weights, directed=False,
                              node_ids=net.node_ids, attributes=net.attributes)


def _read_text(path: Path, fmt: str) -> str:
    with _open(path, fmt) as f:
        try:
            data = f.read()
        except OSError as exc:
            raise GraphFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GraphFormatError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None


def _read_table(path: Path, delimiter: str, what: str, required: tuple[str, ...]
                ) -> tuple[list[str], list[int], list[list[str]], np.ndarray]:
    """Header, positions of the ``required`` columns, rows and the 1-based line number of each row."""
    text = _read_text(path, "tsv" if delimiter == "\t" else "csv")
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
        rows, lines = [], []
        header: list[str] | None = None
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            if header is None:
                header = [c.strip() for c in row]
                continue
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise GraphFormatError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None
    if header is None:
        raise GraphFormatError(f"{path}: empty file (expected a header row for the {what})")
    positions = _check_header(path, header, required, what)
    line_arr = np.asarray(lines, dtype=np.int64)
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    bad = np.flatnonzero(lengths != len(header))
    if len(bad):
        i = int(bad[0])
        raise GraphFormatError(f"{path}: line {line_arr[i]}: expected {len(header)} fields "
                               f"(as many as the header row), found {lengths[i]}")
    return header, positions, rows, line_arr


def _check_header(path: Path, header: list[str], required: tuple[str, ...], what: str) -> list[int]:
    """Positions of the ``required`` columns; the header is quoted only where it names them.

    A file whose header lacks them is not a table of that kind, and nothing of
    it is quoted (but a near miss such as ``Source``). Checked before the rows,
    so that no row of such a file is quoted either.
    """
    out = []
    for name in required:
        if name not in header:
            close = difflib.get_close_matches(name, [h for h in header if len(h) <= 2 * len(name)], n=1, cutoff=0.7)
            hint = f"; is {_token(close[0])} meant?" if close else ""
            raise GraphFormatError(f"{path}: line 1: the {what} needs a {name!r} column, and its header "
                                   f"row has none{hint}")
        out.append(header.index(name))
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise GraphFormatError(f"{path}: line 1: column {_token(dup[0])} appears more than once")
    return out


def _as_ids(values: np.ndarray) -> np.ndarray:
    """Integer ids if every id is written as an integer, else the strings (stripped)."""
    s = np.char.strip(values.astype(str))
    if len(s) == 0:
        return s
    try:
        ints = s.astype(np.int64)
    except (ValueError, OverflowError):
        return s
    if np.array_equal(ints.astype(str), s):  # canonical form only: "007" stays a string id
        return ints
    return s


def _number_column(path: Path, values: list[str], lines: np.ndarray, col: str) -> np.ndarray:
    arr = np.asarray(values, dtype=str)
    try:
        out = np.char.strip(arr).astype(np.float64)
    except ValueError:
        for i, v in enumerate(values):
            try:
                float(v)
            except ValueError:
                raise GraphFormatError(f"{path}: line {lines[i]}: column {_token(col)}: "
                                       f"{_token(v)} is not a number") from None
        raise  # pragma: no cover
    bad = np.flatnonzero(~np.isfinite(out))
    if len(bad):
        i = int(bad[0])
        raise GraphFormatError(f"{path}: line {lines[i]}: column {_token(col)}: {_token(values[i])} is not a "
                               "finite number")
    return out


def _attribute_column(values: list[str]) -> np.ndarray:
    """Numeric (int, else float with NaN for blanks) where possible, else str."""
    arr = np.char.strip(np.asarray(values, dtype=str))
    blank = arr == ""
    if len(arr) and not blank.all():
        if not blank.any():
            try:
                ints = arr.astype(np.int64)
                if np.array_equal(ints.astype(str), np.char.lstrip(arr, "+")):
                    return ints
            except (ValueError, OverflowError):
                pass
        try:
            return np.where(blank, "nan", arr).astype(np.float64)
        except ValueError:
            pass
    return np.asarray(values, dtype=str)


def _read_edgelist(path: Path, nodes: Path | None, delimiter: str, weight: str | None,
                   directed: bool) -> Network:
    header, (si, ti), rows, lines = _read_table(path, delimiter, "edge list", ("source", "target"))
    wi = header.index(weight) if weight is not None and weight in header else None
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    src_raw = np.asarray(cols[si], dtype=str)
    dst_raw = np.asarray(cols[ti], dtype=str)
    for raw, name in ((src_raw, "source"), (dst_raw, "target")):
        empty = np.flatnonzero(np.char.strip(raw) == "") if len(raw) else np.empty(0, dtype=np.int64)
        if len(empty):
            raise GraphFormatError(f"{path}: line {lines[empty[0]]}: empty {name}")
    w = _number_column(path, list(cols[wi]), lines, header[wi]) if wi is not None else None

    attributes: dict[str, np.ndarray] = {}
    if nodes is not None:
        n_delim = "\t" if nodes.suffix.lower() == ".tsv" else ","
        n_header, (ii,), n_rows, n_lines = _read_table(nodes, n_delim, "node table", ("id",))
        n_cols = list(zip(*n_rows, strict=True)) if n_rows else [() for _ in n_header]
        id_raw = np.asarray(n_cols[ii], dtype=str)
        if len(id_raw) and (np.char.strip(id_raw) == "").any():
            i = int(np.flatnonzero(np.char.strip(id_raw) == "")[0])
            raise GraphFormatError(f"{nodes}: line {n_lines[i]}: empty id")
        ids = _as_ids(id_raw)
        keys = np.char.strip(id_raw)  # canonical text of each id (equal to str(id) for integers)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        dup = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
        if len(dup):
            i = int(order[dup[0] + 1])
            raise GraphFormatError(f"{nodes}: line {n_lines[i]}: duplicate id {_token(str(keys[i]))}")
        if len(ids) == 0:
            raise GraphFormatError(f"{nodes}: the node table lists no nodes")
        for k, name in enumerate(n_header):
            if k != ii:
                attributes[name] = _attribute_column(list(n_cols[k]))
        node_ids = ids
        idx = []
        for raw in (src_raw, dst_raw):
            e = np.char.strip(raw)
            pos = np.minimum(np.searchsorted(sorted_keys, e), len(sorted_keys) - 1)
            found = sorted_keys[pos] == e if len(e) else np.ones(0, dtype=bool)
            if not found.all():
                i = int(np.flatnonzero(~found)[0])
                raise GraphFormatError(f"{path}: line {lines[i]}: node {_token(str(e[i]))} is not in the "
                                       f"node table {nodes}")
            idx.append(order[pos])
        s_idx, t_idx = idx
    else:
        if not len(rows):
            raise GraphFormatError(f"{path}: the edge list has no edges (and no node table was given)")
        ends = _as_ids(np.column_stack([src_raw, dst_raw]).ravel())  # row by row
        if ends.dtype.kind == "i":
            node_ids, inv = np.unique(ends, return_inverse=True)
        else:
            uniq, first, inv = np.unique(ends, return_index=True, return_inverse=True)
            by_first = np.argsort(first, kind="stable")
            rank = np.empty(len(uniq), dtype=np.int64)
            rank[by_first] = np.arange(len(uniq))
            node_ids, inv = uniq[by_first], rank[inv]
        s_idx, t_idx = inv[0::2], inv[1::2]
    try:
        return Network.from_edges(len(node_ids), s_idx, t_idx, w, directed=directed,
                                  node_ids=node_ids, attributes=attributes)
    except DiffusionError as exc:  # pragma: no cover - inputs are validated above
        raise GraphFormatError(f"{path}: {exc}") from None


def _check_node_link(path: Path, data: Any) -> str:
    """Check the shape of node-link data; return the key of its edge list.

    Refuses what networkx would silently repair: a node declared twice (it
    would merge them) and an edge to an undeclared node (it would create it).
    """
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise GraphFormatError(f"{path}: not a node-link JSON graph (no \"nodes\" list)")
    key = "links" if "links" in data and "edges" not in data else "edges"
    edges = data.setdefault(key, [])
    if not isinstance(edges, list):
        raise GraphFormatError(f"{path}: {key}: must be a list of {{\"source\", \"target\"}} objects")
    seen: set[Any] = set()
    for i, node in enumerate(data["nodes"]):
        if not isinstance(node, dict) or "id" not in node:
            raise GraphFormatError(f"{path}: nodes[{i}]: not an object with an \"id\"")
        v = node["id"]
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise GraphFormatError(f"{path}: nodes[{i}]: the id must be a string or a number")
        if v in seen:
            raise GraphFormatError(f"{path}: nodes[{i}]: duplicate node id {_token(v)}")
        seen.add(v)
        for name, value in node.items():
            if value is not None and not isinstance(value, str | int | float):
                raise GraphFormatError(f"{path}: nodes[{i}]: attribute {_token(name)} is not a number or a string")
    for i, edge in enumerate(edges):
        if not isinstance(edge, dict):
            raise GraphFormatError(f"{path}: {key}[{i}]: not an object")
        for end in ("source", "target"):
            if end not in edge:
                raise GraphFormatError(f"{path}: {key}[{i}]: no {end!r}")
            v = edge[end]
            if not isinstance(v, str | int | float) or v not in seen:
                raise GraphFormatError(f"{path}: {key}[{i}]: {end} {_token(v)} is not a declared node")
    return key


def _xml_reader(fmt: str) -> Any:
    """A networkx GraphML or GEXF reader that refuses a node declared twice.

    An edge's end points are checked once the file is read (a node may be
    declared after an edge that uses it): ``reader.declared`` holds the ids.
    """
    from networkx.readwrite.gexf import GEXFReader
    from networkx.readwrite.graphml import GraphMLReader

    base = GraphMLReader if fmt == "graphml" else GEXFReader

    class Reader(base):  # type: ignore[misc, valid-type]
        declared: set[Any]

        def add_node(self, G: Any, node_xml: Any, *args: Any, **kw: Any) -> None:
            v = node_xml.get("id")
            if self.node_type is not None:
                v = self.node_type(v)
            if v in self.declared:
                raise GraphFormatError(f"duplicate node id {_token(v)}")
            self.declared.add(v)
            super().add_node(G, node_xml, *args, **kw)

    reader = Reader(node_type=str) if fmt == "graphml" else Reader(node_type=None)
    reader.declared = set()
    return reader


def _read_xml(f: IO[bytes], fmt: str) -> Any:
    import networkx as nx

    reader = _xml_reader(fmt)
    if fmt == "gexf":
        G = reader(f)
    else:  # as nx.read_graphml: the first graph, retried with the namespace if the header lacks it
        graphs = list(reader(path=f))
        if not graphs:
            f.seek(0)
            text = f.read().replace(b"<graphml>", b'<graphml xmlns="http://graphml.graphdrawing.org/xmlns">')
            reader.declared.clear()
            graphs = list(reader(string=text))
            if not graphs:
                raise nx.NetworkXError("file not successfully read as graphml")
        G = graphs[0]
    extra = [v for v in G if v not in reader.declared]
    if extra:
        raise GraphFormatError(f"an edge joins {_token(extra[0])}, which is not a declared node")
    return G


def _read_networkx(path: Path, fmt: str, weight: str | None) -> Network:
    import xml.etree.ElementTree as ET

    import networkx as nx

    name = {"json": "node-link JSON", "graphml": "GraphML", "gexf": "GEXF"}[fmt]
    try:
        if fmt == "json":
            text = _read_text(path, fmt)
            if not text.strip():
                raise GraphFormatError(f"{path}: empty file")
            try:
                data = json.loads(text)
            except RecursionError:
                raise GraphFormatError(f"{path}: JSON nested too deeply to be a node-link graph") from None
            key = _check_node_link(path, data)
            G = nx.node_link_graph(data, edges=key)
        else:
            with _open(path, fmt) as f:
                if os.fstat(f.fileno()).st_size == 0:
                    raise GraphFormatError(f"{path}: empty file")
                try:
                    G = _read_xml(f, fmt)
                except GraphFormatError as exc:
                    raise GraphFormatError(f"{path}: {exc}") from None
    except GraphFormatError:
        raise
    except json.JSONDecodeError as exc:
        raise GraphFormatError(f"{path}: line {exc.lineno}, column {exc.colno}: malformed JSON "
                               f"({exc.msg})") from None
    except ET.ParseError as exc:
        line, col = exc.position
        raise GraphFormatError(f"{path}: line {line}, column {col}: malformed XML") from None
    except RecursionError:
        raise GraphFormatError(f"{path}: nested too deeply to be a {name} graph") from None
    except OSError as exc:
        raise GraphFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (nx.NetworkXError, KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise GraphFormatError(f"{path}: not a valid {name} graph ({type(exc).__name__}: "
                               f"{_shorten(str(exc), 80)})") from None
    except LookupError as exc:  # (after KeyError, IndexError) the XML declaration names an unknown codec
        raise GraphFormatError(f"{path}: the XML declaration names an unknown text encoding "
                               f"({_shorten(str(exc), 80)})") from None
    if G.number_of_nodes() == 0:
        raise GraphFormatError(f"{path}: the graph has no nodes")
    if fmt == "gexf":
        # GEXF gives every node a label; drop it when it only repeats the id
        labels = dict(G.nodes(data="label"))
        if all(lab is None or str(lab) == str(v) for v, lab in labels.items()):
            for v in G:
                G.nodes[v].pop("label", None)
    ids = _as_ids(np.asarray([str(v) for v in G.nodes], dtype=str))
    if ids.dtype.kind == "i" and not all(isinstance(v, int | np.integer) for v in G.nodes):
        G = nx.relabel_nodes(G, dict(zip(G.nodes, ids.tolist(), strict=True)))
    try:
        return Network.from_networkx(G, weight=weight)
    except (DiffusionError, ValueError, TypeError) as exc:
        raise GraphFormatError(f"{path}: {exc}") from None


# ------------------------------------------------------------------ writing
def _atomic_write(path: Path, writer: Callable[[Path], None]) -> None:
    """Run ``writer`` on a temporary file beside ``path``, then rename it to ``path``."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise GraphFormatError(f"{path}: cannot write ({exc.strerror or exc})") from None
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, path)
    except OSError as exc:
        raise GraphFormatError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _csv_cell(values: np.ndarray) -> list[str]:
    if values.dtype.kind == "f":
        return [repr(float(x)) for x in values.tolist()]
    return [str(x) for x in values.tolist()]


def write_network(network: Network, path: PathLike, *, nodes: PathLike | None = None,
                  format: str | None = None, weight: str = "weight") -> None:
    """Write a network in the format implied by the extension of ``path``.

    Parameters
    ----------
    network : Network
    path : str or path-like
        ``.csv`` / ``.tsv`` (edge list), ``.graphml``, ``.gexf`` or ``.json``.
    nodes : str or path-like, optional
        For an edge list: where to write the node table (``id`` plus one
        column per attribute). By default it is written to
        ``<stem>.nodes.csv`` beside ``path`` when the network has attributes
        or isolated nodes (which an edge list alone would lose), and not at
        all otherwise. Read it back with ``read_network(path, nodes=...)``.
    format : str, optional
        Override the format implied by the extension.
    weight : str, default "weight"
        Name of the weight column / edge attribute (written only if the
        network is weighted).

    Notes
    -----
    Every file is written to a temporary file in the same directory and
    renamed over ``path``, so a reader never sees a half-written file. An
    edge list does not record direction: pass ``directed=True`` when
    reading a directed network back.

    Examples
    --------
    >>> import os, tempfile
    >>> import diffusion
    >>> from diffusion.readwrite import read_network, write_network
    >>> net = diffusion.generators.erdos_renyi(50, p=0.1, seed=3, directed=True)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_network(net, os.path.join(d, "g.json"))
    ...     back = read_network(os.path.join(d, "g.json"))
    >>> back.directed, back.number_of_edges == net.number_of_edges
    (True, True)
    """
    if not isinstance(network, Network):
        raise TypeError(f"write_network needs a Network, not {type(network).__name__}")
    p = Path(path)
    fmt = _format(p, format)
    if fmt in ("csv", "tsv"):
        _write_edgelist(network, p, None if nodes is None else Path(nodes),
                        "\t" if fmt == "tsv" else ",", weight)
        return
    if nodes is not None:
        raise GraphFormatError(f"{p}: a node table (nodes=) goes with an edge-list CSV, not {fmt}")
    for key, col in network.attributes.items():
        if np.asarray(col).ndim != 1:
            raise GraphFormatError(f"{p}: node attribute {key!r} is not one value per node")
    G = network.to_networkx(weight=weight)
    _write_networkx(G, p, fmt)


def _write_networkx(G: nx.Graph, path: Path, fmt: str) -> None:
    import networkx as nx

    def write(tmp: Path) -> None:
        if fmt == "graphml":
            nx.write_graphml(G, tmp)
        elif fmt == "gexf":
            nx.write_gexf(G, tmp)
        else:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(nx.node_link_data(G, edges="edges"), f)

    _atomic_write(path, write)


def _write_edgelist(network: Network, path: Path, nodes: Path | None, delimiter: str,
                    weight: str) -> None:
    ids = network.node_ids
    src, dst = network.edges()
    header = ["source", "target"]
    columns = [_csv_cell(ids[src]), _csv_cell(ids[dst])]
    if network.weights is not None:
        header.append(weight)
        columns.append(_csv_cell(network.edge_weights()[0]))

    def write_edges(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, delimiter=delimiter, lineterminator="\n")
            w.writerow(header)
            w.writerows(zip(*columns, strict=True))

    isolated = bool(np.any(network.degree == 0)) if network.directed is False else bool(
        np.any((network.in_degree + network.out_degree) == 0))
    if nodes is None and (network.attributes or isolated):
        nodes = path.with_name(f"{path.stem}.nodes.csv")
    if nodes is not None:
        n_header = ["id", *network.attributes]
        n_cols = [_csv_cell(ids)]
        for key, col in network.attributes.items():
            if np.asarray(col).ndim != 1:
                raise GraphFormatError(f"{nodes}: node attribute {key!r} is not one value per node")
            n_cols.append(_csv_cell(np.asarray(col)))

        def write_nodes(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f, delimiter=",", lineterminator="\n")
                w.writerow(n_header)
                w.writerows(zip(*n_cols, strict=True))

        _atomic_write(nodes, write_nodes)
    _atomic_write(path, write_edges)

