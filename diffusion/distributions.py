"""Parameter distributions written the same way in Python and in TOML.

A per-node parameter (a threshold, a capacity, a fit) may be a
*distribution* drawn per node and per replicate::

    {"distribution": "uniform", "low": 0.0, "high": 1.0}
    {"distribution": "normal", "mean": 0.2, "sd": 0.05}      # clipped to [0, 1] for probabilities
    {"distribution": "beta", "a": 2.0, "b": 5.0}
    {"distribution": "lognormal", "mean": 0.0, "sigma": 1.0}

In TOML the same table is ``threshold = {distribution = "uniform", low = 0.0, high = 1.0}``.

A distribution is checked against the range of the parameter it stands for,
as a single number would be: the values of a bounded distribution (uniform
``low`` and ``high``, constant ``value``, beta's ``[0, 1]``) must lie in the
range, and the centre of an unbounded one (normal ``mean``, lognormal median
``exp(mean)``) too; its tails are clipped to the range. Spreads are bounded
so that every draw is finite (``|mean| + 10 sd <= 1e300`` for the normal,
``mean + 10 sigma <= 700`` for the lognormal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ParameterError

__all__ = ["Distribution", "is_distribution", "parse_distribution"]

_PARAMS: dict[str, dict[str, float | None]] = {
    # name: {parameter: default (None = required)}
    "uniform": {"low": 0.0, "high": 1.0},
    "normal": {"mean": None, "sd": None},
    "beta": {"a": None, "b": None},
    "lognormal": {"mean": 0.0, "sigma": 1.0},
    "constant": {"value": None},
}


@dataclass(frozen=True)
class Distribution:
    """A named distribution with its parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.distributions import parse_distribution
    >>> d = parse_distribution({"distribution": "uniform", "low": 0.2, "high": 0.4}, "threshold")
    >>> x = d.sample(np.random.default_rng(0), 5)
    >>> bool(((x >= 0.2) & (x < 0.4)).all())
    True
    """

    kind: str
    params: tuple[tuple[str, float], ...]
    clip: tuple[float, float] | None = None

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Draw ``size`` values from ``rng``."""
        p = dict(self.params)
        if self.kind == "uniform":
            x = rng.uniform(p["low"], p["high"], size)
        elif self.kind == "normal":
            x = rng.normal(p["mean"], p["sd"], size)
        elif self.kind == "beta":
            x = rng.beta(p["a"], p["b"], size)
        elif self.kind == "lognormal":
            x = rng.lognormal(p["mean"], p["sigma"], size)
        else:
            x = np.full(size, p["value"], dtype=np.float64)
        if self.clip is not None:
            np.clip(x, *self.clip, out=x)
        return x

    def to_dict(self) -> dict[str, Any]:
        """The TOML/Python table form."""
        return {"distribution": self.kind, **dict(self.params)}


def is_distribution(value: Any) -> bool:
    """Whether ``value`` is a distribution table (or a :class:`Distribution`)."""
    return isinstance(value, Distribution) or (isinstance(value, Mapping) and "distribution" in value)


def _check_range(dist: Distribution, name: str, low: float | None, high: float | None) -> None:
    """Raise a :class:`ParameterError` if ``dist`` puts values outside ``[low, high]`` or overflows."""
    p = dict(dist.params)
    # (dotted key, value that must lie in the range, what it is)
    if dist.kind == "uniform":
        points = [("low", p["low"], ""), ("high", p["high"], "")]
    elif dist.kind == "constant":
        points = [("value", p["value"], "")]
    elif dist.kind == "beta":
        points = [("distribution", 0.0, "beta draws "), ("distribution", 1.0, "beta draws ")]
    elif dist.kind == "normal":
        if abs(p["mean"]) + 10 * p["sd"] > 1e300:
            raise ParameterError(f"{name}.sd", "|mean| + 10 sd must be at most 1e300 (finite draws)")
        points = [("mean", p["mean"], "")]
    else:
        if p["mean"] + 10 * p["sigma"] > 700:
            raise ParameterError(f"{name}.sigma", "mean + 10 sigma must be at most 700 (finite draws)")
        points = [("mean", float(np.exp(p["mean"])), "the median exp(mean) ")]
    for key, x, what in points:
        if low is not None and x < low:
            raise ParameterError(f"{name}.{key}", f"{what}must be >= {low} (the least value of {name}), got {x!r}")
        if high is not None and x > high:
            raise ParameterError(f"{name}.{key}", f"{what}must be <= {high} (the largest value of {name}), "
                                 f"got {x!r}")


def parse_distribution(
    spec: Mapping[str, Any] | Distribution, name: str, clip: tuple[float, float] | None = None,
    *, low: float | None = None, high: float | None = None,
) -> Distribution:
    """Validate a distribution table; errors name the parameter ``name``.

    Parameters
    ----------
    spec : mapping or Distribution
        The table (``{"distribution": "normal", "mean": 0.2, "sd": 0.05}``).
    name : str
        The parameter it stands for (errors name ``name.key``).
    clip : (float, float), optional
        Draws are clipped to this interval.
    low, high : float, optional
        The parameter's range: checked as described in the module docstring.

    Examples
    --------
    >>> from diffusion.distributions import parse_distribution
    >>> parse_distribution({"distribution": "constant", "value": 2.0}, "threshold", low=0.0, high=1.0)
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: threshold.value: must be <= 1.0 (the largest value of threshold), got 2.0
    """
    if isinstance(spec, Distribution):
        dist = spec if clip is None else Distribution(spec.kind, spec.params, clip)
        _check_range(dist, name, low, high)
        return dist
    kind = spec.get("distribution")
    if kind not in _PARAMS:
        raise ParameterError(
            f"{name}.distribution", f"unknown distribution {kind!r}; choose one of {', '.join(_PARAMS)}"
        )
    allowed = _PARAMS[kind]
    extra = set(spec) - set(allowed) - {"distribution"}
    if extra:
        raise ParameterError(f"{name}.{sorted(extra)[0]}", f"not a parameter of the {kind} distribution "
                             f"(it takes {', '.join(allowed) or 'none'})")
    params = []
    for key, default in allowed.items():
        value = spec.get(key, default)
        if value is None:
            raise ParameterError(f"{name}.{key}", f"required for the {kind} distribution")
        if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not np.isfinite(value):
            raise ParameterError(f"{name}.{key}", f"must be a finite number, got {value!r}")
        params.append((key, float(value)))
    p = dict(params)
    if kind == "uniform" and p["low"] > p["high"]:
        raise ParameterError(f"{name}.low", "must not exceed high")
    if kind == "normal" and p["sd"] < 0:
        raise ParameterError(f"{name}.sd", "must be non-negative")
    if kind == "beta" and (p["a"] <= 0 or p["b"] <= 0):
        raise ParameterError(f"{name}.a", "beta parameters a and b must be positive")
    if kind == "lognormal" and p["sigma"] < 0:
        raise ParameterError(f"{name}.sigma", "must be non-negative")
    dist = Distribution(kind, tuple(params), clip)
    _check_range(dist, name, low, high)
    return dist
