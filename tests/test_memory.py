"""A run that would not fit in memory is refused before it starts."""

from __future__ import annotations

import pytest

import diffusion
from diffusion import engine
from diffusion.cli import main


def test_estimate_grows_with_runs_nodes_and_model_outputs():
    net = diffusion.generators.erdos_renyi(1000, mean_degree=4, seed=1)
    lt = diffusion.LinearThreshold(0.2)
    one = engine.expected_memory(net, lt, runs=10, chunk_size=10)
    assert engine.expected_memory(net, lt, runs=20, chunk_size=10) > one
    big = diffusion.generators.erdos_renyi(2000, mean_degree=4, seed=1)
    assert engine.expected_memory(big, lt, runs=10, chunk_size=10) > 1.9 * one
    # per-firm platform labels and fits make a platform run heavier than a threshold run
    pc = diffusion.PlatformCompetition(["A", "B", "C"])
    assert engine.expected_memory(net, pc, runs=10, chunk_size=10) > one


def test_summary_mode_memory_grows_with_n_plus_runs_not_their_product():
    net = diffusion.generators.erdos_renyi(100_000, mean_degree=4, seed=1)
    lt = diffusion.LinearThreshold(0.2)
    kept = [engine.expected_memory(net, lt, runs=r, chunk_size=50) for r in (1_000, 10_000)]
    lean = [engine.expected_memory(net, lt, runs=r, chunk_size=50, kept=0) for r in (1_000, 10_000)]
    assert kept[1] - kept[0] > 9_000 * 100_000 * 2  # two bytes per node and kept replicate (or more)
    assert lean[1] - lean[0] < 9_000 * 2_000  # per-replicate curves and scalars only


def test_refusal_suggests_summary_mode_when_it_would_fit(monkeypatch):
    net = diffusion.generators.erdos_renyi(20_000, mean_degree=4, seed=1)
    lt = diffusion.LinearThreshold(0.2)
    need = engine.expected_memory(net, lt, runs=2_000, chunk_size=50)
    monkeypatch.setattr(engine, "available_memory", lambda: need // 4)
    with pytest.raises(diffusion.DiffusionError, match="keep='summary'"):
        diffusion.simulate(net, lt, initial=5, runs=2_000, seed=1, chunk_size=50)
    res = diffusion.simulate(net, lt, initial=5, runs=200, seed=1, chunk_size=50, keep="summary")
    assert res.runs == 200 and res.adoption_probability.shape == (20_000,)


def test_available_memory_is_a_positive_number_here():
    avail = engine.available_memory()
    assert avail is None or avail > 0


def test_simulate_refuses_a_run_that_does_not_fit(monkeypatch):
    net = diffusion.generators.erdos_renyi(500, mean_degree=4, seed=1)
    monkeypatch.setattr(engine, "available_memory", lambda: 10_000)
    with pytest.raises(diffusion.DiffusionError, match=r"needs about .* GB .*available"):
        diffusion.simulate(net, diffusion.LinearThreshold(0.2), initial=5, runs=50, seed=1)
    # the check can be turned off
    res = diffusion.simulate(net, diffusion.LinearThreshold(0.2), initial=5, runs=5, seed=1,
                             check_memory=False)
    assert res.runs == 5


def test_cli_reports_it_as_bad_input(runner, write_scenario, tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "available_memory", lambda: 1000)
    res = runner.invoke(main, ["run", str(write_scenario()), "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 2
    assert "needs about" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o" / "summary.json").exists()
