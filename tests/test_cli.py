"""The command line, through click's runner: shipped scenarios, overrides, bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import diffusion
from diffusion.cli import main

SHIPPED_SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.toml"))
#: Keep the tests light: run replicates in this process (the default executor is covered once).
SERIAL = ["--executor", "serial"]
OUTPUT_FILES = ["curve.csv", "nodes.csv", "runs.csv", "scenario.toml", "summary.json"]
#: What ``diffusion run`` leaves in its output directory (figures/ unless --no-plots).
OUTPUT_ENTRIES = sorted([*OUTPUT_FILES, "figures"])


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def assert_one_line_error(result, code: int, *fragments: str) -> str:
    """Exit ``code``, nothing on stdout, one ``error:`` line on stderr containing ``fragments``."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for frag in fragments:
        assert frag in lines[0], lines[0]
    return lines[0]


# ----------------------------------------------------------------- shipped scenarios
def test_there_are_shipped_scenarios():
    names = {p.stem for p in SHIPPED_SCENARIOS}
    assert len(names) >= 4, names


@pytest.mark.parametrize("path", SHIPPED_SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_validates_and_runs(path, runner, tmp_path):
    res = runner.invoke(main, ["validate", "--build", str(path)])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"OK: {path}")
    out = tmp_path / "out"
    res = runner.invoke(main, ["run", str(path), "--runs", "3", "--out", str(out), *SERIAL])
    assert res.exit_code == 0, res.output
    platforms = "final platform shares (mean over runs)" in res.stdout
    assert platforms != ("final share adopted" in res.stdout)  # a headline that fits the model
    assert sorted(p.name for p in out.iterdir()) == OUTPUT_ENTRIES
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == 3 and summary["version"] == diffusion.__version__
    assert summary["scenario"] == diffusion.load_scenario(path).name
    assert {"nodes", "edges", "directed", "mean_degree"} <= set(summary["network"])
    assert {"model", "params", "final_fraction", "steps", "time_to"} <= set(summary["cascade"])
    assert set(summary["cascade"]["final_fraction"]) == {"mean", "std", "min", "q05", "q50", "q95", "max"}
    assert set(summary["cascade"]["steps"]) == {"mean", "max"}
    runs = read_csv(out / "runs.csv")
    assert len(runs) == 3
    assert list(runs[0])[:4] == ["run", "final_fraction", "final_count", "steps"]
    curve = read_csv(out / "curve.csv")
    assert list(curve[0])[:4] == ["step", "mean_fraction", "q05", "q95"]
    assert [int(r["step"]) for r in curve] == list(range(len(curve)))
    nodes = read_csv(out / "nodes.csv")
    assert len(nodes) == summary["network"]["nodes"]
    assert list(nodes[0])[:3] == ["id", "adoption_probability", "mean_adoption_step"]
    prob = np.array([float(r["adoption_probability"]) for r in nodes])
    # the mean over firms of their adoption probability is the mean final fraction
    assert prob.mean() == pytest.approx(np.mean([float(r["final_fraction"]) for r in runs]))
    # the resolved scenario records the override and reproduces the run
    again = diffusion.load_scenario(out / "scenario.toml")
    assert again.runs == 3
    res = runner.invoke(main, ["run", str(out / "scenario.toml"), "-q", "--out", str(tmp_path / "again"),
                                 *SERIAL])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "again" / "runs.csv").read_bytes() == (out / "runs.csv").read_bytes()


# ----------------------------------------------------------------- run options
def test_default_output_directory_and_quiet(runner, write_scenario, in_tmp):
    path = write_scenario()
    res = runner.invoke(main, ["run", str(path), "--quiet"])
    assert res.exit_code == 0 and res.stdout == "" and res.stderr == ""
    assert sorted(p.name for p in (in_tmp / "results" / "basic").iterdir()) == OUTPUT_ENTRIES


def test_seed_reproducibility(runner, write_scenario, tmp_path):
    path = write_scenario()
    outs = []
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        res = runner.invoke(main, ["run", str(path), "-q", "--seed", seed, "--runs", "6", "--out",
                                   str(tmp_path / name), *SERIAL])
        assert res.exit_code == 0, res.output
        outs.append({f: (tmp_path / name / f).read_bytes() for f in OUTPUT_FILES})
    assert outs[0] == outs[1]
    assert outs[0]["runs.csv"] != outs[2]["runs.csv"]
    assert json.loads(outs[2]["summary.json"])["seed"] == 8


def test_overrides_are_applied(runner, write_scenario, tmp_path):
    path = write_scenario()
    res = runner.invoke(main, ["run", str(path), "--runs", "2", "--max-steps", "1", "--out", str(tmp_path / "o"),
                                 *SERIAL])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["runs"] == 2 and summary["max_steps"] == 1 and summary["cascade"]["steps"]["max"] <= 1
    assert len(read_csv(tmp_path / "o" / "curve.csv")) <= 2


def test_progress_bar_only_on_a_terminal(runner, write_scenario, tmp_path, monkeypatch):
    path = write_scenario()
    res = runner.invoke(main, ["run", str(path), "--out", str(tmp_path / "a"), *SERIAL])
    assert res.exit_code == 0 and res.stderr == ""
    monkeypatch.setattr("diffusion.cli._common._stderr_is_terminal", lambda: True)
    res = runner.invoke(main, ["run", str(path), "--out", str(tmp_path / "b"), *SERIAL])
    assert res.exit_code == 0, res.output
    assert "simulating" in res.stderr
    res = runner.invoke(main, ["run", str(path), "--quiet", "--out", str(tmp_path / "c"), *SERIAL])
    assert res.exit_code == 0 and res.stderr == ""
    assert (tmp_path / "a" / "runs.csv").read_bytes() == (tmp_path / "b" / "runs.csv").read_bytes()


def test_validate_reports_ok(runner, write_scenario):
    path = write_scenario()
    res = runner.invoke(main, ["validate", str(path)])
    assert res.exit_code == 0
    assert res.stdout.startswith(f"OK: {path}: basic (linear_threshold on erdos_renyi")


def test_info_version_and_help(runner):
    res = runner.invoke(main, ["info"])
    assert res.exit_code == 0
    assert diffusion.__version__ in res.stdout and "linear_threshold" in res.stdout
    assert "erdos_renyi" in res.stdout
    res = runner.invoke(main, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"diffusion, version {diffusion.__version__}"
    for args in ([], ["run"], ["validate"], ["info"]):
        res = runner.invoke(main, [*args, "--help"])
        assert res.exit_code == 0 and "Usage:" in res.stdout


def test_python_dash_m(tmp_path):
    env_path = str(Path(diffusion.__file__).parent.parent)
    res = subprocess.run([sys.executable, "-m", "diffusion", "--help"], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": env_path, "PATH": ""}, check=False)
    assert res.returncode == 0, res.stderr
    assert "Usage: diffusion" in res.stdout and "run" in res.stdout


# ----------------------------------------------------------------- bad input
BASIC = """
[scenario]
name = "bad"
seed = 1
runs = 2

[network]
generator = "erdos_renyi"
n = 50
mean_degree = 3.0

[cascade]
model = "linear_threshold"
threshold = 0.2

[cascade.initial]
count = 1
"""

BAD_CASES = {
    "malformed TOML": (BASIC.replace("seed = 1", "seed = = 1"), "line 4, column"),
    "wrong type": (BASIC.replace("runs = 2", 'runs = "two"'), "scenario.runs"),
    "wrong type in generator": (BASIC.replace("n = 50", 'n = "fifty"'), "network.n"),
    "wrong type in model": (BASIC.replace("threshold = 0.2", 'threshold = 0.2\nweighted = "no"'),
                            "cascade.weighted"),
    "unknown key": (BASIC.replace("threshold = 0.2", "treshold = 0.2"), "cascade.treshold"),
    "unknown table": (BASIC + "\n[shocks]\ntype = 'random'\n", "shocks"),
    "unknown model": (BASIC.replace('"linear_threshold"', '"sir"'), "cascade.model"),
    "unknown generator": (BASIC.replace('"erdos_renyi"', '"lattice"'), "network.generator"),
    "threshold outside [0, 1]": (BASIC.replace("threshold = 0.2", "threshold = 1.2"), "cascade.threshold"),
    "probability outside [0, 1]": (
        BASIC.replace('"linear_threshold"', '"independent_cascade"').replace("threshold = 0.2",
                                                                          "probability = -0.1"),
        "cascade.probability"),
    "generator probability outside [0, 1]": (BASIC.replace("mean_degree = 3.0", "p = 1.5"), "network.p"),
    "missing graph file": (BASIC.replace('generator = "erdos_renyi"\nn = 50\nmean_degree = 3.0',
                                         'generator = "file"\npath = "no_such_edges.csv"'), "network.path"),
    "initial node not in graph": (BASIC.replace("count = 1", "nodes = [0, 4242]"), "cascade.initial.nodes"),
    "too many initial adopters": (BASIC.replace("count = 1", "count = 51"), "cascade.initial.count"),
    "empty graph": (BASIC.replace('generator = "erdos_renyi"\nn = 50\nmean_degree = 3.0',
                                  'generator = "complete"\nn = 0'), "network"),
    "missing initial": (BASIC.replace("[cascade.initial]\ncount = 1", ""), "cascade.initial"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_one_line_exit_2(case, runner, write_scenario, tmp_path):
    text, key = BAD_CASES[case]
    path = write_scenario(text, name="bad.toml")
    res = runner.invoke(main, ["run", str(path), "--out", str(tmp_path / "out")])
    line = assert_one_line_error(res, 2, str(path), f": {key}")
    assert line.startswith(f"error: {path}: ")
    assert not (tmp_path / "out").exists()
    # validate reports the same error (building the network for the graph-dependent ones)
    res = runner.invoke(main, ["validate", "--build", str(path)])
    assert assert_one_line_error(res, 2) == line
    # --debug adds the traceback, same exit status, same last line
    res = runner.invoke(main, ["--debug", "run", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "Traceback (most recent call last)" in res.stderr
    assert res.stderr.rstrip().splitlines()[-1] == line


def test_missing_scenario_file(runner, tmp_path):
    path = tmp_path / "nowhere.toml"
    for cmd in ("run", "validate"):
        res = runner.invoke(main, [cmd, str(path)])
        assert_one_line_error(res, 2, str(path), "no such file")


def test_unexpected_errors_exit_1_and_debug_shows_traceback(runner, write_scenario, monkeypatch):
    path = write_scenario()

    def broken(*args, **kwargs):
        raise RuntimeError("something internal broke")

    monkeypatch.setattr("diffusion.cli.run.run_scenario", broken)
    res = runner.invoke(main, ["run", str(path)])
    assert_one_line_error(res, 1, "RuntimeError", "something internal broke", "--debug")
    res = runner.invoke(main, ["--debug", "run", str(path)])
    assert res.exit_code == 1
    assert "Traceback (most recent call last)" in res.stderr and "broken" in res.stderr


def test_unwritable_output_is_one_line_exit_1(runner, write_scenario, tmp_path):
    path = write_scenario()
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    res = runner.invoke(main, ["run", str(path), "-q", "--out", str(blocker / "out"), *SERIAL])
    assert_one_line_error(res, 1, str(blocker))


def test_bad_option_values_are_usage_errors(runner, write_scenario):
    path = write_scenario()
    res = runner.invoke(main, ["run", str(path), "--runs", "0"])
    assert res.exit_code == 2 and "--runs" in res.stderr


# ----------------------------------------------------------------- README
README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_opens_with_the_main_job_and_the_ci_test_command():
    import re

    text = README.read_text()
    first, second = re.findall(r"```bash\n(.*?)\n```", text, re.S)[:2]
    commands = first.split(" && ")
    assert commands[:3] == ["python -m venv .venv", ". .venv/bin/activate", "pip install ."]
    jobs = [c.split() for c in commands[3:]]
    assert jobs and all(j[0] == "diffusion" and len(j) == 3 for j in jobs)
    for _, command, scenario in jobs:
        assert command in main.commands
        assert (README.parent / scenario).is_file()
    assert second.endswith('pip install -e ".[dev,bench,dask,sensitivity]" && ruff check . && pytest')
    ci = (README.parent / ".ci" / "run").read_text().splitlines()
    assert 'pip install -e ".[dev,bench,dask,sensitivity]"' in ci and "ruff check ." in ci and "pytest" in ci


def test_readme_quickstart_runs(tmp_path, monkeypatch):
    import re

    (tmp_path / "scenarios").symlink_to(README.parent / "scenarios")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    assert (tmp_path / "results" / "watts_small" / "summary.json").is_file()


FILE_SCENARIO = """
[scenario]
name = "from_file"
seed = 1

[network]
generator = "file"
path = "{edges}"

[cascade]
model = "linear_threshold"

[cascade.initial]
nodes = {nodes}
"""


@pytest.mark.parametrize(
    ("edges", "nodes", "key", "fragment"),
    [
        ("source,target\n", '["a"]', "network.path", "no edges"),
        ("source,target,weight\na,b,heavy\n", '["a"]', "network.path", "not a number"),
        ("source,target\na,b\nb,c\n", '["a", "z"]', "cascade.initial.nodes", "'z'"),
        ("source,target\na,b\n", '["a", "b", "a"]', None, None),
    ],
    ids=["empty graph file", "bad weight", "unknown node id", "valid"],
)
def test_bad_graph_files(edges, nodes, key, fragment, runner, write_scenario, tmp_path):
    write_scenario(edges, name="edges.csv")
    path = write_scenario(FILE_SCENARIO.format(edges="edges.csv", nodes=nodes), name="from_file.toml")
    res = runner.invoke(main, ["run", str(path), "-q", "--out", str(tmp_path / "out"), *SERIAL])
    if key is None:
        assert res.exit_code == 0, res.output
        return
    assert_one_line_error(res, 2, f"error: {path}: {key}: ", fragment)
