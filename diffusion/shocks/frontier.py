"""The homogeneity–fragility frontier: concentration against systemic loss.

For each value of a parameter that drives homogenization (network-effect
strength, mimetic strength, mandate coverage), :func:`frontier` runs the whole
pipeline in every replicate — cascade, outage of the dominant platform,
propagation — and records the concentration it produced (HHI) next to the
losses. The thesis it can show or refute (Beale et al. 2011, "individual
versus systemic risk"): homogenized populations lose more from a single
platform failure, while each firm, looking at its own position, is no worse
off.

"Each firm looks safer", made concrete
--------------------------------------
A firm sees its own platform risk: if one of the ``K`` platforms fails, chosen
uniformly at random (a firm has no reason to think its own platform is more
fragile than another), it expects the direct hit

    direct_risk_i = severity × sum_k reliance_ik / K

— ``severity / K`` for a single-homer whatever the market shares, less for a
firm on no platform. ``direct_risk`` in the records is its mean over firms. We
also record, under that same uniformly random outage *with* propagation,
``individual_failure_probability`` (the mean over firms of the probability
that the firm fails; by linearity it equals the expected failed fraction) and
``random_outage_loss`` (the expected total loss). The systemic side is the
outage of the *dominant* platform (the shock a concentrated market is exposed
to): ``initial_loss``, ``systemic_loss`` (added by propagation),
``total_loss``, ``failed_fraction``, ``amplification``. Homogenization is
"individually safe but systemically fragile" when ``direct_risk`` (and the
individual failure probability) do not rise with HHI while the dominant-outage
losses do; :meth:`FrontierResult.trend` measures both slopes with standard
errors.

Seeding: every parameter value reuses the same cascade and shock seeds (common
random numbers), so differences between values are not sampling noise of
independent draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from .._random import SeedLike, as_seed_sequence
from ..declarations import Declarations, Output
from ..engine import Model, SimulationResult, Stage, simulate
from ..errors import DiffusionError, ParameterError
from ..network import Network
from ..reductions import ChunkData
from .base import PlatformOutage, PlatformState, platform_shares, platform_state
from .metrics import distribution_summary, expected_shortfall, systemic_event_probability
from .pipeline import resolve_capacity, resolve_exposure, resolve_value
from .propagation import PROPAGATIONS, propagate

__all__ = ["FrontierResult", "FrontierStage", "frontier", "frontier_point", "hhi"]

#: Per-replicate columns of the frontier records.
RECORD_KEYS = (
    "hhi", "effective_number", "dominant_share", "adoption", "initial_loss", "systemic_loss",
    "total_loss", "failed_fraction", "amplification", "rounds", "direct_risk",
    "individual_failure_probability", "random_outage_loss",
)


def hhi(platforms: PlatformState | Any, multihomed_reliance: float = 0.5) -> np.ndarray:
    """Herfindahl–Hirschman index of the platform shares per replicate, shape ``(R,)``.

    Shares are reliance-weighted over the firms on some platform (a multi-homer
    counts ``multihomed_reliance`` for each of its platforms); ``nan`` where
    nobody is on a platform. With a single technology (``K = 1``, e.g. the
    adopters of a threshold or isomorphic cascade) the HHI is over adopters and
    non-adopters, ``a² + (1 − a)²`` for adoption share ``a``: a population is
    homogeneous when (almost) everyone, or no one, runs the technology.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.shocks import hhi, PlatformState
    >>> st = PlatformState(np.array([[1, 1, 2, 2], [1, 1, 1, 0]]), np.zeros((2, 4), int), ("a", "b"))
    >>> hhi(st).tolist()
    [0.5, 1.0]
    >>> hhi(PlatformState(np.array([[1, 1, 1, 0]]), np.zeros((1, 4), int), ("adopted",))).tolist()
    [0.625]
    """
    st = platforms if isinstance(platforms, PlatformState) else platform_state(platforms)
    return _concentration(st, multihomed_reliance)[0]


def _concentration(st: PlatformState, mh: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``(hhi, shares, on, K)``: HHI per replicate (see :func:`hhi`), platform shares, whether
    some firm is on a platform, number of platforms."""
    plat, second, names = st
    K = max(len(names), int(np.max(plat, initial=0)), int(np.max(second, initial=0)), 1)
    shares = platform_shares(plat, second, K, mh)
    on = shares.sum(axis=1) > 0
    if K == 1:  # one technology: adopters versus the rest
        a = ((plat > 0) | (second > 0)).mean(axis=1)
        return a**2 + (1 - a) ** 2, shares, on, K
    h = (shares**2).sum(axis=1)
    h[~on] = np.nan
    return h, shares, on, K


def frontier_point(network: Network, platforms: PlatformState, *, exposure: Any, severity: float = 1.0,
                   propagation: str = "threshold", capacity: Any = 1.0, value: np.ndarray | None = None,
                   multihomed_reliance: float = 0.5, max_rounds: int | None = None) -> dict[str, np.ndarray]:
    """Per-replicate frontier columns (:data:`RECORD_KEYS`) for one platform state.

    Runs the outage of the dominant platform and, for the individual-risk
    columns, the outage of each of the ``K`` platforms (all ``K × R`` outages in
    one batched propagation).
    """
    plat, second, _names = platforms
    R, n = plat.shape
    v = np.ones(n) if value is None else value
    cap = resolve_capacity(network, capacity)
    h, shares, on, K = _concentration(platforms, multihomed_reliance)
    eff = np.divide(1.0, h, out=np.full(R, np.nan), where=np.isfinite(h) & (h > 0))
    # K outages stacked: block k (rows k*R .. k*R+R-1) is the outage of platform k + 1
    h0 = np.concatenate([
        PlatformOutage(k + 1, severity, multihomed_reliance).initial_distress(network, R, platforms)
        for k in range(K)
    ])
    res_all = propagate(exposure, h0, propagation, capacity=cap, value=v, max_rounds=max_rounds,
                        check_stability_=False)
    total_k = np.asarray(res_all.total_loss).reshape(K, R)
    failed_k = np.asarray(res_all.failed_fraction).reshape(K, R)
    init_k = np.asarray(res_all.initial_loss).reshape(K, R)
    sys_k = np.asarray(res_all.systemic_loss).reshape(K, R)
    amp_k = np.asarray(res_all.amplification).reshape(K, R)
    rounds_k = np.asarray(res_all.rounds).reshape(K, R)
    dom = shares.argmax(axis=1)  # the dominant platform's block (ties: lowest index)
    cols = np.arange(R)
    pick = (lambda a: np.where(on, a[dom, cols], 0.0))  # noqa: E731
    direct = h0.reshape(K, R, n).mean(axis=2).sum(axis=0) / K
    return {
        "hhi": h,
        "effective_number": eff,
        "dominant_share": np.where(on, shares.max(axis=1), 0.0),
        "adoption": ((plat > 0) | (second > 0)).mean(axis=1),
        "initial_loss": pick(init_k),
        "systemic_loss": pick(sys_k),
        "total_loss": pick(total_k),
        "failed_fraction": pick(failed_k),
        "amplification": np.where(on, amp_k[dom, cols], 1.0),
        "rounds": np.where(on, rounds_k[dom, cols], 0).astype(np.int64),
        "direct_risk": direct,
        "individual_failure_probability": failed_k.mean(axis=0),
        "random_outage_loss": total_k.mean(axis=0),
    }


class FrontierStage(Stage):
    """The frontier's per-replicate columns (:data:`RECORD_KEYS`), computed inside every chunk.

    Reads who holds what from the model's declared outputs (see
    :meth:`~diffusion.reductions.ChunkData.holdings`), runs the outage of the
    dominant platform and of each platform (:func:`frontier_point`) and adds
    the columns as run outputs.
    """

    name: ClassVar[str] = "frontier"

    def __init__(self, *, exposure: Any = None, severity: float = 1.0, propagation: str = "threshold",
                 capacity: Any = 1.0, value: Any = "size", multihomed_reliance: float = 0.5,
                 max_rounds: int | None = None) -> None:
        if propagation not in PROPAGATIONS:
            raise ParameterError("propagation", f"must be one of {', '.join(PROPAGATIONS)}, got {propagation!r}")
        PlatformOutage("dominant", severity, multihomed_reliance)  # validates severity / reliance
        self.exposure, self.severity, self.propagation = exposure, float(severity), propagation
        self.capacity, self.value, self.mh, self.max_rounds = capacity, value, float(multihomed_reliance), max_rounds

    def declare(self, network: Network, model: Declarations) -> Declarations:
        return Declarations([Output.run_value(f"frontier_{k}", _RECORD_DESCRIPTIONS[k]) for k in RECORD_KEYS])

    def prepare(self, network: Network, model: Model, declarations: Declarations) -> Any:
        W = self.exposure if sp.issparse(self.exposure) else resolve_exposure(network, self.exposure)
        if self.propagation == "linear_debtrank":
            from .propagation import check_stability

            check_stability(W)
        v = self.value if isinstance(self.value, np.ndarray) else resolve_value(network, self.value)
        return W, v

    def memory_per_replicate(self, network: Network) -> int:
        return 64 * network.n

    def apply(self, ctx: Any, network: Network, data: ChunkData, declarations: Declarations) -> None:
        W, v = ctx
        st = PlatformState(*data.holdings(declarations))
        cols = frontier_point(network, st, exposure=W, severity=self.severity, propagation=self.propagation,
                              capacity=self.capacity, value=v, multihomed_reliance=self.mh,
                              max_rounds=self.max_rounds)
        data.values.update({f"frontier_{k}": v for k, v in cols.items()})


_RECORD_DESCRIPTIONS = {
    "hhi": "Herfindahl index of the platform shares",
    "effective_number": "effective number of platforms (1 / HHI)",
    "dominant_share": "share of the dominant platform",
    "adoption": "share of firms on some platform",
    "initial_loss": "value lost to the dominant platform's outage itself",
    "systemic_loss": "value lost beyond the initial hit, through propagation",
    "total_loss": "value lost in all to the dominant platform's outage",
    "failed_fraction": "share of firms failed after the dominant platform's outage",
    "amplification": "total loss / initial loss",
    "rounds": "propagation rounds",
    "direct_risk": "mean over firms of the hit a firm expects if a random platform fails",
    "individual_failure_probability": "mean over firms of the probability of failing when a random "
                                      "platform fails",
    "random_outage_loss": "expected total loss when a random platform fails",
}


@dataclass(frozen=True)
class FrontierResult:
    """Records of a homogeneity–fragility sweep.

    Attributes
    ----------
    parameter : str
        Name of the swept parameter.
    values : list
        Its values, in sweep order.
    records : list of dict
        One per value and replicate: ``value, replicate`` and :data:`RECORD_KEYS`.
    level, alpha : float
        Systemic-event level (total loss above it) and expected-shortfall level.
    """

    parameter: str
    values: list[Any]
    records: list[dict[str, Any]]
    level: float = 0.1
    alpha: float = 0.95
    results: list[SimulationResult] = field(default_factory=list, repr=False)

    def column(self, key: str) -> np.ndarray:
        """A record column as an array of shape ``(len(values), runs)``."""
        nv = len(self.values)
        return np.asarray([r[key] for r in self.records], dtype=np.float64).reshape(nv, -1)

    def summary(self) -> list[dict[str, Any]]:
        """Per-value summaries: mean, se, q05, q50, q95 of each column, systemic-event
        probability and expected shortfall of the dominant-outage total loss."""
        out = []
        for i, val in enumerate(self.values):
            rec: dict[str, Any] = {"parameter": self.parameter, "value": val}
            for key in RECORD_KEYS:
                d = distribution_summary(self.column(key)[i])
                rec.update({f"{key}_{s}": d[s] for s in ("mean", "se", "q05", "q50", "q95")})
            total = self.column("total_loss")[i]
            rec["systemic_event_probability"] = systemic_event_probability(total, self.level)
            rec["expected_shortfall"] = expected_shortfall(total, self.alpha)
            out.append(rec)
        return out

    def _repr_html_(self) -> str:  # notebooks
        from .._repr import html_block

        head = [self.parameter, "HHI", "total loss", "systemic loss", "failed firms", "direct risk",
                "failure probability"]
        rows = [[p["value"], f"{p['hhi_mean']:.3f}", f"{p['total_loss_mean']:.3f}", f"{p['systemic_loss_mean']:.3f}",
                 f"{p['failed_fraction_mean']:.1%}", f"{p['direct_risk_mean']:.3f}",
                 f"{p['individual_failure_probability_mean']:.3f}"] for p in self.summary()]
        return html_block(f"FrontierResult over {self.parameter}",
                          lines=["Means over the replicates; total loss includes the initial hit, systemic loss "
                                 "is what propagation added beyond it; each firm's direct risk and failure "
                                 "probability if a random platform fails."], table=(head, rows))

    def trend(self, y: str = "total_loss", x: str = "hhi") -> dict[str, float]:
        """Least-squares slope of ``y`` on ``x`` over all replicates, with its standard error.

        Returns ``{slope, se, t, correlation, n}``; ``t = slope / se``.
        """
        xs, ys = self.column(x).ravel(), self.column(y).ravel()
        ok = np.isfinite(xs) & np.isfinite(ys)
        xs, ys = xs[ok], ys[ok]
        m = xs.size
        if m < 3 or np.ptp(xs) == 0:
            return {"slope": float("nan"), "se": float("nan"), "t": float("nan"),
                    "correlation": float("nan"), "n": int(m)}
        if np.ptp(ys) <= 1e-12 * max(1.0, float(np.abs(ys).max())):  # constant: no trend at all
            return {"slope": 0.0, "se": 0.0, "t": 0.0, "correlation": 0.0, "n": int(m)}
        xc, yc = xs - xs.mean(), ys - ys.mean()
        sxx = float(xc @ xc)
        slope = float(xc @ yc) / sxx
        resid = yc - slope * xc
        se = float(np.sqrt((resid @ resid) / (m - 2) / sxx))
        syy = float(yc @ yc)
        corr = float(xc @ yc / np.sqrt(sxx * syy)) if syy > 0 else float("nan")
        return {"slope": slope, "se": se, "t": slope / se if se > 0 else float("inf") * np.sign(slope),
                "correlation": corr, "n": int(m)}

    def verdict(self) -> dict[str, Any]:
        """Does homogenization make the population systemically fragile while each firm looks safer?

        ``systemic_rises``: the dominant-outage total loss rises with HHI
        (slope more than 2 standard errors above 0); ``firms_look_safer``: the
        direct risk each firm sees does not rise with HHI (slope not more
        than 2 standard errors above 0). ``shown`` is both.
        """
        sys_t = self.trend("total_loss")
        ind_t = self.trend("direct_risk")
        rises = bool(np.isfinite(sys_t["t"]) and sys_t["t"] > 2)
        safer = bool(not np.isfinite(ind_t["t"]) or ind_t["t"] <= 2)
        return {"systemic_rises": rises, "firms_look_safer": safer, "shown": rises and safer,
                "total_loss_vs_hhi": sys_t, "direct_risk_vs_hhi": ind_t,
                "failure_probability_vs_hhi": self.trend("individual_failure_probability")}


def _model_factory(model: Any, parameter: str | None) -> Callable[[Any], Model]:
    if callable(model) and not isinstance(model, Model):
        return model  # type: ignore[no-any-return]
    if isinstance(model, Model):
        if parameter is None:
            raise ParameterError("parameter", "give the name of the model parameter to sweep")
        params = model.params()
        if parameter not in params:
            raise ParameterError("parameter", f"{type(model).__name__} has no parameter {parameter!r} "
                                 f"(it has: {', '.join(params)})")
        cls = type(model)
        import inspect

        sig = inspect.signature(cls)
        if not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            params = {k: v for k, v in params.items() if k in sig.parameters}

        def build(value: Any) -> Model:
            try:
                return cls(**{**params, parameter: value})
            except TypeError as exc:
                raise ParameterError("parameter", f"cannot rebuild {cls.__name__}: {exc}; "
                                     "pass a callable value -> Model instead") from None

        return build
    raise ParameterError("model", "must be a Model (with parameter=...) or a callable value -> Model")


def frontier(network: Network, model: Any, values: Sequence[Any], *, parameter: str | None = None,
             initial: Any = None, runs: int = 50, seed: SeedLike = None, max_steps: int | None = None,
             severity: float = 1.0, propagation: str = "threshold", exposure: Any = None,
             capacity: Any = 1.0, value: Any = "size", multihomed_reliance: float = 0.5,
             level: float = 0.1, alpha: float = 0.95, keep_results: bool = False,
             cascade: Callable[..., SimulationResult] | None = None) -> FrontierResult:
    """Sweep a homogenizing parameter: cascade -> outage of the dominant platform -> propagation.

    Parameters
    ----------
    network : Network
    model : Model or callable
        A callable ``value -> Model``, or a model whose parameter ``parameter``
        is replaced by each value.
    values : sequence
        Values of the swept parameter.
    parameter : str, optional
        Name of the parameter (needed with a Model; used as a label otherwise).
    initial, runs, seed, max_steps
        Passed to :func:`diffusion.simulate` (the same seed for every value).
    severity : float in [0, 1], default 1.0
        Severity of the outage.
    propagation, exposure, capacity, value
        As in :func:`~diffusion.shocks.apply_shock`.
    multihomed_reliance : float, default 0.5
    level, alpha : float
        Systemic-event level and expected-shortfall level for :meth:`FrontierResult.summary`.
    keep_results : bool, default False
        Keep each value's :class:`~diffusion.SimulationResult`.
    cascade : callable, optional
        ``cascade(model, seed, stage) -> SimulationResult`` replacing the default
        ``simulate(network, model, initial, runs=runs, seed=seed, max_steps=max_steps,
        stages=[stage], keep="summary")`` (e.g. to run it on a process pool).

    Returns
    -------
    FrontierResult

    Examples
    --------
    Adoption of one technology (an independent cascade) at increasing
    transmission probability: more adopters, more firms hit by its outage.

    >>> import diffusion
    >>> from diffusion.shocks import frontier
    >>> net = diffusion.generators.erdos_renyi(300, mean_degree=4, seed=1)
    >>> fr = frontier(net, diffusion.IndependentCascade(0.1), [0.1, 0.6], parameter="probability",
    ...               initial=3, runs=20, seed=2, exposure={"resources": 0.5})
    >>> s = fr.summary()
    >>> s[0]["total_loss_mean"] < s[1]["total_loss_mean"]
    True
    """
    if not isinstance(network, Network):
        raise ParameterError("network", f"must be a diffusion.Network, got {type(network).__name__}")
    vals = list(values)
    if not vals:
        raise ParameterError("values", "give at least one value to sweep")
    if propagation not in PROPAGATIONS:
        raise ParameterError("propagation", f"must be one of {', '.join(PROPAGATIONS)}, got {propagation!r}")
    PlatformOutage("dominant", severity, multihomed_reliance)  # validates severity / reliance
    build = _model_factory(model, parameter)
    label = parameter or "value"
    root = as_seed_sequence(seed)
    W = resolve_exposure(network, exposure)
    if propagation == "linear_debtrank":
        from .propagation import check_stability

        check_stability(W)
    v = resolve_value(network, value)
    records: list[dict[str, Any]] = []
    kept = []
    stage = FrontierStage(exposure=W, severity=severity, propagation=propagation, capacity=capacity,
                          value=v, multihomed_reliance=multihomed_reliance)
    for val in vals:
        m = build(val)
        if not isinstance(m, Model):
            raise DiffusionError(f"the model factory returned {type(m).__name__}, not a Model")
        if cascade is None:
            res = simulate(network, m, initial, runs=runs, seed=root, max_steps=max_steps, stages=[stage],
                           keep="replicates" if keep_results else "summary")
        else:
            res = cascade(m, root, stage)
        cols = res.outputs
        for r in range(res.runs):
            rec: dict[str, Any] = {"parameter": label, "value": val, "replicate": r}
            rec.update({k: cols[f"frontier_{k}"][r].item() for k in RECORD_KEYS})
            records.append(rec)
        if keep_results:
            kept.append(res)
    return FrontierResult(label, vals, records, float(level), float(alpha), kept)

