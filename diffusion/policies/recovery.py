"""Recovery after an outage: the platform competition goes on, and the value comes back.

The ``[recovery]`` table (Bruneau et al. 2003, the "resilience triangle")::

    [recovery]
    horizon = 40        # steps followed after the shock
    reentry = 0.1       # probability per step that a failed firm re-enters
    recover = 0.95      # share of the pre-shock value that counts as recovered

After the shock and its propagation, the platform competition of the cascade
continues from where it stood, with the failed platform closed (nobody may
hold it; its holders switch when they revise, paying their switching costs)
and the failed firms out of the market (they hold nothing and do not revise)
until they re-enter, each with probability ``reentry`` per step (then on no
platform, choosing one when they next revise).

Functionality ``Q(t)`` is the share of the pre-shock value operating at step
``t``: ``Q(t) = Σ_i v_i q_i(t) / Σ_i v_i`` with ``q_i = 0`` for a firm that is
out, ``q_i = 1 − h_i`` while it still holds the failed platform (``h_i`` its
initial hit from the outage, after any policy), and ``q_i = 1`` otherwise
(losses that propagation inflicted on a surviving firm's buffer are not
production lost). Per replicate the run records the path ``Q(0..horizon)``,
the time to recover (first step with ``Q >= recover``; NaN when not within the
horizon) and the resilience loss ``∫ (1 − Q(t)) dt`` over the horizon
(trapezoid rule, in steps).

Recovery needs a ``platform_competition`` cascade and a ``platform_outage``
shock. The re-entry draws and the competition's choices come from the
``recovery`` stream (replicate ``r`` from its child ``r``), so the recoveries
of the baseline and of every policy share their random numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .._random import SeedLike, as_seed_sequence, replicate_generators
from ..declarations import Declarations, Output
from ..engine import Batch, Model, Stage
from ..errors import DiffusionError, ParameterError
from ..initial import Initial
from ..network import Network
from ..reductions import ChunkData
from ..shocks.base import PlatformOutage, PlatformState, Shock
from ..shocks.pipeline import resolve_value
from ..validation import check_integer, check_probability

__all__ = ["RecoverySpec", "RecoveryStage", "recovery_measures", "run_recovery"]

#: Per-replicate recovery measures.
RECOVERY_MEASURES = ("time_to_recover", "resilience_loss")


@dataclass(frozen=True)
class RecoverySpec:
    """The ``[recovery]`` table.

    Parameters
    ----------
    horizon : int >= 1, default 40
        Steps followed after the shock.
    reentry : float in [0, 1], default 0.1
        Probability per step that a failed firm re-enters the market.
    recover : float in [0, 1], default 0.95
        Share of the pre-shock value at which a replicate counts as recovered.

    Examples
    --------
    >>> from diffusion.policies import RecoverySpec
    >>> RecoverySpec(horizon=20).to_dict()
    {'horizon': 20, 'reentry': 0.1, 'recover': 0.95}
    """

    horizon: int = 40
    reentry: float = 0.1
    recover: float = 0.95

    def __post_init__(self) -> None:
        object.__setattr__(self, "horizon", check_integer("horizon", self.horizon, 1, 10_000, strict=True))
        object.__setattr__(self, "reentry", check_probability("reentry", self.reentry))
        object.__setattr__(self, "recover", check_probability("recover", self.recover))

    @classmethod
    def from_dict(cls, table: Mapping[str, Any]) -> RecoverySpec:
        unknown = sorted(set(table) - {"horizon", "reentry", "recover"})
        if unknown:
            raise ParameterError(unknown[0], "unknown key (valid: horizon, reentry, recover)")
        return cls(**dict(table))

    def to_dict(self) -> dict[str, Any]:
        return {"horizon": self.horizon, "reentry": self.reentry, "recover": self.recover}


def check_recovery_model(model: Model, shock: Shock | None) -> None:
    """Recovery continues a platform competition after a platform outage; refuse anything else."""
    if not hasattr(model, "resume"):
        raise ParameterError("recovery", f"recovery continues a platform competition after the shock; the "
                             f"cascade model is {model.name!r} (use platform_competition)")
    if shock is not None and not isinstance(shock, PlatformOutage):
        raise ParameterError("recovery", f"recovery follows a platform outage; the shock is {shock.kind!r}")


def recovery_measures(path: np.ndarray, recover: float) -> dict[str, np.ndarray]:
    """Time to recover and resilience loss of value paths ``Q`` of shape ``(R, horizon + 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.policies import recovery_measures
    >>> m = recovery_measures(np.array([[0.5, 0.75, 1.0, 1.0], [0.2, 0.3, 0.4, 0.5]]), 0.95)
    >>> m["time_to_recover"].tolist(), m["resilience_loss"].tolist()
    ([2.0, nan], [0.5, 1.95])
    """
    path = np.atleast_2d(np.asarray(path, dtype=np.float64))
    ok = path >= recover - 1e-12
    first = np.argmax(ok, axis=1).astype(np.float64)
    first[~ok.any(axis=1)] = np.nan
    gap = 1.0 - path
    loss = 0.5 * (gap[:, :-1] + gap[:, 1:]).sum(axis=1)
    return {"time_to_recover": first, "resilience_loss": loss}


def run_recovery(model: Model, model_ctx: Any, network: Network, data: ChunkData, state: PlatformState,
                 failed: np.ndarray, hit: np.ndarray, dead: np.ndarray, value: np.ndarray,
                 spec: RecoverySpec, seed: np.random.SeedSequence) -> np.ndarray:
    """The value path ``Q(0..horizon)`` of the chunk's replicates after an outage, ``(R, horizon + 1)``.

    Parameters
    ----------
    model, model_ctx
        The platform-competition model of the cascade and its prepared context.
    data : ChunkData
        The chunk (its replicates and the cascade's seed).
    state : PlatformState
        Who held what when the shock struck.
    failed : ndarray of bool, shape (R, n)
        Firms that failed (out of the market until they re-enter).
    hit : ndarray, shape (R, n)
        Each firm's initial hit from the outage (kept while it holds the failed platform).
    dead : ndarray of int, shape (R,)
        The platform that failed in each replicate (``1..K``, 0: none).
    value : ndarray, shape (n,)
        Firm values.
    spec : RecoverySpec
    seed : SeedSequence
        The recovery stream (replicate ``r`` draws from child ``r``).
    """
    R, n = state.platform.shape
    if data.seed is None:
        raise DiffusionError("recovery needs the cascade's seed in the chunk data")
    batch = Batch(data.seed, data.start, R, None, Initial("none"), network)
    rngs = replicate_generators(seed, R, data.start)
    failed = np.asarray(failed, dtype=bool)
    primary = np.where(failed, 0, state.platform).astype(np.int16)
    second = np.where(failed, 0, state.second).astype(np.int16)
    st = model.resume(model_ctx, network, batch, primary, second, rngs)  # type: ignore[attr-defined]
    K = st.holders.shape[1]
    closed = np.zeros((R, K), dtype=np.int8)
    rows = np.flatnonzero(dead > 0)
    closed[rows, dead[rows] - 1] = 2
    st.closed = closed
    st.frozen = failed.copy()
    w = np.asarray(value, dtype=np.float64) / float(np.sum(value))
    dead_col = np.asarray(dead)[:, None]
    hit = np.asarray(hit, dtype=np.float64)

    def functioning() -> np.ndarray:
        on_dead = ((st.primary == dead_col) | (st.second == dead_col)) & (dead_col > 0)
        q = np.where(st.frozen, 0.0, 1.0 - np.where(on_dead, hit, 0.0))
        return (q * w).sum(axis=1)  # row by row: the same sums whatever the chunk (a BLAS product is not)

    path = np.empty((R, spec.horizon + 1))
    path[:, 0] = functioning()
    u = np.empty(n)
    for t in range(1, spec.horizon + 1):
        for r, g in enumerate(rngs):  # re-entry draws first, then the step's (fixed order per replicate)
            g.random(n, out=u)
            st.frozen[r] &= u >= spec.reentry
        model.step(model_ctx, network, st, t)
        path[:, t] = functioning()
    return path


def _labels(horizon: int) -> tuple[str, ...]:
    return tuple(str(t) for t in range(horizon + 1))


class RecoveryStage(Stage):
    """Recovery after the ``[shock]`` stage's outage, in every chunk (``diffusion run``).

    Reads the shock stage's outputs (``failed`` per firm, ``shock_platform``)
    and records per replicate ``recovery_path`` (``Q(0..horizon)``),
    ``time_to_recover`` and ``resilience_loss``.

    Parameters
    ----------
    shock : PlatformOutage
        The shock the ``[shock]`` stage ran (its hits are recomputed).
    spec : RecoverySpec
    value : str, array or None
        Firm values (as the shock stage's).
    seed : int or SeedSequence
        The recovery stream.
    """

    name: ClassVar[str] = "recovery"

    def __init__(self, shock: Shock, spec: RecoverySpec, *, value: Any = "size", seed: SeedLike = None) -> None:
        if not isinstance(shock, PlatformOutage):
            raise ParameterError("recovery", f"recovery follows a platform outage; the shock is {shock.kind!r}")
        self.shock = shock
        self.spec = spec
        self.value = value
        self.seed = as_seed_sequence(seed)

    def declare(self, network: Network, model: Declarations) -> Declarations:
        return Declarations([
            Output.run_value("recovery_path", "share of the pre-shock value operating after each step of the "
                             "recovery", labels=_labels(self.spec.horizon)),
            Output.run_value("time_to_recover", f"steps until {self.spec.recover:g} of the pre-shock value "
                             "operates again (NaN: not within the horizon)"),
            Output.run_value("resilience_loss", "value lost over the recovery, ∫ (1 − Q(t)) dt (steps × "
                             "share of value)"),
        ])

    def prepare(self, network: Network, model: Model, declarations: Declarations) -> Any:
        check_recovery_model(model, self.shock)
        if "failed" not in declarations or "shock_platform" not in declarations:
            raise DiffusionError("the recovery stage runs after a shock stage (ShockStage) in the same run")
        return model, model.prepare(network), resolve_value(network, self.value)

    def memory_per_replicate(self, network: Network) -> int:
        return 64 * network.n

    def apply(self, ctx: Any, network: Network, data: ChunkData, declarations: Declarations) -> None:
        model, mctx, v = ctx
        st = PlatformState(*data.holdings(declarations))
        hit = self.shock.initial_distress(network, data.runs, st)
        dead = np.asarray(data.values["shock_platform"], dtype=np.int64)
        failed = np.asarray(data.values["failed"]) > 0
        path = run_recovery(model, mctx, network, data, st, failed, hit, dead, v, self.spec, self.seed)
        data.values["recovery_path"] = path
        data.values.update(recovery_measures(path, self.spec.recover))
