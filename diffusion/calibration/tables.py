"""The ``[calibration]`` and ``[sensitivity]`` tables of scenario files.

``[calibration]`` says which parameters to estimate and how::

    [calibration]
    free = ["cascade.external", "cascade.mimetic"]   # default: the non-zero pressures
    last_step = 30            # last observed step (default: the largest in the table)
    # period = "month"        # adoption dates instead of steps ...
    # origin = "2020-01-01"   # ... step 1 starts here (default: the earliest date)
    # missing = "never"       # firms absent from the table never adopted (default: error)

    [calibration.bounds]      # narrower bounds for the likelihood (optional)
    "cascade.mimetic" = [0.0, 2.0]

    [calibration.priors]      # priors for ABC: [low, high] (uniform) or a distribution
    "cascade.external" = [0.0, 0.05]
    "cascade.mimetic" = { distribution = "uniform", low = 0.0, high = 1.5 }

    [calibration.abc]         # the sampler (optional)
    particles = 200
    generations = 5
    quantile = 0.5

``[sensitivity]`` describes a global sensitivity analysis::

    [sensitivity]
    method = "sobol"          # or "morris"
    samples = 256             # N: Saltelli N(D + 2) points, or N Morris trajectories
    outputs = ["hhi", "final_fraction"]
    runs = 4                  # replicates per point (default: scenario.runs)
    [sensitivity.parameters]
    "cascade.global_effect" = [0.0, 8.0]
    "cascade.revision_rate" = [0.5, 1.0]

Both are parsed once into frozen objects (:class:`CalibrationSpec`,
:class:`SensitivitySpec`); every error names the file and the dotted key.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..distributions import Distribution, parse_distribution
from ..errors import DiffusionError, ParameterError
from ..scenario import ParseContext, TableHandler
from .data import PERIODS
from .params import parse_key

__all__ = ["CALIBRATION_TABLE", "SENSITIVITY_TABLE", "ABCSettings", "CalibrationSpec",
           "SensitivitySpec", "parse_calibration", "parse_sensitivity"]


@dataclass(frozen=True)
class ABCSettings:
    """Settings of the ABC-SMC sampler (see :func:`~diffusion.calibration.abc.abc_smc`)."""

    particles: int = 200
    generations: int = 5
    quantile: float = 0.5
    min_acceptance: float = 0.02

    def to_dict(self) -> dict[str, Any]:
        return {"particles": self.particles, "generations": self.generations,
                "quantile": self.quantile, "min_acceptance": self.min_acceptance}


@dataclass(frozen=True)
class CalibrationSpec:
    """A parsed ``[calibration]`` table.

    Examples
    --------
    >>> from diffusion.calibration.tables import parse_calibration
    >>> spec = parse_calibration({"free": ["cascade.mimetic"],
    ...                           "priors": {"cascade.mimetic": [0.0, 2.0]}})
    >>> spec.free, spec.priors["cascade.mimetic"].to_dict()
    (('cascade.mimetic',), {'distribution': 'uniform', 'low': 0.0, 'high': 2.0})
    """

    free: tuple[str, ...] | None = None
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    priors: Mapping[str, Distribution] = field(default_factory=dict)
    last_step: int | None = None
    period: Any = None
    origin: str | None = None
    missing: str = "error"
    abc: ABCSettings = field(default_factory=ABCSettings)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.free is not None:
            out["free"] = list(self.free)
        for key in ("last_step", "period", "origin"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.missing != "error":
            out["missing"] = self.missing
        if self.bounds:
            out["bounds"] = {k: list(v) for k, v in self.bounds.items()}
        if self.priors:
            out["priors"] = {k: v.to_dict() for k, v in self.priors.items()}
        if self.abc != ABCSettings():
            out["abc"] = self.abc.to_dict()
        return out


_CAL_KEYS = ("free", "bounds", "priors", "last_step", "period", "origin", "missing", "abc")


def _err(ctx: ParseContext | None, key: str, message: str) -> DiffusionError:
    if ctx is None:
        return ParameterError(key, message)
    return ctx.error(key, message)


def _number(ctx: ParseContext | None, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _err(ctx, key, f"must be a finite number, got {value!r}")
    return float(value)


def _range(ctx: ParseContext | None, key: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise _err(ctx, key, f"must be a range [low, high], got {value!r}")
    lo, hi = _number(ctx, key, value[0]), _number(ctx, key, value[1])
    if not lo < hi:
        raise _err(ctx, key, f"low must be below high, got [{value[0]}, {value[1]}]")
    return lo, hi


def _dotted(ctx: ParseContext | None, where: str, key: Any) -> str:
    try:
        return parse_key(key).key
    except ParameterError as exc:
        raise _err(ctx, where, f"{exc.reason} (got {key!r})") from None


def _table_of(ctx: ParseContext | None, key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _err(ctx, key, f"must be a table, got {type(value).__name__}")
    return value


def _flat_keys(table: Mapping[str, Any], leaf: Any) -> dict[str, Any]:
    """``{"cascade": {"mimetic": v}}`` (unquoted dotted keys in TOML) -> ``{"cascade.mimetic": v}``."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        if isinstance(v, Mapping) and not leaf(v):
            for kk, vv in _flat_keys(v, leaf).items():
                out[f"{k}.{kk}"] = vv
        else:
            out[str(k)] = v
    return out


def parse_calibration(table: Mapping[str, Any], ctx: ParseContext | None = None) -> CalibrationSpec:
    """Parse a ``[calibration]`` table; errors name ``calibration.<key>``."""
    table = _table_of(ctx, "calibration", table)
    unknown = sorted(set(table) - set(_CAL_KEYS))
    if unknown:
        raise _err(ctx, f"calibration.{unknown[0]}", f"unknown key (valid: {', '.join(_CAL_KEYS)})")
    free = None
    if "free" in table:
        raw = table["free"]
        if not isinstance(raw, list) or not raw or not all(isinstance(k, str) for k in raw):
            raise _err(ctx, "calibration.free", "must be a non-empty list of dotted keys such as "
                       "\"cascade.mimetic\"")
        free = tuple(_dotted(ctx, "calibration.free", k) for k in raw)
        if len(set(free)) != len(free):
            raise _err(ctx, "calibration.free", "lists a parameter twice")
    bounds = {}
    for key, value in _flat_keys(_table_of(ctx, "calibration.bounds", table.get("bounds", {})),
                                 lambda v: False).items():
        where = f"calibration.bounds.{key}"
        _dotted(ctx, where, key)
        bounds[key] = _range(ctx, where, value)
    priors = {}
    for key, value in _flat_keys(_table_of(ctx, "calibration.priors", table.get("priors", {})),
                                 lambda v: "distribution" in v).items():
        where = f"calibration.priors.{key}"
        _dotted(ctx, where, key)
        priors[key] = parse_prior(value, where, ctx)
    last_step = table.get("last_step")
    if last_step is not None and (isinstance(last_step, bool) or not isinstance(last_step, int)
                                  or last_step < 1):
        raise _err(ctx, "calibration.last_step", f"must be an integer >= 1, got {last_step!r}")
    period = table.get("period")
    if period is not None and not ((isinstance(period, str) and period in PERIODS) or (
            isinstance(period, int) and not isinstance(period, bool) and period >= 1)):
        raise _err(ctx, "calibration.period", f"must be one of {', '.join(PERIODS)} or a number "
                   f"of days >= 1, got {period!r}")
    origin = table.get("origin")
    if origin is not None:
        import datetime

        if isinstance(origin, datetime.date):
            origin = origin.isoformat()
        if not isinstance(origin, str):
            raise _err(ctx, "calibration.origin", f"must be a date (YYYY-MM-DD), got {origin!r}")
        try:
            datetime.date.fromisoformat(origin)
        except ValueError:
            raise _err(ctx, "calibration.origin", f"must be a date (YYYY-MM-DD), got "
                       f"{origin!r}") from None
    missing = table.get("missing", "error")
    if missing not in ("error", "never"):
        raise _err(ctx, "calibration.missing", f"must be 'error' or 'never', got {missing!r}")
    abc = parse_abc(_table_of(ctx, "calibration.abc", table.get("abc", {})), ctx)
    return CalibrationSpec(free, bounds, priors, last_step, period, origin, missing, abc)


def parse_prior(value: Any, where: str, ctx: ParseContext | None = None) -> Distribution:
    """A prior: ``[low, high]`` (uniform) or a distribution table (uniform, normal, beta, lognormal)."""
    if isinstance(value, list | tuple):
        lo, hi = _range(ctx, where, value)
        return Distribution("uniform", (("low", lo), ("high", hi)))
    if isinstance(value, Mapping):
        try:
            dist = parse_distribution(value, where)
        except ParameterError as exc:
            raise _err(ctx, exc.name, exc.reason) from None
        if dist.kind == "constant":
            raise _err(ctx, where, "a prior cannot be a constant (fix the parameter instead)")
        p = dict(dist.params)
        if dist.kind == "uniform" and not p["low"] < p["high"]:
            raise _err(ctx, where, f"low must be below high, got [{p['low']}, {p['high']}]")
        if dist.kind == "normal" and p["sd"] <= 0:
            raise _err(ctx, f"{where}.sd", "must be positive")
        return dist
    raise _err(ctx, where, f"must be a range [low, high] or a distribution table, got {value!r}")


def parse_abc(table: Mapping[str, Any], ctx: ParseContext | None = None) -> ABCSettings:
    valid = ("particles", "generations", "quantile", "min_acceptance")
    unknown = sorted(set(table) - set(valid))
    if unknown:
        raise _err(ctx, f"calibration.abc.{unknown[0]}", f"unknown key (valid: {', '.join(valid)})")
    d = ABCSettings()
    out = {}
    for key, low in (("particles", 10), ("generations", 1)):
        v = table.get(key, getattr(d, key))
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise _err(ctx, f"calibration.abc.{key}", f"must be an integer >= {low}, got {v!r}")
        out[key] = int(v)
    for key in ("quantile", "min_acceptance"):
        v = _number(ctx, f"calibration.abc.{key}", table.get(key, getattr(d, key)))
        if not 0 < v < 1 and not (key == "min_acceptance" and v == 1):
            raise _err(ctx, f"calibration.abc.{key}", f"must be in (0, 1), got {v!r}")
        out[key] = v
    return ABCSettings(**out)


# ----------------------------------------------------------------- [sensitivity]
METHODS = ("sobol", "morris")


@dataclass(frozen=True)
class SensitivitySpec:
    """A parsed ``[sensitivity]`` table.

    Attributes
    ----------
    method : {"sobol", "morris"}
    samples : int
        Sobol: the base sample ``N`` (Saltelli: ``N (D + 2)`` points, a power of 2); Morris:
        the number of trajectories (``N (D + 1)`` points).
    outputs : tuple of str
        ``runs.csv`` columns (averaged over a point's replicates) or dotted keys of
        ``summary.json`` (e.g. ``"fragility.systemic_loss.mean"``).
    parameters : Mapping
        Dotted scenario key -> ``(low, high)``.
    runs : int or None
        Replicates per point (default: ``scenario.runs``).
    levels : int
        Grid levels of the Morris design.

    Examples
    --------
    >>> from diffusion.calibration.tables import parse_sensitivity
    >>> spec = parse_sensitivity({"samples": 64, "outputs": ["final_fraction"],
    ...                           "parameters": {"cascade.mimetic": [0.0, 1.0],
    ...                                          "cascade.external": [0.0, 0.1]}})
    >>> spec.method, spec.points
    ('sobol', 256)
    """

    method: str
    samples: int
    outputs: tuple[str, ...]
    parameters: Mapping[str, tuple[float, float]]
    runs: int | None = None
    levels: int = 4

    @property
    def points(self) -> int:
        """Number of model evaluations (sweep points) the design needs."""
        d = len(self.parameters)
        return self.samples * (d + 2) if self.method == "sobol" else self.samples * (d + 1)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "samples": self.samples,
                               "outputs": list(self.outputs)}
        if self.runs is not None:
            out["runs"] = self.runs
        if self.method == "morris":
            out["levels"] = self.levels
        out["parameters"] = {k: list(v) for k, v in self.parameters.items()}
        return out


_SENS_KEYS = ("method", "samples", "outputs", "parameters", "runs", "levels")


def parse_sensitivity(table: Mapping[str, Any], ctx: ParseContext | None = None) -> SensitivitySpec:
    """Parse a ``[sensitivity]`` table; errors name ``sensitivity.<key>``."""
    table = _table_of(ctx, "sensitivity", table)
    unknown = sorted(set(table) - set(_SENS_KEYS))
    if unknown:
        raise _err(ctx, f"sensitivity.{unknown[0]}", f"unknown key (valid: {', '.join(_SENS_KEYS)})")
    method = table.get("method", "sobol")
    if method not in METHODS:
        raise _err(ctx, "sensitivity.method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    samples = table.get("samples")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise _err(ctx, "sensitivity.samples", f"must be an integer >= 2, got {samples!r}")
    if method == "sobol" and samples & (samples - 1):
        raise _err(ctx, "sensitivity.samples", f"must be a power of 2 for Sobol' (Saltelli) "
                   f"sampling, got {samples}")
    outputs = table.get("outputs")
    if not isinstance(outputs, list) or not outputs or not all(
            isinstance(o, str) and o for o in outputs):
        raise _err(ctx, "sensitivity.outputs", "must be a non-empty list of output names "
                   "(runs.csv columns or dotted summary keys)")
    if len(set(outputs)) != len(outputs):
        raise _err(ctx, "sensitivity.outputs", "lists an output twice")
    raw = _table_of(ctx, "sensitivity.parameters", table.get("parameters"))
    params = {}
    for key, value in _flat_keys(raw, lambda v: False).items():
        where = f"sensitivity.parameters.{key}"
        parts = key.split(".")
        if len(parts) < 2 or parts[0] not in ("cascade", "network", "shock", "scenario"):
            raise _err(ctx, where, "must be a dotted key of [cascade], [network], [shock] or "
                       "[scenario], e.g. \"cascade.global_effect\"")
        params[key] = _range(ctx, where, value)
    if not params:
        raise _err(ctx, "sensitivity.parameters", "needs at least one parameter with a range")
    if method == "sobol" and len(params) < 2:
        raise _err(ctx, "sensitivity.parameters", "Sobol' indices need at least two parameters")
    runs = table.get("runs")
    if runs is not None and (isinstance(runs, bool) or not isinstance(runs, int) or runs < 1):
        raise _err(ctx, "sensitivity.runs", f"must be an integer >= 1, got {runs!r}")
    levels = table.get("levels", 4)
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
        raise _err(ctx, "sensitivity.levels", f"must be an even integer >= 2, got {levels!r}")
    return SensitivitySpec(method, int(samples), tuple(outputs), params, runs, int(levels))


def _check_against_cascade(ctx: ParseContext, spec: CalibrationSpec) -> CalibrationSpec:
    casc = ctx.tables.get("cascade")
    if casc is None:
        return spec
    for key in [*(spec.free or ()), *spec.bounds, *spec.priors]:
        name = key.split(".")[1].split("[")[0]
        if name not in casc.params and name not in _model_keys(casc.model):
            where = "calibration.free" if spec.free and key in spec.free else (
                f"calibration.bounds.{key}" if key in spec.bounds else f"calibration.priors.{key}")
            raise ctx.error(where, f"{key}: model {casc.model!r} has no parameter {name!r}")
    return spec


def _model_keys(model: str) -> tuple[str, ...]:
    import inspect

    from ..models import MODELS

    return tuple(inspect.signature(MODELS[model].__init__).parameters)


#: The ``[calibration]`` and ``[sensitivity]`` tables, registered by :mod:`diffusion` on import.
CALIBRATION_TABLE = TableHandler(
    lambda t, ctx: _check_against_cascade(ctx, parse_calibration(t, ctx)),
    dump=lambda spec: copy.deepcopy(spec.to_dict()))
SENSITIVITY_TABLE = TableHandler(parse_sensitivity, dump=lambda spec: copy.deepcopy(spec.to_dict()))
