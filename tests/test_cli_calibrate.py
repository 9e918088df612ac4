"""``diffusion calibrate`` and ``diffusion run --adoptions``: outputs and bad input."""

from __future__ import annotations

import json

import pytest

from diffusion.cli import main

SCENARIO = """
[scenario]
name = "iso"
seed = 3
runs = 2
max_steps = 15

[network]
generator = "erdos_renyi"
n = 600
mean_degree = 6.0

[cascade]
model = "isomorphic"
external = 0.02
mimetic = 0.4

[calibration]
last_step = 15
[calibration.priors]
"cascade.external" = [0.0, 0.1]
"cascade.mimetic" = [0.0, 1.5]
[calibration.abc]
particles = 20
generations = 2
"""


@pytest.fixture
def simulated(tmp_path, write_scenario, runner):
    path = write_scenario(SCENARIO)
    table = tmp_path / "adoptions.csv"
    res = runner.invoke(main, ["run", str(path), "-o", str(tmp_path / "out"), "-q", "--no-plots",
                               "-e", "serial", "--adoptions", str(table), "--replicate", "1"])
    assert res.exit_code == 0, res.output + res.stderr
    return path, table


def test_run_writes_the_adoption_table_and_calibrate_recovers(simulated, tmp_path, runner):
    path, table = simulated
    lines = table.read_text().splitlines()
    assert lines[0] == "id,step" and len(lines) == 601
    res = runner.invoke(main, ["calibrate", str(path), str(table), "-o", str(tmp_path / "cal")])
    assert res.exit_code == 0, res.output + res.stderr
    assert "cascade.mimetic" in res.output and "AIC" in res.output
    out = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert set(out) == {"parameters", "log_likelihood", "aic", "tests"}
    assert set(out["parameters"]) == {"cascade.external", "cascade.mimetic"}
    lo, hi = out["parameters"]["cascade.mimetic"]["ci"]
    assert lo < out["parameters"]["cascade.mimetic"]["estimate"] < hi
    assert set(out["tests"]["cascade.mimetic"]) == {"lr", "p_value"}


def test_the_likelihood_fit_shows_progress_on_a_terminal(simulated, tmp_path, runner, monkeypatch):
    path, table = simulated
    monkeypatch.setattr("diffusion.cli._common._stderr_is_terminal", lambda: True)
    res = runner.invoke(main, ["calibrate", str(path), str(table), "--out", str(tmp_path / "c"),
                               "--free", "cascade.mimetic", "--free", "cascade.external"])
    assert res.exit_code == 0, res.output
    assert "profile intervals and tests" in res.stderr and "6/6" in res.stderr


def test_free_override_and_curve(simulated, tmp_path, runner):
    path, table = simulated
    res = runner.invoke(main, ["calibrate", str(path), str(table), "--free", "cascade.mimetic",
                               "-o", str(tmp_path / "cal"), "-q"])
    assert res.exit_code == 0, res.stderr
    out = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert list(out["parameters"]) == ["cascade.mimetic"]
    res = runner.invoke(main, ["calibrate", str(path), str(tmp_path / "out" / "curve.csv"),
                               "--curve", "-e", "serial", "-o", str(tmp_path / "abc")])
    assert res.exit_code == 0, res.output + res.stderr
    out = json.loads((tmp_path / "abc" / "calibration.json").read_text())
    assert out["method"] == "abc-smc" and len(out["weights"]) == 20
    assert "credible" in res.output


@pytest.mark.parametrize(("edit", "args", "match"), [
    (None, ["--free", "cascade.nope"], "--free: cascade.nope: cannot be freed"),
    (None, ["--free", "network.n"], "--free: 'network.n'"),
    (None, ["--free", "cascade.mimetic_threshold"], "step function"),
    ("calibration.toml", [], "calibration.bounds.cascade.mimetic: low must be below high"),
    ("platform.toml", [], "cascade.model: the exact likelihood"),
])
def test_bad_input_exits_2_naming_the_key(simulated, tmp_path, runner, write_scenario, edit, args,
                                          match):
    path, table = simulated
    if edit == "calibration.toml":
        path = write_scenario(SCENARIO + '\n[calibration.bounds]\n"cascade.mimetic" = [1.0, 0.5]\n',
                              name=edit)
    elif edit == "platform.toml":
        text = SCENARIO.split("[cascade]")[0] + '[cascade]\nmodel = "platform_competition"\n'
        path = write_scenario(text + 'platforms = ["A", "B"]\n', name=edit)
    res = runner.invoke(main, ["calibrate", str(path), str(table), "-q", *args])
    assert res.exit_code == 2, res.output + res.stderr
    assert str(path) in res.stderr or edit is None
    assert match in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(("text", "match"), [
    ("id,step\n0,1\n0,2\n", r"a\.csv: line 3: firm '0' is listed twice"),
    ("id,step\n0,1\n700,2\n", r"a\.csv: line 3: firm '700' is not in the network"),
    ("id,step\n0,one\n", r"a\.csv: line 2: step 'one' is not an integer"),
    ("id,step\n0,1\n", r"a\.csv: 599 of the network's 600 firms are not in the table"),
    ("id,step\n0,40\n", r"a\.csv: line 2: step 40 is after the last observed step 15"),
])
def test_bad_adoption_tables_exit_2_naming_file_and_line(simulated, tmp_path, runner, text, match):
    path, _ = simulated
    bad = tmp_path / "a.csv"
    bad.write_text(text)
    res = runner.invoke(main, ["calibrate", str(path), str(bad), "-q"])
    assert res.exit_code == 2, res.output + res.stderr
    assert pytest.importorskip("re").search(match, res.stderr), res.stderr


def test_missing_never_and_replicate_out_of_range(simulated, tmp_path, runner):
    path, _ = simulated
    few = tmp_path / "few.csv"
    few.write_text("id,step\n0,3\n1,5\n")
    res = runner.invoke(main, ["calibrate", str(path), str(few), "--missing", "never", "-q",
                               "-o", str(tmp_path / "few")])
    assert res.exit_code == 0, res.stderr
    res = runner.invoke(main, ["run", str(path), "-q", "--no-plots", "--adoptions",
                               str(tmp_path / "x.csv"), "--replicate", "5"])
    assert res.exit_code == 2 and "--replicate 5" in res.stderr


def test_shipped_example_recovers_the_true_pressures(tmp_path, runner):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    res = runner.invoke(main, ["calibrate", str(root / "scenarios" / "calibration_isomorphic.toml"),
                               str(root / "scenarios" / "data" / "isomorphic_adoptions.csv"),
                               "-o", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.stderr
    out = json.loads((tmp_path / "calibration.json").read_text())["parameters"]
    truth = {"cascade.external": 0.004, "cascade.mimetic": 0.35, "cascade.normative": 0.08,
             "cascade.mandates[0].compliance": 0.3}
    for key, value in truth.items():
        lo, hi = out[key]["ci"]
        assert lo <= value <= hi, (key, out[key])
