"""Parameter sweeps: grid expansion, validation, SQLite storage, resuming after kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import pytest

import diffusion
from diffusion.errors import DiffusionError, ScenarioError
from diffusion.parallel import DaskExecutor, ProcessExecutor, SerialExecutor
from diffusion.scenario import load_scenario, parse_scenario, run_scenario
from diffusion.sweep import (
    SweepRunner,
    parse_sweep,
    point_scenario,
    point_seed,
    point_summaries,
    run_sweep,
    sweep_records,
    write_sweep_csv,
)

BASE = {
    "scenario": {"name": "sw", "seed": 17, "runs": 6},
    "network": {"generator": "erdos_renyi", "n": 400, "mean_degree": 4.0},
    "cascade": {"model": "linear_threshold", "threshold": 0.2, "initial": {"count": 2}},
}


def scenario(sweep: dict, **changes) -> diffusion.scenario.Scenario:
    data = json.loads(json.dumps(BASE))
    for k, v in changes.items():
        table, key = k.split("__")
        data[table][key] = v
    data["sweep"] = sweep
    return parse_scenario(data, path="sw.toml")


def _cli(args: list[str]):
    from click.testing import CliRunner

    from diffusion.cli import main

    return CliRunner().invoke(main, args)


# ----------------------------------------------------------------- the [sweep] table
def test_grid_is_the_cartesian_product_in_written_order():
    sw = parse_sweep({"cascade.threshold": [0.1, 0.2, 0.3], "network.mean_degree": [2, 4]})
    assert sw.kind == "grid" and len(sw) == 6
    assert sw.keys == ("cascade.threshold", "network.mean_degree")
    assert sw.values == ((0.1, 2), (0.1, 4), (0.2, 2), (0.2, 4), (0.3, 2), (0.3, 4))


def test_unquoted_dotted_keys_are_flattened():
    # TOML `cascade.threshold = [...]` (unquoted) arrives as nested tables
    sw = parse_sweep({"cascade": {"threshold": [0.1, 0.2], "initial": {"count": [1, 3]}}})
    assert sw.keys == ("cascade.threshold", "cascade.initial.count") and len(sw) == 4
    pts = parse_sweep({"points": [{"cascade": {"threshold": 0.1}}, {"cascade.threshold": 0.4}]})
    assert pts.keys == ("cascade.threshold",) and pts.values == ((0.1,), (0.4,))


def test_explicit_points_keep_their_order_and_table_values():
    dist = {"distribution": "uniform", "low": 0.1, "high": 0.3}
    sw = parse_sweep({"points": [{"cascade.threshold": dist, "network.mean_degree": 4},
                                 {"network.mean_degree": 8, "cascade.threshold": 0.2}]})
    assert sw.kind == "points" and sw.keys == ("cascade.threshold", "network.mean_degree")
    assert sw.points() == [{"cascade.threshold": dist, "network.mean_degree": 4},
                           {"cascade.threshold": 0.2, "network.mean_degree": 8}]


@pytest.mark.parametrize(("table", "key", "message"), [
    ({}, "sweep", "empty"),
    ({"cascade.threshold": []}, "sweep.cascade.threshold", "empty list"),
    ({"cascade.threshold": 0.2}, "sweep.cascade.threshold", "must be a list"),
    ({"threshold": [0.1]}, "sweep.threshold", "dotted scenario key"),
    ({"cascade..threshold": [0.1]}, "sweep.cascade..threshold", "dotted scenario key"),
    ({"casade.threshold": [0.1]}, "sweep.casade.threshold", "unknown table [casade]"),
    ({"sweep.x": [0.1]}, "sweep.sweep.x", "unknown table [sweep]"),
    ({"points": []}, "sweep.points", "non-empty list"),
    ({"points": [{"cascade.threshold": 0.1}, 3]}, "sweep.points[1]", "non-empty table"),
    ({"points": [{"cascade.threshold": 0.1}, {"network.n": 5}]}, "sweep.points[1]", "same keys"),
    ({"points": [{"cascade.threshold": 0.1}], "network.n": [5]}, "sweep.network.n", "not both"),
])
def test_malformed_tables_name_the_file_and_key(table, key, message):
    with pytest.raises(ScenarioError) as info:
        parse_sweep(table, "grid.toml")
    assert info.value.path == "grid.toml" and info.value.key == key
    assert message in str(info.value)


# ----------------------------------------------------------------- points
def test_point_seeds_are_distinct_reproducible_and_fit_toml():
    seeds = [point_seed(17, i) for i in range(200)]
    assert len(set(seeds)) == 200 and seeds == [point_seed(17, i) for i in range(200)]
    assert all(0 <= s < 2**63 for s in seeds)
    assert point_seed(18, 0) != point_seed(17, 0)


def test_point_scenario_sets_keys_seed_and_drops_the_sweep():
    sc = scenario({"cascade.threshold": [0.1, 0.3], "network.mean_degree": [2.0, 6.0]})
    p = point_scenario(sc, 3)
    assert p.cascade.params["threshold"] == 0.3 and p.network.params["mean_degree"] == 6.0
    assert p.seed == point_seed(17, 3) and p.table("sweep") is None and p.runs == 6
    with pytest.raises(IndexError):
        point_scenario(sc, 4)


@pytest.mark.parametrize(("sweep", "key", "message"), [
    ({"cascade.threshold": [0.2, True]}, "sweep.cascade.threshold", "point 1"),
    ({"cascade.threshold": [0.2, 1.5]}, "sweep.cascade.threshold", "1.5"),
    ({"cascade.thresold": [0.2]}, "sweep.cascade.thresold", "thresold"),
    ({"network.n": [100, 2.5]}, "sweep.network.n", "point 1"),
    ({"scenario.runs": [0]}, "sweep.scenario.runs", "runs"),
    ({"cascade.threshold.low": [0.1]}, "sweep.cascade.threshold.low", "not a table"),
])
def test_invalid_values_are_reported_at_the_swept_key(tmp_path, sweep, key, message):
    sc = scenario(sweep)
    with pytest.raises(ScenarioError) as info:
        SweepRunner(sc, tmp_path / "out")
    assert info.value.key == key and info.value.path == "sw.toml"
    assert message in str(info.value)
    assert not (tmp_path / "out").exists()  # nothing written before the sweep is valid


def test_each_point_is_its_scenario_run_alone(tmp_path):
    sc = scenario({"cascade.threshold": [0.15, 0.3], "network.mean_degree": [3.0, 5.0]})
    res = run_sweep(sc, tmp_path)
    assert (res.points, res.completed) == (4, 4)
    rows = sweep_records(tmp_path)
    assert len(rows) == 4 * 6
    summaries = point_summaries(tmp_path / "sweep.sqlite")
    for i, stored in enumerate(summaries):
        alone = run_scenario(point_scenario(sc, i))
        mine = [{k: v for k, v in r.items() if "." not in k} for r in rows[6 * i:6 * i + 6]]
        assert mine == alone.runs
        assert rows[6 * i]["cascade.threshold"] == alone.scenario.cascade.params["threshold"]
        assert stored["seed"] == alone.scenario.seed and stored["point"] == i
        assert stored["summary"]["cascade"]["final_fraction"] == alone.summary["cascade"]["final_fraction"]
    with closing(sqlite3.connect(tmp_path / "sweep.sqlite")) as conn:
        got = conn.execute('SELECT "cascade.threshold", "network.mean_degree", '
                           '"summary.cascade.final_fraction.mean" FROM points ORDER BY point').fetchall()
        curve_points = {r[0] for r in conn.execute("SELECT point FROM curves")}
    assert [g[:2] for g in got] == [(0.15, 3.0), (0.15, 5.0), (0.3, 3.0), (0.3, 5.0)]
    assert [g[2] for g in got] == [s["summary"]["cascade"]["final_fraction"]["mean"] for s in summaries]
    assert curve_points == {0, 1, 2, 3}


def test_csv_layout_and_regeneration(tmp_path):
    sc = scenario({"points": [{"cascade.threshold": 0.1, "cascade.initial.count": 1},
                              {"cascade.threshold": 0.25, "cascade.initial.count": 3}]})
    res = run_sweep(sc, tmp_path)
    text = res.csv.read_text()
    header, first = text.splitlines()[:2]
    runs_cols = list(run_scenario(point_scenario(sc, 0)).runs[0])
    assert header.split(",") == ["cascade.threshold", "cascade.initial.count", *runs_cols]
    assert first.startswith("0.1,1,0,")
    res.csv.unlink()
    write_sweep_csv(res.database)
    assert res.csv.read_text() == text


def test_rerun_of_a_finished_sweep_runs_nothing(tmp_path):
    sc = scenario({"cascade.threshold": [0.1, 0.2]})
    first = run_sweep(sc, tmp_path)
    before = first.csv.read_bytes()
    again = run_sweep(sc, tmp_path)
    assert again.completed == 0 and again.csv.read_bytes() == before


def test_interrupted_sweep_resumes_to_identical_results(tmp_path):
    sc = scenario({"cascade.threshold": [0.1, 0.2, 0.3], "network.mean_degree": [3.0, 5.0]})
    ref = run_sweep(sc, tmp_path / "ref").csv.read_bytes()
    done = []

    def stop_after_two(k):
        done.append(k)
        if len(done) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(sc, tmp_path / "cut", progress=stop_after_two)
    assert not (tmp_path / "cut" / "sweep.csv").exists()
    runner = SweepRunner(sc, tmp_path / "cut")
    assert runner.pending == [2, 3, 4, 5]
    with closing(sqlite3.connect(runner.store.path)) as reader:  # someone looking at the results
        assert reader.execute("SELECT count(*) FROM points").fetchone() == (2,)
        res = runner.run()
    assert res.completed == 4 and res.csv.read_bytes() == ref


def test_a_different_scenario_or_grid_is_refused(tmp_path):
    run_sweep(scenario({"cascade.threshold": [0.1, 0.2]}), tmp_path)
    with pytest.raises(DiffusionError, match=r"different \[sweep\] points"):
        run_sweep(scenario({"cascade.threshold": [0.1, 0.3]}), tmp_path)
    with pytest.raises(DiffusionError, match=r"different scenario \(first difference at scenario.runs\)"):
        run_sweep(scenario({"cascade.threshold": [0.1, 0.2]}, scenario__runs=7), tmp_path)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "sweep.sqlite").write_text("not a database")
    with pytest.raises(DiffusionError, match="not a sweep database"):
        run_sweep(scenario({"cascade.threshold": [0.1]}), tmp_path / "junk")


def test_no_sweep_table_is_an_error(tmp_path):
    with pytest.raises(ScenarioError, match=r"no \[sweep\] table"):
        run_sweep(parse_scenario(BASE), tmp_path)


def test_identical_results_on_every_executor(tmp_path):
    pytest.importorskip("dask.distributed")  # the optional `dask` extra
    sc = scenario({"cascade.threshold": [0.1, 0.2, 0.3], "network.mean_degree": [3.0, 5.0]},
                  scenario__runs=9)
    ref = run_sweep(sc, tmp_path / "none")
    expected = ref.csv.read_bytes()

    def table(path: Path) -> list:
        # columns are added as points complete, so compare rows by column name, not position
        with closing(sqlite3.connect(path)) as conn:
            out = []
            for t in ("points", "runs", "curves"):
                cur = conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2")
                names = [d[0] for d in cur.description]
                out.append([{k: v for k, v in zip(names, row, strict=True) if v is not None}
                            for row in cur])
            return out

    with ProcessExecutor(workers=2) as pool, DaskExecutor(workers=2, processes=False) as dask:
        # 6 points >= 2 per worker: whole points in parallel; 1 worker: replicates in parallel
        for name, ex in (("serial", SerialExecutor()), ("pool", pool), ("dask", dask),
                         ("pool-chunks", ProcessExecutor(workers=1))):
            res = run_sweep(sc, tmp_path / name, executor=ex)
            assert res.csv.read_bytes() == expected, name
            assert table(res.database) == table(ref.database), name


# ----------------------------------------------------------------- the command line
SWEEP_FILE = """
[scenario]
name = "grid"
seed = 3
runs = {runs}

[network]
generator = "erdos_renyi"
n = {n}
mean_degree = 4.0

[cascade]
model = "linear_threshold"
threshold = 0.18

[cascade.initial]
count = 1

[sweep]
{sweep}
"""

GRID = '"cascade.threshold" = [0.12, 0.15, 0.18, 0.21]\n"network.mean_degree" = [2.0, 3.0, 4.0]'


def _write(path: Path, sweep: str = GRID, runs: int = 5, n: int = 300) -> Path:
    path.write_text(textwrap.dedent(SWEEP_FILE.format(sweep=sweep, runs=runs, n=n)))
    return path


def test_cli_sweep_writes_database_and_csv(tmp_path):
    path = _write(tmp_path / "grid.toml")
    res = _cli(["sweep", str(path), "--out", str(tmp_path / "out"), "--executor", "serial"])
    assert res.exit_code == 0, res.output
    assert "12 points x 5 runs" in res.stdout
    lines = (tmp_path / "out" / "sweep.csv").read_text().splitlines()
    assert lines[0].startswith("cascade.threshold,network.mean_degree,run,final_fraction")
    assert len(lines) == 1 + 12 * 5
    res = _cli(["sweep", str(path), "--out", str(tmp_path / "out"), "--executor", "serial"])
    assert res.exit_code == 0 and "12 from an earlier run" in res.stdout


@pytest.mark.parametrize(("sweep", "expected"), [
    ('"cascade.thresold" = [0.1]', "sweep.cascade.thresold"),
    ('"cascade.threshold" = []', "sweep.cascade.threshold: empty list"),
    ('"cascade.threshold" = [0.1, true]', "sweep.cascade.threshold"),
    ('"cascade.threshold" = [0.1, "x"]', "sweep.cascade.threshold: node attribute 'x' not found"),
    ('"network.n" = [100, 1.5]', "sweep.network.n"),
    ("", "sweep: empty"),
])
def test_cli_bad_sweeps_exit_2_naming_file_and_key(tmp_path, sweep, expected):
    path = _write(tmp_path / "bad.toml", sweep=sweep)
    res = _cli(["sweep", str(path), "--out", str(tmp_path / "out"), "--executor", "serial"])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith(f"error: {path}: ") and expected in res.stderr
    assert res.stderr.count("\n") == 1


def test_cli_sweep_other_errors_exit_2(tmp_path, monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr("diffusion.parallel.DASK_CONNECT_TIMEOUT", 1.0)
    path = _write(tmp_path / "g.toml")
    res = _cli(["sweep", str(path), "--out", str(tmp_path / "o"), "--executor", "dask",
                "--scheduler", "tcp://127.0.0.1:1"])
    assert res.exit_code == 2 and "cannot reach the Dask scheduler" in res.stderr
    plain = tmp_path / "plain.toml"
    plain.write_text(path.read_text().split("[sweep]")[0])
    res = _cli(["sweep", str(plain), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "no [sweep] table" in res.stderr
    _cli(["sweep", str(path), "--out", str(tmp_path / "o2"), "--executor", "serial", "-q"])
    _write(path, runs=6)
    res = _cli(["sweep", str(path), "--out", str(tmp_path / "o2"), "--executor", "serial"])
    assert res.exit_code == 2 and "holds a sweep of a different scenario" in res.stderr


def test_run_ignores_the_sweep_table(tmp_path):
    path = _write(tmp_path / "g.toml")
    res = _cli(["run", str(path), "--out", str(tmp_path / "r"), "--executor", "serial", "-q"])
    assert res.exit_code == 0, res.output
    assert load_scenario(path).table("sweep").keys == ("cascade.threshold", "network.mean_degree")


# ----------------------------------------------------------------- kill -9 and resume
def _points_done(db: Path) -> int:
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            return conn.execute("SELECT count(*) FROM points").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def _sweep_cmd(path: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "diffusion", "sweep", str(path), "--out", str(out), "--quiet", *extra]


KILL_GRID = ('"cascade.threshold" = [0.12, 0.15, 0.18, 0.21, 0.24]\n'
             '"network.mean_degree" = [2.0, 3.0, 4.0, 5.0]')


@pytest.fixture(scope="module")
def kill_case(tmp_path_factory):
    """A 20-point sweep, and its sweep.csv from one uninterrupted run."""
    d = tmp_path_factory.mktemp("kill")
    path = _write(d / "grid.toml", sweep=KILL_GRID, runs=100, n=30_000)
    res = _cli(["sweep", str(path), "--out", str(d / "ref"), "--executor", "serial", "-q"])
    assert res.exit_code == 0, res.output
    return path, (d / "ref" / "sweep.csv").read_bytes()


@pytest.mark.parametrize("executor", [
    pytest.param(["--executor", "serial"], id="serial"),
    pytest.param(["--executor", "process", "--workers", "2"], id="process", marks=pytest.mark.slow),
])
def test_kill_9_then_resume_gives_identical_results(tmp_path, kill_case, executor):
    path, expected = kill_case
    out = tmp_path / "out"
    db = out / "sweep.sqlite"
    proc = subprocess.Popen(_sweep_cmd(path, out, *executor), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _points_done(db) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    helpers = _descendants(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    done = _points_done(db)
    assert 2 <= done < 20, done  # killed part-way
    assert not (out / "sweep.csv").exists()
    with closing(sqlite3.connect(db)) as conn:  # every stored point is complete
        counts = conn.execute("SELECT point, count(*) FROM runs GROUP BY point").fetchall()
    assert len(counts) == done and all(c == 100 for _, c in counts)
    finished = subprocess.run(_sweep_cmd(path, out, *executor), capture_output=True, timeout=120)
    assert finished.returncode == 0, finished.stderr.decode()
    assert _points_done(db) == 20
    assert (out / "sweep.csv").read_bytes() == expected
    # the killed sweep's worker processes do not outlive it
    deadline = time.monotonic() + 15
    while any(os.path.exists(f"/proc/{pid}") for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in helpers if _alive(pid)]


def _descendants(pid: int) -> list[int]:
    """Processes below ``pid`` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat") if Path("/proc").is_dir() else []:
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited


def test_validate_checks_every_sweep_point(tmp_path):
    from diffusion.sweep import check_sweep, point_scenarios

    good = _write(tmp_path / "good.toml")
    res = _cli(["validate", str(good)])
    assert res.exit_code == 0 and "sweep: 12 valid points" in res.stdout
    assert check_sweep(load_scenario(good)) == 12
    points = point_scenarios(load_scenario(good))
    assert [p.seed for p in points] == [point_seed(3, i) for i in range(12)]
    bad = _write(tmp_path / "bad.toml", sweep='"cascade.threshold" = [0.1, 1.5]')
    res = _cli(["validate", str(bad)])
    assert res.exit_code == 2 and "sweep.cascade.threshold" in res.stderr and "point 1" in res.stderr


# ----------------------------------------------------------------- a disk that fills up
SMALL_SWEEP = """
[scenario]
name = "fill"
seed = 3
runs = 3
[network]
generator = "erdos_renyi"
n = 200
mean_degree = 4.0
[cascade]
model = "linear_threshold"
threshold = 0.18
[cascade.initial]
count = 1
[sweep]
"cascade.threshold" = [0.12, 0.18]
"network.mean_degree" = [1.0, 2.0, 4.0, 6.0]
"""


@pytest.fixture(scope="module")
def filled_reference(tmp_path_factory):
    """The small sweep's CSV, run without interruption."""
    d = tmp_path_factory.mktemp("ref")
    (d / "fill.toml").write_text(SMALL_SWEEP)
    res = _cli(["sweep", str(d / "fill.toml"), "--out", str(d / "out"), "--quiet"])
    assert res.exit_code == 0
    return (d / "out" / "sweep.csv").read_bytes()

#: Runs the CLI with a file-size limit (writes past it fail as on a full disk: SQLite sees a
#: short or failed write), optionally reporting no free space, as a full disk does.
_LIMITED = """
import resource, shutil, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
if {full}:
    shutil.disk_usage = lambda path: shutil._ntuple_diskusage(10**9, 10**9, 0)
from diffusion.cli import main
sys.argv = ["diffusion", "sweep", {scenario!r}, "--out", {out!r}, "--quiet"]
main()
"""


@pytest.mark.parametrize(("limit", "full"), [(4096, False), (40_000, True)])
def test_a_full_disk_is_named_and_the_database_kept(tmp_path, limit, full, filled_reference):
    # on a full disk the sweep said "not a sweep database (disk I/O error)", blaming the input
    path = tmp_path / "fill.toml"
    path.write_text(SMALL_SWEEP)
    out = tmp_path / "out"
    script = _LIMITED.format(limit=limit, full=full, scenario=str(path), out=str(out))
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)})
    assert res.returncode == 1, res.stderr
    assert res.stderr.startswith(f"error: {out / 'sweep.sqlite'}: cannot write the sweep database: ")
    assert res.stderr.count("\n") == 1 and "not a sweep database" not in res.stderr
    if full:
        assert "the disk is full (0 bytes free)" in res.stderr and "free some space" in res.stderr
    else:
        assert f"the file-size limit of this process (ulimit -f, {limit:,} bytes) is reached" in res.stderr
    assert (out / "sweep.sqlite").exists()  # kept (see the next test for points stored before the failure)
    # space freed: the same command resumes and ends as an uninterrupted sweep
    again = _cli(["sweep", str(path), "--out", str(out), "--quiet"])
    assert again.exit_code == 0, again.output
    assert (out / "sweep.csv").read_bytes() == filled_reference


def test_database_full_reported_by_sqlite_names_the_disk(tmp_path, monkeypatch):
    import shutil

    from diffusion import sweep as sweep_module

    calls = {"n": 0}
    real = sweep_module._Store._add

    def add(self, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:  # SQLITE_FULL, as SQLite reports ENOSPC on a write
            exc = sqlite3.OperationalError("database or disk is full")
            exc.sqlite_errorcode, exc.sqlite_errorname = 13, "SQLITE_FULL"
            raise exc
        return real(self, *args, **kw)

    monkeypatch.setattr(sweep_module._Store, "_add", add)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9, 4096))
    sc = scenario({"cascade.threshold": [0.1, 0.2, 0.3, 0.4]})
    with pytest.raises(OSError, match=r"cannot write the sweep database: the disk is full \(4,096 bytes free\); "
                                      r"the 2 points stored so far are kept; free some space") as info:
        run_sweep(sc, tmp_path)
    assert info.value.errno == 28 and info.value.filename == str(tmp_path / "sweep.sqlite")
    monkeypatch.setattr(sweep_module._Store, "_add", real)
    assert run_sweep(sc, tmp_path).completed == 2
