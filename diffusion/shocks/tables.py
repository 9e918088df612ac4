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

``summary.json`` gains ``fragility`` (see :func:`~diffusion.shocks.fragility_summary`)
and ``runs.csv`` the columns ``initial_loss, systemic_loss, total_loss,
failed_fraction, amplification, shock_rounds``.

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
from typing import Any

import numpy as np

from .._random import replicate_generators
from ..engine import simulate
from ..errors import ParameterError
from ..scenario import ParseContext, Scenario, ScenarioResult, check_scenario, register_table
from .base import SHOCKS, PlatformOutage, Shock, platform_state
from .frontier import RECORD_KEYS, FrontierResult, frontier_point
from .pipeline import apply_shock, fragility_curve, resolve_exposure, resolve_value
from .propagation import PROPAGATIONS
from .robustness import robustness

__all__ = ["FragilityReport", "FrontierSpec", "ShockSpec", "parse_frontier", "parse_shock",
           "run_fragility"]

_COMMON = ("type", "propagation", "capacity", "value", "level", "alpha", "severities", "exposure",
           "max_rounds")
_EXPOSURE_KEYS = ("size", "resources", "loss_given_default", "cap", "weighted")
_DEFAULT_SEVERITIES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class ShockSpec:
    """The parsed ``[shock]`` table."""

    shock: Shock
    propagation: str = "threshold"
    capacity: Any = 1.0
    value: str | None = "size"
    level: float = 0.1
    alpha: float = 0.95
    severities: tuple[float, ...] = _DEFAULT_SEVERITIES
    exposure: Mapping[str, Any] = field(default_factory=dict)
    max_rounds: int | None = None

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


def _number(ctx: ParseContext, table: Mapping[str, Any], key: str, default: float, low: float,
            high: float, *, open_low: bool = False, open_high: bool = False) -> float:
    v = table.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ctx.error(f"shock.{key}", f"must be a number, got {type(v).__name__} {v!r}")
    if v < low or v > high or (open_low and v == low) or (open_high and v == high):
        lo, hi = "(" if open_low else "[", ")" if open_high else "]"
        raise ctx.error(f"shock.{key}", f"must be in {lo}{low}, {high}{hi}, got {v!r}")
    return float(v)


def parse_shock(table: Mapping[str, Any], ctx: ParseContext) -> ShockSpec:
    """Parse a ``[shock]`` table (errors name ``shock.<key>``)."""
    kind = table.get("type")
    if not isinstance(kind, str) or kind not in SHOCKS:
        choices = ", ".join(repr(k) for k in SHOCKS)
        raise ctx.error("shock.type", f"must be one of {choices}, got {kind!r}")
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
    prop = table.get("propagation", "threshold")
    if prop not in PROPAGATIONS:
        raise ctx.error("shock.propagation", f"must be one of {', '.join(PROPAGATIONS)}, got {prop!r}")
    cap = table.get("capacity", 1.0)
    if isinstance(cap, bool) or not isinstance(cap, int | float | str) or (
            not isinstance(cap, str) and not cap > 0):
        raise ctx.error("shock.capacity", f"must be a positive number or an attribute name, got {cap!r}")
    value = table.get("value", "size")
    if not isinstance(value, str):
        raise ctx.error("shock.value", f"must be an attribute name or 'equal', got {value!r}")
    level = _number(ctx, table, "level", 0.1, 0.0, 1.0)
    alpha = _number(ctx, table, "alpha", 0.95, 0.0, 1.0, open_low=True, open_high=True)
    sev = table.get("severities", list(_DEFAULT_SEVERITIES))
    if not isinstance(sev, list) or not sev or any(
            isinstance(s, bool) or not isinstance(s, int | float) or not 0 <= s <= 1 for s in sev):
        raise ctx.error("shock.severities", f"must be a non-empty list of numbers in [0, 1], got {sev!r}")
    expo = table.get("exposure", {})
    if not isinstance(expo, Mapping):
        raise ctx.error("shock.exposure", "must be a table of exposure_matrix options")
    for key, v in expo.items():
        if key not in _EXPOSURE_KEYS:
            raise ctx.error(f"shock.exposure.{key}", f"unknown key (valid: {', '.join(_EXPOSURE_KEYS)})")
        if key in ("loss_given_default", "cap") and (isinstance(v, bool) or not isinstance(v, int | float)
                                                     or v < 0 or (key == "cap" and v == 0)):
            raise ctx.error(f"shock.exposure.{key}", f"must be a {'positive' if key == 'cap' else 'non-negative'} "
                            f"number, got {v!r}")
        if key in ("size", "resources") and (isinstance(v, bool) or not isinstance(v, str | int | float)
                                             or (not isinstance(v, str) and v <= 0)):
            raise ctx.error(f"shock.exposure.{key}", f"must be an attribute name or a positive number, got {v!r}")
    mr = table.get("max_rounds")
    if mr is not None and (isinstance(mr, bool) or not isinstance(mr, int) or mr < 0):
        raise ctx.error("shock.max_rounds", f"must be a non-negative integer, got {mr!r}")
    return ShockSpec(shock, prop, cap, None if value == "equal" else value, level, alpha,
                     tuple(float(s) for s in sev), dict(expo), mr)


def _apply(spec: ShockSpec, result: ScenarioResult, seed: np.random.SeedSequence) -> Any:
    sim, net = result.simulation, result.network
    st = platform_state(sim) if spec.shock.needs_platforms else None
    rngs = replicate_generators(seed, sim.runs) if spec.shock.random else None
    return apply_shock(net, spec.shock, st, runs=sim.runs, seed=rngs, **spec.kwargs())


def shock_stage(scenario: Scenario, result: ScenarioResult, seed: np.random.SeedSequence) -> None:
    """The ``[shock]`` stage: propagate the shock in every replicate, extend summary and runs."""
    spec: ShockSpec = scenario.table("shock")
    res = _apply(spec, result, seed)
    frag = res.summary(level=spec.level, alpha=spec.alpha)
    frag = {"shock": spec.to_dict(), **frag}
    result.summary["fragility"] = frag
    cols = {
        "initial_loss": np.atleast_1d(res.initial_loss),
        "systemic_loss": np.atleast_1d(res.systemic_loss),
        "total_loss": np.atleast_1d(res.total_loss),
        "failed_fraction": np.atleast_1d(res.failed_fraction),
        "amplification": np.atleast_1d(res.amplification),
        "shock_rounds": np.atleast_1d(res.rounds),
    }
    for r, rec in enumerate(result.runs):
        rec.update({k: v[r].item() for k, v in cols.items()})
    result.extras["shock"] = res


register_table("shock", parse_shock, dump=lambda spec: spec.to_dict(), stage=shock_stage)


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
            from ..scenario import _models, _signature

            sig = _signature(_models()[casc.model].__init__)
            key = param.split(".", 1)[1]
            if not sig.var_keyword and key not in sig.names:
                raise ctx.error("frontier.parameter", f"model {casc.model!r} has no parameter {key!r} "
                                f"(it takes: {', '.join(sig.names)})")
    values = table.get("values")
    if not isinstance(values, list) or not values:
        raise ctx.error("frontier.values", "must be a non-empty list of values")
    return FrontierSpec(param, tuple(values))


register_table("frontier", parse_frontier, dump=lambda spec: spec.to_dict())


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
        """A few human-readable lines."""
        lines = []
        last = self.curve[-1]
        lines.append(f"{self.summary['scenario']}: {self.summary['shock']['type']} shock, severity "
                     f"{last['severity']:g}: total loss {last['total_loss_mean']:.3f} "
                     f"(5-95% [{last['total_loss_q05']:.3f}, {last['total_loss_q95']:.3f}]), "
                     f"failed {last['failed_fraction_mean']:.3f}")
        if self.frontier is not None:
            for p in self.frontier.summary():
                lines.append(f"  {self.frontier.parameter} = {p['value']}: HHI {p['hhi_mean']:.3f}, "
                             f"loss from the dominant platform's outage {p['total_loss_mean']:.3f} "
                             f"± {p['total_loss_se']:.3f}, failed {p['failed_fraction_mean']:.3f}, "
                             f"each firm's direct risk {p['direct_risk_mean']:.3f}, "
                             f"failure probability {p['individual_failure_probability_mean']:.3f}")
            v = self.summary["frontier"]["verdict"]
            lines.append(f"homogenization {'makes' if v['shown'] else 'does not make'} the population "
                         f"systemically fragile while each firm looks safer "
                         f"(loss vs HHI slope {v['total_loss_vs_hhi']['slope']:.3f} "
                         f"± {v['total_loss_vs_hhi']['se']:.3f})")
        return lines


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
    from ..errors import ScenarioError
    from ..scenario import _reraise

    spec: ShockSpec | None = scenario.table("shock")
    if spec is None:
        raise ScenarioError("missing table: `diffusion fragility` needs a [shock] table",
                            path=str(scenario.path) if scenario.path else None, key="shock")
    fspec: FrontierSpec | None = scenario.table("frontier")

    def cascade(sc: Scenario, net: Any) -> Any:
        with _reraise(sc.path, "cascade"):
            return simulate(net, sc.cascade.build(), initial=sc.cascade.initial, runs=sc.runs,
                            seed=sc.seed_sequence("cascade"), max_steps=sc.max_steps,
                            map_chunks=map_chunks, progress=progress)

    net = check_scenario(scenario)
    sim = cascade(scenario, net)
    with _reraise(scenario.path, "shock"):
        st = platform_state(sim) if spec.shock.needs_platforms else None
        seed = scenario.seed_sequence("shock") if spec.shock.random else None
        curve = fragility_curve(net, spec.shock, list(spec.severities), st, level=spec.level,
                                alpha=spec.alpha, runs=sim.runs, seed=seed, **spec.kwargs())
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
        rebuild = not fspec.parameter.startswith(("cascade.",))
        W = v = None
        for val in fspec.values:
            sc = scenario.with_values({fspec.parameter: val})
            spec_v: ShockSpec = sc.table("shock")
            if rebuild or W is None:
                net = check_scenario(sc)
                with _reraise(sc.path, "shock"):
                    W = resolve_exposure(net, dict(spec_v.exposure))
                    v = resolve_value(net, spec_v.value)
            else:
                with _reraise(sc.path, "cascade"):
                    sc.cascade.build().prepare(net)
            sim_v = cascade(sc, net)
            with _reraise(sc.path, "shock"):
                cols = frontier_point(net, platform_state(sim_v), exposure=W, severity=outage.severity,
                                      propagation=spec_v.propagation, capacity=spec_v.capacity, value=v,
                                      multihomed_reliance=outage.multihomed_reliance,
                                      max_rounds=spec_v.max_rounds)
            for r in range(sim_v.runs):
                rec: dict[str, Any] = {"parameter": fspec.parameter, "value": val, "replicate": r}
                rec.update({k: cols[k][r].item() for k in RECORD_KEYS})
                records.append(rec)
        front = FrontierResult(fspec.parameter, list(fspec.values), records, spec.level, spec.alpha)
        summary["frontier"] = {"parameter": fspec.parameter, "values": list(fspec.values),
                               "verdict": front.verdict(), "points": front.summary()}
    extras: dict[str, Any] = {"fragility_curve": curve}
    if front is not None:
        extras["frontier"] = front
    return FragilityReport(curve, front, summary, rob, scenario, sim, extras)
