"""Global sensitivity (SALib) through the sweep machinery: science, files, bad input."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import diffusion
from diffusion.calibration.sensitivity import run_sensitivity
from diffusion.cli import main

pytest.importorskip("SALib")

# mimetic pressure has no effect here: every firm's uncertainty is 0, so u·q·share = 0
SCENARIO = """
[scenario]
name = "sens"
seed = 17
runs = 4
max_steps = 3

[network]
generator = "erdos_renyi"
n = 500
mean_degree = 6.0

[cascade]
model = "isomorphic"
external = 0.05
mimetic = 0.3
normative = 0.1
uncertainty = 0.0

[sensitivity]
method = "{method}"
samples = {samples}
outputs = ["final_fraction", "cascade.final_fraction.mean"]
[sensitivity.parameters]
"cascade.external" = [0.01, 0.1]
"cascade.mimetic" = [0.0, 1.0]
"cascade.normative" = [0.0, 0.2]
"""


def test_sobol_gives_no_effect_st_zero_and_ranks_the_dominant_first(tmp_path):
    """Saltelli N = 32, D = 3: 160 points of 4 replicates each.

    The final fraction after 3 steps is about 1 − (1 − a)^3 plus a little normative pull:
    external dominates, normative matters less, mimetic (uncertainty 0) not at all — its
    total index is within its confidence interval of 0 (only replicate noise is left).
    """
    sc = diffusion.parse_scenario(
        __import__("tomllib").loads(SCENARIO.format(method="sobol", samples=32)))
    res = run_sensitivity(sc, tmp_path / "out", figure=False)
    assert res.points == 32 * 5
    for out in ("final_fraction", "cascade.final_fraction.mean"):
        rows = {r["parameter"]: r for r in res.records if r["output"] == out}
        assert res.ranking(out)[0] == "cascade.external"
        assert res.ranking(out)[-1] == "cascade.mimetic"
        mim = rows["cascade.mimetic"]
        assert abs(mim["ST"]) <= mim["ST_conf"] + 0.01, mim
        ext = rows["cascade.external"]
        assert ext["ST"] > 0.5 and ext["ST"] >= ext["S1"] - ext["S1_conf"]
    with open(tmp_path / "out" / "sensitivity.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["parameter", "output", "S1", "S1_conf", "ST", "ST_conf"]
    # resuming finds every point stored and gives the same indices
    again = run_sensitivity(sc, tmp_path / "out", figure=False)
    assert again.records == res.records


def test_morris_screening_and_cli(tmp_path, write_scenario, runner):
    path = write_scenario(SCENARIO.format(method="morris", samples=10))
    res = runner.invoke(main, ["sensitivity", str(path), "-o", str(tmp_path / "m"), "-e", "serial"])
    assert res.exit_code == 0, res.output + res.stderr
    with open(tmp_path / "m" / "sensitivity.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["parameter", "output", "mu", "mu_star", "mu_star_conf", "sigma"]
    mu = {r["parameter"]: float(r["mu_star"]) for r in rows if r["output"] == "final_fraction"}
    assert mu["cascade.external"] > 5 * mu["cascade.mimetic"]
    assert (tmp_path / "m" / "sensitivity.png").stat().st_size > 0
    assert "cascade.external" in res.output.splitlines()[2]  # ranked first


@pytest.mark.parametrize(("change", "match"), [
    ('"cascade.mimetic" = [1.0, 0.0]',
     "sensitivity.parameters.cascade.mimetic: low must be below high"),
    ('"cascade.nope" = [0.0, 1.0]', "sensitivity.parameters.cascade.nope"),
    ('"cascade.external" = [0.5, 2.0]', "sensitivity.parameters.cascade.external"),
    ("outputs = [\"final_fraction\", \"nope\"]", "sensitivity.outputs: unknown output 'nope'"),
    ("samples = 20", "sensitivity.samples: must be a power of 2"),
    ("method = \"fast\"", "sensitivity.method"),
])
def test_bad_input_exits_2_naming_the_key(tmp_path, write_scenario, runner, change, match):
    text = SCENARIO.format(method="sobol", samples=4)
    key = change.split(" = ")[0]
    lines = [ln for ln in text.splitlines() if not ln.startswith(key)]
    lines.append(change) if key.startswith('"') else lines.insert(
        lines.index("[sensitivity]") + 1, change)
    path = write_scenario("\n".join(lines) + "\n")
    res = runner.invoke(main, ["sensitivity", str(path), "-o", str(tmp_path / "o"), "-q",
                               "-e", "serial"])
    assert res.exit_code == 2, res.output + res.stderr
    assert str(path) in res.stderr and match in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


def test_figure_draws_every_output():
    from diffusion.viz.figures import sensitivity_indices

    recs = [{"parameter": p, "output": o, "S1": s, "S1_conf": 0.05, "ST": s + 0.05,
             "ST_conf": 0.05} for o in ("a", "b") for p, s in (("x", 0.6), ("y", 0.1))]
    fig = sensitivity_indices(recs)
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["y", "x"]
    assert np.isclose(max(b.get_width() for b in fig.axes[0].patches), 0.65)
