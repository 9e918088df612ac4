"""Executors: identical results serially, on a process pool and on Dask; efficient pickling."""

from __future__ import annotations

import os
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import diffusion
from diffusion import parallel
from diffusion.errors import DiffusionError, ParameterError
from diffusion.parallel import DaskExecutor, ProcessExecutor, SerialExecutor, get_executor
from diffusion.scenario import parse_scenario, run_scenario


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def pool():
    with ProcessExecutor(workers=2) as ex:
        yield ex


@pytest.fixture(scope="module")
def dask_ex():
    pytest.importorskip("dask.distributed")  # the optional `dask` extra
    with DaskExecutor(workers=2, processes=False) as ex:
        yield ex


@pytest.fixture(scope="module")
def net():
    g = diffusion.generators.erdos_renyi(3000, mean_degree=5.0, seed=4)
    return g.with_attributes(size=np.linspace(1.0, 2.0, g.n))


def _result_bytes(res) -> dict[str, bytes]:
    out = {"adoption_step": res.adoption_step.tobytes(), "steps": res.steps.tobytes(),
           "counts": res.counts.tobytes(), "dtype": str(res.adoption_step.dtype).encode()}
    out.update({f"series.{k}": v.tobytes() for k, v in res.series.items()})
    out.update({f"outputs.{k}": v.tobytes() for k, v in res.outputs.items()})
    out["summary"] = repr(res.summary()).encode()
    return out


MODELS = [
    pytest.param(lambda: diffusion.LinearThreshold({"distribution": "uniform", "low": 0.1, "high": 0.3}),
                 id="threshold-random"),
    pytest.param(lambda: diffusion.IndependentCascade(0.2), id="cascade"),
]


# ----------------------------------------------------------------- identical results
@pytest.mark.parametrize("make_model", MODELS)
def test_simulation_identical_on_every_executor(net, pool, dask_ex, make_model):
    model = make_model()
    ref = diffusion.simulate(net, model, initial=3, runs=24, seed=99)
    expected = _result_bytes(ref)
    for ex in (SerialExecutor(), pool, dask_ex):
        for chunk_size in (None, 5):
            got = diffusion.simulate(net, model, initial=3, runs=24, seed=99, chunk_size=chunk_size,
                                     map_chunks=ex)
            assert _result_bytes(got) == expected, (ex, chunk_size)


SCENARIO = {
    "scenario": {"name": "executors", "seed": 5, "runs": 30},
    "network": {"generator": "erdos_renyi", "n": 2000, "mean_degree": 4.0},
    "cascade": {"model": "linear_threshold",
                "threshold": {"distribution": "normal", "mean": 0.18, "sd": 0.05},
                "initial": {"count": 2}},
}


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file()}


def test_scenario_files_identical_on_every_executor(tmp_path, pool, dask_ex):
    sc = parse_scenario(SCENARIO)
    run_scenario(sc).write(tmp_path / "default")
    expected = _files(tmp_path / "default")
    assert set(expected) >= {"summary.json", "runs.csv", "curve.csv"}
    for name, ex, chunk in (("serial", SerialExecutor(), 7), ("process", pool, None),
                            ("process7", pool, 7), ("dask", dask_ex, None), ("dask7", dask_ex, 7)):
        run_scenario(sc, map_chunks=ex, chunk_size=chunk).write(tmp_path / name)
        assert _files(tmp_path / name) == expected, name


def _cli(args: list[str]):
    from click.testing import CliRunner

    from diffusion.cli import main

    return CliRunner().invoke(main, args)


def test_cli_run_identical_serial_and_process(tmp_path, write_scenario):
    path = write_scenario()
    for ex in ("serial", "process"):
        res = _cli(["run", str(path), "--out", str(tmp_path / ex), "--quiet", "--no-plots",
                    "--executor", ex, "--workers", "2"])
        assert res.exit_code == 0, res.output
    assert _files(tmp_path / "serial") == _files(tmp_path / "process")


def test_large_shared_arguments_go_through_a_mapped_file(net, pool, monkeypatch):
    """Shared arguments above the inline limit are written once, memory-mapped, then removed."""
    monkeypatch.setattr(parallel, "_INLINE_BYTES", 0)
    made: list[str] = []
    real = parallel._Payload.__init__

    def spy(self, shared):
        real(self, shared)
        made.append(self.path)

    monkeypatch.setattr(parallel._Payload, "__init__", spy)
    model = diffusion.IndependentCascade(0.25)
    ref = diffusion.simulate(net, model, initial=2, runs=12, seed=3)
    got = diffusion.simulate(net, model, initial=2, runs=12, seed=3, chunk_size=3, map_chunks=pool)
    assert made and made[0] is not None
    assert not os.path.exists(made[0])  # removed when the call finished
    assert _result_bytes(got) == _result_bytes(ref)


def test_payload_round_trip_is_read_only_and_zero_copy(net, monkeypatch):
    monkeypatch.setattr(parallel, "_INLINE_BYTES", 0)
    payload = parallel._Payload((net, "x"))
    try:
        assert payload.path is not None and payload.data is None
        clone = pickle.loads(pickle.dumps(payload))  # what a worker receives
        assert len(pickle.dumps(payload)) < 1000  # the arrays stay in the file
        net2, tag = clone.load()
        assert tag == "x"
        assert np.array_equal(net2.indices, net.indices) and np.array_equal(net2.indptr, net.indptr)
        assert not net2.indices.flags.writeable and not net2.indices.flags.owndata
        assert np.array_equal(net2.attribute("size"), net.attribute("size"))
    finally:
        payload.cleanup()
    assert not os.path.exists(payload.path or "")


# ----------------------------------------------------------------- pickling
def test_network_pickles_only_its_defining_arrays():
    n = 20000
    rng = np.random.default_rng(0)
    src, dst = rng.integers(0, n, 100000), rng.integers(0, n, 100000)
    g = diffusion.Network.from_edges(n, src, dst, weights=rng.random(100000), directed=True,
                                     node_ids=[f"firm{i}" for i in range(n)],
                                     attributes={"sector": rng.integers(0, 5, n)})
    _ = g.reverse, g.in_degree, g.out_strength  # fill the caches
    arrays = (g.indptr.nbytes + g.indices.nbytes + g.weights.nbytes + g.node_ids.nbytes
              + g.attribute("sector").nbytes)
    blob = pickle.dumps(g, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(blob) < arrays * 1.02 + 4096  # no cached reverse graph, no per-element overhead
    h = pickle.loads(blob)
    assert h.n == g.n and h.directed and h.number_of_edges == g.number_of_edges
    for a, b in ((h.indptr, g.indptr), (h.indices, g.indices), (h.weights, g.weights),
                 (h.node_ids, g.node_ids), (h.attribute("sector"), g.attribute("sector"))):
        assert np.array_equal(a, b) and a.dtype == b.dtype and not a.flags.writeable
    assert np.array_equal(h.reverse.indices, g.reverse.indices)
    with pytest.raises(TypeError):
        h.attributes["x"] = 1  # still a read-only mapping


def test_models_and_their_context_pickle_compactly(net):
    """What every chunk task carries besides the network: the model and its prepared context."""
    for model in (diffusion.LinearThreshold(0.2), diffusion.IndependentCascade(0.1)):
        ctx = model.prepare(net)
        blob = pickle.dumps((model, ctx), protocol=5)
        arrays = sum(a.nbytes for a in _arrays((model, ctx)))
        assert len(blob) < arrays * 1.05 + 64_000, type(model).__name__
        m2, _ = pickle.loads(blob)
        assert type(m2) is type(model) and m2.params() == model.params()


def _arrays(obj, seen=None):
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return [obj]
    out = []
    children = []
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, list | tuple):
        children = list(obj)
    elif hasattr(obj, "__dict__"):
        children = list(vars(obj).values())
    elif hasattr(obj, "__slots__"):
        children = [getattr(obj, s, None) for s in obj.__slots__]
    for c in children:
        out += _arrays(c, seen)
    return out


def test_errors_survive_the_trip_back_from_a_worker(pool):
    with pytest.raises(ParameterError) as info:
        list(pool(_raise_parameter_error, [("cascade.threshold",), ("x",)]))
    assert info.value.name in ("cascade.threshold", "x")


def _raise_parameter_error(name: str) -> None:
    raise ParameterError(name, "boom")


# ----------------------------------------------------------------- construction
def test_get_executor_names_and_validation():
    with get_executor("serial") as ex:
        assert isinstance(ex, SerialExecutor) and ex.workers == 1
    ex = get_executor("process", workers=3)
    assert isinstance(ex, ProcessExecutor) and ex.workers == 3 and ex._pool is None  # lazy
    assert get_executor().workers == parallel.available_workers()
    with pytest.raises(ParameterError, match=r"^executor: must be one of serial, process, dask"):
        get_executor("threads")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ParameterError, match=r"^workers:"):
            get_executor("process", workers=bad)
    with pytest.raises(ParameterError, match=r"^scheduler:"):
        get_executor("process", scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ParameterError, match=r"^start_method:"):
        ProcessExecutor(start_method="fork")


def test_process_pool_is_shut_down_on_exit():
    with ProcessExecutor(workers=2) as ex:
        assert sorted(ex(pow, [(2, 5), (3, 3), (5, 2)])) == [25, 27, 32]
        pool = ex._pool
        assert pool is not None
    assert ex._pool is None
    with pytest.raises(RuntimeError):
        pool.submit(pow, 2, 2)


def test_unreachable_scheduler_fails_fast():
    pytest.importorskip("dask.distributed")
    start = time.monotonic()
    with pytest.raises(DiffusionError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:1"):
        with DaskExecutor(scheduler="tcp://127.0.0.1:1", timeout=1.0):
            pass
    assert time.monotonic() - start < 10
    with pytest.raises(ParameterError, match=r"^scheduler: invalid Dask scheduler address"):
        DaskExecutor(scheduler="nonsense:::").connect()


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_existing_cluster_by_address():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with get_executor("dask", scheduler=cluster.scheduler_address) as ex:
            assert ex.workers == 1
            assert sorted(ex(divmod, [(7, 2), (9, 4)])) == [(2, 1), (3, 1)]


def test_cli_unreachable_scheduler_exits_2(write_scenario, monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(parallel, "DASK_CONNECT_TIMEOUT", 1.0)
    start = time.monotonic()
    res = _cli(["run", str(write_scenario()), "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1",
               "--quiet"])
    assert res.exit_code == 2
    assert "cannot reach the Dask scheduler" in res.stderr and res.stderr.count("\n") == 1
    assert time.monotonic() - start < 15


class _Server:
    """A local TCP server in a thread: ``silent`` accepts and never speaks, ``http`` is
    :mod:`http.server`, ``eager`` answers every connection at once with an HTTP reply."""

    def __init__(self, kind: str) -> None:
        import socket
        import threading

        self.kind = kind
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list = []
        self.httpd = None
        if kind == "http":
            from http.server import BaseHTTPRequestHandler, HTTPServer

            class Quiet(BaseHTTPRequestHandler):
                def log_message(self, *args) -> None:
                    pass

            self.sock.close()
            self.httpd = HTTPServer(("127.0.0.1", 0), Quiet)
            self.address = f"tcp://127.0.0.1:{self.httpd.server_address[1]}"
            target = self.httpd.serve_forever
        else:
            target = self._serve
        threading.Thread(target=target, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.kind == "eager":
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            self.held.append(conn)

    def close(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        self.sock.close()
        for c in self.held:
            c.close()


@pytest.fixture(params=["silent", "http", "eager"])
def not_a_scheduler(request):
    pytest.importorskip("dask.distributed")
    server = _Server(request.param)
    yield server.address
    server.close()


def test_a_server_that_is_not_a_scheduler_fails_fast(not_a_scheduler):
    # a listener that never answers held the handshake for minutes; an HTTP reply was read as a
    # frame of exabytes (MemoryError)
    start = time.monotonic()
    with pytest.raises(DiffusionError, match=r"^scheduler: cannot reach the Dask scheduler at tcp://127"):
        DaskExecutor(scheduler=not_a_scheduler, timeout=1.0).connect()
    assert time.monotonic() - start < 4


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_cli_exits_2_when_the_scheduler_address_is_not_a_scheduler(not_a_scheduler, command, write_scenario,
                                                                    monkeypatch, tmp_path):
    monkeypatch.setattr(parallel, "DASK_CONNECT_TIMEOUT", 1.0)
    text = (Path(__file__).parent.parent / "scenarios" / "sweep_watts_window.toml").read_text() \
        if command == "sweep" else None
    path = write_scenario(text) if text else write_scenario()
    start = time.monotonic()
    res = _cli([command, str(path), "--out", str(tmp_path / "out"), "--executor", "dask",
                "--scheduler", not_a_scheduler])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: scheduler: cannot reach the Dask scheduler") and res.stderr.count("\n") == 1
    assert time.monotonic() - start < 8


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie has)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


_OWNER = """
import os, sys, time
sys.path.insert(0, {helper!r})
from owner_helper import pid
from diffusion.parallel import ProcessExecutor
ex = ProcessExecutor(workers=2, start_method={method!r})
pids = set()
while len(pids) < 2:  # until both workers have started
    pids |= set(ex(pid, [(i,) for i in range(8)]))
print(" ".join(map(str, sorted(pids))), flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
def test_pool_workers_exit_when_their_owner_is_killed(tmp_path, start_method):
    # the owner is killed with SIGKILL and left unreaped (a zombie, whose pid still answers a liveness
    # poll): its workers must exit within seconds all the same
    import signal
    import subprocess
    import sys

    if start_method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"no {start_method} here")
    (tmp_path / "owner_helper.py").write_text(
        "import os, time\n\n\ndef pid(i):\n    time.sleep(0.05)\n    return os.getpid()\n")
    script = _OWNER.format(helper=str(tmp_path), method=start_method)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=env)
    try:
        workers = [int(x) for x in owner.stdout.readline().split()]
        assert len(workers) == 2 and owner.pid not in workers
        assert not any(_gone(w) for w in workers)
        os.kill(owner.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not all(_gone(w) for w in workers):
            time.sleep(0.05)
        assert _gone(owner.pid)
        assert all(_gone(w) for w in workers), "pool workers outlived their owner"
    finally:
        owner.kill()
        owner.wait()
        owner.stdout.close()


def test_files_of_killed_processes_are_removed(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    names = [f"diffusion-{dead}-abc.pkl", f"diffusion-{os.getpid()}-def.pkl", "other-1-x.pkl",
             "diffusion-notapid-x.pkl"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    parallel._remove_orphans(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_cli_run_on_a_local_dask_cluster_of_processes(tmp_path, write_scenario):
    pytest.importorskip("dask.distributed")
    path = write_scenario()
    for ex in ("serial", "dask"):
        res = _cli(["run", str(path), "--out", str(tmp_path / ex), "--quiet", "--no-plots",
                    "--executor", ex, "--workers", "2"])
        assert res.exit_code == 0, res.output
    assert _files(tmp_path / "serial") == _files(tmp_path / "dask")


def _big(seed: int) -> tuple[int, np.ndarray]:
    return os.getpid(), np.random.default_rng(seed).random(1_000_000)  # 8 MB: through a file


def _spill_files(pids: set[int]) -> list[str]:
    dirs = {"/dev/shm", tempfile.gettempdir()}
    return [n for d in dirs if os.path.isdir(d) for n in os.listdir(d)
            if any(n.startswith(f"diffusion-{p}-") for p in pids)]


def test_large_results_come_back_through_files_that_are_removed(pool):
    out = sorted(pool(_big, [(1,), (2,), (3,)]), key=lambda r: r[1][0])
    expected = sorted((np.random.default_rng(s).random(1_000_000) for s in (1, 2, 3)), key=lambda a: a[0])
    for (_, got), want in zip(out, expected, strict=True):
        assert np.array_equal(got, want)
        got[0] = -1.0  # the caller owns its copy
    pids = {pid for pid, _ in out}
    assert not _spill_files(pids)
    # a consumer that stops early leaves no files behind either
    it = pool(_big, [(s,) for s in range(6)])
    pids.add(next(it)[0])
    it.close()
    # the abandoned tasks already handed to the workers finish and their files are removed then
    # (a CI run on a loaded machine once found a file left after 10 s)
    deadline = time.monotonic() + 60
    while _spill_files(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _spill_files(pids)


def _reductions(res) -> dict[str, bytes]:
    """Every reduction of a result (what summary mode keeps), as bytes."""
    out = {"counts": res.counts.tobytes(), "steps": res.steps.tobytes(),
           "adoption_probability": res.adoption_probability.tobytes(),
           "mean_adoption_step": res.mean_adoption_step.tobytes()}
    for o in res.declarations:
        if o.kind == "node_category":
            out[o.name] = res.frequencies(o.name).tobytes()
        elif o.kind == "node_value":
            out[o.name] = res.node_mean(o.name).tobytes()
        elif o.kind in ("run_value", "run_category"):
            out[o.name] = np.asarray(res.outputs[o.name]).tobytes()
        elif o.kind == "series":
            out[o.name] = np.asarray(res.series[o.name]).tobytes()
    return out


@pytest.mark.parametrize("name", sorted(diffusion.MODELS))
def test_streamed_reductions_identical_on_every_executor(name, pool, dask_ex):
    """keep="summary" reduces each chunk in the worker that ran it: the merged reductions are
    those of the run that kept every replicate, bit for bit, on every executor and chunking."""
    from diffusion.shocks import PlatformOutage, RandomFailures, ShockStage

    model = diffusion.MODELS[name]()
    net = diffusion.generators.smb_network(400, mean_degree=6, sectors=3, regions=2, seed=2)
    initial = 3 if model.requires_initial else None
    shock = PlatformOutage("dominant") if model.declare().role("holding") else RandomFailures(count=4)
    stage = ShockStage(shock, exposure={"loss_given_default": 0.5}, seed=11)
    kw = dict(initial=initial, runs=9, seed=5, max_steps=12, stages=[stage])
    expected = _reductions(diffusion.simulate(net, model, **kw))
    for ex in (SerialExecutor(), pool, dask_ex):
        for chunk_size in (None, 2):
            got = diffusion.simulate(net, model, keep="summary", chunk_size=chunk_size, map_chunks=ex, **kw)
            assert _reductions(got) == expected, (name, ex, chunk_size)
