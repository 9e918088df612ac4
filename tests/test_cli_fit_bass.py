"""``diffusion fit-bass`` on simulated and broken series."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from diffusion.cli import main


def bass_curve(p: float, q: float, steps: int) -> np.ndarray:
    """The discrete Bass recursion F_{t+1} = F_t + (p + q F_t)(1 - F_t), from F_0 = 0."""
    f = np.zeros(steps + 1)
    for t in range(steps):
        f[t + 1] = f[t] + (p + q * f[t]) * (1 - f[t])
    return f


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_recovers_p_and_q_from_an_exact_curve(runner, tmp_path):
    f = bass_curve(0.01, 0.4, 30)
    path = tmp_path / "curve.csv"
    path.write_text("year,cumulative\n" + "".join(f"{2000 + t},{float(x)!r}\n" for t, x in enumerate(f)))
    res = runner.invoke(main, ["fit-bass", str(path), "--json", str(tmp_path / "fit.json")])
    assert res.exit_code == 0, res.output
    fit = json.loads((tmp_path / "fit.json").read_text())
    # an exact curve: the least-squares fit is exact up to the optimizer's tolerance
    assert fit["p"] == pytest.approx(0.01, rel=1e-4)
    assert fit["q"] == pytest.approx(0.4, rel=1e-4)
    assert fit["m"] == pytest.approx(1.0, rel=1e-4)
    assert "p (innovation)" in res.output


def test_per_period_counts_and_known_market(runner, tmp_path):
    f = bass_curve(0.02, 0.3, 25) * 500  # 500 firms
    path = tmp_path / "new.csv"
    path.write_text("t,adopters\n" + "".join(f"{t},{float(x)!r}\n" for t, x in enumerate(np.diff(f), 1)))
    res = runner.invoke(main, ["fit-bass", str(path), "--per-period", "--market", "500",
                               "--json", str(tmp_path / "fit.json")])
    assert res.exit_code == 0, res.output
    fit = json.loads((tmp_path / "fit.json").read_text())
    assert fit["p"] == pytest.approx(0.02, rel=1e-4) and fit["q"] == pytest.approx(0.3, rel=1e-4)


@pytest.mark.parametrize("content", ["year,adopters\n2001,3\n", "year,adopters\n", "a,b\n1,x\n2,y\n"])
def test_bad_series_is_one_line_naming_the_file(runner, tmp_path, content):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    res = runner.invoke(main, ["fit-bass", str(path)])
    assert res.exit_code == 2
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad.csv" in lines[0]
    assert "Traceback" not in res.stderr


def test_missing_file(runner, tmp_path):
    res = runner.invoke(main, ["fit-bass", str(tmp_path / "nope.csv")])
    assert res.exit_code == 2 and "nope.csv" in res.stderr
