"""Benchmark the cascade engine against NDlib, cynetdiff and EoN, in one run.

Usage::

    python benchmarks/run.py            # Barabási–Albert n = 100,000, m = 5; 1,000,000-firm SMB graph
    python benchmarks/run.py --quick    # small graphs, under a minute
    python benchmarks/run.py --full     # more repeats and more peer cascades
    python benchmarks/run.py --crit-sample 2048   # DebtRank criticality scaled from 2,048 firms
    python benchmarks/run.py --json results.json

Every workload runs on the same graph and the same initial adopters (1 % of
the nodes, fixed) for this package and each peer. Times are *per cascade*:
an ensemble of ``--runs`` replicates divided by ``--runs`` for this package,
repeated cascades on one prepared model for the peers. Graph building, model
construction and numba compilation are timed separately (never inside the
timed region) and every figure is the best of ``--repeat`` measurements, so
that other load on the machine inflates it as little as possible.

Workloads and targets
---------------------
* linear threshold, θ = 0.1 (fixed): ≥ 100× NDlib ``ThresholdModel`` per
  cascade; also shown against cynetdiff (fixed thresholds through its private
  ``_assign_thresholds`` after each reset).
* linear threshold, θ ~ Uniform(0, 1) drawn per node and cascade: ≥ 10×
  cynetdiff ``LinearThresholdModel`` (which re-draws thresholds after every
  reset; its influence is 1/in-degree, i.e. the fraction rule).
* independent cascade, p = 0.01: ≥ 1× cynetdiff ``IndependentCascadeModel``;
  NDlib ``IndependentCascadesModel`` and EoN ``basic_discrete_SIR`` shown.
* edge visits per second of the θ = 0.1 ensemble (every replicate visits every
  out-arc of each of its adopters) against a STREAM triad measured in the same
  run: ≥ 1/4 of the arc visits per second that the bandwidth allows for the
  4-byte index array.
* a 1,000,000-firm, ~10,000,000-edge ``smb_network`` built and a 100-replicate
  threshold ensemble run on it in < 60 s with peak memory < 4 GB (in a child
  process, so that its peak resident memory is its own).
* ``shocks.criticality`` (one single-firm shock per firm, propagated) of every
  firm of a 100,000-firm ``smb_network`` (mean degree 8, default exposure), on
  two threads, in < 60 s for the threshold rule and single-hit DebtRank, every
  firm timed (DebtRank takes minutes; ``--crit-sample 2048`` times 2,048 firms,
  batched as in a full run in 32 batches spread over the batching order, and
  scales their time to all firms).
* threshold workloads with random initial adopters (1 %, drawn anew per
  replicate: ``initial=0.01``; a new seed set per peer cascade, drawn
  beforehand), θ = 0.1 and uniform θ: ≥ 100× NDlib and ≥ 10× cynetdiff.
* small cascades on a big graph: Barabási–Albert n = 1,000,000, m = 5, IC
  p = 0.01 from 10 fixed seeds (about 12 nodes reached), this package in
  summary mode (1,000 and 10,000 replicates per call) against cynetdiff built
  on the same CSR arrays: ≥ 0.5× cynetdiff per cascade (goal ≥ 1×), at
  10,000 replicates per call.
* ensemble scaling, summary mode, 100 / 1,000 / 5,000 / 10,000 replicates of
  IC p = 0.01 and LT θ = 0.1 on the 100,000-node graph, one child process per
  point: per-cascade time at 5,000 within 1.3× of that at 100; peak memory
  above the 100-replicate point's by at most twice the bytes the result keeps
  per replicate (curves, steps, run outputs) plus 64 MB.
* ``diffusion run`` of a 500,000-firm Erdős–Rényi scenario (mean degree 4, IC
  p = 0.2, 1 % initial adopters), 20,000 replicates, in a child: the peak of
  the process tree's summed resident memory (sampled) < 2.5 GB; wall time.
* national scale: ``smb_network(10_000_000, mean_degree=20)`` built and a
  100-replicate threshold ensemble in summary mode, in a child (about 14 GB;
  default mode only, last, or ``--national``): goal < 2 min, < 12 GB.
* the package's own models (no peer has them) on a 100,000-firm ``smb_network``:
  a 100-replicate, 50-step platform competition "in seconds" (< 10 s), an
  isomorphic-adoption ensemble, and the outage of the dominant platform
  propagated along the firms' ties (threshold default cascade).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import diffusion
from diffusion import IndependentCascade, LinearThreshold, simulate

UNIFORM = {"distribution": "uniform", "low": 0.0, "high": 1.0}


# ------------------------------------------------------------------ timing
#: Clock of the single-process timings: wall time, or (``--clock cpu``, for a busy machine)
#: the process's CPU time. Multi-threaded timings always use wall time.
CLOCK: Callable[[], float] = time.perf_counter


def best_of(fn: Callable[[], Any], repeat: int, clock: Callable[[], float] | None = None) -> tuple[float, Any]:
    """Smallest time of ``repeat`` calls of ``fn`` (garbage collected before each), and its last result."""
    return alternately([fn], repeat, clock)[0]


def alternately(fns: Sequence[Callable[[], Any]], repeat: int,
                clock: Callable[[], float] | None = None) -> list[tuple[float, Any]]:
    """Smallest time of each of ``fns`` over ``repeat`` rounds that call them in turn, and its last result.

    A same-run ratio is timed this way: on a shared machine whose speed drifts
    by a third within an hour, timing one implementation minutes after the
    other moves the ratio by as much, while a drift between two alternating
    calls moves both.
    """
    clock = clock or CLOCK
    best = [float("inf")] * len(fns)
    outs: list[Any] = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            outs[i] = None  # the last result is let go before the next call (its memory too)
            gc.collect()
            t = clock()
            outs[i] = fn()
            best[i] = min(best[i], clock() - t)
    return list(zip(best, outs, strict=True))


def stream_triad_bandwidth(n_elements: int, repeat: int) -> dict[str, float]:
    """STREAM triad ``a = b + s c`` (float64; 24 bytes per element), 1 and all threads, bytes/s."""
    from numba import njit, prange

    @njit(cache=True, nogil=True)
    def triad(a, b, c, s):  # pragma: no cover - compiled
        for i in range(a.shape[0]):
            a[i] = b[i] + s * c[i]

    @njit(cache=True, parallel=True)
    def triad_parallel(a, b, c, s):  # pragma: no cover - compiled
        for i in prange(a.shape[0]):
            a[i] = b[i] + s * c[i]

    a = np.zeros(n_elements)
    b = np.ones(n_elements)
    c = np.full(n_elements, 2.0)
    out = {}
    for name, f in (("1 thread", triad), ("all threads", triad_parallel)):
        f(a, b, c, 3.0)
        t, _ = best_of(lambda f=f: f(a, b, c, 3.0), repeat, time.perf_counter)
        out[name] = 24 * n_elements / t
    return out


def random_row_reads(table_bytes: int, reads: int, repeat: int) -> dict[str, float]:
    """Seconds per random 64-byte row read from a float64 table of ``table_bytes``.

    One thread alone, then two threads at once, each on a table of its own
    (as the two threads of ``shocks.criticality`` each sum from their own
    8-lane table). The reads are independent, so the figure is what the
    memory system delivers, not one read's latency; it moves with the
    machine and with what else shares its last-level cache, and puts the
    DebtRank criticality timing of the same run in context.
    """
    from concurrent.futures import ThreadPoolExecutor

    from numba import njit

    @njit(cache=True, nogil=True)
    def rows(T, idx):  # pragma: no cover - compiled
        s0 = s1 = s2 = s3 = 0.0
        for a in range(0, idx.shape[0] - 3, 4):
            s0 += T[idx[a], 0]
            s1 += T[idx[a + 1], 0]
            s2 += T[idx[a + 2], 0]
            s3 += T[idx[a + 3], 0]
        return s0 + s1 + s2 + s3

    m = max(1, table_bytes // 64)
    rng = np.random.default_rng(0)
    tables = [rng.random((m, 8)) for _ in range(2)]
    idx = [rng.integers(0, m, reads).astype(np.int32) for _ in range(2)]
    rows(tables[0], idx[0][:64])
    out = {}
    t, _ = best_of(lambda: rows(tables[0], idx[0]), repeat, time.perf_counter)
    out["1 thread"] = t / reads
    with ThreadPoolExecutor(2) as pool:
        t, _ = best_of(lambda: list(pool.map(rows, tables, idx)), repeat, time.perf_counter)
    out["2 threads at once"] = t / reads
    return out


# ------------------------------------------------------------------ peers
def ndlib_threshold(G: Any, theta: float, seeds: list[int] | list[list[int]],
                    cascades: int) -> tuple[float, float, int]:
    """(setup seconds, best seconds per cascade, final count) of NDlib's ThresholdModel.

    ``seeds`` is one seed list for every cascade, or one list per cascade (cascade ``k``
    uses ``seeds[k % len(seeds)]``); the model is built and seeded outside the timed region.
    """
    import ndlib.models.epidemics as ep
    import ndlib.models.ModelConfig as mc

    sets = seeds if seeds and isinstance(seeds[0], list) else [seeds]
    times, setup, size = [], 0.0, 0
    for k in range(cascades):
        t = time.perf_counter()
        model = ep.ThresholdModel(G, seed=0)
        cfg = mc.Configuration()
        cfg.add_model_initial_configuration("Infected", sets[k % len(sets)])
        for v in G.nodes():
            cfg.add_node_configuration("threshold", v, theta)
        model.set_initial_status(cfg)
        setup = time.perf_counter() - t
        t = CLOCK()
        while True:
            it = model.iteration(node_status=False)
            if it["iteration"] > 0 and it["status_delta"][1] == 0:
                break
        times.append(CLOCK() - t)
        size = it["node_count"][1]
    return setup, min(times), size


def ndlib_ic(G: Any, p: float, seeds: list[int], cascades: int) -> tuple[float, float, float]:
    import ndlib.models.epidemics as ep
    import ndlib.models.ModelConfig as mc

    times, setup, sizes = [], 0.0, []
    for r in range(cascades):
        t = time.perf_counter()
        model = ep.IndependentCascadesModel(G, seed=r)
        cfg = mc.Configuration()
        cfg.add_model_initial_configuration("Infected", seeds)
        for e in G.edges():
            cfg.add_edge_configuration("threshold", e, p)
        model.set_initial_status(cfg)
        setup = time.perf_counter() - t
        t = CLOCK()
        while True:
            it = model.iteration(node_status=False)
            if it["iteration"] > 0 and it["node_count"][1] == 0:
                break
        times.append(CLOCK() - t)
        sizes.append(it["node_count"][2])
    return setup, min(times), float(np.mean(sizes))


def cynetdiff_repeat(model: Any, cascades: int, repeat: int,
                     before: Callable[[], None] | None = None,
                     ours: Callable[[], float] | None = None) -> tuple[float, float, float | None]:
    """Best seconds per cascade of ``reset_model(); advance_until_completion()``, mean size, and
    (``ours``: one call of this package, returning its number of cascades) the best seconds per
    cascade of ``ours``, timed :func:`alternately` with cynetdiff."""
    sizes: list[int] = []

    def run() -> None:
        for _ in range(cascades):
            model.reset_model()
            if before is not None:
                before()
            model.advance_until_completion()
            sizes.append(model.get_num_activated_nodes())

    per, t_ours = _with_ours(run, cascades, repeat, ours)
    return per, float(np.mean(sizes)), t_ours


def cynetdiff_seed_sets(model: Any, seed_sets: list[list[int]], repeat: int,
                        before: Callable[[], None] | None = None,
                        ours: Callable[[], float] | None = None) -> tuple[float, float, float | None]:
    """Best seconds per cascade of ``set_seeds(new set); advance_until_completion()``, mean size, and
    that of ``ours`` timed alternately (as :func:`cynetdiff_repeat`).

    The seed sets are drawn (and mapped to cynetdiff's labels) beforehand; ``set_seeds``, which
    also resets the model, is the only way to change them, so it is inside the timed region.
    """
    sizes: list[int] = []

    def run() -> None:
        for seeds in seed_sets:
            model.set_seeds(seeds)
            if before is not None:
                before()
            model.advance_until_completion()
            sizes.append(model.get_num_activated_nodes())

    per, t_ours = _with_ours(run, len(seed_sets), repeat, ours)
    return per, float(np.mean(sizes)), t_ours


def _with_ours(run: Callable[[], None], cascades: int, repeat: int,
               ours: Callable[[], float] | None) -> tuple[float, float | None]:
    """Best seconds per cascade of a peer's ``run`` and, if given, of ``ours``, alternated."""
    if ours is None:
        t, _ = best_of(run, repeat)
        return t / cascades, None
    (t, _), (t_ours, k) = alternately([run, ours], repeat)
    return t / cascades, t_ours / k


def cynetdiff_ic_from_csr(net: Any, p: float, rng: int) -> Any:
    """cynetdiff ``IndependentCascadeModel`` on the package's CSR arrays (no networkx copy)."""
    from array import array

    from cynetdiff.models import IndependentCascadeModel

    starts, edges = array("I"), array("I")
    starts.frombytes(np.ascontiguousarray(net.indptr[:-1], dtype=np.uint32).tobytes())
    edges.frombytes(np.ascontiguousarray(net.indices, dtype=np.uint32).tobytes())
    return IndependentCascadeModel(starts, edges, activation_prob=p, rng=rng)


def eon_ic(G: Any, p: float, seeds: list[int], cascades: int) -> tuple[float, float]:
    import EoN

    rng = np.random.default_rng(0)
    times, sizes = [], []
    for _ in range(cascades):
        t = CLOCK()
        _, _, _, R = EoN.basic_discrete_SIR(G, p, initial_infecteds=seeds, rng=rng)
        times.append(CLOCK() - t)
        sizes.append(R[-1])
    return min(times), float(np.mean(sizes))


def edge_visits(result: Any, out_degree: np.ndarray) -> float:
    """Arcs visited by an ensemble: each replicate visits every out-arc of each of its adopters.

    From the kept adoption steps, or in summary mode from the adoption probability
    (runs × Σ_v P(v adopted) · out-degree(v), the same sum).
    """
    deg = out_degree.astype(np.float64)
    if result.keep == "summary":
        return float(round(result.runs * float(result.adoption_probability @ deg)))
    return float(sum(deg[row >= 0].sum() for row in result.adoption_step))


def available(module: str) -> bool:
    try:
        __import__(module)
    except Exception:
        return False
    return True


# ------------------------------------------------------------------ child processes
def peak_rss() -> int:
    """Peak resident memory of this process, in bytes: since :func:`reset_peak_rss` where Linux
    allows (``VmHWM``), else since it started (``getrusage``, which Linux reports in KiB)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> bool:
    """Reset the peak resident memory to the current one (Linux ``clear_refs``); False if unable."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def smb_child(n: int, mean_degree: float, runs: int, keep: str = "replicates") -> dict[str, Any]:
    """Build the SMB graph and run the threshold ensemble; report times and peak memory."""
    t0 = time.perf_counter()
    # load the compiled kernels (numba's cache) with a tiny ensemble of the same kind before timing
    small = diffusion.generators.smb_network(1000, mean_degree=mean_degree, seed=0)
    simulate(small, LinearThreshold(0.1), initial=10, runs=2, seed=0, keep=keep)
    load = time.perf_counter() - t0
    t = time.perf_counter()
    net = diffusion.generators.smb_network(n, mean_degree=mean_degree, seed=1)
    build = time.perf_counter() - t
    after_build = peak_rss()
    seeds = np.sort(np.random.default_rng(2).choice(net.n, max(1, net.n // 100), replace=False))
    t = time.perf_counter()
    res = simulate(net, LinearThreshold(0.1), initial=seeds, runs=runs, seed=3, keep=keep)
    ensemble = time.perf_counter() - t
    visits = edge_visits(res, net.out_degree)
    return {
        "nodes": net.n, "edges": net.number_of_edges, "keep": keep, "runs": runs,
        "load_seconds": load, "build_seconds": build,
        "ensemble_seconds": ensemble, "total_seconds": build + ensemble,
        "mean_final_fraction": float(res.final_fraction.mean()), "edge_visits": visits,
        "peak_rss_after_build_bytes": after_build, "peak_rss_bytes": peak_rss(),
    }


def scale_child(kind: str, n: int, runs: int, repeat: int, clock: str) -> dict[str, Any]:
    """One point of the ensemble-scaling section: ``runs`` replicates in summary mode.

    The graph, the initial adopters and a 2-replicate warm-up (kernel loading) come first, so
    every point starts from the same state; the peak resident memory after them is reported as
    ``baseline_rss_bytes`` (the peak is reset to it where Linux allows, so that importing and
    compiling do not mask the ensembles'), the peak after the timed ensembles as ``peak_rss_bytes``.
    """
    timer = time.process_time if clock == "cpu" else time.perf_counter
    net = diffusion.generators.barabasi_albert(n, 5, seed=1)
    seeds = np.sort(np.random.default_rng(0).choice(net.n, net.n // 100, replace=False))
    model = LinearThreshold(0.1) if kind == "lt-0.1" else IndependentCascade(0.01)
    simulate(net, model, initial=seeds, runs=2, seed=0, keep="summary")
    gc.collect()
    reset = reset_peak_rss()  # the peak of importing and compiling is not the ensemble's
    baseline = peak_rss()
    t, res = best_of(lambda: simulate(net, model, initial=seeds, runs=runs, seed=42, keep="summary"),
                     repeat, timer)
    per_run = (res.steps.nbytes + res.counts.nbytes
               + sum(a.nbytes for a in res.run_values.values())
               + sum(a.nbytes for a in res.step_series.values())) / runs
    return {"workload": kind, "nodes": net.n, "runs": runs, "seconds": t, "per_cascade_s": t / runs,
            "steps_max": int(res.steps.max()), "mean_final_fraction": float(res.final_fraction.mean()),
            "kept_bytes_per_replicate": per_run, "baseline_rss_bytes": baseline,
            "peak_rss_bytes": peak_rss(), "peak_reset": reset}


def run_child(*args: Any) -> dict[str, Any]:
    """Run ``run.py --child ARGS...`` and return the JSON it prints (or ``{"error": ...}``)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", *map(str, args)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_seconds"] = wall
    return out


def run_smb(n: int, mean_degree: float, runs: int, keep: str = "replicates") -> dict[str, Any]:
    return run_child("smb", n, mean_degree, runs, keep)


def _tree_memory(root: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) in bytes of process ``root`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    rss = pss = 0
    todo = [root]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm") as fh:
                rss += int(fh.read().split()[1]) * page
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            continue
    return rss, pss


def run_cli_memory(n: int, runs: int) -> dict[str, Any]:
    """``diffusion run`` of an Erdős–Rényi IC scenario in a child; peak memory of its process tree.

    The tree's resident memory (all worker processes included) is sampled every 50 ms from
    /proc: the peak of the summed RSS (shared pages counted once per process: an upper bound) and
    of the summed PSS (shared pages divided among the processes that map them) are reported,
    with the peak of the largest single process (from GNU ``time -v`` where installed).
    """
    import tempfile
    import threading

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "national_ic.toml")
        with open(path, "w") as fh:
            fh.write(f"""[scenario]
name = "benchmark_er_ic"
description = "Independent cascade, p = 0.2, on an Erdos-Renyi graph (mean degree 4)"
seed = 9
runs = {runs}

[network]
generator = "erdos_renyi"
n = {n}
mean_degree = 4.0

[cascade]
model = "independent_cascade"
probability = 0.2

[cascade.initial]
fraction = 0.01
""")
        cmd = [sys.executable, "-m", "diffusion", "run", path, "-o", os.path.join(tmp, "out"), "-q"]
        # a child's peak RSS counts the memory of the process it was forked from, until its exec: an
        # intermediate small process (GNU time, which also reports its child's peak) keeps this
        # process's own memory out of the figure
        if os.access("/usr/bin/time", os.X_OK):
            cmd = ["/usr/bin/time", "-v", *cmd]
        t = time.perf_counter()
        with open(os.path.join(tmp, "stderr"), "w+") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
            peak = [0, 0]
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    rss, pss = _tree_memory(proc.pid)
                    peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
                    done.wait(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            proc.wait()
            wall = time.perf_counter() - t
            done.set()
            sampler.join()
            err.seek(0)
            message = err.read().strip()
        if proc.returncode != 0:
            lines = [ln for ln in message.splitlines() if not ln.startswith(("\t", "Command"))]
            return {"error": lines[-1] if lines else "failed"}
        largest = None
        for line in message.splitlines():
            if "Maximum resident set size" in line:
                largest = int(line.split(":")[1]) * 1024
        with open(os.path.join(tmp, "out", "summary.json")) as fh:
            summary = json.load(fh)
        outputs = sorted(os.listdir(os.path.join(tmp, "out")))
    final = summary.get("cascade", {}).get("final_fraction", {})
    return {"firms": n, "runs": runs, "wall_seconds": wall, "tree_peak_rss_bytes": peak[0],
            "tree_peak_pss_bytes": peak[1], "largest_process_peak_rss_bytes": largest,
            "mean_final_fraction": final.get("mean"),
            "outputs": outputs}


# ------------------------------------------------------------------ main
class Report:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.targets: list[dict[str, Any]] = []

    def row(self, workload: str, impl: str, per_cascade: float | None, ours: float | None = None,
            note: str = "") -> None:
        ratio = per_cascade / ours if (per_cascade and ours) else None
        self.rows.append({"workload": workload, "implementation": impl, "per_cascade_s": per_cascade,
                          "speedup_of_ours": ratio, "note": note})
        ms = ("         -   " if per_cascade is None else f"{per_cascade * 1e6:10.3f} µs"
              if per_cascade < 1e-4 else f"{per_cascade * 1e3:10.3f} ms")
        r = f"{ratio:9.1f}x" if ratio else "          "
        print(f"  {workload:<26} {impl:<30} {ms} {r}  {note}", flush=True)

    suffix = ""  # marks targets measured on the small graphs of --quick

    def target(self, name: str, value: float | None, goal: float, unit: str = "x",
               higher: bool = True) -> None:
        ok = value is not None and (value >= goal if higher else value <= goal)
        name += self.suffix if "quick" not in name else ""
        self.targets.append({"target": name, "value": value, "goal": goal, "unit": unit, "higher": higher,
                             "status": "PASS" if ok else ("FAIL" if value is not None else "N/A")})


def run_models(n: int, runs: int, repeat: int) -> dict[str, float]:
    """Time the isomorphism/platform models and shock propagation on an SMB graph."""
    from diffusion import shocks

    net = diffusion.generators.smb_network(n, seed=1)
    platform = diffusion.PlatformCompetition(
        ["A", "B", "C"], fit_sd=0.5, global_effect=8.0, local_effect=2.0, switching_cost=0.5,
        revision_rate=0.1)
    iso = diffusion.Isomorphic(external=0.005, mimetic=0.3, prestige="size", normative=0.05,
                               field="sector")
    # compile the kernels outside the timed region
    diffusion.simulate(net, platform, runs=2, seed=0, max_steps=2)
    diffusion.simulate(net, iso, runs=2, seed=0, max_steps=2)
    out: dict[str, float] = {"edges": float(net.number_of_edges)}
    out["platform"], res = best_of(
        lambda: diffusion.simulate(net, platform, runs=runs, seed=1, max_steps=50), repeat)
    out["platform_hhi"] = float(res.series["hhi"][-1].mean())
    out["isomorphic"], iso_res = best_of(
        lambda: diffusion.simulate(net, iso, runs=runs, seed=2, max_steps=50), repeat)
    out["isomorphic_final"] = float(iso_res.final_fraction.mean())
    outage = shocks.PlatformOutage("dominant", 1.0)
    out["outage"], loss = best_of(
        lambda: shocks.apply_shock(net, outage, res, exposure={"loss_given_default": 0.25},
                                   propagation="threshold"), repeat)
    out["outage_loss"] = float(loss.summary()["total_loss"]["mean"])
    return out


def spread_batches(order: np.ndarray, sample: int, batch: int = 64) -> np.ndarray:
    """``sample`` firms of ``order`` in runs of ``batch`` consecutive ones, spread evenly over it.

    >>> spread_batches(np.arange(1000), 128, 64).tolist() == list(range(0, 64)) + list(range(936, 1000))
    True
    """
    k = max(1, sample // batch)
    starts = np.linspace(0, order.size - batch, k).round().astype(np.int64)
    return np.concatenate([order[a:a + batch] for a in starts])


def run_criticality(n: int, threads: int, repeat: int, sample: int | None) -> dict[str, Any]:
    """Time ``shocks.criticality`` of the firms of an ``n``-firm SMB graph (default exposure).

    The threshold rule runs for every firm; single-hit DebtRank for every firm
    when ``sample`` is None, else for ``sample`` firms in runs of 64
    consecutive firms of the reverse Cuthill–McKee order in which
    ``criticality`` batches them (each run is one batch, whose firms share
    reads as in a full run), the runs spread evenly over that order (the
    firms in its middle cost more than the average), its time scaled to all
    ``n`` (each firm is a separate propagation: the time is a sum over
    firms). The numpy reference path runs on a smaller fixed sample, for scale.
    """
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    from diffusion import shocks

    net = diffusion.generators.smb_network(n, mean_degree=8, seed=1)
    W = shocks.exposure_matrix(net)
    rng = np.random.default_rng(0)
    rcm = reverse_cuthill_mckee((W + W.T).tocsr(), symmetric_mode=True)
    shocks.criticality(W, propagation="debtrank", firms=np.arange(2))  # compile outside the timings
    shocks.criticality(W, propagation="threshold", firms=np.arange(2))
    out: dict[str, Any] = {"firms": n, "exposures": int(W.nnz), "threads": threads}
    for rule in ("threshold", "debtrank"):
        firms = None if (rule == "threshold" or sample is None or sample >= n) else \
            np.sort(spread_batches(rcm, sample))
        k = n if firms is None else firms.size
        t, res = best_of(lambda rule=rule, firms=firms: shocks.criticality(
            W, propagation=rule, firms=firms, threads=threads), repeat if k * 20 <= n else 1,
            time.perf_counter)
        out[rule] = {"timed_firms": k, "seconds": t, "all_firms_seconds": t * n / k,
                     "mean_systemic_loss": float(res["systemic_loss"].mean()),
                     "max_failed_fraction": float(res["failed_fraction"].max())}
        ref_firms = np.sort(rng.choice(n, min(n, 64 if rule == "debtrank" else 256), replace=False))
        t_ref, _ = best_of(lambda rule=rule, f=ref_firms: shocks.criticality(
            W, propagation=rule, firms=f, backend="numpy"), 1, time.perf_counter)
        out[rule]["numpy_per_firm_seconds"] = t_ref / ref_firms.size
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small graphs, under a minute")
    mode.add_argument("--full", action="store_true", help="more repeats and peer cascades")
    ap.add_argument("--runs", type=int, default=100, help="replicates per ensemble (default 100)")
    ap.add_argument("--repeat", type=int, default=None, help="best of this many timings")
    ap.add_argument("--no-smb", action="store_true", help="skip the 1,000,000-firm SMB run")
    ap.add_argument("--no-ndlib", action="store_true", help="skip NDlib (slow)")
    ap.add_argument("--no-models", action="store_true",
                    help="skip the platform / isomorphic / shock workloads")
    ap.add_argument("--no-criticality", action="store_true",
                    help="skip the criticality (one shock per firm) workloads")
    ap.add_argument("--no-random-seeds", action="store_true",
                    help="skip the threshold workloads with random initial adopters per replicate")
    ap.add_argument("--no-small-cascades", action="store_true",
                    help="skip the small cascades on the 1,000,000-node graph")
    ap.add_argument("--no-scaling", action="store_true",
                    help="skip the ensemble-scaling section (child processes)")
    ap.add_argument("--no-cli-memory", action="store_true",
                    help="skip `diffusion run` of the 500,000-firm, 20,000-replicate scenario")
    national = ap.add_mutually_exclusive_group()
    national.add_argument("--no-national", action="store_true",
                          help="skip the 10,000,000-firm row (about 14 GB; default mode only)")
    national.add_argument("--national", action="store_true",
                          help="run the 10,000,000-firm row with --quick too")
    ap.add_argument("--crit-sample", type=int, default=None, metavar="N",
                    help="time single-hit DebtRank criticality on N firms (runs of 64 spread over the "
                         "batching order) and scale to all firms, instead of timing every firm "
                         "(2 to 3 minutes on 2 cores)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="time single-process runs by wall clock (default) or CPU time (busy machine)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "smb":
            n, z, r, keep = rest
            print(json.dumps(smb_child(int(n), float(z), int(r), keep)))
        elif kind == "scale":
            workload, n, r, rep_, clock = rest
            print(json.dumps(scale_child(workload, int(n), int(r), int(rep_), clock)))
        else:
            ap.error(f"unknown child {kind!r}")
        return 0

    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    quick, full = args.quick, args.full
    n = 10_000 if quick else 100_000
    m = 5
    runs = args.runs
    repeat = args.repeat or (3 if quick else 7 if full else 5)
    nd_lt = 1 if quick else 3 if full else 2  # NDlib cascades (slow)
    nd_ic = 2 if quick else 5 if full else 3
    cyn = 100 if not quick else 200  # cynetdiff cascades per timing
    smb_n, smb_z = (100_000, 20.0) if quick else (1_000_000, 20.0)

    print(f"smb-diffusion {diffusion.__version__} benchmark — {time.strftime('%Y-%m-%d %H:%M')} — "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, numpy {np.__version__}; {args.clock} clock", flush=True)
    rep = Report()
    if quick:
        rep.suffix = " (quick)"  # the targets are defined on the default graphs

    # ---- graph and seeds (setup, timed separately)
    t = time.perf_counter()
    net = diffusion.generators.barabasi_albert(n, m, seed=1)
    build = time.perf_counter() - t
    seeds = np.sort(np.random.default_rng(0).choice(net.n, net.n // 100, replace=False))
    seed_list = seeds.tolist()
    t = time.perf_counter()
    G = net.to_networkx()
    to_nx = time.perf_counter() - t
    print(f"graph: Barabási–Albert n={net.n:,} m={m} ({net.number_of_edges:,} edges, "
          f"{net.nnz:,} arcs); built in {build:.2f} s, networkx copy {to_nx:.2f} s; "
          f"{len(seeds)} initial adopters; {runs} replicates; best of {repeat}", flush=True)

    # ---- memory bandwidth
    bw = stream_triad_bandwidth(1 << (23 if quick else 25), repeat)
    print("STREAM triad: " + ", ".join(f"{k} {v / 1e9:.1f} GB/s" for k, v in bw.items()), flush=True)

    # ---- this package (compile first: one tiny run per model)
    models = {
        "lt-0.1": LinearThreshold(0.1),
        "lt-uniform": LinearThreshold(UNIFORM),
        "ic-0.01": IndependentCascade(0.01),
    }
    t = time.perf_counter()
    for model in models.values():
        simulate(net, model, initial=seeds, runs=2, seed=0)
    print(f"numba kernels loaded/compiled in {time.perf_counter() - t:.2f} s (not timed below)")

    def ours_call(model: Any, initial: Any, seed: int) -> Callable[[], float]:
        """One timed call of this package for a peer comparison; returns its number of cascades."""
        def call() -> float:
            simulate(net, model, initial=initial, runs=runs, seed=seed)
            return runs
        return call

    def alternated(t: float | None) -> str:
        if not t:
            return ""
        return "ratio against ours timed alternately with it, " + (
            f"{t * 1e6:.3f} µs" if t < 1e-4 else f"{t * 1e3:.3f} ms")
    ours: dict[str, float] = {}
    results: dict[str, Any] = {}
    peak_mem: dict[str, int] = {}
    print(f"\n  {'workload':<26} {'implementation':<30} {'per cascade':>13} {'ours faster':>10}")
    for key, model in models.items():
        t, res = best_of(lambda model=model: simulate(net, model, initial=seeds, runs=runs, seed=42), repeat)
        ours[key] = t / runs
        results[key] = res
        tracemalloc.start()
        simulate(net, model, initial=seeds, runs=runs, seed=42)
        peak_mem[key] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rep.row(key, "smb-diffusion", ours[key],
                note=f"mean final {res.final_fraction.mean():.3f}; peak {peak_mem[key] / 1e6:.0f} MB")
    # the numpy reference, for scale
    t, _ = best_of(lambda: simulate(net, LinearThreshold(0.1, backend="numpy"), initial=seeds, runs=runs,
                                    seed=42), max(1, repeat // 2))
    rep.row("lt-0.1", "smb-diffusion (numpy path)", t / runs, ours["lt-0.1"])
    # both cores: the bit-parallel batches of the threshold kernel on two threads (wall clock)
    threaded = LinearThreshold(0.1, threads=2)
    simulate(net, threaded, initial=seeds, runs=4, seed=0)
    t, _ = best_of(lambda: simulate(net, threaded, initial=seeds, runs=runs, seed=42), repeat, time.perf_counter)
    two = t / runs
    rep.row("lt-0.1", "smb-diffusion, threads=2 (wall)", two, ours["lt-0.1"])

    # ---- peers
    have = {m: available(m) for m in ("ndlib", "cynetdiff", "EoN")}
    if have["ndlib"] and not args.no_ndlib:
        setup, per, size = ndlib_threshold(G, 0.1, seed_list, nd_lt)
        rep.row("lt-0.1", f"NDlib ThresholdModel ({nd_lt})", per, ours["lt-0.1"],
                note=f"final {size / n:.3f}; setup {setup:.1f} s")
        rep.target("LT θ=0.1 vs NDlib", per / ours["lt-0.1"], 100)
        setup, per, size = ndlib_ic(G, 0.01, seed_list, nd_ic)
        rep.row("ic-0.01", f"NDlib IndependentCascades ({nd_ic})", per, ours["ic-0.01"],
                note=f"mean final {size / n:.4f}; setup {setup:.1f} s")
    else:
        rep.target("LT θ=0.1 vs NDlib", None, 100)
    if have["cynetdiff"]:
        from array import array

        from cynetdiff.utils import networkx_to_ic_model, networkx_to_lt_model

        t = time.perf_counter()
        lt_model, mapping_lt = networkx_to_lt_model(G.to_directed(), rng=1)
        lt_model.set_seeds([mapping_lt[s] for s in seed_list])
        setup = time.perf_counter() - t
        per, size, alt = cynetdiff_repeat(lt_model, cyn // 4 if not quick else cyn, repeat,
                                          ours=ours_call(models["lt-uniform"], seeds, 42))
        rep.row("lt-uniform", "cynetdiff (θ re-drawn)", per, alt,
                note=f"mean final {size / n:.3f}; setup {setup:.1f} s; {alternated(alt)}")
        rep.target("LT uniform θ vs cynetdiff", per / alt, 10)
        fixed = array("f", [0.1] * n)
        per, size, alt = cynetdiff_repeat(lt_model, 5 if not quick else 20, max(1, repeat // 2),
                                          before=lambda: lt_model._assign_thresholds(fixed),
                                          ours=ours_call(models["lt-0.1"], seeds, 42))
        rep.row("lt-0.1", "cynetdiff (fixed θ, private)", per, alt,
                note=f"final {size / n:.3f}; {alternated(alt)}")
        rep.target("LT θ=0.1 vs cynetdiff", per / alt, 10)
        t = time.perf_counter()
        ic_model, mapping = networkx_to_ic_model(G, activation_prob=0.01, rng=2)
        ic_model.set_seeds([mapping[s] for s in seed_list])
        setup = time.perf_counter() - t
        per, size, alt = cynetdiff_repeat(ic_model, cyn * 10, repeat, ours=ours_call(models["ic-0.01"], seeds, 42))
        rep.row("ic-0.01", "cynetdiff", per, alt,
                note=f"mean final {size / n:.4f}; setup {setup:.1f} s; {alternated(alt)}")
        rep.target("IC p=0.01 vs cynetdiff", per / alt, 1)
    else:
        for name, goal in (("LT uniform θ vs cynetdiff", 10), ("LT θ=0.1 vs cynetdiff", 10),
                           ("IC p=0.01 vs cynetdiff", 1)):
            rep.target(name, None, goal)
    if have["EoN"]:
        per, size = eon_ic(G, 0.01, seed_list, 10 if not quick else 20)
        rep.row("ic-0.01", "EoN basic_discrete_SIR", per, ours["ic-0.01"], note=f"mean final {size / n:.4f}")

    # ---- threshold workloads with random initial adopters (1 %, drawn anew per replicate)
    # with a fixed θ and fixed initial adopters every replicate is the same cascade; here each
    # replicate of this package draws its own (``initial=0.01``) and each peer cascade gets a new
    # seed set, drawn beforehand (NDlib: a fresh model per cascade, built outside the timed region;
    # cynetdiff: ``set_seeds`` per cascade, the only way to change them, inside it)
    if not args.no_random_seeds:
        print(f"\n  random initial adopters: {n // 100} (1 %) drawn per replicate / per cascade")
        rand_rng = np.random.default_rng(5)

        def seed_sets(k: int) -> list[list[int]]:
            return [np.sort(rand_rng.choice(n, n // 100, replace=False)).tolist() for _ in range(k)]

        ours_rand: dict[str, float] = {}
        for key in ("lt-0.1", "lt-uniform"):
            model = models[key]
            t, res = best_of(lambda model=model: simulate(net, model, initial=0.01, runs=runs, seed=43),
                             repeat)
            ours_rand[key] = t / runs
            rep.row(key + " rand", "smb-diffusion", ours_rand[key],
                    note=f"mean final {res.final_fraction.mean():.3f}; "
                         f"fixed seeds {ours[key] * 1e3:.3f} ms")
        if have["ndlib"] and not args.no_ndlib:
            setup, per, size = ndlib_threshold(G, 0.1, seed_sets(nd_lt), nd_lt)
            rep.row("lt-0.1 rand", f"NDlib ThresholdModel ({nd_lt})", per, ours_rand["lt-0.1"],
                    note=f"final {size / n:.3f}; setup {setup:.1f} s")
            rep.target("LT θ=0.1 random seeds vs NDlib", per / ours_rand["lt-0.1"], 100)
        else:
            rep.target("LT θ=0.1 random seeds vs NDlib", None, 100)
        if have["cynetdiff"]:
            sets = [[mapping_lt[v] for v in ss] for ss in seed_sets(cyn // 4 if not quick else cyn)]
            per, size, alt = cynetdiff_seed_sets(lt_model, sets, repeat,
                                                 ours=ours_call(models["lt-uniform"], 0.01, 43))
            rep.row("lt-uniform rand", "cynetdiff (θ re-drawn)", per, alt,
                    note=f"mean final {size / n:.3f}; {alternated(alt)}")
            rep.target("LT uniform θ random seeds vs cynetdiff", per / alt, 10)
            sets = [[mapping_lt[v] for v in ss] for ss in seed_sets(5 if not quick else 20)]
            per, size, alt = cynetdiff_seed_sets(lt_model, sets, max(1, repeat // 2),
                                                 before=lambda: lt_model._assign_thresholds(fixed),
                                                 ours=ours_call(models["lt-0.1"], 0.01, 43))
            rep.row("lt-0.1 rand", "cynetdiff (fixed θ, private)", per, alt,
                    note=f"final {size / n:.3f}; {alternated(alt)}")
            rep.target("LT θ=0.1 random seeds vs cynetdiff", per / alt, 10)
        else:
            rep.target("LT uniform θ random seeds vs cynetdiff", None, 10)
            rep.target("LT θ=0.1 random seeds vs cynetdiff", None, 10)

    # ---- edge visits vs bandwidth (θ = 0.1: every replicate visits every arc of its adopters)
    # each configuration against the bandwidth it can draw on: one core against the one-thread
    # STREAM figure, two threads against the all-thread one
    res = results["lt-0.1"]
    visits = edge_visits(res, net.out_degree)
    item = net.indices.itemsize
    one_rate, two_rate = visits / (ours["lt-0.1"] * runs), visits / (two * runs)
    one_ratio = one_rate / (bw["1 thread"] / item)
    two_ratio = two_rate / (bw["all threads"] / item)
    print(f"\nedge visits: {visits:,.0f} in the θ=0.1 ensemble; one core {one_rate / 1e9:.2f} G/s "
          f"= {one_ratio:.2f} of the {bw['1 thread'] / item / 1e9:.2f} G/s that one-thread STREAM allows "
          f"for {item}-byte indices; 2 threads {two_rate / 1e9:.2f} G/s = {two_ratio:.2f} of "
          f"{bw['all threads'] / item / 1e9:.2f} G/s")
    rep.target("edge visits / bandwidth bound", max(one_ratio, two_ratio), 0.25, unit="")

    # ---- the million-firm SMB graph
    if not args.no_smb:
        print(f"\nSMB graph: {smb_n:,} firms, mean degree {smb_z:g}, {runs}-replicate LT θ=0.1 "
              "(child process) ...", flush=True)
        smb = run_smb(smb_n, smb_z, runs)
        if "error" in smb:
            print(f"  failed: {smb['error']}")
            rep.target("SMB build + ensemble time", None, 60, unit="s", higher=False)
            rep.target("SMB peak memory", None, 4, unit="GB", higher=False)
        else:
            print(f"  {smb['nodes']:,} firms, {smb['edges']:,} edges: built in {smb['build_seconds']:.1f} s, "
                  f"ensemble {smb['ensemble_seconds']:.1f} s ({smb['ensemble_seconds'] / runs * 1e3:.0f} ms "
                  f"per cascade, mean final {smb['mean_final_fraction']:.3f}, "
                  f"{smb['edge_visits'] / smb['ensemble_seconds'] / 1e9:.2f} G edge visits/s); "
                  f"peak RSS {smb['peak_rss_bytes'] / 1e9:.2f} GB")
            label = "" if smb_n >= 1_000_000 else f" (quick: {smb_n:,} firms)"
            rep.target("SMB build + ensemble time" + label, smb["total_seconds"], 60, unit="s", higher=False)
            rep.target("SMB peak memory" + label, smb["peak_rss_bytes"] / 1e9, 4, unit="GB", higher=False)
        rep.smb = smb  # type: ignore[attr-defined]

    # ---- the package's own models (no peer has them)
    if not args.no_models:
        mod_n = 10_000 if quick else 100_000
        print(f"\nSMB models: {mod_n:,} firms, {runs} replicates, 50 steps, best of "
              f"{min(repeat, 3)} ...", flush=True)
        mod = run_models(mod_n, runs, min(repeat, 3))
        print(f"  platform competition (3 platforms, global + local effects, switching cost): "
              f"{mod['platform']:.2f} s (final HHI {mod['platform_hhi']:.2f})\n"
              f"  isomorphic adoption (external + prestige-weighted mimetic + normative): "
              f"{mod['isomorphic']:.2f} s (mean final {mod['isomorphic_final']:.3f})\n"
              f"  outage of the dominant platform + threshold default cascade: "
              f"{mod['outage']:.2f} s (mean total loss {mod['outage_loss']:.3f})")
        label = "" if mod_n >= 100_000 else f" (quick: {mod_n:,} firms)"
        rep.target("platform competition 100 x 50 steps" + label, mod["platform"], 10, unit="s",
                   higher=False)
        rep.models = mod  # type: ignore[attr-defined]

    # ---- criticality: one single-firm shock per firm, propagated (shocks.criticality)
    if not args.no_criticality:
        crit_n = 5_000 if quick else 100_000
        sample = None if quick else args.crit_sample
        if sample is not None and sample < 64:
            ap.error("--crit-sample must be at least 64 (one batch)")
        print(f"\ncriticality: {crit_n:,}-firm SMB graph (mean degree 8, default exposure), "
              f"every firm's failure propagated, 2 threads (wall) ...", flush=True)
        crit = run_criticality(crit_n, 2, min(repeat, 3), sample)
        # the DebtRank kernel's gather waits on random reads of an 8-lane table per thread
        reads = random_row_reads(64 * crit_n, 1 << (20 if quick else 23), repeat)
        crit["random_row_read_seconds"] = reads
        print(f"  random 64-byte reads from a {64 * crit_n / 1e6:.1f} MB table (one 8-lane table of the "
              "DebtRank kernel): " + ", ".join(f"{k} {v * 1e9:.2f} ns each" for k, v in reads.items()), flush=True)
        label = "" if crit_n >= 100_000 else f" (quick: {crit_n:,} firms)"
        for rule, name in (("threshold", "threshold"), ("debtrank", "DebtRank single hit")):
            c = crit[rule]
            scaled = c["timed_firms"] < crit_n
            print(f"  {name:<20} {c['seconds']:8.2f} s for {c['timed_firms']:,} firms "
                  f"({c['seconds'] / c['timed_firms'] * 1e3:.3f} ms per firm"
                  + (f"; all {crit_n:,}: {c['all_firms_seconds']:.0f} s, scaled)" if scaled else ")")
                  + f"; numpy path {c['numpy_per_firm_seconds'] * 1e3:.2f} ms per firm "
                  f"({c['numpy_per_firm_seconds'] * c['timed_firms'] / c['seconds']:.0f}x slower); "
                  f"mean systemic loss {c['mean_systemic_loss']:.4g}")
            rep.target(f"criticality {name}, all firms" + label + (" (scaled)" if scaled else ""),
                       c["all_firms_seconds"], 60, unit="s", higher=False)
        rep.criticality = crit  # type: ignore[attr-defined]

    # ---- small cascades on a big graph (IC p = 0.01 from 10 fixed seeds; a dozen firms reached)
    if not args.no_small_cascades:
        big_n = 100_000 if quick else 1_000_000
        reps_small = (1_000, 2_000) if quick else (1_000, 10_000)
        t = time.perf_counter()
        big = diffusion.generators.barabasi_albert(big_n, m, seed=1)
        build_big = time.perf_counter() - t
        few = np.sort(np.random.default_rng(0).choice(big.n, 10, replace=False))
        ic = IndependentCascade(0.01)
        simulate(big, ic, initial=few, runs=2, seed=0, keep="summary")
        print(f"\nsmall cascades: Barabási–Albert n={big.n:,} m={m} (built in {build_big:.1f} s), IC "
              f"p=0.01 from 10 fixed seeds; this package in summary mode, best of {repeat}", flush=True)
        small: dict[str, Any] = {"nodes": big.n}
        for R in reps_small:
            t, res = best_of(lambda R=R: simulate(big, ic, initial=few, runs=R, seed=7, keep="summary"),
                             repeat)
            small[f"ours_{R}"] = t / R
            rep.row("ic-0.01 10 seeds", f"smb-diffusion, {R:,} replicates", t / R,
                    note=f"mean final {res.final_count.mean():.1f} nodes")
        ours_small = small[f"ours_{reps_small[-1]}"]
        if have["cynetdiff"]:
            t = time.perf_counter()
            cyn_ic = cynetdiff_ic_from_csr(big, 0.01, 2)
            cyn_ic.set_seeds(few.tolist())
            setup = time.perf_counter() - t
            cyn_cascades = 2_000 if quick else 10_000
            r_last = reps_small[-1]

            def ours_small_call() -> float:
                simulate(big, ic, initial=few, runs=r_last, seed=7, keep="summary")
                return r_last

            per, size, alt = cynetdiff_repeat(cyn_ic, cyn_cascades, repeat, ours=ours_small_call)
            small["cynetdiff"] = per
            small["ours_alternated"] = ours_small = alt
            rep.row("ic-0.01 10 seeds", f"cynetdiff ({cyn_cascades:,})", per, ours_small,
                    note=f"mean final {size:.1f} nodes; setup from CSR {setup:.2f} s; {alternated(alt)}")
            for R in reps_small[:-1]:
                print(f"  (at {R:,} replicates per call: {per / small[f'ours_{R}']:.2f}x of cynetdiff; "
                      "each call has a fixed cost linear in n)")
            value: float | None = per / ours_small
            del cyn_ic
        else:
            value = None
        label = "" if big_n >= 1_000_000 else f" (quick: {big_n:,} nodes)"
        rep.target("IC 10 seeds on BA 1M vs cynetdiff" + label, value, 0.5)
        rep.target("IC 10 seeds on BA 1M vs cynetdiff, goal" + label, value, 1)
        rep.small_cascades = small  # type: ignore[attr-defined]
        del big
        gc.collect()

    # ---- ensemble scaling (summary mode; one child process per point, for its peak memory)
    if not args.no_scaling:
        sc_n = 10_000 if quick else 100_000
        points = (100, 1_000, 5_000) if quick else (100, 1_000, 5_000, 10_000)
        sc_repeat = min(repeat, 3)
        print(f"\nensemble scaling: Barabási–Albert n={sc_n:,}, 1 % fixed initial adopters, summary "
              f"mode, one child process per point, best of {sc_repeat} ({args.clock} clock)", flush=True)
        scaling: dict[str, list[dict[str, Any]]] = {}
        label = "" if sc_n >= 100_000 else f" (quick: {sc_n:,} nodes)"
        for kind in ("ic-0.01", "lt-0.1"):
            pts = [run_child("scale", kind, sc_n, R, sc_repeat, args.clock) for R in points]
            scaling[kind] = pts
            if any("error" in p for p in pts):
                print(f"  {kind}: failed: {next(p['error'] for p in pts if 'error' in p)}")
                rep.target(f"scaling {kind}: per cascade 5,000 / 100" + label, None, 1.3, higher=False)
                rep.target(f"scaling {kind}: memory growth" + label, None, 64, unit="MB", higher=False)
                continue
            base = pts[0]
            for p in pts:
                print(f"  {kind:<8} {p['runs']:>6,} replicates: {p['per_cascade_s'] * 1e3:8.4f} ms per "
                      f"cascade ({p['per_cascade_s'] / base['per_cascade_s']:.2f}x of 100); peak RSS "
                      f"{p['peak_rss_bytes'] / 1e6:7.1f} MB (after setup {p['baseline_rss_bytes'] / 1e6:.1f} "
                      f"MB); kept {p['kept_bytes_per_replicate']:.0f} B per replicate", flush=True)
            at = {p["runs"]: p for p in pts}
            rep.target(f"scaling {kind}: per cascade 5,000 / 100" + label,
                       at[5_000]["per_cascade_s"] / base["per_cascade_s"], 1.3, higher=False)
            # memory check: a point's peak may exceed the 100-replicate point's peak by at most
            # twice what it keeps per replicate (the merge may hold pieces and the merged arrays at
            # once) plus 64 MB of allocator slack; the value shown is the largest excess over the
            # per-replicate allowance, in MB, against the 64 MB slack
            excess = max((p["peak_rss_bytes"] - base["peak_rss_bytes"]
                          - 2 * (p["runs"] - base["runs"]) * p["kept_bytes_per_replicate"]) / 1e6
                         for p in pts)
            rep.target(f"scaling {kind}: memory growth" + label, max(excess, 0.0), 64, unit="MB",
                       higher=False)
        rep.scaling = scaling  # type: ignore[attr-defined]

    # ---- the command line's memory on a large ensemble (summary mode throughout)
    if not args.no_cli_memory:
        cli_n, cli_runs = (50_000, 2_000) if quick else (500_000, 20_000)
        print(f"\nCLI: `diffusion run` of an Erdős–Rényi scenario, {cli_n:,} firms, mean degree 4, IC "
              f"p=0.2, 1 % initial adopters, {cli_runs:,} replicates (child process tree) ...", flush=True)
        cli = run_cli_memory(cli_n, cli_runs)
        label = "" if cli_n >= 500_000 else f" (quick: {cli_n:,} x {cli_runs:,})"
        if "error" in cli:
            print(f"  failed: {cli['error']}")
            rep.target("CLI 500,000 x 20,000 peak memory" + label, None, 2.5, unit="GB", higher=False)
        else:
            largest = cli["largest_process_peak_rss_bytes"]
            print(f"  wall {cli['wall_seconds']:.1f} s; peak memory of the process tree: summed RSS "
                  f"{cli['tree_peak_rss_bytes'] / 1e9:.2f} GB, summed PSS "
                  f"{cli['tree_peak_pss_bytes'] / 1e9:.2f} GB (sampled every 50 ms); largest single "
                  "process " + (f"{largest / 1e9:.2f} GB (GNU time)" if largest else "-")
                  + f"; mean final {cli['mean_final_fraction']:.4f}; wrote {', '.join(cli['outputs'])}")
            rep.target("CLI 500,000 x 20,000 peak memory" + label, cli["tree_peak_rss_bytes"] / 1e9, 2.5,
                       unit="GB", higher=False)
        rep.cli_memory = cli  # type: ignore[attr-defined]

    # ---- national scale: 10,000,000 firms (about 14 GB; alone, in a child, last)
    if args.national or not (quick or args.no_national):
        del G
        gc.collect()
        print("\nnational: smb_network(10,000,000, mean_degree=20), 100-replicate LT θ=0.1 in summary "
              "mode (child process; needs about 14 GB) ...", flush=True)
        nat = run_smb(10_000_000, 20.0, 100, keep="summary")
        if "error" in nat:
            print(f"  failed: {nat['error']}")
            rep.target("national 10M build + ensemble, goal", None, 120, unit="s", higher=False)
            rep.target("national 10M peak memory, goal", None, 12, unit="GB", higher=False)
        else:
            print(f"  {nat['nodes']:,} firms, {nat['edges']:,} edges: built in {nat['build_seconds']:.1f} s "
                  f"(peak RSS then {nat['peak_rss_after_build_bytes'] / 1e9:.2f} GB), ensemble "
                  f"{nat['ensemble_seconds']:.1f} s (mean final {nat['mean_final_fraction']:.3f}); "
                  f"peak RSS {nat['peak_rss_bytes'] / 1e9:.2f} GB; process wall "
                  f"{nat['process_wall_seconds']:.1f} s")
            rep.target("national 10M build + ensemble, goal", nat["total_seconds"], 120, unit="s",
                       higher=False)
            rep.target("national 10M peak memory, goal", nat["peak_rss_bytes"] / 1e9, 12, unit="GB",
                       higher=False)
        rep.national = nat  # type: ignore[attr-defined]

    print("\ntargets:")
    for tg in rep.targets:
        v = tg["value"]
        shown = "-" if v is None else (f"{v:.2f}" if tg["unit"] == "" else f"{v:.1f}{tg['unit']}")
        goal = f"{'>=' if tg['higher'] else '<='} {tg['goal']}{tg['unit']}"
        print(f"  {tg['status']:<5} {tg['target']:<40} {shown:>10}   (target {goal})")
    print(f"\npeak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rep.rows, "targets": rep.targets, "stream_bytes_per_s": bw,
                       "smb": getattr(rep, "smb", None), "models": getattr(rep, "models", None),
                       "criticality": getattr(rep, "criticality", None),
                       "small_cascades": getattr(rep, "small_cascades", None),
                       "scaling": getattr(rep, "scaling", None),
                       "cli_memory": getattr(rep, "cli_memory", None),
                       "national": getattr(rep, "national", None),
                       "date": time.strftime("%Y-%m-%d %H:%M"),
                       "cores": os.cpu_count()}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
