"""What the commands show: progress lines with honest estimates, sweep tables and figures."""

from __future__ import annotations

import io

import numpy as np
import pytest

from diffusion.cli import main
from diffusion.progress import Progress, format_duration, make_progress

SERIAL = ["--executor", "serial"]


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_estimate_excludes_start_up_and_counts_parallel_throughput():
    # 15 points on 2 workers: start-up takes 17 s, then a point finishes every 0.15 s
    clock = Clock()
    bar = Progress(15, "points", stream=io.StringIO(), force=True, refresh=0, clock=clock)
    assert bar.eta() is None and "estimating time left" in bar.line()
    clock.t = 17.0
    bar(1)
    assert bar.eta() is None  # one result measures no rate
    clock.t = 17.3
    bar(2)
    # 2 items in 0.3 s since the first result: 12 left take 1.8 s (a naive estimate, elapsed / done
    # x left = 17.3 / 3 x 12, would say 69 s)
    assert bar.eta() == pytest.approx(1.8)
    assert "about 2 s left" in bar.line()
    clock.t = 19.1
    bar(12)
    assert bar.eta() == 0.0 and "left" not in bar.line() and "15/15" in bar.line()
    bar.close()


def test_progress_draws_only_on_a_terminal_and_ends_its_line():
    out = io.StringIO()
    with Progress(3, "runs", stream=out, refresh=0) as bar:  # a StringIO is no terminal
        bar(3)
    assert out.getvalue() == ""
    out = io.StringIO()
    with Progress(3, "runs", stream=out, force=True, refresh=0) as bar:
        bar(1)
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1 and "1/3" in text


def test_progress_redraws_between_results():
    clock = Clock()
    out = io.StringIO()
    bar = Progress(2, "x", stream=out, force=True, refresh=0.01, clock=clock)
    clock.t = 65.0
    import time

    deadline = time.monotonic() + 5
    while "elapsed 1 min 05 s" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    bar.close()
    assert "elapsed 1 min 05 s" in out.getvalue()


def test_format_duration_and_make_progress():
    assert format_duration(59.4) == "59 s" and format_duration(3600 * 2 + 60) == "2 h 01 min"
    assert make_progress(False, 3) is None
    with pytest.raises(Exception, match="progress"):
        make_progress(3, 3)


def test_simulate_progress_true_works_without_tqdm(monkeypatch, capsys):
    import builtins

    import diffusion

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    net = diffusion.generators.erdos_renyi(100, mean_degree=4, seed=1)
    res = diffusion.simulate(net, diffusion.IndependentCascade(0.3), initial=2, runs=6, seed=1,
                             chunk_size=2, progress=True)
    assert res.runs == 6
    err = capsys.readouterr().err
    assert "replicates" in err and "6/6" in err


def test_cli_commands_show_progress_on_a_terminal(runner, write_scenario, tmp_path, monkeypatch):
    path = write_scenario()
    monkeypatch.setattr("diffusion.cli._common._stderr_is_terminal", lambda: True)
    res = runner.invoke(main, ["run", str(path), "--out", str(tmp_path / "r"), *SERIAL])
    assert res.exit_code == 0, res.output
    assert "8/8" in res.stderr and "elapsed" in res.stderr
    res = runner.invoke(main, ["export-html", str(path), "--out", str(tmp_path / "e.html")])
    assert res.exit_code == 0, res.output
    assert "8/8" in res.stderr


SWEEP = """
[scenario]
name = "window"
seed = 3
runs = 4

[network]
generator = "erdos_renyi"
n = 300
mean_degree = 4.0

[cascade]
model = "linear_threshold"
threshold = 0.18

[cascade.initial]
count = 2

[sweep]
"cascade.threshold" = [0.1, 0.3]
"network.mean_degree" = [1.0, 4.0, 8.0]
"""


def test_cli_sweep_prints_its_table_and_draws_the_heat_map(runner, write_scenario, tmp_path):
    from diffusion.sweep import sweep_points, sweep_records
    from diffusion.viz import figures

    path = write_scenario(SWEEP)
    out = tmp_path / "sw"
    res = runner.invoke(main, ["sweep", str(path), "--out", str(out), *SERIAL])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[1].split() == ["cascade.threshold", "network.mean_degree", "mean", "final", "share", "median",
                                "final", "share", "runs", "reaching", "50", "%"]
    keys, rows = sweep_points(out)
    recs = sweep_records(out)
    for row, line in zip(rows, lines[2:8], strict=True):
        finals = [r["final_fraction"] for r in recs if r["cascade.threshold"] == row["cascade.threshold"]
                  and r["network.mean_degree"] == row["network.mean_degree"]]
        assert row["mean_final"] == pytest.approx(np.mean(finals))
        assert line.split()[:3] == [str(row["cascade.threshold"]), str(row["network.mean_degree"]),
                                    f"{100 * np.mean(finals):.1f}"]
    assert (out / "sweep.png").stat().st_size > 2000 and "sweep.png" in lines[-1]
    fig = figures.sweep_map(rows, keys)
    grid = fig.axes[0].images[0].get_array()
    assert grid.shape == (2, 3) and grid[0, 1] == pytest.approx(rows[1]["mean_final"])
    res = runner.invoke(main, ["sweep", str(path), "--out", str(out), "--no-plots", "-q"])
    assert res.exit_code == 0 and res.stdout == ""


def test_rich_reprs_for_notebooks(basic):
    import diffusion
    from diffusion.shocks.frontier import RECORD_KEYS, FrontierResult

    net = diffusion.generators.smb_network(120, mean_degree=4, sectors=2, regions=2, seed=1)
    page = net._repr_html_()
    assert "120" in page and "node attributes" in page and "sector" in page
    model = diffusion.PlatformCompetition(["A<b>", "B"], global_effect=4.0, revision_rate=0.3)
    res = diffusion.simulate(net, model, runs=4, seed=2, max_steps=10, keep="summary")
    page = res._repr_html_()
    assert "SimulationResult: platform_competition" in page and "A&lt;b&gt;" in page and "<b>" not in page
    assert f"mean {res.final_fraction.mean():.1%}" in page
    sc = diffusion.parse_scenario(basic(scenario__runs=3))
    run = diffusion.run_scenario(sc, keep="summary")
    page = run._repr_html_()
    assert "ScenarioResult: basic" in page and "final share adopted" in page
    rng = np.random.default_rng(0)
    recs = [{"parameter": "cascade.x", "value": v, "replicate": r, **{k: float(rng.random()) for k in RECORD_KEYS}}
            for v in (0.0, 1.0) for r in range(3)]
    front = FrontierResult("cascade.x", [0.0, 1.0], recs)
    page = front._repr_html_()
    assert page.count("<tr>") == 3 and "systemic loss" in page
