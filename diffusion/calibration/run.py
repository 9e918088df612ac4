"""Calibrating a scenario: the one library call behind ``diffusion calibrate``.

:func:`calibrate` reads the scenario's ``[calibration]`` table (free
parameters, bounds, priors, how to read the data), builds the network, reads
the observations and runs either the exact likelihood (an adoption table on a
known network, isomorphic model) or ABC-SMC (an adoption curve, any model).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DiffusionError, ParameterError, ScenarioError
from ..network import Network
from ..outputs import write_json
from ..scenario import Scenario, check_scenario
from .abc import ABCResult, abc_smc, curve_simulator, make_prior
from .data import AdoptionCurve, read_adoption_curve, read_adoptions
from .likelihood import LikelihoodFit, fit_likelihood
from .params import default_free, parse_key
from .tables import CalibrationSpec

__all__ = ["CALIBRATION_JSON", "CalibrationResult", "calibrate", "free_parameters"]

#: The file ``diffusion calibrate`` writes into its output directory.
CALIBRATION_JSON = "calibration.json"
#: Tag of the ABC random stream: ``SeedSequence([scenario.seed, ABC_STREAM])``.
ABC_STREAM = 0xABC


@dataclass(frozen=True)
class CalibrationResult:
    """What :func:`calibrate` produced.

    Attributes
    ----------
    scenario : Scenario
        The scenario calibrated.
    method : {"likelihood", "abc"}
        How.
    fit : LikelihoodFit or ABCResult
        The estimates.
    source : str
        The observations file.
    """

    scenario: Scenario
    method: str
    fit: LikelihoodFit | ABCResult
    source: str

    def to_dict(self) -> dict[str, Any]:
        """The content of ``calibration.json``."""
        return self.fit.to_dict()

    def describe(self) -> list[str]:
        """The printed table."""
        what = "maximum likelihood" if self.method == "likelihood" else "ABC-SMC posterior"
        return [f"{self.scenario.name}: {what} from {self.source}", *self.fit.describe()]

    def write(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write ``calibration.json`` into ``out_dir`` (atomically); return its path."""
        return write_json(Path(out_dir) / CALIBRATION_JSON, self.to_dict())


def _error(scenario: Scenario, key: str, message: str) -> ScenarioError:
    return ScenarioError(message, path=str(scenario.path) if scenario.path else None, key=key)


def _free_keys(scenario: Scenario, spec: CalibrationSpec, free: Sequence[str] | None,
               likelihood: bool) -> tuple[list[str], str]:
    if free:
        keys, where = list(free), "--free"
    elif spec.free is not None:
        keys, where = list(spec.free), "calibration.free"
    elif likelihood or scenario.cascade.model == "isomorphic":
        keys, where = default_free(dict(scenario.cascade.params)), "calibration.free"
        if not keys and spec.priors:
            keys = list(spec.priors)
    else:
        keys, where = list(spec.priors), "calibration.free"
    if not keys:
        raise _error(scenario, "calibration.free", "no free parameter: list the parameters to "
                     "estimate (free = [\"cascade.mimetic\", ...] or --free KEY)")
    for key in keys:
        try:
            parse_key(key)
        except ParameterError as exc:
            raise _error(scenario, where, f"{key!r}: {exc.reason}") from None
    if len(set(keys)) != len(keys):
        raise _error(scenario, where, f"lists a parameter twice: {', '.join(keys)}")
    return keys, where


def free_parameters(scenario: Scenario, free: Sequence[str] | None = None, *,
                    curve: bool = False) -> list[str]:
    """The keys :func:`calibrate` estimates: ``free``, else ``[calibration] free``, else the
    model's pressures (likelihood) or the priors' keys (``curve``).

    Raises
    ------
    ScenarioError
        No free parameter, a malformed key or a key listed twice (naming the key).

    Examples
    --------
    >>> from diffusion.scenario import parse_scenario
    >>> sc = parse_scenario({"scenario": {"name": "demo", "seed": 1, "runs": 10},
    ...                      "network": {"generator": "complete", "n": 5},
    ...                      "cascade": {"model": "isomorphic", "mimetic": 0.2, "external": 0.01}})
    >>> free_parameters(sc)
    ['cascade.external', 'cascade.mimetic']
    >>> free_parameters(sc, ["cascade.mimetic"])
    ['cascade.mimetic']
    """
    spec: CalibrationSpec = scenario.table("calibration") or CalibrationSpec()
    return _free_keys(scenario, spec, free, likelihood=not curve)[0]


def calibrate(
    scenario: Scenario,
    observations: str | os.PathLike[str],
    *,
    curve: bool = False,
    free: Sequence[str] | None = None,
    last_step: int | None = None,
    period: Any = None,
    origin: str | None = None,
    missing: str | None = None,
    particles: int | None = None,
    generations: int | None = None,
    intervals: bool = True,
    executor: Callable[..., Iterable[Any]] | None = None,
    progress: Callable[[int], None] | None = None,
    network: Network | None = None,
) -> CalibrationResult:
    """Estimate the free parameters of ``scenario``'s model from observed adoptions.

    Parameters
    ----------
    scenario : Scenario
        Its network and model; its ``[calibration]`` table (if any) gives the
        free parameters, bounds, priors and how to read the data. Keyword
        arguments override the table.
    observations : path-like
        An adoption table ``id,step`` (or ``id,date``) for the likelihood; with
        ``curve=True`` an adoption curve (``step`` and ``fraction``/``adopters``
        columns, e.g. a ``curve.csv``) or an adoption table reduced to its curve.
    curve : bool, default False
        Use ABC-SMC on the adoption curve instead of the exact likelihood.
    free : sequence of str, optional
        Dotted keys of the free parameters (overrides ``calibration.free``).
    last_step, period, origin, missing
        How to read an adoption table (see :func:`~diffusion.calibration.read_adoptions`).
    particles, generations : int, optional
        ABC-SMC settings (override ``[calibration.abc]``).
    intervals : bool, default True
        Profile-likelihood intervals (else Wald intervals).
    executor : callable, optional
        Where ABC simulations run (see :mod:`diffusion.parallel`).
    progress : callable, optional
        Called with 1 after each profile side or test (likelihood) or generation (ABC).
    network : Network, optional
        The network, if already built (default: built from the scenario).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    DiffusionError
        Bad input: the message names the file and the line or the dotted key.
    """
    spec: CalibrationSpec = scenario.table("calibration") or CalibrationSpec()
    if not curve and scenario.cascade.model != "isomorphic":
        raise _error(scenario, "cascade.model", f"the exact likelihood is written for the "
                     f"isomorphic model, not {scenario.cascade.model!r}; calibrate an adoption "
                     "curve by simulation instead (--curve)")
    keys, where = _free_keys(scenario, spec, free, likelihood=not curve)
    if network is None:
        network = check_scenario(scenario)
    source = os.fspath(observations)
    params = dict(scenario.cascade.params)
    if not curve:
        data = read_adoptions(
            observations, network,
            period=period if period is not None else spec.period,
            origin=origin if origin is not None else spec.origin,
            last_step=last_step if last_step is not None else spec.last_step,
            missing=missing or spec.missing)
        try:
            fit = fit_likelihood(network, params, data, keys, bounds=spec.bounds,
                                 intervals=intervals, progress=progress)
        except ParameterError as exc:
            raise _error(scenario, where if exc.name in keys else _key(exc.name),
                         f"{exc.name}: {exc.reason}" if exc.name in keys else exc.reason) from None
        return CalibrationResult(scenario, "likelihood", fit, source)
    observed = _read_curve(observations, network, spec, last_step, period, origin, missing)
    try:
        sim = curve_simulator(scenario.cascade.model, params, keys, scenario.cascade.initial,
                              observed.last_step)
        prior = make_prior(sim.free, spec.priors, spec.bounds)
        _check_model_keys(scenario, sim, where)
        settings = spec.abc
        post = abc_smc(
            network, sim, observed, prior,
            particles=particles or settings.particles,
            generations=generations or settings.generations,
            quantile=settings.quantile,
            min_acceptance=settings.min_acceptance,
            seed=np.random.SeedSequence([scenario.seed, ABC_STREAM]),
            executor=executor, progress=progress)
    except ParameterError as exc:
        name = exc.name
        key = f"calibration.{name}" if name.startswith("priors.") else (
            where if name in keys else name)
        raise _error(scenario, key, exc.reason) from None
    return CalibrationResult(scenario, "abc", post, source)


def _key(name: str) -> str:
    return name if name.startswith(("cascade.", "calibration.")) else f"cascade.{name}"


def _check_model_keys(scenario: Scenario, sim: Any, where: str) -> None:
    """Every free key must name a parameter of the model."""
    import inspect

    from ..models import MODELS

    names = set(inspect.signature(MODELS[sim.model].__init__).parameters) - {"self"}
    for f in sim.free:
        if f.path[0] not in names:
            raise _error(scenario, where, f"{f.key}: model {sim.model!r} has no parameter "
                         f"{f.path[0]!r}")


def _read_curve(path: str | os.PathLike[str], network: Network, spec: CalibrationSpec,
                last_step: int | None, period: Any, origin: str | None,
                missing: str | None) -> AdoptionCurve:
    """An adoption curve, or an adoption table (``id`` column) reduced to its curve."""
    try:
        with open(path, encoding="utf-8") as fh:
            header = fh.readline().strip().lower().split(",")
    except OSError:
        header = []
    if "id" in [h.strip() for h in header]:
        data = read_adoptions(path, network,
                              period=period if period is not None else spec.period,
                              origin=origin if origin is not None else spec.origin,
                              last_step=last_step if last_step is not None else spec.last_step,
                              missing=missing or spec.missing)
        return AdoptionCurve(data.curve() / network.n, None, os.fspath(path))
    observed = read_adoption_curve(path, network.n)
    if last_step is not None or spec.last_step is not None:
        T = last_step if last_step is not None else spec.last_step
        if T > observed.last_step:  # type: ignore[operator]
            raise DiffusionError(f"{os.fspath(path)}: the curve ends at step {observed.last_step}, "
                                 f"before the last step {T}")
        observed = AdoptionCurve(observed.fraction[: T + 1], observed.shares, observed.source)  # type: ignore[operator]
    return observed
