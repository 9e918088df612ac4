"""Shock propagation and the systemic fragility of homogenized SMB networks.

The second half of the pipeline: take the state a cascade produced (who runs
which platform), hit it with a shock (:class:`PlatformOutage`,
:class:`SectorShock`, :class:`RegionShock`, :class:`RandomFailures`,
:class:`TargetedFailures`, :class:`NodeShock`), propagate the distress along
the exposure network (:func:`threshold_cascade`, :func:`debtrank` single hit
or linear) and measure how fragile the population is (:func:`fragility_summary`,
:func:`fragility_curve`, :func:`robustness`, :func:`criticality`,
:func:`frontier`).

Everything here uses numpy and scipy only and is vectorized over replicates.
"""

from .base import (
    SHOCKS,
    NodeShock,
    PlatformOutage,
    PlatformState,
    RandomFailures,
    RegionShock,
    SectorShock,
    Shock,
    TargetedFailures,
    dominant_platform,
    platform_shares,
    platform_state,
)
from .exposure import as_exposure, exposure_columns, exposure_matrix, spectral_radius
from .frontier import RECORD_KEYS, FrontierResult, frontier, frontier_point, hhi
from .metrics import (
    distribution_summary,
    expected_shortfall,
    fragility_summary,
    systemic_event_probability,
)
from .pipeline import (
    apply_shock,
    criticality,
    fragility_curve,
    loss_record,
    resolve_capacity,
    resolve_exposure,
    resolve_value,
)
from .propagation import (
    PROPAGATIONS,
    PropagationResult,
    StabilityWarning,
    debtrank,
    propagate,
    threshold_cascade,
)
from .robustness import RobustnessResult, giant_component_fraction, robustness
from .stage import LOSS_MEASURES, ShockStage

__all__ = [
    "LOSS_MEASURES",
    "PROPAGATIONS",
    "RECORD_KEYS",
    "SHOCKS",
    "FrontierResult",
    "NodeShock",
    "PlatformOutage",
    "PlatformState",
    "PropagationResult",
    "RandomFailures",
    "RegionShock",
    "RobustnessResult",
    "SectorShock",
    "Shock",
    "ShockStage",
    "StabilityWarning",
    "TargetedFailures",
    "apply_shock",
    "as_exposure",
    "criticality",
    "debtrank",
    "distribution_summary",
    "dominant_platform",
    "expected_shortfall",
    "exposure_columns",
    "exposure_matrix",
    "fragility_curve",
    "fragility_summary",
    "frontier",
    "frontier_point",
    "giant_component_fraction",
    "hhi",
    "loss_record",
    "platform_shares",
    "platform_state",
    "propagate",
    "resolve_capacity",
    "resolve_exposure",
    "resolve_value",
    "robustness",
    "spectral_radius",
    "systemic_event_probability",
    "threshold_cascade",
]
