"""Mitigation policies: which strategy makes a homogenized population less fragile, and at what cost.

- :mod:`~diffusion.policies.spec` — :class:`Policy` (an intervention, its
  :class:`Target` and its :class:`Cost`);
- :mod:`~diffusion.policies.stage` — :class:`PolicyStage`, the baseline shock
  and every shock-only policy's on one cascade, in every chunk;
- :mod:`~diffusion.policies.recovery` — after the outage the platform
  competition goes on (``[recovery]``): value path, time to recover,
  resilience loss;
- :mod:`~diffusion.policies.compare` — :func:`compare_policies`, every policy
  against the baseline with common random numbers (``diffusion compare``), and
  :func:`criticality_ranking`, the scores ``target.by = "criticality"`` ranks by;
- :mod:`~diffusion.policies.tables` — the ``[[policy]]`` and ``[recovery]``
  scenario tables (registered by :mod:`diffusion`).
"""

from __future__ import annotations

from .build import check_policy, default_cost, policy_model, shock_variant
from .compare import (
    PolicyComparison,
    check_comparison,
    compare_policies,
    comparison_runs,
    criticality_ranking,
    policy_table,
)
from .recovery import RecoverySpec, RecoveryStage, recovery_measures, run_recovery
from .spec import (
    CASCADE_INTERVENTIONS,
    INTERVENTIONS,
    SHOCK_INTERVENTIONS,
    TARGETS,
    Cost,
    Policy,
    Target,
)
from .stage import PolicyStage, ShockVariant

__all__ = [
    "CASCADE_INTERVENTIONS",
    "INTERVENTIONS",
    "SHOCK_INTERVENTIONS",
    "TARGETS",
    "Cost",
    "Policy",
    "PolicyComparison",
    "PolicyStage",
    "RecoverySpec",
    "RecoveryStage",
    "ShockVariant",
    "Target",
    "check_comparison",
    "check_policy",
    "compare_policies",
    "comparison_runs",
    "criticality_ranking",
    "default_cost",
    "policy_model",
    "policy_table",
    "recovery_measures",
    "run_recovery",
    "shock_variant",
]
