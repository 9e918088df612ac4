"""The policy stage: the baseline's shock and every shock-only policy's, on one cascade, in every chunk.

A policy that changes only the shock (decoupling, buffers, interoperability)
does not need its own cascade: :class:`PolicyStage` hits the state the cascade
left in the chunk with the baseline shock and with each such variant of it
(:class:`ShockVariant`), on the same random draws, so the paired differences
are exact per replicate. A policy that changes the cascade runs the cascade
again with the same seeds and this stage with one variant, the baseline shock.

Outputs (run values with one component per variant, labelled by its name):
``policy_initial_loss``, ``policy_systemic_loss``, ``policy_total_loss``,
``policy_failed_fraction``; ``policy_installed`` (fraction of firms holding
each platform, when the model declares holdings); with a recovery,
``policy_time_to_recover``, ``policy_resilience_loss`` and
``policy_recovery_path`` (components ``<variant>@<step>``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .._random import SeedLike, as_seed_sequence
from ..declarations import Declarations, Output
from ..engine import Model, Stage
from ..errors import ParameterError
from ..network import Network
from ..reductions import ChunkData
from ..shocks.base import PlatformOutage, PlatformState, Shock
from ..shocks.pipeline import resolve_capacity, resolve_exposure, resolve_value
from ..shocks.propagation import PROPAGATIONS, propagate
from .recovery import RecoverySpec, check_recovery_model, recovery_measures, run_recovery

__all__ = ["LOSSES", "PolicyStage", "ShockVariant"]

#: Per-replicate loss measures recorded for every variant.
LOSSES = ("initial_loss", "systemic_loss", "total_loss", "failed_fraction")


@dataclass(frozen=True)
class ShockVariant:
    """The baseline shock as a policy changes it.

    Attributes
    ----------
    name : str
    scale : ndarray, shape (n,), or None
        Multiplies each firm's initial hit (decoupling, interoperability, larger buffers).
    platform : int or None
        Apply ``scale`` only in replicates where this platform (``1..K``) failed.
    exposure : matrix or None
        The exposure matrix under the policy (buffers); ``None``: the baseline's.
    """

    name: str
    scale: np.ndarray | None = None
    platform: int | None = None
    exposure: Any = None

    def hit(self, h0: np.ndarray, dead: np.ndarray | None) -> np.ndarray:
        """The initial distress under the policy, from the baseline's ``h0`` ``(R, n)``."""
        if self.scale is None:
            return h0
        scaled = h0 * self.scale
        if self.platform is None:
            return scaled
        assert dead is not None
        return np.where((dead == self.platform)[:, None], scaled, h0)


class PolicyStage(Stage):
    """The shock under the baseline and under every variant, on the same cascade state and draws.

    Parameters
    ----------
    shock : Shock
    variants : sequence of ShockVariant
        The first is usually the baseline (``ShockVariant("baseline")``).
    exposure : None, dict or matrix
        The baseline's exposure (see :class:`~diffusion.shocks.ShockStage`).
    propagation, capacity, value, max_rounds
        As in :class:`~diffusion.shocks.ShockStage`.
    seed : int or SeedSequence
        The shock's stream (random shocks: every variant gets the same draws).
    recovery : RecoverySpec, optional
        Also let the platform competition go on after the outage, per variant.
    recovery_seed : int or SeedSequence
        The recovery stream (shared by every variant).

    Examples
    --------
    >>> import numpy as np, diffusion
    >>> from diffusion.policies import PolicyStage, ShockVariant
    >>> from diffusion.shocks import PlatformOutage
    >>> net = diffusion.generators.smb_network(300, mean_degree=6, sectors=3, regions=2, seed=1)
    >>> model = diffusion.PlatformCompetition(["A", "B"], global_effect=4.0, revision_rate=0.3)
    >>> half = ShockVariant("interop", scale=np.full(net.n, 0.5))
    >>> stage = PolicyStage(PlatformOutage(), [ShockVariant("baseline"), half],
    ...                     exposure={"loss_given_default": 0.0})
    >>> res = diffusion.simulate(net, model, runs=4, seed=2, max_steps=20, keep="summary", stages=[stage])
    >>> loss = res.outputs["policy_initial_loss"]          # (runs, variants)
    >>> bool(np.allclose(loss[:, 1], 0.5 * loss[:, 0]))
    True
    """

    name: ClassVar[str] = "policy"

    def __init__(self, shock: Shock, variants: Sequence[ShockVariant], *, exposure: Any = None,
                 propagation: str = "threshold", capacity: Any = 1.0, value: Any = "size",
                 max_rounds: int | None = None, seed: SeedLike = None, recovery: RecoverySpec | None = None,
                 recovery_seed: SeedLike = None) -> None:
        if not isinstance(shock, Shock):
            raise ParameterError("shock", f"must be a Shock, got {type(shock).__name__}")
        if propagation not in PROPAGATIONS:
            raise ParameterError("propagation", f"must be one of {', '.join(PROPAGATIONS)}, got {propagation!r}")
        self.variants = tuple(variants)
        if not self.variants:
            raise ParameterError("variants", "give at least one variant")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ParameterError("variants", "variant names must be unique")
        self.shock = shock
        self.exposure = exposure
        self.propagation = propagation
        self.capacity = capacity
        self.value = value
        self.max_rounds = max_rounds
        self.seed = as_seed_sequence(seed) if shock.random else None
        self.recovery = recovery
        self.recovery_seed = as_seed_sequence(recovery_seed) if recovery is not None else None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variants)

    def declare(self, network: Network, model: Declarations) -> Declarations:
        names = self.names
        out = [Output.run_value(f"policy_{k}", f"{k.replace('_', ' ')} under each policy", labels=names)
               for k in LOSSES]
        hold = model.role("holding")
        if hold is not None:
            out.append(Output.run_value("policy_installed", "fraction of firms holding each platform when the "
                                        "shock struck", labels=hold.labels[1 - hold.start:]))
        if self.recovery is not None:
            steps = range(self.recovery.horizon + 1)
            out += [
                Output.run_value("policy_time_to_recover", "steps until the value recovered, per policy "
                                 "(NaN: not within the horizon)", labels=names),
                Output.run_value("policy_resilience_loss", "∫ (1 − Q(t)) dt over the recovery, per policy",
                                 labels=names),
                Output.run_value("policy_recovery_path", "share of the pre-shock value operating, per policy "
                                 "and step", labels=tuple(f"{nm}@{t}" for nm in names for t in steps)),
            ]
        return Declarations(out)

    def prepare(self, network: Network, model: Model, declarations: Declarations) -> Any:
        W = resolve_exposure(network, self.exposure)
        Ws = [W if v.exposure is None else resolve_exposure(network, v.exposure) for v in self.variants]
        v = resolve_value(network, self.value)
        cap = resolve_capacity(network, self.capacity)
        for var in self.variants:
            if var.scale is not None and np.shape(var.scale) != (network.n,):
                raise ParameterError("variants", f"variant {var.name!r}: scale needs one value per firm")
        mctx = None
        if self.recovery is not None:
            check_recovery_model(model, self.shock)
            mctx = model.prepare(network)
        return Ws, v, cap, model, mctx

    def memory_per_replicate(self, network: Network) -> int:
        per = 48 * network.n * len(self.variants)
        if self.recovery is not None:
            per += 64 * network.n
        return per

    def apply(self, ctx: Any, network: Network, data: ChunkData, declarations: Declarations) -> None:
        Ws, v, cap, model, mctx = ctx
        R = data.runs
        plat, second, pnames = data.holdings(declarations)
        st = PlatformState(plat, second, pnames)
        rngs = self.rngs(data) if self.shock.random else None
        h0 = self.shock.initial_distress(network, R, st if self.shock.needs_platforms else None, rngs)
        dead = self.shock.target(st) if isinstance(self.shock, PlatformOutage) else None
        cols: dict[str, list[np.ndarray]] = {k: [] for k in LOSSES}
        rec: dict[str, list[np.ndarray]] = {"path": [], "time_to_recover": [], "resilience_loss": []}
        for var, W in zip(self.variants, Ws, strict=True):
            hit = var.hit(h0, dead)
            res = propagate(W, hit, self.propagation, capacity=cap, value=v, max_rounds=self.max_rounds,
                            check_stability_=False)
            for k in LOSSES:
                cols[k].append(np.atleast_1d(getattr(res, k)))
            if self.recovery is not None:
                assert dead is not None and self.recovery_seed is not None
                path = run_recovery(model, mctx, network, data, st, np.atleast_2d(res.failed), hit, dead, v,
                                    self.recovery, self.recovery_seed)
                m = recovery_measures(path, self.recovery.recover)
                rec["path"].append(path)
                rec["time_to_recover"].append(m["time_to_recover"])
                rec["resilience_loss"].append(m["resilience_loss"])
        vals = data.values
        for k in LOSSES:
            vals[f"policy_{k}"] = np.stack(cols[k], axis=1)
        if "policy_installed" in declarations:
            K = len(pnames)
            held = np.zeros((R, K))
            for k in range(1, K + 1):
                held[:, k - 1] = np.count_nonzero((plat == k) | (second == k), axis=1) / network.n
            vals["policy_installed"] = held
        if self.recovery is not None:
            vals["policy_time_to_recover"] = np.stack(rec["time_to_recover"], axis=1)
            vals["policy_resilience_loss"] = np.stack(rec["resilience_loss"], axis=1)
            vals["policy_recovery_path"] = np.concatenate(rec["path"], axis=1)
