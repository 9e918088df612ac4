"""The shock stage: a shock and its propagation inside every chunk of a run.

:class:`ShockStage` is passed to :func:`diffusion.simulate` (``stages=``): in
every chunk, right after the cascade, it reads who holds what (the outputs the
model declares with the roles ``"holding"`` / ``"second_holding"``, or the
adopters), hits every replicate with the shock, propagates the distress and
adds its outputs, which are then reduced with the model's. A run with a shock
therefore never holds an array of shape ``(runs, n)`` unless it keeps every
replicate.

Outputs
-------
per replicate (``runs.csv``)
    ``initial_loss`` (value lost to the shock itself), ``systemic_loss``
    (lost beyond the initial hit, through propagation), ``total_loss``
    (both), ``failed_fraction``, ``amplification`` (total / initial),
    ``shock_rounds``; for a platform outage, ``shock_platform`` (the
    platform that failed); with ``severities``, the fragility curve
    ``curve_<measure>`` with one component per severity.
per firm (``nodes.csv``)
    ``failure_probability`` (share of replicates in which it failed),
    ``mean_distress`` and ``expected_loss`` (its contribution to the
    expected total loss: mean distress × its value share); with kept
    replicates, ``failed`` (0/1), ``distress`` and ``failed_round`` per firm.

Examples
--------
>>> import diffusion
>>> from diffusion.shocks import PlatformOutage, ShockStage
>>> net = diffusion.generators.smb_network(300, mean_degree=6, sectors=3, regions=2, seed=1)
>>> model = diffusion.PlatformCompetition(["A", "B"], global_effect=4.0, revision_rate=0.3)
>>> stage = ShockStage(PlatformOutage("dominant"), exposure={"loss_given_default": 0.5}, seed=3)
>>> res = diffusion.simulate(net, model, runs=8, seed=2, max_steps=20, keep="summary", stages=[stage])
>>> res.outputs["total_loss"].shape, res.node_mean("failed").shape
((8,), (300,))
>>> bool(((res.outputs["total_loss"] >= res.outputs["initial_loss"] - 1e-12)).all())
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from .._random import SeedLike, as_seed_sequence
from ..declarations import Declarations, Output
from ..engine import Model, Stage
from ..errors import ParameterError
from ..network import Network
from ..reductions import ChunkData
from ..validation import check_probability
from .base import PlatformOutage, PlatformState, Shock
from .pipeline import resolve_capacity, resolve_exposure, resolve_value
from .propagation import PROPAGATIONS, PropagationResult, check_stability, propagate

__all__ = ["LOSS_MEASURES", "ShockStage"]

#: Per-replicate loss measures a shock stage records (and the fragility curve's measures).
LOSS_MEASURES = ("initial_loss", "systemic_loss", "total_loss", "failed_fraction", "amplification")

_DESCRIPTIONS = {
    "initial_loss": "share of value lost to the shock itself",
    "systemic_loss": "share of value lost beyond the initial hit, through propagation",
    "total_loss": "share of value lost in all (initial hit and propagation)",
    "failed_fraction": "share of firms failed",
    "amplification": "total loss / initial loss",
}


def loss_columns(res: PropagationResult) -> dict[str, np.ndarray]:
    """The per-replicate loss measures of a propagation, as ``(R,)`` arrays."""
    return {
        "initial_loss": np.atleast_1d(res.initial_loss),
        "systemic_loss": np.atleast_1d(res.systemic_loss),
        "total_loss": np.atleast_1d(res.total_loss),
        "failed_fraction": np.atleast_1d(res.failed_fraction),
        "amplification": np.atleast_1d(res.amplification),
    }


class ShockStage(Stage):
    """A shock and its propagation, run in every chunk after the cascade.

    Parameters
    ----------
    shock : Shock
        E.g. ``PlatformOutage("dominant", 1.0)``.
    exposure : None, dict or matrix
        ``None``: :func:`~diffusion.shocks.exposure_matrix` with its defaults;
        a dict: its keyword arguments; else an ``n × n`` exposure matrix.
    propagation : {"threshold", "debtrank", "linear_debtrank"}, default "threshold"
    capacity : float or attribute name, default 1.0
        Failure level of the threshold rule.
    value : str, array or None, default "size"
        Firm values weighting losses.
    max_rounds : int, optional
    severities : sequence of float, optional
        Also record the fragility curve: the loss measures at each severity
        (common random numbers: the same hit pattern scaled), as run outputs
        ``curve_<measure>`` with one component per severity.
    seed : int or SeedSequence, optional
        Randomness of random shocks: replicate ``r`` draws from child ``r``.
    """

    name: ClassVar[str] = "shock"

    def __init__(self, shock: Shock, *, exposure: Any = None, propagation: str = "threshold",
                 capacity: Any = 1.0, value: Any = "size", max_rounds: int | None = None,
                 severities: Sequence[float] | None = None, seed: SeedLike = None) -> None:
        if not isinstance(shock, Shock):
            raise ParameterError("shock", f"must be a Shock, got {type(shock).__name__}")
        if propagation not in PROPAGATIONS:
            raise ParameterError("propagation", f"must be one of {', '.join(PROPAGATIONS)}, got {propagation!r}")
        self.shock = shock
        self.exposure = exposure
        self.propagation = propagation
        self.capacity = capacity
        self.value = value
        self.max_rounds = max_rounds
        self.severities = None if severities is None else tuple(check_probability("severities", s) for s in severities)
        if self.severities is not None and not self.severities:
            raise ParameterError("severities", "give at least one severity")
        self.seed = as_seed_sequence(seed) if shock.random else None

    # ------------------------------------------------------------ declarations
    def declare(self, network: Network, model: Declarations) -> Declarations:
        v = resolve_value(network, self.value)
        out = [Output.run_value(k, _DESCRIPTIONS[k]) for k in LOSS_MEASURES]
        out.append(Output.run_value("shock_rounds", "propagation rounds until nothing changed"))
        if isinstance(self.shock, PlatformOutage):
            hold = model.role("holding")
            names = ("none", *(hold.labels[1 - hold.start:] if hold is not None else ("adopted",)))
            out.append(Output.run_category("shock_platform", names, "platform that failed (0: none)"))
        if self.severities is not None:
            labels = tuple(f"{s:g}" for s in self.severities)
            out += [Output.run_value(f"curve_{k}", f"{_DESCRIPTIONS[k]}, at each severity", labels=labels)
                    for k in LOSS_MEASURES]
        share = float(v.max() / v.sum())
        out += [
            Output.node_value("failed", "whether the firm failed (1) or not (0)", integer=True, role="failed",
                              column="failure_probability"),
            Output.node_value("distress", "final distress of the firm, in [0, 1]", role="distress"),
            Output.node_value("loss", "the firm's share of the value lost (distress × value / total value)",
                              bounds=(0.0, share if share > 0 else 1.0), column="expected_loss"),
            Output.node_value("failed_round", "propagation round in which the firm failed (0: the shock "
                              "itself; -1: it did not fail)", integer=True, missing=-1, role="failed_round"),
        ]
        return Declarations(out)

    def prepare(self, network: Network, model: Model, declarations: Declarations) -> Any:
        W = resolve_exposure(network, self.exposure)
        if self.propagation == "linear_debtrank":
            check_stability(W)
        v = resolve_value(network, self.value)
        cap = resolve_capacity(network, self.capacity)
        if isinstance(self.shock, PlatformOutage) and self.shock.platform != "dominant":
            hold = declarations.role("holding")
            names = tuple(hold.labels[1 - hold.start:]) if hold is not None else ("adopted",)
            self.shock.target(PlatformState(np.zeros((1, 1), np.int16), np.zeros((1, 1), np.int16), names))
        # a shock that needs no cascade state is checked once here
        if not self.shock.needs_platforms and not self.shock.random:
            self.shock.initial_distress(network, 1)
        return W, v, cap

    def memory_per_replicate(self, network: Network) -> int:
        k = 1 + (len(self.severities) if self.severities is not None else 0)
        return 48 * network.n * k

    # ------------------------------------------------------------ the work
    def apply(self, ctx: Any, network: Network, data: ChunkData, declarations: Declarations) -> None:
        W, v, cap = ctx
        R = data.runs
        st = None
        if self.shock.needs_platforms:
            st = PlatformState(*data.holdings(declarations))
        rngs = self.rngs(data) if self.shock.random else None
        h0 = self.shock.initial_distress(network, R, st, rngs)
        res = propagate(W, h0, self.propagation, capacity=cap, value=v, max_rounds=self.max_rounds,
                        check_stability_=False)
        vals = data.values
        vals.update(loss_columns(res))
        vals["shock_rounds"] = np.atleast_1d(res.rounds).astype(np.int64)
        if isinstance(self.shock, PlatformOutage):
            assert st is not None
            vals["shock_platform"] = self.shock.target(st)
        distress = np.atleast_2d(res.distress)
        vals["failed"] = np.atleast_2d(res.failed).astype(np.int8)
        vals["distress"] = distress
        vals["loss"] = distress * (v / v.sum())
        fr = res.failed_round
        vals["failed_round"] = (np.atleast_2d(fr) if fr is not None else
                                np.where(vals["failed"] > 0, 0, -1)).astype(np.int32)
        if self.severities is not None:
            # every severity hits the same firms (the same draws: common random numbers)
            curves: dict[str, list[np.ndarray]] = {k: [] for k in LOSS_MEASURES}
            for s in self.severities:
                sh = dataclasses.replace(self.shock, severity=float(s))  # type: ignore[type-var]
                h = sh.initial_distress(network, R, st, self.rngs(data) if sh.random else None)
                rs = propagate(W, h, self.propagation, capacity=cap, value=v, max_rounds=self.max_rounds,
                               check_stability_=False)
                for k, col in loss_columns(rs).items():
                    curves[k].append(col)
            for k, cols in curves.items():
                vals[f"curve_{k}"] = np.stack(cols, axis=1)
