"""Global sensitivity analysis of a scenario: which parameters drive a result.

A ``[sensitivity]`` table (see :mod:`diffusion.calibration.tables`) names the
parameters (dotted scenario keys with ranges), a method, a sample size and the
outputs. :func:`run_sensitivity`

1. draws the design with SALib: Saltelli's extension of Sobol' sequences,
   ``N (D + 2)`` points for first-order and total indices (Saltelli 2002;
   Saltelli et al. 2010), or ``N`` Morris trajectories of ``D + 1`` points
   each (Morris 1991; Campolongo et al. 2007);
2. runs every point as a point of a parameter sweep (:mod:`diffusion.sweep`,
   an explicit ``points`` list): each point is the scenario with its keys set
   and its own seed, stored in ``sweep.sqlite`` as it completes — so an
   interrupted analysis resumes, on any executor;
3. reduces each point to its outputs — the mean over its replicates of a
   ``runs.csv`` column (``final_fraction``, ``hhi``, ``systemic_loss``, …) or
   a number of its ``summary.json`` by dotted key
   (``"fragility.systemic_loss.mean"``) — and analyses them with SALib:
   Sobol' ``S1`` (``V[E(Y | X_i)] / V(Y)``) and ``ST`` (``E[V(Y | X_~i)] / V(Y)``)
   with bootstrap confidence intervals, or Morris ``μ*`` (mean absolute
   elementary effect) and ``σ``;
4. writes ``sensitivity.csv`` and a figure.

A parameter that does not affect an output has ``ST ≈ 0`` within its
interval; ``ST_i ≥ S1_i`` and ``Σ S1_i ≤ 1`` up to estimation error. Each point
has its own random streams, so replicate noise adds a little to every index:
raise ``runs`` (replicates per point) to shrink it.

SALib is an optional dependency (``pip install 'smb-diffusion[sensitivity]'``).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DiffusionError, ScenarioError
from ..outputs import write_csv
from ..scenario import Scenario, parse_scenario, run_scenario
from ..sweep import SWEEP_DATABASE, SweepRunner, point_scenario
from .tables import SensitivitySpec

__all__ = ["SENSITIVITY_CSV", "SensitivityResult", "design", "run_sensitivity"]

#: File names inside the output directory.
SENSITIVITY_CSV = "sensitivity.csv"
SENSITIVITY_FIGURE = "sensitivity"
#: Tag of the design's random stream: ``SeedSequence([scenario.seed, SENSITIVITY_STREAM])``.
SENSITIVITY_STREAM = 0x5E45


def _salib() -> tuple[Any, Any, Any, Any]:
    try:
        from SALib.analyze import morris as morris_analyze
        from SALib.analyze import sobol as sobol_analyze
        from SALib.sample import morris as morris_sample
        from SALib.sample import sobol as sobol_sample
    except ImportError:  # pragma: no cover - depends on the environment
        raise DiffusionError("global sensitivity analysis needs SALib: "
                             "pip install 'smb-diffusion[sensitivity]'") from None
    return sobol_sample, sobol_analyze, morris_sample, morris_analyze


@dataclass(frozen=True)
class SensitivityResult:
    """What :func:`run_sensitivity` produced.

    Attributes
    ----------
    spec : SensitivitySpec
        The analysis run.
    records : list of dict
        One row per parameter and output (the rows of ``sensitivity.csv``).
    points : int
        Number of model evaluations (sweep points).
    out_dir : Path
        Where ``sweep.sqlite``, ``sweep.csv``, ``sensitivity.csv`` and the figure are.
    files : dict
        Written files by name.
    """

    spec: SensitivitySpec
    records: list[dict[str, Any]]
    points: int
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)

    def ranking(self, output: str) -> list[str]:
        """Parameters ordered from the most to the least influential on ``output``."""
        key = "ST" if self.spec.method == "sobol" else "mu_star"
        rows = [r for r in self.records if r["output"] == output]
        return [r["parameter"] for r in sorted(
            rows, key=lambda r: -(r[key] if np.isfinite(r[key]) else -np.inf))]

    def describe(self) -> list[str]:
        """A printable table, parameters ranked within each output."""
        sobol = self.spec.method == "sobol"
        width = max([9, *(len(r["parameter"]) for r in self.records)])
        lines = [f"{self.spec.method}: {self.points} points x "
                 f"{'scenario' if self.spec.runs is None else self.spec.runs} runs"]
        for out in self.spec.outputs:
            lines.append(f"{out}:")
            for name in self.ranking(out):
                r = next(x for x in self.records if x["output"] == out and x["parameter"] == name)
                if sobol:
                    lines.append(f"  {name:<{width}}  ST {r['ST']:7.3f} ± {r['ST_conf']:.3f}   "
                                 f"S1 {r['S1']:7.3f} ± {r['S1_conf']:.3f}")
                else:
                    lines.append(f"  {name:<{width}}  mu* {r['mu_star']:9.4g} ± "
                                 f"{r['mu_star_conf']:.3g}   sigma {r['sigma']:9.4g}")
        return lines


def _seed(scenario: Scenario) -> int:
    state = np.random.SeedSequence([scenario.seed, SENSITIVITY_STREAM]).generate_state(1)
    return int(state[0] >> np.uint32(1))


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def design(scenario: Scenario, spec: SensitivitySpec | None = None) -> tuple[dict[str, Any], np.ndarray]:
    """The SALib problem and the sample matrix (one row per point) of ``scenario``'s analysis.

    Values of keys whose scenario value is an integer are rounded to integers.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.calibration.sensitivity import design
    >>> sc = diffusion.parse_scenario({
    ...     "scenario": {"name": "s", "seed": 1},
    ...     "network": {"generator": "erdos_renyi", "n": 100, "mean_degree": 4.0},
    ...     "cascade": {"model": "isomorphic", "external": 0.01, "mimetic": 0.3},
    ...     "sensitivity": {"samples": 8, "outputs": ["final_fraction"],
    ...                     "parameters": {"cascade.external": [0.0, 0.1],
    ...                                    "cascade.mimetic": [0.0, 1.0]}}})
    >>> problem, X = design(sc)
    >>> problem["names"], X.shape
    (['cascade.external', 'cascade.mimetic'], (32, 2))
    """
    spec = spec or _require(scenario)
    sobol_sample, _, morris_sample, _ = _salib()
    names = list(spec.parameters)
    problem = {"num_vars": len(names), "names": names,
               "bounds": [list(spec.parameters[k]) for k in names]}
    if spec.method == "sobol":
        X = sobol_sample.sample(problem, spec.samples, calc_second_order=False, seed=_seed(scenario))
    else:
        X = morris_sample.sample(problem, spec.samples, num_levels=spec.levels, seed=_seed(scenario))
    base = scenario.to_dict()
    for j, key in enumerate(names):
        current = _lookup(base, key)
        if isinstance(current, int) and not isinstance(current, bool):
            X[:, j] = np.round(X[:, j])
    return problem, np.asarray(X, dtype=np.float64)


def _require(scenario: Scenario) -> SensitivitySpec:
    spec = scenario.table("sensitivity")
    if spec is None:
        where = f"{scenario.path}: " if scenario.path else ""
        raise ScenarioError(f"{where}no [sensitivity] table: nothing to analyse")
    return spec


def _error(scenario: Scenario, key: str, message: str) -> ScenarioError:
    return ScenarioError(message, path=str(scenario.path) if scenario.path else None, key=key)


def _sweep_scenario(scenario: Scenario, spec: SensitivitySpec, X: np.ndarray) -> Scenario:
    """The scenario whose ``[sweep]`` lists the design's points (errors name the parameter)."""
    data = scenario.to_dict()
    for table in ("sensitivity", "sweep", "frontier"):
        data.pop(table, None)
    if spec.runs is not None:
        data["scenario"]["runs"] = spec.runs
    names = list(spec.parameters)
    base = scenario.to_dict()
    as_int = [isinstance(_lookup(base, k), int) and not isinstance(_lookup(base, k), bool)
              for k in names]

    def cell(j: int, v: float) -> Any:
        return int(v) if as_int[j] else float(v)

    for j, key in enumerate(names):  # both ends of every range must make a valid scenario
        for v in spec.parameters[key]:
            try:
                scenario.with_values({key: cell(j, v)})
            except ScenarioError as exc:
                raise _error(scenario, f"sensitivity.parameters.{key}",
                             f"{exc.reason} (at {cell(j, v)!r})") from None
    data["sweep"] = {"points": [{k: cell(j, row[j]) for j, k in enumerate(names)} for row in X]}
    return parse_scenario(data, path=scenario.path)


def _columns_and_summary(sweep_sc: Scenario) -> tuple[set[str], dict[str, Any]]:
    """What one point offers: its runs.csv columns and its summary (from a one-replicate run)."""
    probe = point_scenario(sweep_sc, 0).replace(runs=1)
    res = run_scenario(probe)
    cols = {k for r in res.runs for k in r}
    return cols, res.summary


def _check_outputs(scenario: Scenario, spec: SensitivitySpec, cols: set[str],
                   summary: Mapping[str, Any]) -> None:
    for out in spec.outputs:
        if out in cols:
            continue
        value = _lookup(summary, out)
        if isinstance(value, int | float) and not isinstance(value, bool):
            continue
        numeric = sorted(c for c in cols if c != "run")
        raise _error(scenario, "sensitivity.outputs",
                     f"unknown output {out!r}: neither a runs.csv column ({', '.join(numeric)}) "
                     "nor a number of summary.json by dotted key (e.g. "
                     "\"cascade.final_fraction.mean\")")


def _outputs(db: Path, spec: SensitivitySpec, total: int) -> dict[str, np.ndarray]:
    """Per point: the mean over replicates of each runs.csv output, or its summary number."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        run_cols = {r[1] for r in conn.execute('PRAGMA table_info("runs")')}
        out = {}
        summaries = None
        for name in spec.outputs:
            y = np.full(total, np.nan)
            if name in run_cols:
                q = '"' + name.replace('"', '""') + '"'
                for point, mean in conn.execute(f"SELECT point, AVG({q}) FROM runs GROUP BY point"):
                    if mean is not None:
                        y[point] = mean
            else:
                if summaries is None:
                    summaries = {p: json.loads(s) for p, s in
                                 conn.execute("SELECT point, summary FROM points")}
                for point, s in summaries.items():
                    v = _lookup(s, name)
                    if isinstance(v, int | float) and not isinstance(v, bool):
                        y[point] = v
            out[name] = y
        return out
    finally:
        conn.close()


def run_sensitivity(
    scenario: Scenario,
    out_dir: str | os.PathLike[str],
    *,
    samples: int | None = None,
    runs: int | None = None,
    executor: Callable[..., Iterable[Any]] | None = None,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    figure: bool = True,
) -> SensitivityResult:
    """Run (or resume) the ``[sensitivity]`` analysis of ``scenario`` into ``out_dir``.

    Parameters
    ----------
    scenario : Scenario
        A scenario with a ``[sensitivity]`` table.
    out_dir : path-like
        Directory for ``sweep.sqlite``, ``sweep.csv``, ``sensitivity.csv`` and
        ``sensitivity.png``/``.svg``.
    samples, runs : int, optional
        Override ``sensitivity.samples`` and ``sensitivity.runs``.
    executor : callable, optional
        Where the points run (see :mod:`diffusion.parallel`).
    progress : callable, optional
        Called with 1 after each completed point.
    on_start : callable, optional
        Called with ``(points, pending)`` before the points run (e.g. to size a progress bar).
    figure : bool, default True
        Write the figure.

    Returns
    -------
    SensitivityResult

    Raises
    ------
    ScenarioError
        No ``[sensitivity]`` table, a range that makes an invalid scenario, an unknown output,
        an output missing at some points (each names the file and the key).
    """
    spec = _require(scenario)
    if samples is not None or runs is not None:
        from .tables import parse_sensitivity

        table = spec.to_dict()
        if samples is not None:
            table["samples"] = samples
        if runs is not None:
            table["runs"] = runs
        spec = parse_sensitivity(table)
    _, sobol_analyze, _, morris_analyze = _salib()
    problem, X = design(scenario, spec)
    sweep_sc = _sweep_scenario(scenario, spec, X)
    out = Path(out_dir)
    with SweepRunner(sweep_sc, out) as runner:
        total, pending = runner.total, len(runner.pending)
        if pending == total:  # nothing stored yet: check the outputs on one replicate first
            cols, summary = _columns_and_summary(sweep_sc)
            _check_outputs(scenario, spec, cols, summary)
        if on_start is not None:
            on_start(total, pending)
        swept = runner.run(executor=executor, progress=progress)
    Y = _outputs(swept.database, spec, total)
    records: list[dict[str, Any]] = []
    seed = _seed(scenario)
    for name in spec.outputs:
        y = Y[name]
        bad = ~np.isfinite(y)
        if bad.any():
            raise _error(scenario, "sensitivity.outputs",
                         f"output {name!r} is missing at {int(bad.sum())} of {total} points "
                         "(not a number of every point's results)")
        if spec.method == "sobol":
            res = sobol_analyze.analyze(problem, y, calc_second_order=False, num_resamples=1000,
                                        conf_level=0.95, seed=seed)
            for j, key in enumerate(problem["names"]):
                records.append({"parameter": key, "output": name,
                                **{c: float(res[c][j]) for c in ("S1", "S1_conf", "ST", "ST_conf")}})
        else:
            res = morris_analyze.analyze(problem, X, y, num_resamples=1000, conf_level=0.95,
                                         num_levels=spec.levels, seed=seed)
            for j, key in enumerate(problem["names"]):
                records.append({"parameter": key, "output": name,
                                **{c: float(res[c][j]) for c in ("mu", "mu_star", "mu_star_conf",
                                                                 "sigma")}})
    files = {"sweep.sqlite": out / SWEEP_DATABASE, "sweep.csv": swept.csv,
             SENSITIVITY_CSV: write_csv(out / SENSITIVITY_CSV, records)}
    if figure:
        from ..viz.figures import sensitivity_indices

        sensitivity_indices(records, out / SENSITIVITY_FIGURE,
                            title=f"{scenario.name}: {spec.method} ({total} points)")
        files[f"{SENSITIVITY_FIGURE}.png"] = out / f"{SENSITIVITY_FIGURE}.png"
        files[f"{SENSITIVITY_FIGURE}.svg"] = out / f"{SENSITIVITY_FIGURE}.svg"
    return SensitivityResult(spec, records, total, out, files)
