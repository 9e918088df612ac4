"""Scenario tables ``[[policy]]`` and ``[recovery]``.

``[[policy]]`` (an array of tables; read by ``diffusion compare``)::

    [[policy]]
    name = "multihoming_critical"
    intervention = "multihoming"          # multihoming | differentiation | decoupling | buffers
                                          # | interoperability | share_cap
    target = { by = "criticality", fraction = 0.1 }
    cost = 0.1                            # optional: a number or {fixed, firms, value}

Parameters per intervention (see :mod:`diffusion.policies.spec`):
``multihoming_cost`` (multihoming), ``conformity`` (differentiation),
``level`` (decoupling, interoperability, share_cap), ``amount`` (buffers),
``platform`` (interoperability, share_cap). Every key is checked when the file
is read (``policy[i].<key>``), what needs the network (target attributes,
enough firms) by ``diffusion validate --build`` and before any simulation.

``[recovery]`` (see :mod:`diffusion.policies.recovery`) runs inside every chunk
after the ``[shock]`` in ``diffusion run`` (``runs.csv`` gains
``recovery_path_<t>``, ``time_to_recover`` and ``resilience_loss``; the summary
a ``recovery`` block), and for every policy in ``diffusion compare``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ParameterError, ScenarioError
from ..network import Network
from ..result import distribution_stats
from ..scenario import ParseContext, Scenario, ScenarioResult, TableHandler
from ..shocks.base import PlatformOutage
from .build import check_policy
from .recovery import RecoverySpec, RecoveryStage
from .spec import Policy, check_policy_names

__all__ = ["POLICY_TABLE", "RECOVERY_TABLE", "parse_policies", "parse_recovery"]


def parse_policies(tables: Sequence[Mapping[str, Any]], ctx: ParseContext) -> tuple[Policy, ...]:
    """Parse the ``[[policy]]`` tables (errors name ``policy[i].<key>``)."""
    out = []
    for i, table in enumerate(tables):
        try:
            out.append(Policy.from_dict(table))
        except ParameterError as exc:
            raise ctx.error(f"policy[{i}].{exc.name}", exc.reason) from None
        except TypeError as exc:  # a key of the wrong kind that the dataclass refuses
            raise ctx.error(f"policy[{i}]", str(exc)) from None
    try:
        check_policy_names(out)
    except ParameterError as exc:
        raise ctx.error(f"policy{exc.name}", exc.reason) from None
    shock = ctx.tables.get("shock")
    if out and shock is None:
        raise ctx.error("policy", "comparing policies needs a [shock] table (the shock whose loss they reduce)")
    cascade = ctx.tables.get("cascade")
    for i, p in enumerate(out):
        try:
            check_policy(p, cascade, shock)
        except ParameterError as exc:
            raise ctx.error(f"policy[{i}].{exc.name}", exc.reason) from None
    return tuple(out)


def check_policies(scenario: Scenario, network: Network) -> None:
    """What the policies' targets need from the network (attributes, enough eligible firms)."""
    for i, p in enumerate(scenario.table("policy") or ()):
        try:
            p.target.check(network)
        except ParameterError as exc:
            raise ScenarioError(exc.reason, path=str(scenario.path) if scenario.path else None,
                                key=f"policy[{i}].{exc.name}") from None


def parse_recovery(table: Mapping[str, Any], ctx: ParseContext) -> RecoverySpec:
    """Parse a ``[recovery]`` table (errors name ``recovery.<key>``)."""
    try:
        spec = RecoverySpec.from_dict(table)
    except ParameterError as exc:
        raise ctx.error(f"recovery.{exc.name}", exc.reason) from None
    cascade = ctx.tables.get("cascade")
    if cascade is not None and not hasattr(cascade.model_class, "resume"):
        raise ctx.error("recovery", f"recovery continues a platform competition after the shock; the cascade "
                        f"model is {cascade.model!r} (use platform_competition)")
    shock = ctx.tables.get("shock")
    if shock is None:
        raise ctx.error("recovery", "recovery follows a [shock] (a platform outage): add one")
    if not isinstance(shock.shock, PlatformOutage):
        raise ctx.error("recovery", f"recovery follows a platform outage; the shock is {shock.shock.kind!r}")
    return spec


def recovery_chunk_stage(scenario: Scenario) -> RecoveryStage:
    """``[recovery]`` as a stage after the ``[shock]`` stage, seeded from the ``recovery`` stream."""
    shock = scenario.table("shock")
    return RecoveryStage(shock.shock, scenario.table("recovery"), value=shock.value,
                         seed=scenario.seed_sequence("recovery"))


def recovery_summary(scenario: Scenario, result: ScenarioResult, seed: np.random.SeedSequence) -> None:
    """The ``recovery`` block of ``summary.json``."""
    spec: RecoverySpec = scenario.table("recovery")
    outs = result.simulation.outputs
    t = np.asarray(outs["time_to_recover"], dtype=np.float64)
    path = np.asarray(outs["recovery_path"], dtype=np.float64)
    result.summary["recovery"] = {
        **spec.to_dict(),
        "recovered_fraction": float(np.mean(~np.isnan(t))),
        "time_to_recover": distribution_stats(t),
        "resilience_loss": distribution_stats(outs["resilience_loss"]),
        "value_after_shock": distribution_stats(path[:, 0]),
        "value_at_horizon": distribution_stats(path[:, -1]),
    }


def describe_recovery(summary: Mapping[str, Any]) -> list[str]:
    """The recovery line of ``diffusion run``.

    Examples
    --------
    >>> from diffusion.policies.tables import describe_recovery
    >>> s = {"recovery": {"horizon": 40, "recover": 0.95, "recovered_fraction": 0.5,
    ...      "time_to_recover": {"mean": 12.0}, "resilience_loss": {"mean": 4.2},
    ...      "value_after_shock": {"mean": 0.3}}}
    >>> describe_recovery(s)[0][:62]
    'recovery: value right after the shock 0.300; back to 95% after'
    """
    r = summary.get("recovery")
    if not isinstance(r, Mapping):
        return []
    t = r["time_to_recover"]["mean"]
    when = f"after {t:.1f} steps on average" if t is not None else "in no run"
    return [f"recovery: value right after the shock {r['value_after_shock']['mean']:.3f}; back to "
            f"{100 * r['recover']:g}% {when} (recovered in {r['recovered_fraction']:.0%} of runs within "
            f"{r['horizon']} steps); resilience loss {r['resilience_loss']['mean']:.2f} (steps × value)"]


#: The ``[[policy]]`` scenario table (registered by :mod:`diffusion`).
POLICY_TABLE = TableHandler(parse_policies, dump=lambda pols: [p.to_dict() for p in pols], check=check_policies,
                            array=True)
#: The ``[recovery]`` scenario table (registered by :mod:`diffusion`).
RECOVERY_TABLE = TableHandler(parse_recovery, dump=lambda spec: spec.to_dict(), stage=recovery_summary,
                              describe=describe_recovery, chunk_stage=recovery_chunk_stage)
