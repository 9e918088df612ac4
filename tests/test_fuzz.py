"""Fuzzing the command line with hostile scenario files and graph files.

Every case runs ``diffusion`` in a child process whose address space is limited
(:data:`MEMORY`) and is given at most :data:`SECONDS` to answer, and must end in
exit status 0 or 2 — never 1 (an unexpected error), never a signal, never a
hang or a runaway allocation — and, on exit 2, with one line that names the
scenario file or the graph file. A message quotes nothing of a graph file but
an offending value (:data:`SECRET` planted in the files never shows).

To keep this fast, one child answers every case of a module (it runs the
command line in-process, one case after another, and is restarted if a case
kills it or runs out of time); hypothesis draws the cases (a derandomized
sequence in CI, see ``conftest.py``), and the inputs reported in the issue on
hostile input are fixed examples.
"""

from __future__ import annotations

import copy
import json
import math
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import diffusion
from diffusion.readwrite import write_network

tomli_w = pytest.importorskip("tomli_w")

#: Address space of the child that runs the cases (bytes).
MEMORY = 3 * 2**30
#: Seconds a case may take (a cheap case takes well under one).
SECONDS = 60.0
#: Planted in graph files: an error message may quote a shortened value, never this whole.
SECRET = "SECRET-" + "k3y" * 20

_WORKER = r"""
import contextlib, io, json, os, resource, sys, time, traceback
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
from diffusion.cli import main
out = os.fdopen({fd}, "w")
for line in sys.stdin:
    case = json.loads(line)
    os.chdir(case["cwd"])
    err, std = io.StringIO(), io.StringIO()
    start = time.monotonic()
    code = 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        try:
            main(case["args"], prog_name="diffusion")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            code = 1
            err.write(traceback.format_exc())
    out.write(json.dumps({{"code": code, "stderr": err.getvalue(), "seconds": time.monotonic() - start}}) + "\n")
    out.flush()
"""


class Worker:
    """A child process that runs ``diffusion ARGS`` cases under a memory limit, one after another."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.reader = -1

    def start(self) -> None:
        r, w = os.pipe()
        env = {**os.environ, "PYTHONPATH": str(Path(diffusion.__file__).parents[1])}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER.format(memory=MEMORY, fd=w)], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, env=env, pass_fds=(w,))
        os.close(w)
        self.reader = r
        self.buffer = b""

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdin.close()  # type: ignore[union-attr]
            os.close(self.reader)
            self.proc = None

    def run(self, args: list[str], cwd: Path) -> dict[str, Any]:
        """Exit status, stderr and duration of one case; a signal or a timeout is a failure."""
        if self.proc is None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"args": [str(a) for a in args], "cwd": str(cwd)}) + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + SECONDS
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.reader], [], [], max(left, 0))
            if not ready:
                self.stop()
                pytest.fail(f"diffusion {' '.join(map(str, args))}: no answer within {SECONDS:g} s")
            chunk = os.read(self.reader, 1 << 16)
            if not chunk:
                code = self.proc.wait()
                self.stop()
                pytest.fail(f"diffusion {' '.join(map(str, args))}: the process died (status {code})")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    w.start()
    yield w
    w.stop()


def check(result: dict[str, Any], names: list[Path], args: list[str]) -> None:
    """Exit 0 or 2; on 2, one line naming one of ``names``; nothing of a file beyond a value."""
    code, err = result["code"], result["stderr"]
    what = f"diffusion {' '.join(map(str, args))} -> {code}: {err[-2000:]}"
    assert code in (0, 2), what
    assert SECRET not in err, what
    if code == 2:
        line = err.strip()
        assert "\n" not in line and line.startswith("error: "), what
        assert "Traceback" not in err and "error: unexpected " not in err, what  # the CLI's words for an uncaught exception
        assert any(str(p) in line for p in names), what
        assert len(line) < 1500, what


# ----------------------------------------------------------------- scenario bases
BASES: dict[str, dict[str, Any]] = {
    "threshold": {
        "scenario": {"name": "fz", "seed": 3, "runs": 3},
        "network": {"generator": "erdos_renyi", "n": 60, "mean_degree": 4.0},
        "cascade": {"model": "linear_threshold", "threshold": 0.2, "initial": {"count": 2}},
    },
    "cascade": {
        "scenario": {"name": "fz", "seed": 3, "runs": 3},
        "network": {"generator": "smb", "n": 80, "weighted": True, "sectors": 3, "regions": 2},
        "cascade": {"model": "independent_cascade", "probability": 0.1, "initial": {"count": 2}},
    },
    "platform": {
        "scenario": {"name": "fz", "seed": 3, "runs": 3, "max_steps": 5},
        "network": {"generator": "smb", "n": 80},
        "cascade": {"model": "platform_competition", "platforms": ["A", "B"], "revision_rate": 0.5},
        "shock": {"type": "platform_outage"},
    },
    "isomorphic": {
        "scenario": {"name": "fz", "seed": 3, "runs": 3, "max_steps": 20},
        "network": {"generator": "barabasi_albert", "n": 60, "m": 2},
        "cascade": {"model": "isomorphic", "external": 0.05, "mimetic": 0.5},
    },
}

#: Keys a mutation may set besides those of the base (present in some model or generator).
EXTRA_KEYS = [
    ("scenario", "seed"), ("scenario", "runs"), ("scenario", "max_steps"), ("scenario", "name"),
    ("network", "n"), ("network", "mean_degree"), ("network", "p"), ("network", "weight_sd"),
    ("network", "size_log_mean"), ("network", "size_log_sd"), ("network", "directed"),
    ("cascade", "threshold"), ("cascade", "rule"), ("cascade", "revision_rate"), ("cascade", "noise"),
    ("cascade", "fit_sd"), ("cascade", "initial"), ("shock", "level"), ("shock", "platform"),
    ("shock", "capacity"), ("shock", "nodes"), ("unknown", "key"),
]

HOSTILE: list[Any] = [
    math.nan, math.inf, -math.inf, -1, 0, 1, -0.0, 5e-324, 1e-300, 1e-20, 1e300, 10**30, 2**63, -(2**63),
    1.5, "", "x", "watts\n", "a" * 300, "../../etc", True, [], {}, [[1]], [1, [2]], ["A", "A"],
    {"count": 10**30}, {"nodes": [[1]]}, {"distribution": "constant", "value": 2.0},
    {"distribution": "uniform", "low": -1e308, "high": 1e308}, {"distribution": "normal", "mean": 0.5, "sd": 1e300},
    {"distribution": "lognormal", "mean": 1e300}, {"distribution": "zipf"},
    json.loads("[" * 40 + "]" * 40),
]

COMMANDS = [["validate"], ["validate", "--build"], ["run", "-e", "serial", "-q", "--no-plots", "--out", "out"]]


def _leaves(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(data, dict) and data:
        return [leaf for k, v in data.items() for leaf in _leaves(v, (*prefix, k))]
    return [prefix]


@st.composite
def scenario_texts(draw: Any) -> tuple[str, list[str]]:
    """A TOML text (a base with one to three values made hostile, or mangled text) and a command."""
    name = draw(st.sampled_from(sorted(BASES)))
    data = copy.deepcopy(BASES[name])
    keys = sorted(set(_leaves(data)) | set(EXTRA_KEYS))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(keys))
        node = data
        for k in where[:-1]:
            if not isinstance(node.get(k), dict):
                node[k] = {}
            node = node[k]
        if draw(st.integers(0, 9)) == 0:
            node.pop(where[-1], None)
        else:
            # a copy: a later mutation may go into it (a shared value could come to contain itself)
            node[where[-1]] = copy.deepcopy(draw(st.sampled_from(HOSTILE)))
    text = tomli_w.dumps(data)
    mangle = draw(st.integers(0, 9))
    if mangle == 0:  # cut anywhere
        text = text[: draw(st.integers(0, len(text)))]
    elif mangle == 1:  # a stray line
        lines = text.splitlines()
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, draw(st.sampled_from(["= 1", "[scenario]", "x = [", '"\\u0000" = 1', "a.b.c = {", "\x00"])))
        text = "\n".join(lines)
    return text, draw(st.sampled_from(COMMANDS))


def _case(worker: Worker, tmp: Path, text: str | bytes, args: list[str], extra: list[Path] = ()) -> dict:
    path = tmp / "s.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    full = [*args[:1], *args[1:], str(path)] if args[0] != "run" else ["run", str(path), *args[1:]]
    res = worker.run(full, tmp)
    check(res, [path, *extra], full)
    return res


def _fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("case")


# ----------------------------------------------------------------- fixed examples from the issue
def _toml(base: str, **tables: dict[str, Any]) -> str:
    data = copy.deepcopy(BASES[base])
    for table, changes in tables.items():
        for k, v in changes.items():
            if v is None:
                data.setdefault(table, {}).pop(k, None)
            else:
                data.setdefault(table, {})[k] = v
    return tomli_w.dumps(data)


RUN = COMMANDS[2]
ISSUE_SCENARIOS = [
    # (id, text, command, expected exit)
    ("platform-revision-1e-20", _toml("platform", cascade={"revision_rate": 1e-20}), RUN, 0),
    ("platform-revision-5e-324", _toml("platform", cascade={"revision_rate": 5e-324}), RUN, 0),
    ("er-mean-degree-1e-300", _toml("threshold", network={"n": 100_000, "mean_degree": 1e-300}),
     ["validate", "--build"], 0),
    ("smb-weight-sd-1e300", _toml("cascade", network={"weight_sd": 1e300}), ["validate", "--build"], 2),
    ("smb-size-log-mean-1e6", _toml("cascade", network={"size_log_mean": 1e6}), RUN, 2),
    ("threshold-constant-2", _toml("threshold", cascade={"threshold": {"distribution": "constant", "value": 2.0}}),
     ["validate"], 2),
    ("seed-negative", _toml("threshold", scenario={"seed": -1}), RUN, 2),
    ("name-newline", _toml("threshold", scenario={"name": "watts\n"}), RUN, 2),
    ("initial-nodes-nested", _toml("threshold", cascade={"initial": {"nodes": [[1]]}}), ["validate"], 2),
    ("n-negative", _toml("threshold", network={"n": -1}), ["validate"], 2),
    ("p-1.5", _toml("threshold", network={"p": 1.5, "mean_degree": None}), ["validate"], 2),
    ("mean-degree-nan", _toml("threshold", network={"mean_degree": math.nan}), ["validate"], 2),
    ("shock-platform-name", _toml("platform", shock={"platform": "Z"}), RUN, 2),
    ("shock-platform-index", _toml("platform", shock={"platform": 3}), ["validate", "--build"], 2),
    ("shock-capacity-attribute", _toml("platform", shock={"capacity": "buffer"}), RUN, 2),
    ("shock-value-attribute", _toml("platform", shock={"value": "turnover"}), ["validate", "--build"], 2),
    ("shock-level-nan", _toml("platform", shock={"level": math.nan}), ["validate"], 2),
    ("shock-nodes-unknown", _toml("platform", shock={"type": "nodes", "nodes": [1, 99999]}), RUN, 2),
    ("smb-n-1e12", _toml("cascade", network={"n": 10**12}), ["validate"], 2),
    ("complete-1e6", _toml("threshold", network={"generator": "complete", "n": 10**6, "mean_degree": None}),
     ["validate", "--build"], 2),
    ("er-n-1e9", _toml("threshold", network={"n": 10**9}), RUN, 2),
    ("smb-200k-platform-shock", _toml("platform", scenario={"runs": 600, "max_steps": None},
                                      network={"n": 200_000}), ["validate"], 0),
]
ISSUE_TEXTS = [
    ("toml-arrays-5000-deep", _toml("threshold").replace("threshold = 0.2", "threshold = " + "[" * 5000 + "]" * 5000),
     ["validate"], 2),
    ("toml-tables-3000-deep", _toml("threshold").replace("threshold = 0.2", "threshold = " + "{a = " * 3000 + "1"
                                                         + "}" * 3000), ["validate"], 2),
    ("sweep-10k-by-10k", _toml("threshold") + '\n[sweep]\n"cascade.threshold" = [' + ", ".join(["0.1"] * 10_000)
     + ']\n"network.n" = [' + ", ".join(["100"] * 10_000) + "]\n", ["validate"], 2),
]


@pytest.mark.parametrize(("text", "args", "expected"), [c[1:] for c in ISSUE_SCENARIOS + ISSUE_TEXTS],
                         ids=[c[0] for c in ISSUE_SCENARIOS + ISSUE_TEXTS])
def test_issue_inputs(worker, tmp_path, text, args, expected):
    res = _case(worker, tmp_path, text, args)
    assert res["code"] == expected, res["stderr"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_issue_scenario_paths_that_are_not_files(worker, tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/zero")):
        if target.exists():
            res = worker.run(["validate", str(target)], tmp_path)
            check(res, [target], ["validate", str(target)])
            assert res["code"] == 2


# ----------------------------------------------------------------- hypothesis: scenario files
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(case=scenario_texts())
def test_fuzzed_scenarios(worker, tmp_path_factory, case):
    text, args = case
    _case(worker, _fresh(tmp_path_factory), text, args)


# ----------------------------------------------------------------- graph files
def _valid_graph(fmt: str, directory: Path) -> bytes:
    net = diffusion.generators.erdos_renyi(12, mean_degree=3, seed=1)
    net = diffusion.Network(net.indptr, net.indices, weights=[1.0] * net.nnz, node_ids=[f"n{i}" for i in range(12)],
                            attributes={"size": [float(i) for i in range(12)]})
    path = directory / f"valid.{fmt}"
    write_network(net, path, nodes=directory / "valid.nodes.csv" if fmt in ("csv", "tsv") else None)
    return path.read_bytes()


GRAPH_TOKENS = ["nan", "inf", "-inf", "1e999", "-1", "0", "", "x", SECRET, '"', "\x00", "\udcff", "1" * 400,
                "n0", "n99", "🙂", "{", "[", "<", "&lol;"]


@st.composite
def graph_files(draw: Any) -> tuple[str, bytes]:
    """A graph file of some format: a valid one mutated at the text or the structure level."""
    fmt = draw(st.sampled_from(["csv", "tsv", "json", "graphml", "gexf"]))
    data = draw(st.sampled_from(sorted(VALID[fmt])))
    text = VALID[fmt][data].decode()
    kind = draw(st.integers(0, 5))
    if kind == 0:  # cut anywhere
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == 1:  # a token replaced or inserted
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(GRAPH_TOKENS)) + text[at + draw(st.integers(0, 3)):]
    elif kind == 2 and fmt == "json":  # structure: repeated or undeclared nodes, odd values
        obj = json.loads(text)
        edges = "edges" if "edges" in obj else "links"
        change = draw(st.integers(0, 4))
        if change == 0:
            obj["nodes"].append(dict(obj["nodes"][0]))
        elif change == 1:
            obj[edges].append({"source": "n0", "target": draw(st.sampled_from(["zz", SECRET, 7, None]))})
        elif change == 2:
            obj["nodes"][0]["id"] = draw(st.sampled_from([[1], {"a": 1}, None, True, SECRET * 3]))
        elif change == 3:
            obj["nodes"][1]["size"] = json.loads("[" * 30 + "]" * 30)
        else:
            obj[edges][0]["weight"] = draw(st.sampled_from([-1, 1e308, "heavy", None, [1]]))
        text = json.dumps(obj)
    elif kind == 3:  # lines repeated or swapped
        lines = text.splitlines()
        if len(lines) > 2:
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines.insert(j, lines[i])
        text = "\n".join(lines)
    elif kind == 4:  # deep nesting
        depth = draw(st.sampled_from([50, 5000, 100_000]))
        text = (json.dumps({"nodes": [{"id": 1, "x": "@"}], "edges": []}).replace('"@"', "[" * depth + "]" * depth)
                if fmt == "json" else text.replace("<graph ", "<x>" * depth + "<graph ", 1) if "<graph " in text
                else text + "\n" + "a," * depth)
    raw = text.encode("utf-8", "surrogateescape")
    if draw(st.integers(0, 9)) == 0:
        raw = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\x00" * 8])) + raw
    return fmt, raw


def _graph_dir() -> dict[str, dict[str, bytes]]:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        out = {fmt: {"plain": _valid_graph(fmt, Path(d))} for fmt in ("csv", "tsv", "json", "graphml", "gexf")}
    out["csv"]["shadow"] = b"root:$6$" + SECRET.encode() + b":19000:0:99999:7:::\ndaemon:*:19000::\n"
    out["json"]["links"] = b'{"nodes": [{"id": "n0"}, {"id": "n1"}], "links": [{"source": "n0", "target": "n1"}]}'
    return out


VALID = _graph_dir()


def _graph_case(worker: Worker, tmp: Path, fmt: str, raw: bytes, args: list[str], declare: bool) -> dict:
    graph = tmp / f"g.{fmt}"
    graph.write_bytes(raw)
    network = {"generator": "file", "path": str(graph)}
    if declare:
        network["format"] = fmt
    data = {"scenario": {"name": "g", "seed": 1, "runs": 2},
            "network": network,
            "cascade": {"model": "linear_threshold", "threshold": 0.3, "initial": {"count": 1}}}
    return _case(worker, tmp, tomli_w.dumps(data), args, extra=[graph])


ISSUE_GRAPHS = [
    ("json-nested-100000", "json", b'{"nodes": [{"id": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}", 2),
    ("json-duplicate-ids", "json", b'{"nodes": [{"id": 1}, {"id": 1}, {"id": 2}], "edges": '
                                   b'[{"source": 1, "target": 2}]}', 2),
    ("json-undeclared-node", "json", b'{"nodes": [{"id": 1}, {"id": 2}], "edges": [{"source": 1, "target": 3}]}', 2),
    ("shadow-as-csv", "csv", VALID["csv"]["shadow"], 2),
    ("graphml-duplicate-ids", "graphml", b'<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/'
                                         b'xmlns"><graph edgedefault="undirected"><node id="a"/><node id="a"/>'
                                         b'<node id="b"/><edge source="a" target="b"/></graph></graphml>', 2),
    ("valid-json", "json", VALID["json"]["plain"], 0),
]


@pytest.mark.parametrize(("fmt", "raw", "expected"), [c[1:] for c in ISSUE_GRAPHS], ids=[c[0] for c in ISSUE_GRAPHS])
def test_issue_graph_files(worker, tmp_path, fmt, raw, expected):
    res = _graph_case(worker, tmp_path, fmt, raw, ["validate", "--build"], declare=True)
    assert res["code"] == expected, res["stderr"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(graph=graph_files(), args=st.sampled_from(COMMANDS[1:]), declare=st.booleans())
@example(graph=("json", b'{"nodes": [{"id": 1, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}]}"),
         args=["validate", "--build"], declare=False)
def test_fuzzed_graph_files(worker, tmp_path_factory, graph, args, declare):
    fmt, raw = graph
    _graph_case(worker, _fresh(tmp_path_factory), fmt, raw, args, declare)


def test_the_harness_sees_exit_statuses_and_failures(worker, tmp_path):
    assert worker.run(["--version"], tmp_path)["code"] == 0
    res = worker.run(["validate", str(tmp_path / "missing.toml")], tmp_path)
    assert res["code"] == 2 and "missing.toml" in res["stderr"]
    with pytest.raises(AssertionError):  # an unexpected error (exit 1) fails a case
        check({"code": 1, "stderr": "error: unexpected MemoryError\n", "seconds": 0.1}, [tmp_path], ["run"])
    with pytest.raises(AssertionError):  # so does a message that names no file
        check({"code": 2, "stderr": "error: something\n", "seconds": 0.1}, [tmp_path / "s.toml"], ["run"])
