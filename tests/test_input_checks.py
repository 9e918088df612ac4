"""Bad and hostile scenario input: refused early, exit status 2, one line naming the file and key.

Each case is run through the command line: ``diffusion validate`` checks everything that
does not need the network, ``validate --build`` what does, and ``run`` never finds an input
error after its first simulation. Cases that could read or allocate without bound run in a
subprocess with a time limit and an address-space limit, so a regression fails the test
instead of hanging or exhausting the machine.
"""

from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
import textwrap
import tomllib
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import diffusion
from diffusion.cli import main
from diffusion.errors import ScenarioError
from diffusion.sweep import MAX_POINTS, parse_sweep

BASE = """
[scenario]
name = "base"
seed = 3
runs = 4

[network]
generator = "erdos_renyi"
n = 200
mean_degree = 4.0

[cascade]
model = "linear_threshold"
threshold = 0.2

[cascade.initial]
count = 2
"""

PLATFORM = """
[scenario]
name = "plat"
seed = 3
runs = 4
max_steps = 5

[network]
generator = "smb"
n = 300

[cascade]
model = "platform_competition"
platforms = ["A", "B"]
revision_rate = 0.5

[shock]
type = "platform_outage"
"""


def _write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _edit(text: str, **tables: dict[str, Any]) -> str:
    """``text`` with keys of its tables replaced (``None`` deletes), written back as TOML."""
    import tomli_w

    data = tomllib.loads(text)
    for table, changes in tables.items():
        for key, value in changes.items():
            if value is None:
                data.setdefault(table, {}).pop(key, None)
            else:
                data.setdefault(table, {})[key] = value
    return tomli_w.dumps(data)


def _cli(runner, *args: str):
    return runner.invoke(main, [str(a) for a in args])


def _assert_refused(res, path: Path, key: str | None, fragment: str = "") -> None:
    assert res.exit_code == 2, (res.exit_code, res.output)
    line = res.stderr.strip()
    assert "\n" not in line and line.startswith(f"error: {path}: ")
    assert "Traceback" not in res.output and "unexpected" not in res.output
    if key is not None:
        assert f": {key}: " in line or f": {key}[" in line, line
    assert fragment in line, line


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


def _subprocess(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``diffusion ARGS`` in a child limited to 3 GB of address space."""
    env = {**os.environ, "PYTHONPATH": str(Path(diffusion.__file__).parents[1])}
    return subprocess.run([sys.executable, "-m", "diffusion", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, preexec_fn=_limit_memory)


# ----------------------------------------------------------------- ranges: plain validate
@pytest.mark.parametrize(("tables", "key", "fragment"), [
    ({"network": {"n": -1}}, "network.n", ">= 0"),
    ({"network": {"p": 1.5, "mean_degree": None}}, "network.p", "<= 1"),
    ({"network": {"mean_degree": math.nan}}, "network.mean_degree", "finite"),
    ({"network": {"mean_degree": math.inf}}, "network.mean_degree", "finite"),
    ({"network": {"generator": "watts_strogatz", "k": 3, "p": 0.1, "mean_degree": None}}, "network.k", "even"),
    ({"network": {"generator": "barabasi_albert", "m": 500, "mean_degree": None}}, "network.m", "smaller than n"),
    ({"network": {"generator": "random_regular", "d": 3, "n": 201, "mean_degree": None}}, "network.d", "even"),
    ({"network": {"generator": "smb", "homophily": 1.5, "mean_degree": None}}, "network.homophily", "<= 1"),
    ({"network": {"generator": "smb", "size_log_sd": math.nan, "mean_degree": None}}, "network.size_log_sd",
     "finite"),
    ({"network": {"generator": "configuration", "degree_distribution": {"distribution": "poisson", "mean": -2},
                  "mean_degree": None}}, "network.degree_distribution.mean", ">= 0"),
    ({"cascade": {"threshold": math.nan}}, "cascade.threshold", "finite"),
    ({"scenario": {"name": "watts\n"}}, "scenario.name", "plain name"),
    ({"scenario": {"name": "a" * 300}}, "scenario.name", "at most"),
])
def test_validate_checks_every_range_without_building(runner, tmp_path, tables, key, fragment):
    path = _write(tmp_path, _edit(BASE, **tables))
    _assert_refused(_cli(runner, "validate", path), path, key, fragment)


@pytest.mark.parametrize(("shock", "key", "fragment"), [
    ({"level": math.nan}, "shock.level", "finite"),
    ({"alpha": 1.0}, "shock.alpha", "< 1"),
    ({"severities": [0.5, math.nan]}, "shock.severities[1]", "finite"),
    ({"capacity": -1.0}, "shock.capacity", "> 0"),
    ({"capacity": math.inf}, "shock.capacity", "finite"),
    ({"exposure": {"cap": math.nan}}, "shock.exposure.cap", "finite"),
    ({"exposure": {"weighted": "yes"}}, "shock.exposure.weighted", "true or false"),
    ({"severity": math.nan}, "shock.severity", "finite"),
    ({"max_rounds": 1.5}, "shock.max_rounds", "integer"),
    ({"type": ["platform_outage"]}, "shock.type", "must be one of"),
    ({"propagation": {"rule": "x"}}, "shock.propagation", "must be one of"),
])
def test_validate_checks_shock_values(runner, tmp_path, shock, key, fragment):
    path = _write(tmp_path, _edit(PLATFORM, shock=shock))
    _assert_refused(_cli(runner, "validate", path), path, key, fragment)


def test_validate_counts_the_network_it_would_build(runner, tmp_path):
    path = _write(tmp_path, BASE)
    res = _cli(runner, "validate", path)
    assert res.exit_code == 0 and "network: 200 nodes, about 400 edges" in res.stdout


# ----------------------------------------------------------------- what needs the network: --build
@pytest.mark.parametrize(("text", "key", "fragment"), [
    (_edit(PLATFORM, shock={"platform": "Z"}), "shock.platform", "unknown platform 'Z'"),
    (_edit(PLATFORM, shock={"platform": 3}), "shock.platform", "out of range 1..2"),
    (_edit(PLATFORM, shock={"capacity": "buffer"}), "shock.capacity", "'buffer' not found"),
    (_edit(PLATFORM, shock={"value": "turnover"}), "shock.value", "'turnover' not found"),
    (_edit(PLATFORM, shock={"exposure": {"resources": "cash"}}), "shock.exposure.resources", "'cash' not found"),
    (_edit(PLATFORM, shock={"type": "nodes", "nodes": [1, 99999]}), "shock.nodes", "99999"),
    (_edit(PLATFORM, shock={"type": "sector", "sector": 1, "attribute": "industry"}), "shock.sector", "industry"),
    (_edit(PLATFORM, shock={"type": "targeted", "by": "age", "count": 3}), "shock.by", "'age' not found"),
    (_edit(PLATFORM, shock={"type": "random", "count": 5000}), "shock.count", "<= 300"),
    (_edit(BASE, shock={"type": "platform_outage", "platform": "Z"}), "shock.platform", "'adopted'"),
    (_edit(BASE, cascade={"initial": {"nodes": [1, 5000]}}), "cascade.initial.nodes", "5000"),
])
def test_build_checks_what_needs_the_network_before_any_simulation(runner, tmp_path, monkeypatch, text, key,
                                                                     fragment):
    path = _write(tmp_path, text)
    assert _cli(runner, "validate", path).exit_code == 0  # nothing wrong without the network
    _assert_refused(_cli(runner, "validate", "--build", path), path, key, fragment)

    def no_simulation(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an input error was found only after simulating")

    monkeypatch.setattr("diffusion.scenario.runner.simulate", no_simulation)
    monkeypatch.setattr("diffusion.shocks.tables.simulate", no_simulation)
    _assert_refused(_cli(runner, "run", path, "-e", "serial", "-q", "--no-plots", "--out", tmp_path / "o"),
                    path, key, fragment)
    if "[shock]" in text:
        _assert_refused(_cli(runner, "fragility", path, "-e", "serial", "--no-plots", "--out", tmp_path / "f"),
                        path, key, fragment)
    assert not (tmp_path / "o").exists()


def test_fragility_checks_every_frontier_value_before_simulating(runner, tmp_path, monkeypatch):
    text = _edit(PLATFORM, frontier={"parameter": "cascade.global_effect", "values": [1.0, math.nan]})
    path = _write(tmp_path, text)
    monkeypatch.setattr("diffusion.shocks.tables.simulate", lambda *a, **k: pytest.fail("simulated"))
    res = _cli(runner, "fragility", path, "-e", "serial", "--no-plots", "--out", tmp_path / "f")
    _assert_refused(res, path, "frontier.values", "cascade.global_effect")


# ----------------------------------------------------------------- hostile files
def test_a_pipe_or_a_device_is_refused_at_once(tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/zero")):
        res = _subprocess("validate", str(target), timeout=30)  # no writer: reading would block forever
        assert res.returncode == 2 and res.stderr.strip() == (
            f"error: {target}: not a regular file (a pipe, a device or a socket); give a scenario file")


def test_a_large_file_is_refused_without_reading_it_all(runner, tmp_path):
    path = tmp_path / "big.toml"
    with path.open("wb") as fh:
        fh.write(BASE.encode())
        fh.write(b"# " + b"x" * 2_000_000 + b"\n")
    _assert_refused(_cli(runner, "validate", path), path, None, "larger than 1 MB")


@pytest.mark.parametrize(("value", "key"), [
    ("[" * 5000 + "]" * 5000, "cascade.threshold"),
    ("{a = " * 3000 + "1" + "}" * 3000, "cascade.threshold"),
    ("[" * 60 + "0.1" + "]" * 60, "cascade.threshold"),
    ('{"x" = "[[[[", b = ' + "[" * 40 + "]" * 40 + "}", "cascade.threshold.b"),
    ('{x = "]]]] # no comment", b = ' + "[" * 5000 + "]" * 5000 + "}", "cascade.threshold"),
])
def test_deep_nesting_is_refused_at_its_key(runner, tmp_path, value, key):
    path = _write(tmp_path, BASE.replace("threshold = 0.2", f"threshold = {value}"))
    _assert_refused(_cli(runner, "validate", path), path, key, "nested more than 32 levels deep")


@pytest.mark.parametrize(("line", "key"), [
    ("nodes = [[1]]", "cascade.initial.nodes[0]"),
    ("nodes = [{a = 1}]", "cascade.initial.nodes[0]"),
    ("nodes = [1, [2, 3]]", "cascade.initial.nodes[1]"),
])
def test_unhashable_node_ids_are_refused(runner, tmp_path, line, key):
    path = _write(tmp_path, BASE.replace("count = 2", line))
    _assert_refused(_cli(runner, "validate", path), path, key, "node id")


def test_a_name_with_a_trailing_newline_creates_nothing(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, BASE.replace('name = "base"', 'name = "watts\\n"'))
    _assert_refused(_cli(runner, "run", path, "-e", "serial", "-q"), path, "scenario.name", "plain name")
    assert not (tmp_path / "results").exists()


# ----------------------------------------------------------------- memory before allocation
@pytest.mark.parametrize("network", [
    {"generator": "complete", "n": 10**6},
    {"generator": "erdos_renyi", "n": 10**9, "mean_degree": 4.0},
    {"generator": "smb", "n": 10**12},
    {"generator": "barabasi_albert", "n": 10**11, "m": 3},
    {"generator": "configuration", "n": 10**10,
     "degree_distribution": {"distribution": "powerlaw", "exponent": 2.1, "min": 1}},
])
@pytest.mark.parametrize("command", [["validate"], ["validate", "--build"], ["run", "-e", "serial", "-q"]])
def test_a_network_that_cannot_fit_is_refused_with_the_figures(tmp_path, network, command):
    text = _edit(BASE, network={"mean_degree": None, **network})
    path = _write(tmp_path, text)
    res = _subprocess(*command, str(path), timeout=120)
    assert res.returncode == 2, res.stderr
    line = res.stderr.strip()
    assert line.startswith(f"error: {path}: network: building this network needs about ")
    assert f"({network['n']:,} nodes, about " in line and "are available" in line
    assert "Traceback" not in res.stderr


def test_graph_size_estimates_follow_the_parameters():
    from diffusion.generators import check_generator

    assert check_generator("complete", n=1001).edges == 500_500
    assert check_generator("erdos_renyi", n=1001, p=0.01).edges == pytest.approx(5005)
    assert check_generator("erdos_renyi", n=1001, p=0.01, directed=True).edges == pytest.approx(10010)
    assert check_generator("barabasi_albert", n=1000, m=3).edges == 3 * 997
    assert check_generator("watts_strogatz", n=1000, k=6, p=0.1).edges == 3000
    assert check_generator("random_regular", n=1000, d=4).edges == 2000
    assert check_generator("smb", n=1000, mean_degree=6.0).edges == 3000
    assert check_generator("configuration", degrees=[1, 2, 3, 2]).edges == 4
    # a power-law degree distribution: the expected degree of the truncated law
    pl = check_generator("configuration", n=10**6, degree_distribution={"distribution": "powerlaw",
                                                                        "exponent": 2.5, "min": 1})
    net = diffusion.generators.configuration_model(n=20_000, degree_distribution={"distribution": "powerlaw",
                                                                                   "exponent": 2.5, "min": 1},
                                                   seed=1)
    assert pl.edges / 10**6 == pytest.approx(net.attributes["target_degree"].mean() / 2, rel=0.1)
    # the estimate bounds what building really takes (measured peak, with headroom)
    tracemalloc.start()
    diffusion.generators.smb_network(20_000, mean_degree=8.0, seed=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    est = check_generator("smb", n=20_000, mean_degree=8.0).memory
    assert peak <= est <= 3 * peak


# ----------------------------------------------------------------- sweeps
def test_an_absurd_grid_is_refused_from_its_shape(tmp_path):
    values = ", ".join(["0.1"] * 10_000)
    sizes = ", ".join(["100"] * 10_000)
    text = BASE + f'\n[sweep]\n"cascade.threshold" = [{values}]\n"network.n" = [{sizes}]\n'
    path = _write(tmp_path, text)
    res = _subprocess("validate", str(path), timeout=60)
    assert res.returncode == 2
    assert res.stderr.strip() == (f"error: {path}: sweep: the grid has 10,000 x 10,000 = 100,000,000 points; "
                                  f"a sweep has at most {MAX_POINTS:,} (split it over several scenario files)")


def test_sweep_points_are_computed_one_at_a_time():
    axes = {"cascade.threshold": [i / 300 for i in range(300)], "network.mean_degree": list(range(300))}
    tracemalloc.start()
    sw = parse_sweep(axes)
    n = len(sw)
    last = sw.point(n - 1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 90_000 and last == {"cascade.threshold": 299 / 300, "network.mean_degree": 299}
    assert peak < 2_000_000  # a list of 90,000 point dicts would take tens of MB
    assert sw.point(301) == {"cascade.threshold": 1 / 300, "network.mean_degree": 1}
    with pytest.raises(ScenarioError, match="at most"):
        parse_sweep({"points": [{"cascade.threshold": 0.1}] * (MAX_POINTS + 1)})


def test_a_sweep_point_whose_network_cannot_fit_is_refused_before_any_point_runs(runner, tmp_path):
    path = _write(tmp_path, BASE + '\n[sweep]\n"network.n" = [100, 1000000000000]\n')
    res = _cli(runner, "sweep", path, "-e", "serial", "-q", "--out", tmp_path / "out")
    _assert_refused(res, path, "sweep.network.n", "needs about")
    assert "sweep point 1" in res.stderr and not (tmp_path / "out").exists()


# ----------------------------------------------------------------- every leaf, every hostile value
_HOSTILE = [[[1]], {"x": {"y": 1}}, math.nan, -math.inf, -1, 10**30, "", True, [], {}]


def _leaves(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(data, dict):
        return [leaf for k, v in data.items() for leaf in _leaves(v, (*prefix, k))]
    return [prefix]


def _scenario_files() -> list[Path]:
    root = Path(__file__).parents[1] / "scenarios"
    return sorted(root.glob("*.toml"))


@pytest.mark.parametrize("path", _scenario_files(), ids=lambda p: p.stem)
def test_no_hostile_value_at_any_key_escapes_as_an_unexpected_error(path):
    import copy

    data = tomllib.loads(path.read_text())
    for leaf in _leaves(data):
        if leaf[0] == "network" and leaf[-1] in ("path", "nodes"):
            continue  # graph files: another module's checks
        for value in _HOSTILE:
            bad = copy.deepcopy(data)
            node = bad
            for k in leaf[:-1]:
                node = node[k]
            node[leaf[-1]] = value
            try:
                diffusion.parse_scenario(bad, path=path)
            except ScenarioError as exc:
                assert exc.path == str(path) and exc.key, (leaf, value, exc)
