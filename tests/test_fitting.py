"""Discrete Bass fit: exact recovery, standard errors that cover, CSV input, validation."""

from __future__ import annotations

import numpy as np
import pytest

import diffusion
from diffusion import DiffusionError, Isomorphic, ParameterError
from diffusion.fitting import bass_curve, fit_bass, read_curve_csv
from diffusion.generators import complete_graph


def test_recovers_parameters_of_the_recursion_exactly():
    for p, q in ((0.01, 0.5), (0.03, 0.38), (0.2, 0.1)):
        fit = fit_bass(bass_curve(p, q, 30))
        assert fit.success
        assert fit.p == pytest.approx(p, rel=1e-6)
        assert fit.q == pytest.approx(q, rel=1e-6)
        assert fit.m == pytest.approx(1.0, rel=1e-6)
    counts = bass_curve(0.02, 0.4, 40, m=5000.0)
    fit = fit_bass(counts)
    assert (fit.p, fit.q, fit.m) == pytest.approx((0.02, 0.4, 5000.0), rel=1e-6)
    assert np.allclose(fit.predict(), counts)


def test_per_period_input_and_fixed_market_size():
    cum = bass_curve(0.05, 0.3, 25, m=800.0)
    a = fit_bass(np.diff(cum), cumulative=False)
    assert (a.p, a.q, a.m) == pytest.approx((0.05, 0.3, 800.0), rel=1e-6)
    b = fit_bass(cum / 800.0, m=1.0)
    assert (b.p, b.q, b.m, b.se_m) == pytest.approx((0.05, 0.3, 1.0, 0.0), rel=1e-6)
    assert b.cov.shape == (2, 2)


def _noisy(p, q, m, T, sigma, rng):
    """Per-period adoptions of the stochastic discrete Bass model ``x_t = f(N_{t-1}) + e_t``.

    The noise feeds back into the cumulative count, as in real sales data and in
    the model's conditional least-squares form.
    """
    x = np.empty(T)
    cum = 0.0
    for t in range(T):  # scalar recursion over time
        x[t] = (p + q * cum / m) * (m - cum) + rng.normal(0, sigma)
        cum += x[t]
    return x


def test_noisy_curve_within_reported_standard_errors():
    rng = np.random.default_rng(2024)
    p, q, m = 0.02, 0.45, 10_000.0
    fit = fit_bass(_noisy(p, q, m, 30, 20.0, rng), cumulative=False)
    assert abs(fit.p - p) < 4 * fit.se_p
    assert abs(fit.q - q) < 4 * fit.se_q
    assert abs(fit.m - m) < 4 * fit.se_m
    assert fit.sigma == pytest.approx(20.0, rel=0.5)


def test_standard_errors_are_calibrated():
    """Over 300 noisy series about 95 % of the ±1.96 SE intervals cover the truth.

    The coverage count is binomial: 4 standard errors of 0.95 over 300 series is 0.05;
    we allow a further 0.02 for the small-sample (T = 40) bias of asymptotic intervals.
    """
    rng = np.random.default_rng(7)
    p, q, m = 0.03, 0.4, 5000.0
    hits = np.zeros(3)
    trials = 300
    for _ in range(trials):
        fit = fit_bass(_noisy(p, q, m, 40, 10.0, rng), cumulative=False)
        hits += [
            abs(fit.p - p) < 1.96 * fit.se_p,
            abs(fit.q - q) < 1.96 * fit.se_q,
            abs(fit.m - m) < 1.96 * fit.se_m,
        ]
    cover = hits / trials
    assert np.all(np.abs(cover - 0.95) < 4 * np.sqrt(0.95 * 0.05 / trials) + 0.02), cover


def test_fits_a_simulated_curve():
    n = 400
    res = diffusion.simulate(
        complete_graph(n), Isomorphic(external=0.02, mimetic=0.5), runs=100, seed=5, max_steps=30
    )
    fit = fit_bass(res.mean_curve())
    # the mean of the stochastic model is the Bass recursion up to O(1/n) terms
    assert fit.p == pytest.approx(0.02, rel=0.15)
    assert fit.q == pytest.approx(0.5 * n / (n - 1), rel=0.05)
    assert fit.to_dict()["form"] == "discrete"


def test_read_curve_csv(tmp_path):
    path = tmp_path / "curve.csv"
    path.write_text("step,mean_fraction,q05,q95\n0,0.0,0,0\n1,0.1,0,0\n2,0.3,0,0\n")
    assert read_curve_csv(path).tolist() == [0.0, 0.1, 0.3]
    assert read_curve_csv(path, column="q95").tolist() == [0, 0, 0]
    emp = tmp_path / "sales.csv"
    counts = bass_curve(0.03, 0.4, 20, m=1000.0)
    emp.write_text("year,adopters\n" + "".join(f"{2000 + t},{c}\n" for t, c in enumerate(counts)))
    fit = fit_bass(read_curve_csv(emp))
    assert fit.m == pytest.approx(1000.0, rel=1e-6)
    with pytest.raises(ParameterError) as err:
        read_curve_csv(emp, column="sales")
    assert err.value.name == "column"
    bad = tmp_path / "bad.csv"
    bad.write_text("t,adopters\n1,x\n")
    with pytest.raises(DiffusionError, match="non-numeric"):
        read_curve_csv(bad)
    with pytest.raises(DiffusionError, match="cannot read"):
        read_curve_csv(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("curve", "kwargs", "name"),
    [
        ([0.0, 0.1], {}, "curve"),
        ([0.0, 0.2, 0.1, 0.3, 0.4], {}, "curve"),
        ([0.0, np.nan, 0.1, 0.2, 0.3], {}, "curve"),
        ([0.0, 0.1, 0.2, 0.3, 0.4], {"m": -1.0}, "m"),
        ([0.1, 0.2, 0.3, 0.4], {"start": 0.5}, "start"),
    ],
)
def test_invalid_input_names_the_parameter(curve, kwargs, name):
    with pytest.raises(ParameterError) as err:
        fit_bass(curve, **kwargs)
    assert err.value.name == name


def test_robust_standard_errors_cover_q_on_simulated_adoption_paths():
    """HC1 sandwich standard errors on single adoption paths of the isomorphic model.

    On a complete graph of n firms with only external (p) and mimetic (q) pressure each
    step's adoptions are Binomial(n − N, p + q N / (n − 1)): the conditional mean is the
    discrete Bass model with q' = q n / (n − 1), the variance changes over the diffusion and
    the saturated tail is almost noise-free. The homoscedastic formula is then too narrow
    (it covers q' about 70–80 % of the time at the nominal 95 %); the sandwich covers it
    about 90 % of the time (the rest is the small-T bias of asymptotic intervals). Each
    coverage is a binomial proportion over 300 paths (standard error <= 0.029).
    """
    n, p, q = 300, 0.01, 0.5
    res = diffusion.simulate(
        complete_graph(n), Isomorphic(external=p, mimetic=q), runs=300, seed=11, max_steps=30
    )
    q_true = q * n / (n - 1)
    hits = {"hc1": 0, "classical": 0}
    for j in range(res.runs):
        for kind in hits:
            fit = fit_bass(res.curve[:, j], se=kind)
            hits[kind] += abs(fit.q - q_true) < 1.96 * fit.se_q
    robust, classical = hits["hc1"] / res.runs, hits["classical"] / res.runs
    assert 0.84 <= robust <= 0.98, robust
    assert classical <= robust - 0.1, (classical, robust)
    assert fit_bass(res.curve[:, 0]).to_dict()["se"] == "hc1"


def test_classical_and_robust_standard_errors_agree_on_homoscedastic_noise():
    """With constant-variance noise both estimate the same spread (HC1 is noisier: 100 series)."""
    rng = np.random.default_rng(3)
    ratios = []
    for _ in range(100):
        x = _noisy(0.03, 0.4, 5000.0, 40, 10.0, rng)
        a, b = fit_bass(x, cumulative=False), fit_bass(x, cumulative=False, se="classical")
        assert (a.p, a.q, a.m) == (b.p, b.q, b.m)
        ratios.append(a.se_q / b.se_q)
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.15)
    with pytest.raises(diffusion.ParameterError, match="se"):
        fit_bass(x, cumulative=False, se="hc3")
