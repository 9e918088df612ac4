"""Distribution tables are held to the range of the parameter they stand for."""

from __future__ import annotations

import numpy as np
import pytest

from diffusion import IndependentCascade, LinearThreshold
from diffusion.distributions import parse_distribution
from diffusion.errors import ParameterError
from diffusion.models.isomorphic import Isomorphic


@pytest.mark.parametrize(
    ("make", "key"),
    [
        # a scalar 1.5 is refused: so is a distribution whose values are 1.5
        (lambda: LinearThreshold({"distribution": "constant", "value": 2.0}), "threshold.value"),
        (lambda: LinearThreshold({"distribution": "constant", "value": -0.1}), "threshold.value"),
        (lambda: LinearThreshold({"distribution": "uniform", "low": 0.5, "high": 1.5}), "threshold.high"),
        (lambda: LinearThreshold({"distribution": "uniform", "low": -1.0, "high": 0.5}), "threshold.low"),
        (lambda: LinearThreshold({"distribution": "normal", "mean": 1.2, "sd": 0.1}), "threshold.mean"),
        (lambda: LinearThreshold({"distribution": "lognormal", "mean": 0.5, "sigma": 0.1}), "threshold.mean"),
        (lambda: LinearThreshold({"distribution": "constant", "value": -1.0}, rule="count"), "threshold.value"),
        (lambda: LinearThreshold({"distribution": "normal", "mean": 1.0, "sd": 1e300}, rule="count"),
         "threshold.sd"),
        (lambda: LinearThreshold({"distribution": "lognormal", "mean": 0.0, "sigma": 100.0}, rule="count"),
         "threshold.sigma"),
        (lambda: LinearThreshold({"distribution": "uniform", "low": -1e308, "high": 1e308}, rule="count"),
         "threshold.low"),
        (lambda: Isomorphic(external={"distribution": "constant", "value": 3.0}), "external.value"),
        (lambda: Isomorphic(uncertainty={"distribution": "uniform", "low": -2.0, "high": 1.0}),
         "uncertainty.low"),
    ],
)
def test_distribution_outside_the_range_is_refused_like_a_scalar(make, key):
    with pytest.raises(ParameterError) as info:
        make()
    assert info.value.name == key
    assert str(info.value).startswith(key + ": ")


def test_scalar_and_constant_distribution_agree():
    for value in (1.5, 2.0, -0.5):
        with pytest.raises(ParameterError):
            LinearThreshold(value)
        with pytest.raises(ParameterError):
            LinearThreshold({"distribution": "constant", "value": value})
    for value in (0.0, 0.3, 1.0):
        LinearThreshold(value)
        LinearThreshold({"distribution": "constant", "value": value})


@pytest.mark.parametrize(
    "spec",
    [
        {"distribution": "uniform", "low": 0.0, "high": 1.0},
        {"distribution": "normal", "mean": 0.2, "sd": 0.05},  # tails clipped to [0, 1]
        {"distribution": "normal", "mean": 0.0, "sd": 5.0},
        {"distribution": "beta", "a": 2.0, "b": 5.0},
        {"distribution": "lognormal", "mean": 0.0, "sigma": 1.0},  # median 1: inside
        {"distribution": "constant", "value": 1.0},
    ],
)
def test_distributions_within_the_range_are_accepted_and_draw_in_range(spec):
    model = LinearThreshold(spec)
    dist = model._threshold.value
    x = dist.sample(np.random.default_rng(0), 10_000)
    assert np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0


def test_unbounded_ranges_accept_large_finite_spreads():
    d = parse_distribution({"distribution": "lognormal", "mean": 0.0, "sigma": 60.0}, "threshold",
                           (0.0, np.inf), low=0.0)
    assert np.isfinite(d.sample(np.random.default_rng(0), 100_000)).all()
    d = parse_distribution({"distribution": "normal", "mean": 1e3, "sd": 1e299}, "x", low=None)
    assert np.isfinite(d.sample(np.random.default_rng(0), 100_000)).all()


def test_per_arc_probability_range_unchanged():
    with pytest.raises(ParameterError):
        IndependentCascade(1.5)
