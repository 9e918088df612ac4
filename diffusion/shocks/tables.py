"""Scenario tables ``[shock]`` and ``[frontier]``, and the fragility analysis of a scenario.

``[shock]`` runs after the cascade in every replicate (seeded from the
scenario's ``shock`` stream: replicate ``r`` draws from its child ``r``)::

    [shock]
    type = "platform_outage"       # platform_outage | sector | region | random | targeted | nodes
    platform = "dominant"          # a platform name, its index 1..K, or "dominant"
    severity = 1.0                 # in [0, 1]
    propagation = "threshold"      # threshold | debtrank | linear_debtrank
    capacity = 1.0                 # failure level (threshold rule): a number or an attribute
    value = "size"                 # firm values weighting losses: an attribute or "equal"
    level = 0.1                    # a replicate whose total loss exceeds it is a systemic event
    alpha = 0.95                   # expected-shortfall level
    severities = [0.0, 0.25, 0.5, 0.75, 1.0]   # severity curve of `diffusion fragility`

    [shock.exposure]               # keyword arguments of diffusion.shocks.exposure_matrix
    loss_given_default = 0.5       # also: size, resources (attribute names), cap, weighted

Type-specific keys: ``platform`` and ``multihomed_reliance`` (platform_outage),
``sector`` / ``region`` and ``attribute`` (sector, region), ``fraction`` or
``count`` (random), ``by`` and ``count`` or ``fraction`` (targeted),
``nodes`` (nodes).

The shock runs inside every chunk of the cascade ensemble
(:class:`~diffusion.shocks.ShockStage`), so a scenario with ``[shock]`` never
holds every replicate's per-firm state. ``summary.json`` gains ``fragility``
(see :func:`~diffusion.shocks.fragility_summary`), ``runs.csv`` the columns
``initial_loss, systemic_loss, total_loss, failed_fraction, amplification,
shock_rounds`` (and ``shock_platform`` for an outage), and ``nodes.csv`` each
firm's ``failure_probability``, ``mean_distress`` and ``expected_loss``.

``[frontier]`` is read by ``diffusion fragility``::

    [frontier]
    parameter = "cascade.global_effect"   # any scenario key, dotted
    values = [0.0, 2.0, 4.0, 8.0]

For each value the cascade is rerun (same seeds: common random numbers), the
dominant platform fails with the ``[shock]`` severity and the distress
propagates with the ``[shock]`` rule (see :mod:`diffusion.shocks.frontier`).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..engine import simulate
from ..errors import ParameterError, ScenarioError
from ..models import MODELS
from ..network import Network
from ..scenario import (
    ParseContext,
    Scenario,
    ScenarioResult,
    TableHandler,
    check_resources,
    check_scenario,
    scenario_errors,
)
from ..validation import (
    check_bool,
    check_choice,
    check_integer,
    check_number,
    check_numbers,
    check_probability,
    check_string,
    signature,
)
from .base import SHOCKS, PlatformOutage, Shock
from .exposure import exposure_columns
from .frontier import RECORD_KEYS, FrontierResult, FrontierStage
from .metrics import fragility_summary
from .pipeline import loss_record, resolve_capacity, resolve_exposure, resolve_value
from .propagation import PROPAGATIONS
from .robustness import robustness
from .stage import LOSS_MEASURES, ShockStage

__all__ = ["FRONTIER_TABLE", "SHOCK_TABLE", "FragilityReport", "FrontierSpec", "ShockSpec",
           "check_shock", "describe_fragility", "model_platforms", "parse_frontier", "parse_shock",
           "run_fragility", "shock_chunk_stage", "shock_stage"]

_COMMON = ("type", "propagation", "capacity", "value", "level", "alpha", "severities", "exposure",
           "max_rounds")
_EXPOSURE_KEYS = ("size", "resources", "loss_given_default", "cap", "weighted")
_DEFAULT_SEVERITIES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class ShockSpec:
    """The parsed ``[shock]`` table; constructing one checks every value.

    Examples
    --------
    >>> from diffusion.shocks import PlatformOutage
    >>> from diffusion.shocks.tables import ShockSpec
    >>> ShockSpec(PlatformOutage(), level=float("nan"))
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: level: must be a finite number, got nan
    """

    shock: Shock
    propagation: str = "threshold"
    capacity: Any = 1.0
    value: str | None = "size"
    level: float = 0.1
    alpha: float = 0.95
    severities: tuple[float, ...] = _DEFAULT_SEVERITIES
    exposure: Mapping[str, Any] = field(default_factory=dict)
    max_rounds: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.shock, Shock):
            raise ParameterError("type", f"must be a shock, got {type(self.shock).__name__}")
        check_choice("propagation", self.propagation, PROPAGATIONS)
        _capacity(self.capacity)
        if self.value is not None:
            check_string("value", self.value)
        set_ = object.__setattr__
        set_(self, "level", check_probability("level", self.level))
        set_(self, "alpha", check_number("alpha", self.alpha, 0.0, 1.0, open_low=True, open_high=True))
        set_(self, "severities", check_numbers("severities", self.severities, 0.0, 1.0))
        set_(self, "exposure", _exposure(self.exposure))
        if self.max_rounds is not None:
            check_integer("max_rounds", self.max_rounds, 0, strict=True)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~diffusion.shocks.apply_shock`."""
        return {"exposure": dict(self.exposure), "propagation": self.propagation,
                "capacity": self.capacity, "value": self.value, "max_rounds": self.max_rounds}

    def to_dict(self) -> dict[str, Any]:
        out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.shock.params().items()}
        out.update(propagation=self.propagation, capacity=self.capacity,
                   value=self.value if self.value is not None else "equal", level=self.level,
                   alpha=self.alpha, severities=list(self.severities))
        if self.max_rounds is not None:
            out["max_rounds"] = self.max_rounds
        if self.exposure:
            out["exposure"] = copy.deepcopy(dict(self.exposure))
        return {k: v for k, v in out.items() if v is not None}


def _capacity(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError("capacity", f"must be a positive number or an attribute name, got {value!r}")
    check_number("capacity", value, 0.0, open_low=True)
    return value  # as written, so the scenario writes back unchanged


def _exposure(options: Any) -> dict[str, Any]:
    if not isinstance(options, Mapping):
        raise ParameterError("exposure", "must be a table of exposure_matrix options")
    out = dict(options)
    for key, v in out.items():
        name = f"exposure.{key}"
        if key not in _EXPOSURE_KEYS:
            raise ParameterError(name, f"unknown key (valid: {', '.join(_EXPOSURE_KEYS)})")
        if key == "loss_given_default":
            check_number(name, v, 0.0)
        elif key == "cap":
            check_number(name, v, 0.0, open_low=True)
        elif key == "weighted":
            check_bool(name, v)
        elif not isinstance(v, str):  # size, resources: an attribute or a positive number
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ParameterError(name, f"must be an attribute name or a positive number, got {v!r}")
            check_number(name, v, 0.0, open_low=True)
    return out


def parse_shock(table: Mapping[str, Any], ctx: ParseContext) -> ShockSpec:
    """Parse a ``[shock]`` table (errors name ``shock.<key>``).

    The table is checked by constructing its objects: the :class:`~diffusion.shocks.Shock`
    of its ``type`` and the :class:`ShockSpec`, whose values pass the shared checks of
    :mod:`diffusion.validation`. What needs the network is checked by :func:`check_shock`.
    """
    with ctx.reraise("shock"):
        kind = check_choice("type", table.get("type"), SHOCKS)
    cls = SHOCKS[kind]
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    params = {k: v for k, v in table.items() if k not in _COMMON}
    for key in params:
        if key not in names:
            raise ctx.error(f"shock.{key}", f"unknown key for a {kind!r} shock (it takes: "
                            f"{', '.join(sorted(names | set(_COMMON)))})")
    with ctx.reraise("shock"):
        try:
            shock = cls(**params)
        except TypeError as exc:
            raise ParameterError("type", str(exc)) from None
        value = check_string("value", table.get("value", "size"))
        return ShockSpec(
            shock,
            propagation=table.get("propagation", "threshold"),
            capacity=table.get("capacity", 1.0),
            value=None if value == "equal" else value,
            level=table.get("level", 0.1),
            alpha=table.get("alpha", 0.95),
            severities=table.get("severities", _DEFAULT_SEVERITIES),
            exposure=table.get("exposure", {}),
            max_rounds=table.get("max_rounds"),
        )


def model_platforms(scenario: Scenario) -> tuple[str, ...]:
    """Names of the platforms a scenario's cascade leaves firms on (as :func:`platform_state` reads them).

    The labels of the output the model declares with the role ``"holding"``;
    a model without one is read as one platform, ``"adopted"``.
    """
    hold = scenario.cascade.build().declare().role("holding")
    if hold is None:
        return ("adopted",)
    return tuple(hold.labels[1 - hold.start:])


def check_shock(scenario: Scenario, network: Network) -> None:
    """What the ``[shock]`` table names in the network: the platform, attributes, node ids.

    Raises :class:`~diffusion.errors.ParameterError` naming the key (``platform``,
    ``nodes``, ``capacity``, ``value``, ``exposure.size``, ...), before any simulation.
    """
    spec: ShockSpec = scenario.table("shock")
    spec.shock.check(network, model_platforms(scenario))
    resolve_capacity(network, spec.capacity)
    resolve_value(network, spec.value)
    try:
        exposure_columns(network, spec.exposure.get("size"), spec.exposure.get("resources"))
    except ParameterError as exc:
        raise ParameterError(f"exposure.{exc.name}", exc.reason) from None


def shock_chunk_stage(scenario: Scenario, *, severities: bool = False) -> ShockStage:
    """The ``[shock]`` table as a stage that runs inside every chunk of the cascade ensemble.

    Seeded from the scenario's ``shock`` stream (replicate ``r`` of a random
    shock draws from its child ``r``). With ``severities``, it also records the
    fragility curve at the table's ``severities``.
    """
    spec: ShockSpec = scenario.table("shock")
    return ShockStage(spec.shock, exposure=dict(spec.exposure), propagation=spec.propagation,
                      capacity=spec.capacity, value=spec.value, max_rounds=spec.max_rounds,
                      severities=spec.severities if severities else None,
                      seed=scenario.seed_sequence("shock"))


def _losses(outputs: Mapping[str, np.ndarray], suffix: Any = None) -> SimpleNamespace:
    """The per-replicate loss measures of a shock stage's run outputs (``curve_*`` column ``suffix``)."""
    if suffix is None:
        cols = {k: np.asarray(outputs[k]) for k in LOSS_MEASURES}
        cols["rounds"] = np.asarray(outputs["shock_rounds"])
    else:
        cols = {k: np.asarray(outputs[f"curve_{k}"])[:, suffix] for k in LOSS_MEASURES}
        cols["rounds"] = np.zeros(len(cols["total_loss"]), dtype=np.int64)
    return SimpleNamespace(**cols)


def shock_stage(scenario: Scenario, result: ScenarioResult, seed: np.random.SeedSequence) -> None:
    """After the ensemble: the ``fragility`` block of ``summary.json``, from the stage's run outputs.

    The shock itself ran inside every chunk (:func:`shock_chunk_stage`); its
    per-replicate losses are ``runs.csv`` columns and its per-firm failure
    probabilities and expected losses ``nodes.csv`` columns.
    """
    spec: ShockSpec = scenario.table("shock")
    frag = fragility_summary(_losses(result.simulation.outputs), level=spec.level, alpha=spec.alpha)
    result.summary["fragility"] = {"shock": spec.to_dict(), **frag}


def describe_fragility(summary: Mapping[str, Any]) -> list[str]:
    """The shock line of ``diffusion run``: total and systemic losses, failed firms, systemic events.

    The *total loss* counts every firm's loss, the initial hit included; the
    *systemic loss* only what propagation added beyond the initial hit. A
    systemic event is a replicate whose total loss exceeds ``shock.level``.

    Examples
    --------
    >>> from diffusion.shocks.tables import describe_fragility
    >>> band = {"mean": 0.5, "q05": 0.1, "q95": 0.9}
    >>> describe_fragility({"fragility": {"total_loss": band, "systemic_loss": band,
    ...     "failed_fraction": band, "systemic_event_probability": 0.2, "level": 0.1}})[0][:62]
    'shock: total loss mean 0.500 [5-95%: 0.100, 0.900]; systemic l'
    """
    f = summary.get("fragility")
    if not isinstance(f, Mapping):
        return []

    def band(stats: Mapping[str, float]) -> str:
        return f"mean {stats['mean']:.3f} [5-95%: {stats['q05']:.3f}, {stats['q95']:.3f}]"

    return [f"shock: total loss {band(f['total_loss'])}; systemic loss (beyond the initial hit) "
            f"{band(f['systemic_loss'])}; failed firms {band(f['failed_fraction'])}; systemic events "
            f"(total loss > {f['level']:g}) in {f['systemic_event_probability']:.0%} of runs"]


#: The ``[shock]`` scenario table (registered by :mod:`diffusion`).
SHOCK_TABLE = TableHandler(parse_shock, dump=lambda spec: spec.to_dict(), stage=shock_stage,
                           check=check_shock, describe=describe_fragility, chunk_stage=shock_chunk_stage)


# ----------------------------------------------------------------- [frontier]
@dataclass(frozen=True)
class FrontierSpec:
    """The parsed ``[frontier]`` table."""

    parameter: str
    values: tuple[Any, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "values": copy.deepcopy(list(self.values))}


def parse_frontier(table: Mapping[str, Any], ctx: ParseContext) -> FrontierSpec:
    """Parse a ``[frontier]`` table (errors name ``frontier.<key>``)."""
    unknown = sorted(set(table) - {"parameter", "values"})
    if unknown:
        raise ctx.error(f"frontier.{unknown[0]}", "unknown key (valid: parameter, values)")
    param = table.get("parameter")
    if not isinstance(param, str) or "." not in param:
        raise ctx.error("frontier.parameter", f"must be a dotted scenario key such as "
                        f"'cascade.global_effect', got {param!r}")
    head = param.split(".", 1)[0]
    if head not in ("cascade", "network", "shock"):
        raise ctx.error("frontier.parameter", f"must be a key of [cascade], [network] or [shock], got {param!r}")
    if head == "cascade":
        casc = ctx.tables.get("cascade")
        if casc is not None and param.count(".") == 1:
            sig = signature(MODELS[casc.model].__init__)
            key = param.split(".", 1)[1]
            if not sig.var_keyword and key not in sig.names:
                raise ctx.error("frontier.parameter", f"model {casc.model!r} has no parameter {key!r} "
                                f"(it takes: {', '.join(sig.names)})")
    values = table.get("values")
    if not isinstance(values, list) or not values:
        raise ctx.error("frontier.values", "must be a non-empty list of values")
    return FrontierSpec(param, tuple(values))


#: The ``[frontier]`` scenario table (registered by :mod:`diffusion`).
FRONTIER_TABLE = TableHandler(parse_frontier, dump=lambda spec: spec.to_dict())


# ----------------------------------------------------------------- diffusion fragility
@dataclass
class FragilityReport:
    """What :func:`run_fragility` produced.

    Attributes
    ----------
    curve : list of dict
        Severity curve: one summary record per severity.
    frontier : FrontierResult or None
        The ``[frontier]`` sweep, if the scenario has one.
    summary : dict
        JSON-ready: scenario, seed, runs, the shock, the frontier verdict.
    scenario : Scenario
    simulation : SimulationResult
        The cascade the severity curve was computed on.
    robustness : list of dict
        Giant component after removing firms at random, by degree and by size
        (see :func:`~diffusion.shocks.robustness`).
    extras : dict
        ``{"fragility_curve": curve, "frontier": frontier}`` (what figure writers read).
    """

    curve: list[dict[str, Any]]
    frontier: FrontierResult | None
    summary: dict[str, Any]
    robustness: list[dict[str, Any]] = field(default_factory=list)
    scenario: Scenario | None = None
    simulation: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    def write(self, out_dir: Any) -> dict[str, Any]:
        """Write ``fragility_curve.csv``, ``frontier.csv``, ``frontier_summary.csv`` and
        ``fragility.json`` (atomically); returns the written paths by file name."""
        from pathlib import Path

        from ..outputs import write_csv, write_json

        out = Path(out_dir)
        files = {"fragility_curve.csv": write_csv(out / "fragility_curve.csv", self.curve)}
        if self.robustness:
            files["robustness.csv"] = write_csv(out / "robustness.csv", self.robustness)
        if self.frontier is not None:
            files["frontier.csv"] = write_csv(out / "frontier.csv", self.frontier.records)
            files["frontier_summary.csv"] = write_csv(out / "frontier_summary.csv", self.frontier.summary())
        files["fragility.json"] = write_json(out / "fragility.json", self.summary)
        return files

    def describe(self) -> list[str]:
        """A few human-readable lines (what ``diffusion fragility`` prints).

        *Total loss* counts every firm's loss, the initial hit included;
        *systemic loss* only what propagation added beyond the initial hit.
        """
        lines = []
        last = self.curve[-1]
        line = (f"{self.summary['scenario']}: {self.summary['shock']['type']} shock at severity "
                f"{last['severity']:g}: total loss {last['total_loss_mean']:.3f} of the value "
                f"[5-95% of runs: {last['total_loss_q05']:.3f}, {last['total_loss_q95']:.3f}]")
        if "systemic_loss_mean" in last:
            line += f"; systemic loss (beyond the initial hit) {last['systemic_loss_mean']:.3f}"
        line += f"; failed firms {last['failed_fraction_mean']:.1%}"
        lines.append(line)
        rob = self.summary.get("robustness")
        if isinstance(rob, dict) and rob:
            parts = [f"{k} {v['critical_fraction']:.0%}" if v["critical_fraction"] == v["critical_fraction"]
                     else f"{k} > 50%" for k, v in rob.items()]
            lines.append("firms to remove before the largest connected group falls to 5% of the firms: "
                         + ", ".join(parts))
        if self.frontier is not None:
            lines.append(f"frontier over {self.frontier.parameter} (means over {self.summary['runs']} runs; "
                         "the dominant platform fails):")
            for p in self.frontier.summary():
                lines.append(f"  {self.frontier.parameter} = {p['value']}: HHI {p['hhi_mean']:.3f}, total loss "
                             f"{p['total_loss_mean']:.3f} ± {p['total_loss_se']:.3f} (SE), systemic loss (beyond "
                             f"the initial hit) {p['systemic_loss_mean']:.3f}, failed firms "
                             f"{p['failed_fraction_mean']:.1%}; each firm: direct risk "
                             f"{p['direct_risk_mean']:.3f}, failure probability "
                             f"{p['individual_failure_probability_mean']:.3f} (if a random platform fails)")
            v = self.summary["frontier"]["verdict"]
            lines.append(f"homogenization {'makes' if v['shown'] else 'does not make'} the population "
                         f"systemically fragile while each firm looks safer "
                         f"(slope of total loss against HHI {v['total_loss_vs_hhi']['slope']:.3f} "
                         f"± {v['total_loss_vs_hhi']['se']:.3f} SE)")
        return lines

    def _repr_html_(self) -> str:  # notebooks
        from .._repr import html_block

        return html_block(f"FragilityReport: {self.summary.get('scenario', '')}", lines=self.describe())


def run_fragility(scenario: Scenario, *, progress: Callable[[int], None] | None = None,
                  map_chunks: Callable[..., Any] | None = None) -> FragilityReport:
    """Severity curve of the scenario's shock and, with ``[frontier]``, the frontier sweep.

    The cascade runs once with the scenario's settings for the severity curve
    (common random numbers across severities, shock stream of the scenario),
    then once per ``[frontier]`` value (the same cascade seeds for every value).

    Raises
    ------
    ScenarioError
        When the scenario has no ``[shock]`` table, or any key is invalid.
    """
    spec: ShockSpec | None = scenario.table("shock")
    if spec is None:
        raise ScenarioError("missing table: `diffusion fragility` needs a [shock] table",
                            path=str(scenario.path) if scenario.path else None, key="shock")
    fspec: FrontierSpec | None = scenario.table("frontier")

    def cascade(sc: Scenario, net: Any, stage: Any) -> Any:
        with scenario_errors(sc.path, "cascade"):
            return simulate(net, sc.cascade.build(), initial=sc.cascade.initial, runs=sc.runs,
                            seed=sc.seed_sequence("cascade"), max_steps=sc.max_steps, keep="summary",
                            stages=[stage], map_chunks=map_chunks, progress=progress)

    # every input is checked before the first simulation: the frontier's scenarios too
    where = str(scenario.path) if scenario.path else None
    points: list[Scenario] = []
    for val in fspec.values if fspec is not None else ():
        try:
            points.append(scenario.with_values({fspec.parameter: val}))  # type: ignore[union-attr]
        except ScenarioError as exc:
            raise ScenarioError(f"{exc.key}: {exc.reason} (value {val!r})", path=where,
                                key="frontier.values") from None
    rebuild = fspec is not None and not fspec.parameter.startswith("cascade.")
    net = check_scenario(scenario)
    for sc in points:
        if rebuild:
            check_resources(sc)
        else:
            with scenario_errors(sc.path, "cascade"):
                sc.cascade.build().prepare(net)
    # the severity curve: the shock at every severity, inside every chunk (common random numbers)
    with scenario_errors(scenario.path, "shock"):
        curve_stage = shock_chunk_stage(scenario, severities=True)
    sim = cascade(scenario, net, curve_stage)
    outs = sim.outputs
    curve = [{"severity": float(s), **loss_record(_losses(outs, j), level=spec.level, alpha=spec.alpha)}
             for j, s in enumerate(spec.severities)]
    summary: dict[str, Any] = {"scenario": scenario.name, "seed": scenario.seed, "runs": scenario.runs,
                               "shock": spec.to_dict()}
    # robustness of the firm network itself: random versus targeted removal (shock stream)
    fractions = np.round(np.arange(0.0, 0.51, 0.05), 2)
    rob: list[dict[str, Any]] = []
    strategies = ["random", "degree"] + (["size"] if "size" in net.attributes else [])
    for k, strat in enumerate(strategies):
        rr = robustness(net, fractions, strat, runs=min(scenario.runs, 5),
                        seed=scenario.seed_sequence("shock").spawn(len(strategies))[k])
        rob.extend(rr.to_records())
        summary.setdefault("robustness", {})[strat] = {"critical_fraction": rr.critical_fraction(0.05)}
    front = None
    if fspec is not None:
        outage = PlatformOutage("dominant", spec.shock.severity,
                                getattr(spec.shock, "multihomed_reliance", 0.5))
        records: list[dict[str, Any]] = []
        W = v = None
        for val, sc in zip(fspec.values, points, strict=True):
            spec_v: ShockSpec = sc.table("shock")
            if rebuild or W is None:
                net = check_scenario(sc)
                with scenario_errors(sc.path, "shock"):
                    W = resolve_exposure(net, dict(spec_v.exposure))
                    v = resolve_value(net, spec_v.value)
            with scenario_errors(sc.path, "shock"):
                stage = FrontierStage(exposure=W, severity=outage.severity, propagation=spec_v.propagation,
                                      capacity=spec_v.capacity, value=v,
                                      multihomed_reliance=outage.multihomed_reliance,
                                      max_rounds=spec_v.max_rounds)
            cols = cascade(sc, net, stage).outputs
            for r in range(sc.runs):
                rec: dict[str, Any] = {"parameter": fspec.parameter, "value": val, "replicate": r}
                rec.update({k: cols[f"frontier_{k}"][r].item() for k in RECORD_KEYS})
                records.append(rec)
        front = FrontierResult(fspec.parameter, list(fspec.values), records, spec.level, spec.alpha)
        summary["frontier"] = {"parameter": fspec.parameter, "values": list(fspec.values),
                               "verdict": front.verdict(), "points": front.summary()}
    extras: dict[str, Any] = {"fragility_curve": curve}
    if front is not None:
        extras["frontier"] = front
    return FragilityReport(curve, front, summary, rob, scenario, sim, extras)
