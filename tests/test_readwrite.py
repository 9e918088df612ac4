"""Tests of diffusion.readwrite: round trips for every format and clear errors for broken files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffusion.errors import GraphFormatError
from diffusion.generators import smb_network
from diffusion.network import Network
from diffusion.readwrite import read_network, write_network

FORMATS = ["csv", "tsv", "graphml", "gexf", "json"]


def _net(directed: bool, weighted: bool, ids) -> Network:
    src = [0, 0, 1, 2, 3, 4]
    dst = [1, 2, 2, 3, 4, 0]
    w = [0.5, 1.25, 2.0, 3.5, 1.0, 0.125] if weighted else None
    attrs = {
        "sector": ["retail", "food", "retail", "services", "food", "retail", "food"],
        "size": [3.5, 10.0, 1.25, 7.0, 100.5, 2.0, 4.0],
        "employees": [3, 10, 1, 7, 100, 2, 4],
    }
    return Network.from_edges(7, src, dst, w, directed=directed, node_ids=ids, attributes=attrs)


def _same(a: Network, b: Network) -> None:
    assert a.n == b.n and a.directed == b.directed
    # compare as sets of (id, id[, weight]) and per-id attributes: node order may differ
    def edges(net):
        s, d = net.edges()
        ids = net.node_ids.tolist()
        w = net.edge_weights()[0] if net.weights is not None else np.ones(len(s))
        out = set()
        for x, y, z in zip(s.tolist(), d.tolist(), w.tolist(), strict=True):
            u, v = ids[x], ids[y]
            if not net.directed:
                u, v = sorted((u, v), key=str)
            out.add((u, v, round(z, 12)))
        return out

    assert edges(a) == edges(b)
    assert (a.weights is None) == (b.weights is None)
    assert set(a.node_ids.tolist()) == set(b.node_ids.tolist())
    assert {type(x) for x in a.node_ids.tolist()} == {type(x) for x in b.node_ids.tolist()}
    order = b.index_of(a.node_ids.tolist())
    assert set(a.attributes) == set(b.attributes)
    for key, col in a.attributes.items():
        other = np.asarray(b.attributes[key])[order]
        assert np.asarray(col).tolist() == other.tolist(), key
        assert np.asarray(col).dtype.kind == other.dtype.kind, key


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ids", [None, ["a", "b", "c", "d", "e", "f", "g"],
                                 [10, 20, 30, 40, 50, 60, 70]])
def test_round_trip(tmp_path, fmt, directed, weighted, ids):
    net = _net(directed, weighted, ids)
    path = tmp_path / f"graph.{fmt}"
    if fmt in ("csv", "tsv"):
        nodes = tmp_path / "firms.csv"
        write_network(net, path, nodes=nodes)
        back = read_network(path, nodes=nodes, directed=directed)
    else:
        write_network(net, path)
        back = read_network(path)
    _same(net, back)
    assert back.attributes["employees"].dtype.kind == "i"
    assert back.attributes["size"].dtype.kind == "f"
    assert back.attributes["sector"].dtype.kind == "U"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_csv_default_node_table_and_isolated_nodes(tmp_path):
    net = _net(False, True, ["a", "b", "c", "d", "e", "f", "g"])  # f, g are isolated
    write_network(net, tmp_path / "g.csv")
    assert (tmp_path / "g.nodes.csv").exists()
    back = read_network(tmp_path / "g.csv", nodes=tmp_path / "g.nodes.csv")
    _same(net, back)
    assert back.degree[back.index_of(["f", "g"])].tolist() == [0, 0]
    plain = Network.from_edges(3, [0, 1], [1, 2])
    write_network(plain, tmp_path / "p.csv")
    assert not (tmp_path / "p.nodes.csv").exists()
    _same(plain, read_network(tmp_path / "p.csv"))


def test_large_generated_network_round_trip(tmp_path):
    net = smb_network(300, mean_degree=4, sectors=["a", "b"], weighted=True, seed=1)
    for fmt in ("csv", "graphml", "json", "gexf"):
        path = tmp_path / f"smb.{fmt}"
        if fmt == "csv":
            write_network(net, path, nodes=tmp_path / "smb_nodes.csv")
            back = read_network(path, nodes=tmp_path / "smb_nodes.csv")
        else:
            write_network(net, path)
            back = read_network(path)
        assert back.n == net.n and back.number_of_edges == net.number_of_edges
        np.testing.assert_allclose(np.sort(back.weights), np.sort(net.weights))
        np.testing.assert_allclose(np.sort(back.attributes["size"]), np.sort(net.attributes["size"]))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_reading_details(tmp_path):
    e = _write(tmp_path / "e.csv", "target,source,kind\nb,zed,x\nc,b,y\n\nb,zed,z\n")
    net = read_network(e)
    assert net.node_ids.tolist() == ["zed", "b", "c"]  # first appearance, source first
    assert net.number_of_edges == 2 and net.weights is None
    i = _write(tmp_path / "i.csv", "source,target\n10,2\n2,7\n")
    net = read_network(i)
    assert net.node_ids.tolist() == [2, 7, 10] and net.node_ids.dtype.kind == "i"
    z = _write(tmp_path / "z.csv", "source,target\n007,7\n")
    assert read_network(z).node_ids.tolist() == ["007", "7"]  # not all canonical integers
    w = _write(tmp_path / "w.csv", "source,target,strength\n1,2,0.5\n2,1,0.25\n")
    assert read_network(w, weight="strength").weights.tolist() == [0.75, 0.75]
    assert read_network(w).weights is None
    d = read_network(w, weight="strength", directed=True)
    assert d.directed and d.number_of_edges == 2
    t = _write(tmp_path / "t.tsv", "source\ttarget\tweight\nx\ty\t2\n")
    assert read_network(t).weights.tolist() == [2.0, 2.0]
    nodes = _write(tmp_path / "n.csv", "id,size,label,score\n1,3,alpha,\n2,4,beta,0.5\n3,5,gamma,1\n")
    net = read_network(_write(tmp_path / "e3.csv", "source,target\n1,2\n"), nodes=nodes)
    assert net.node_ids.tolist() == [1, 2, 3]
    assert net.degree.tolist() == [1, 1, 0]
    assert net.attributes["size"].tolist() == [3, 4, 5]
    assert net.attributes["label"].tolist() == ["alpha", "beta", "gamma"]
    assert np.isnan(net.attributes["score"][0]) and net.attributes["score"][2] == 1.0
    same = read_network(e, format="csv")
    assert same.n == 3


def test_direction_override_for_graph_files(tmp_path):
    net = _net(False, True, None)
    write_network(net, tmp_path / "u.graphml")
    d = read_network(tmp_path / "u.graphml", directed=True)
    assert d.directed and d.number_of_edges == 2 * net.number_of_edges
    dnet = Network.from_edges(3, [0, 1], [1, 0], [1.0, 2.0], directed=True)
    write_network(dnet, tmp_path / "d.json")
    u = read_network(tmp_path / "d.json", directed=False)
    assert not u.directed and u.weights.tolist() == [3.0, 3.0]


def test_json_accepts_links_key(tmp_path):
    p = _write(tmp_path / "l.json", '{"directed": false, "multigraph": false, "graph": {},'
               ' "nodes": [{"id": "a", "size": 2}, {"id": "b", "size": 3}],'
               ' "links": [{"source": "a", "target": "b", "weight": 1.5}]}')
    net = read_network(p)
    assert net.node_ids.tolist() == ["a", "b"] and net.weights.tolist() == [1.5, 1.5]


# ------------------------------------------------------------ broken files
BROKEN = {
    "missing.csv": None,
    "empty.csv": "",
    "blank.csv": "\n\n",
    "nohead.csv": "from,to\na,b\n",
    "noedges.csv": "source,target\n",
    "badweight.csv": "source,target,weight\na,b,1\nb,c,heavy\n",
    "nanweight.csv": "source,target,weight\na,b,nan\n",
    "ragged.csv": "source,target\na,b\nc\n",
    "emptyid.csv": "source,target\na,\n",
    "dupcol.csv": "source,target,source\na,b,c\n",
    "quote.csv": 'source,target\n"a,b\n',
    "bad.graphml": "<graphml><graph><node id='a'></graph>",
    "empty.graphml": "",
    "nonodes.graphml": ('<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
                        '<graph edgedefault="undirected"></graph></graphml>'),
    "notgraph.graphml": '<?xml version="1.0"?><html><body/></html>',
    "encoding.graphml": ("<?xml version='1.0' encoding='nanutf-8'?><graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">"
                         "<graph edgedefault='undirected'><node id='a'/></graph></graphml>"),
    "bad.gexf": "<gexf><graph><nodes><node id='0'/></nodes>",
    "encoding.gexf": ("<?xml version='1.0' encoding='no-such-codec'?><gexf xmlns=\"http://www.gexf.net/1.2draft\" "
                      "version='1.2'><graph><nodes><node id='0'/></nodes></graph></gexf>"),
    "nonodes.gexf": ('<?xml version="1.0"?><gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">'
                     '<graph defaultedgetype="undirected"><nodes/><edges/></graph></gexf>'),
    "bad.json": '{"nodes": [{"id": 1}, ',
    "list.json": "[1, 2, 3]",
    "nonodes.json": '{"nodes": [], "edges": []}',
    "badedge.json": '{"nodes": [{"id": 1}], "edges": [{"source": 1}]}',
    "graph.txt": "a b\n",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_files_raise_graph_format_error(tmp_path, name):
    path = tmp_path / name
    if BROKEN[name] is not None:
        path.write_text(BROKEN[name], encoding="utf-8")
    with pytest.raises(GraphFormatError) as info:
        read_network(path)
    assert str(path) in str(info.value)


def test_binary_and_directory_paths(tmp_path):
    p = tmp_path / "bin.csv"
    p.write_bytes(b"\xff\xfe\x00\x81source")
    with pytest.raises(GraphFormatError, match=r"bin.csv"):
        read_network(p)
    d = tmp_path / "dir.graphml"
    d.mkdir()
    with pytest.raises(GraphFormatError, match=r"dir.graphml"):
        read_network(d)
    with pytest.raises(GraphFormatError, match=r"dir.graphml"):
        read_network(d, format="csv")


def test_line_numbers_in_messages(tmp_path):
    p = _write(tmp_path / "w.csv", "source,target,weight\na,b,1\n\nb,c,x\n")
    with pytest.raises(GraphFormatError, match=r"w\.csv: line 4: column 'weight'"):
        read_network(p)
    j = _write(tmp_path / "j.json", '{"nodes":\n [1,\n }')
    with pytest.raises(GraphFormatError, match=r"j\.json: line 3, column"):
        read_network(j)
    x = _write(tmp_path / "x.graphml", "<graphml>\n<graph>\n</graphml>")
    with pytest.raises(GraphFormatError, match=r"x\.graphml: line 3, column"):
        read_network(x)


def test_node_table_errors(tmp_path):
    edges = _write(tmp_path / "e.csv", "source,target\na,b\nb,zz\n")
    nodes = _write(tmp_path / "n.csv", "id,size\na,1\nb,2\n")
    with pytest.raises(GraphFormatError, match=r"e\.csv: line 3: node 'zz' is not in the node table"):
        read_network(edges, nodes=nodes)
    dup = _write(tmp_path / "dup.csv", "id,size\na,1\nb,2\na,3\nzz,1\n")
    with pytest.raises(GraphFormatError, match=r"dup\.csv: line 4: duplicate id 'a'"):
        read_network(edges, nodes=dup)
    noid = _write(tmp_path / "noid.csv", "name,size\na,1\n")
    with pytest.raises(GraphFormatError, match=r"noid\.csv: line 1: .*'id' column"):
        read_network(edges, nodes=noid)
    with pytest.raises(GraphFormatError, match=r"nothere.csv"):
        read_network(edges, nodes=tmp_path / "nothere.csv")
    empty = _write(tmp_path / "empty_nodes.csv", "id,size\n")
    with pytest.raises(GraphFormatError, match=r"empty_nodes.csv"):
        read_network(edges, nodes=empty)
    ints = _write(tmp_path / "ints.csv", "id\n1\n2\n")
    e2 = _write(tmp_path / "e2.csv", "source,target\n1,2\n2,x\n")
    with pytest.raises(GraphFormatError, match=r"e2\.csv: line 3: node 'x'"):
        read_network(e2, nodes=ints)
    with pytest.raises(GraphFormatError, match="graphml"):
        read_network(tmp_path / "g.graphml", nodes=nodes)
    with pytest.raises(GraphFormatError, match="unknown graph format"):
        read_network(edges, format="xlsx")


def test_write_errors_and_atomicity(tmp_path):
    net = _net(False, True, None)
    with pytest.raises(GraphFormatError, match="nowhere"):
        write_network(net, tmp_path / "nowhere" / "g.graphml")
    with pytest.raises(GraphFormatError, match=r"g.xyz"):
        write_network(net, tmp_path / "g.xyz")
    target = tmp_path / "g.json"
    target.write_text("old")
    write_network(net, target)
    assert read_network(target).n == 7
    assert sorted(os.listdir(tmp_path)) == ["g.json"]


_edge_lists = st.lists(
    st.tuples(st.integers(0, 14), st.integers(0, 14), st.floats(0.1, 10, allow_nan=False)),
    min_size=1, max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edges=_edge_lists, directed=st.booleans(), fmt=st.sampled_from(FORMATS))
def test_random_edge_lists_round_trip(tmp_path, edges, directed, fmt):
    src, dst, w = (np.array(c) for c in zip(*edges, strict=True))
    keep = src != dst
    if not keep.any():
        return
    net = Network.from_edges(15, src, dst, w, directed=directed,
                             node_ids=[f"n{i}" for i in range(15)])
    path = tmp_path / f"h.{fmt}"
    nodes = tmp_path / "h_nodes.csv"
    write_network(net, path, **({"nodes": nodes} if fmt in ("csv", "tsv") else {}))
    back = read_network(path, **({"nodes": nodes, "directed": directed} if fmt in ("csv", "tsv") else {}))
    _same(net, back)


# ----------------------------------------------------------- hostile files
NODES_AB = '"nodes": [{"id": "a"}, {"id": "b"}]'
REFUSED = {
    # node-link JSON: networkx would merge the repeated node, create the undeclared one
    "dup.json": ('{"nodes": [{"id": 1}, {"id": 2}, {"id": 1}], "edges": [{"source": 1, "target": 2}]}',
                 r"nodes\[2\]: duplicate node id 1"),
    "undeclared.json": ('{' + NODES_AB + ', "edges": [{"source": "a", "target": "zz"}]}',
                        r"edges\[0\]: target 'zz' is not a declared node"),
    "undeclared_links.json": ('{' + NODES_AB + ', "links": [{"source": "q", "target": "a"}]}',
                              r"links\[0\]: source 'q' is not a declared node"),
    "listid.json": ('{"nodes": [{"id": [1]}], "edges": []}', r"nodes\[0\]: the id must be"),
    "noid.json": ('{"nodes": [{"name": 1}], "edges": []}', r"nodes\[0\]: not an object with an \"id\""),
    "nestedattr.json": ('{"nodes": [{"id": 1, "x": [[1]]}], "edges": []}', r"attribute 'x' is not a number"),
    "edgesobject.json": ('{' + NODES_AB + ', "edges": {"a": "b"}}', r"edges: must be a list"),
    "deep.json": ('{"nodes": [{"id": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}]}",
                  r"nested too deeply"),
    "deeptop.json": ("[" * 100_000 + "]" * 100_000, r"nested too deeply"),
    "dup.graphml": ('<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
                    '<graph edgedefault="undirected"><node id="a"/><node id="b"/><node id="a"/>'
                    '<edge source="a" target="b"/></graph></graphml>', r"duplicate node id 'a'"),
    "undeclared.graphml": ('<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
                           '<graph edgedefault="undirected"><node id="a"/><node id="b"/>'
                           '<edge source="a" target="c"/></graph></graphml>',
                           r"an edge joins 'c', which is not a declared node"),
    "dup.gexf": ('<?xml version="1.0"?><gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">'
                 '<graph defaultedgetype="undirected"><nodes><node id="0" label="0"/><node id="0" label="0"/>'
                 '</nodes><edges/></graph></gexf>', r"duplicate node id '0'"),
    "undeclared.gexf": ('<?xml version="1.0"?><gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">'
                        '<graph defaultedgetype="undirected"><nodes><node id="0" label="0"/></nodes>'
                        '<edges><edge id="0" source="0" target="9"/></edges></graph></gexf>',
                        r"an edge joins '9'"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_graph_files_are_refused_with_the_file_and_the_problem(tmp_path, name):
    text, message = REFUSED[name]
    path = _write(tmp_path / name, text)
    with pytest.raises(GraphFormatError, match=message) as info:
        read_network(path)
    assert str(info.value).startswith(f"{path}: ")
    assert len(str(info.value)) < len(str(path)) + 200


def test_graphml_edges_may_come_before_their_nodes(tmp_path):
    path = _write(tmp_path / "late.graphml",
                  '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
                  '<graph edgedefault="undirected"><edge source="a" target="b"/><node id="a"/><node id="b"/>'
                  '</graph></graphml>')
    assert read_network(path).number_of_edges == 1


SECRET = "root:$6$Sa1t$hashedpasswordvalue:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_a_file_that_is_not_an_edge_list_is_not_quoted(tmp_path, fmt):
    # `path = "/etc/shadow", format = "csv"` printed the password hashes as the header
    for text in (SECRET, "user,password\nbob,hunter2\n", "a,b\n1,2,hunter2\n", SECRET.replace(":", ",")):
        path = _write(tmp_path / "shadow", text)
        with pytest.raises(GraphFormatError) as info:
            read_network(path, format=fmt)
        msg = str(info.value)
        assert msg.startswith(f"{path}: ")
        for secret in ("root", "hashed", "daemon", "password", "hunter2", "19000", "bob"):
            assert secret not in msg.replace(str(path), "")
    nodes = _write(tmp_path / "nodes", SECRET)
    edges = _write(tmp_path / "e.csv", "source,target\na,b\n")
    with pytest.raises(GraphFormatError, match=r"nodes: line 1: the node table needs an? 'id' column") as info:
        read_network(edges, nodes=nodes)
    assert "root" not in str(info.value).replace(str(nodes), "")


def test_near_miss_column_is_named_and_offending_values_shortened(tmp_path):
    path = _write(tmp_path / "e.csv", "Source,target\na,b\n")
    with pytest.raises(GraphFormatError, match=r"needs a 'source' column, and its header row has none; is 'Source'"):
        read_network(path)
    long = "secret-" + "x" * 500
    path = _write(tmp_path / "w.csv", f"source,target,weight\na,b,{long}\n")
    with pytest.raises(GraphFormatError, match=r"line 2: column 'weight': 'secret-x+\.\.\. is not a number$"):
        read_network(path)
    node = '{"id": "' + long + '"}'
    path = _write(tmp_path / "d.json", '{"nodes": [' + node + ", " + node + "]}")
    with pytest.raises(GraphFormatError) as info:
        read_network(path)
    assert len(str(info.value)) < len(str(path)) + 100


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("fmt", ["csv", "json", "graphml"])
def test_devices_and_fifos_are_refused_without_reading(tmp_path, fmt):
    import threading

    fifo = tmp_path / f"pipe.{fmt}"
    os.mkfifo(fifo)  # no writer: opening it for reading would wait forever
    paths = [fifo] + [Path(p) for p in ("/dev/zero", "/dev/urandom") if os.path.exists(p)]
    outcome: dict = {}

    def read_all() -> None:
        outcome["errors"] = []
        for p in paths:
            try:
                read_network(p, format=fmt)
            except GraphFormatError as exc:
                outcome["errors"].append(str(exc))

    t = threading.Thread(target=read_all, daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "blocked on a FIFO or read a device"
    assert len(outcome["errors"]) == len(paths)
    for p, msg in zip(paths, outcome["errors"], strict=True):
        assert msg == f"{p}: is not a regular file (but a device, a pipe or a socket)"


@pytest.mark.parametrize("fmt", FORMATS)
def test_graph_files_larger_than_memory_are_refused_before_reading(tmp_path, fmt, monkeypatch):
    import diffusion.engine

    path = tmp_path / f"g.{fmt}"
    nodes = tmp_path / "n.csv" if fmt in ("csv", "tsv") else None
    write_network(_net(False, True, None), path, nodes=nodes)
    size = max(path.stat().st_size, nodes.stat().st_size if nodes else 0)
    monkeypatch.setattr(diffusion.engine, "available_memory", lambda: 1000)
    with pytest.raises(GraphFormatError, match=rf"^{path}: reading this [\d.]+ (bytes|kB) {fmt} file needs about "
                                                r"[\d.]+ kB of memory, but only 1 kB are available$"):
        read_network(path, nodes=nodes)
    monkeypatch.setattr(diffusion.engine, "available_memory", lambda: size * 100)
    assert read_network(path, nodes=nodes).n == 7
