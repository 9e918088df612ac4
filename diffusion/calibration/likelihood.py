"""Exact likelihood of the isomorphic model from observed adoption times.

The :class:`~diffusion.Isomorphic` hazard is a discrete-time event-history
model (Allison 1982; Valente 2005): a firm ``i`` still at risk after step
``t − 1`` adopts at step ``t`` with probability

    h_i(t) = min(1, c_i(t) + a + κ_i · u_i · q · M_i(t − 1) + ν · N_i(t − 1))

where ``c_i(t) = 1 − Π_k (1 − compliance_k)^{[mandate k covers i and is in force]}
· (1 − partner_coercion)^{[a dependency partner of i has adopted]}`` is the
coercive term, ``a`` the external term, ``M_i`` the (weighted, prestige-
weighted, optionally thresholded) share of adopters among ``i``'s
in-neighbours (``κ_i`` the firm's fixed conformity weight, 1 unless set; a
negative raw hazard counts as 0) and ``N_i`` the adoption level of ``i``'s field, both computed
from the adopters up to ``t − 1`` — exactly the quantities the simulator
uses. With adoption steps ``T_i`` observed up to the last step ``T`` (firms
that never adopted are right-censored at ``T``; firms adopted at step 0 are
taken as given), the log-likelihood is exact and needs no simulation:

    ℓ(θ) = Σ_i [ Σ_{1 ≤ t < T_i} log(1 − h_i(t)) + 1{adopted} · log h_i(T_i) ].

A fraction ``ρ`` of resistant firms (``resistant = 0.05``) makes it a
split-population ("cure") model: a firm that never adopted contributes
``log(ρ + (1 − ρ) Π_t (1 − h_i(t)))``, one that adopted ``log(1 − ρ)`` plus
its terms above. Firms resistant by attribute are never at risk.

Vectorization: the exposures of all firms after each step come from one
sparse product per step; every (firm, step) at risk becomes one row of a few
columns (mimetic share, field level, coercion pattern), so ``ℓ``, its
gradient and its Hessian are sums over rows — no loop over firms.

:func:`fit_likelihood` maximizes ``ℓ`` over the free parameters by a
projected Newton method with exact derivatives (the problem is concave in the
external, mimetic and normative strengths), gives standard errors from the
observed information ``−∇²ℓ`` at the maximum, profile-likelihood 95 %
intervals (which stay valid at a bound such as 0), likelihood-ratio tests of
each pressure against 0 (the null sits on the boundary, so the statistic is
referred to the ``½χ²₀ + ½χ²₁`` mixture; Self & Liang 1987) and the AIC.
Report the mimetic estimate with the external term in the model: apparent
contagion can be common external influence (Van den Bulte & Lilien 2001).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import chi2

from ..distributions import Distribution
from ..errors import DiffusionError, ParameterError
from ..models.isomorphic import Isomorphic
from ..network import Network
from .data import AdoptionData
from .params import FreeParameter, default_free, get_value, parse_key, with_values

__all__ = ["IsomorphicLikelihood", "LikelihoodFit", "ParameterEstimate", "fit_likelihood"]

#: Half the 95 % quantile of χ²₁: the drop of the profile log-likelihood at a 95 % bound.
_DROP95 = float(chi2.ppf(0.95, 1)) / 2.0
#: Width of the smooth extension of log h and log(1 − h) past their singularities.
_EPS = 1e-9
#: Upper bound of a free resistant fraction (1 would make every adoption impossible).
_RHO_MAX = 1.0 - 1e-9
_LINEAR = ("external", "mimetic", "uncertainty", "normative")
_COERCIVE = ("compliance", "partner_coercion")


# ----------------------------------------------------------------- row functions
def _f_event(h: np.ndarray, order: int) -> tuple[np.ndarray, ...]:
    """``log min(h, 1)`` of the adopting rows, extended smoothly below ``_EPS``."""
    low = h < _EPS
    cap = h >= 1.0
    safe = np.clip(h, _EPS, 1.0)
    f = np.log(safe)
    if low.any():
        d = (h[low] - _EPS) / _EPS
        f[low] = math.log(_EPS) + d - 0.5 * d * d
    if order == 0:
        return (f,)
    f1 = 1.0 / safe
    f1[cap] = 0.0
    f2 = -(f1 * f1)
    if low.any():
        d = (h[low] - _EPS) / _EPS
        f1[low] = (1.0 - d) / _EPS
        f2[low] = -1.0 / (_EPS * _EPS)
    return f, f1, f2


def _f_stay(h: np.ndarray, order: int) -> tuple[np.ndarray, ...]:
    """``log(1 − h)`` of the rows at risk that did not adopt, extended smoothly past ``1 − _EPS``.

    A negative raw hazard (an anti-conformist firm's mimetic term) is a hazard of 0.
    """
    high = h > 1.0 - _EPS
    safe = np.clip(h, 0.0, 1.0 - _EPS)
    f = np.log1p(-safe)
    if high.any():
        d = (h[high] - (1.0 - _EPS)) / _EPS
        f[high] = math.log(_EPS) - d - 0.5 * d * d
    if order == 0:
        return (f,)
    f1 = -1.0 / (1.0 - safe)
    f1[h < 0] = 0.0
    f2 = -(f1 * f1)
    if high.any():
        d = (h[high] - (1.0 - _EPS)) / _EPS
        f1[high] = -(1.0 + d) / _EPS
        f2[high] = -1.0 / (_EPS * _EPS)
    return f, f1, f2


def _exact_event(h: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log(np.clip(h, 0.0, 1.0)).sum())


def _exact_stay(h: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log1p(-np.clip(h, 0.0, 1.0))


# ----------------------------------------------------------------- rows
@dataclass
class _Block:
    """The rows (firm, step) of one kind — adoptions, or steps survived — and their columns."""

    firm: np.ndarray  # int32
    share: np.ndarray | None  # thresholded mimetic share (times u_i unless u is free)
    level: np.ndarray | None  # adoption level of the firm's field
    pattern: np.ndarray | None  # index into the coercion patterns
    external: np.ndarray | None  # per-row external term when external is per firm

    def __len__(self) -> int:
        return int(self.firm.size)


def _out_arcs(indptr: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Positions of the out-arcs of ``nodes`` in the CSR arrays (vectorized range expansion)."""
    starts = indptr[nodes]
    lengths = indptr[nodes + 1] - starts
    ends = np.cumsum(lengths)
    return np.arange(int(ends[-1]) if ends.size else 0) + np.repeat(starts - (ends - lengths),
                                                                     lengths)


@dataclass(frozen=True)
class ParameterEstimate:
    """Estimate of one free parameter: value, standard error and 95 % profile interval."""

    estimate: float
    se: float
    ci: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "se": _finite(self.se), "ci": [_finite(self.ci[0]),
                                                                          _finite(self.ci[1])]}


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


@dataclass(frozen=True)
class LikelihoodFit:
    """What :func:`fit_likelihood` found.

    Attributes
    ----------
    parameters : dict
        Dotted key -> :class:`ParameterEstimate` (estimate, standard error from the
        observed information, 95 % profile-likelihood interval).
    log_likelihood : float
        ``ℓ`` at the maximum.
    aic : float
        ``2k − 2ℓ`` (``k`` free parameters).
    tests : dict
        Dotted key of each free pressure -> ``{"lr": 2(ℓ − ℓ₀), "p_value": ...}`` against the
        fit with that pressure at 0 (``½χ²₀ + ½χ²₁`` reference).
    cov : ndarray
        Inverse observed information, in the order of :attr:`parameters`.
    firms, events, rows, last_step : int
        Firms in the table, adoptions modelled (after step 0), (firm, step) pairs at risk,
        the last observed step.
    converged : bool
        Whether the optimizer met its tolerance.
    fixed : dict
        The other model parameters that entered the hazard (dotted key -> value).
    """

    parameters: dict[str, ParameterEstimate]
    log_likelihood: float
    aic: float
    tests: dict[str, dict[str, float]]
    cov: np.ndarray = field(repr=False)
    firms: int = 0
    events: int = 0
    rows: int = 0
    last_step: int = 0
    converged: bool = True
    fixed: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``parameters``, ``log_likelihood``, ``aic`` and ``tests``."""
        return {
            "parameters": {k: v.to_dict() for k, v in self.parameters.items()},
            "log_likelihood": _finite(self.log_likelihood),
            "aic": _finite(self.aic),
            "tests": {k: {"lr": _finite(v["lr"]), "p_value": float(v["p_value"])}
                      for k, v in self.tests.items()},
        }

    def describe(self) -> list[str]:
        """A printable table of the estimates and tests."""
        width = max([9, *(len(k) for k in self.parameters)])
        lines = [f"{'parameter':<{width}}  {'estimate':>10}  {'s.e.':>9}  {'95% profile CI':>23}  "
                 f"{'LR vs 0':>9}  {'p':>8}"]
        for key, est in self.parameters.items():
            test = self.tests.get(key)
            lr = "" if test is None else _fmt(test["lr"], ".2f")
            p = "" if test is None else _fmt_p(test["p_value"])
            ci = f"[{_fmt(est.ci[0])}, {_fmt(est.ci[1])}]"
            lines.append(f"{key:<{width}}  {_fmt(est.estimate):>10}  {_fmt(est.se, '.3g'):>9}  "
                         f"{ci:>23}  {lr:>9}  {p:>8}")
        lines.append(f"log-likelihood {self.log_likelihood:.3f}, AIC {self.aic:.3f}; {self.firms:,} "
                     f"firms, {self.events:,} adoptions in steps 1-{self.last_step}, "
                     f"{self.rows:,} firm-steps at risk")
        return lines


def _fmt(x: float, spec: str = ".5g") -> str:
    return format(x, spec) if np.isfinite(x) else ("inf" if x == math.inf else "n/a")


def _fmt_p(p: float) -> str:
    return "<1e-16" if p < 1e-16 else format(p, ".3g")


# ----------------------------------------------------------------- the likelihood
class IsomorphicLikelihood:
    """The exact log-likelihood of an adoption table under an isomorphic model.

    Parameters
    ----------
    network : Network
        The firms and their ties (the graph the adoptions happened on).
    model : Isomorphic or Mapping
        The model (or its ``[cascade]`` parameters): the values of everything
        that is not free, and the starting values of what is.
    data : AdoptionData
        Observed adoption steps (see :func:`~diffusion.calibration.read_adoptions`).
    free : sequence of str, optional
        Dotted keys of the free parameters (default: the pressures that are
        non-zero in ``model``, see :func:`~diffusion.calibration.params.default_free`).
        Allowed: ``cascade.external`` (a scalar), ``cascade.mimetic``,
        ``cascade.uncertainty`` (a scalar; not together with mimetic — only
        their product is identified), ``cascade.normative``,
        ``cascade.partner_coercion``, ``cascade.mandates[i].compliance`` and
        ``cascade.resistant`` (a fraction).
    bounds : Mapping, optional
        Dotted key -> ``(low, high)`` narrowing a parameter's natural bounds.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.calibration import AdoptionData, IsomorphicLikelihood
    >>> net = diffusion.generators.erdos_renyi(400, mean_degree=6, seed=1)
    >>> model = diffusion.Isomorphic(external=0.02, mimetic=0.4)
    >>> res = diffusion.simulate(net, model, runs=1, seed=2, max_steps=15)
    >>> data = AdoptionData(res.adoption_step[0], last_step=15)
    >>> lik = IsomorphicLikelihood(net, model, data)
    >>> lik.keys
    ('cascade.external', 'cascade.mimetic')
    >>> bool(lik.loglik([0.02, 0.4]) > lik.loglik([0.02, 0.0]))
    True
    """

    def __init__(self, network: Network, model: Isomorphic | Mapping[str, Any], data: AdoptionData,
                 free: Sequence[str] | None = None,
                 bounds: Mapping[str, tuple[float, float]] | None = None) -> None:
        if not isinstance(network, Network):
            raise DiffusionError("network must be a diffusion.Network")
        if not isinstance(data, AdoptionData):
            raise DiffusionError("data must be an AdoptionData (see read_adoptions)")
        if data.n != network.n:
            raise DiffusionError(f"the adoption table has {data.n} firms but the network has "
                                 f"{network.n}")
        params = dict(model.params()) if isinstance(model, Isomorphic) else dict(model)
        if isinstance(params.get("mandates"), Mapping):
            params["mandates"] = [params["mandates"]]
        self.params = params
        self.data = data
        self.n = network.n
        keys = list(default_free(params) if free is None else free)
        if not keys:
            raise ParameterError("free", "no free parameter: every pressure of the model is 0; "
                                 "name the parameters to estimate")
        if len(set(keys)) != len(keys):
            raise ParameterError("free", f"lists a parameter twice: {keys}")
        self.free = [self._check_free(parse_key(k), params) for k in keys]
        for key, (lo, hi) in (bounds or {}).items():
            match = [i for i, f in enumerate(self.free) if f.key == key]
            if not match:
                continue
            f = self.free[match[0]]
            lo2, hi2 = max(f.low, float(lo)), min(f.high, float(hi))
            if not lo2 < hi2:
                raise ParameterError(key, f"bounds [{lo}, {hi}] leave no room within "
                                     f"[{f.low}, {f.high}]")
            self.free[match[0]] = f.with_bounds(lo2, hi2)
        self.keys = tuple(f.key for f in self.free)
        kinds = [f.kind for f in self.free]
        if "mimetic" in kinds and "uncertainty" in kinds:
            raise ParameterError("cascade.uncertainty", "only the product of mimetic and a scalar "
                                 "uncertainty is identified: free one of them")
        self.low = np.array([f.low for f in self.free])
        self.high = np.array([min(f.high, _RHO_MAX) if f.kind == "resistant" else f.high
                              for f in self.free])
        self.start = np.array([self._start_value(f) for f in self.free])
        self._structure(network)

    # ------------------------------------------------------------- checks
    def _check_free(self, f: FreeParameter, params: Mapping[str, Any]) -> FreeParameter:
        if f.kind == "mimetic_threshold":
            raise ParameterError(f.key, "the likelihood is a step function of the threshold (it "
                                 "jumps at every observed share); fix it and compare fits at "
                                 "several values instead")
        if f.kind not in ("external", "mimetic", "uncertainty", "normative", "resistant",
                          "partner_coercion", "compliance"):
            raise ParameterError(f.key, "cannot be freed in the likelihood (free: external, "
                                 "mimetic, uncertainty, normative, resistant, partner_coercion, "
                                 "mandates[i].compliance)")
        if f.kind == "compliance":
            mandates = params.get("mandates") or []
            if f.index is None or f.index >= len(mandates):
                raise ParameterError(f.key, f"the model has {len(mandates)} mandate(s)")
        value = get_value(params, f)
        if f.kind == "uncertainty" and value is None:
            value = 1.0
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ParameterError(f.key, f"only a single number can be freed (the scenario gives "
                                 f"{_describe(value)})")
        return f

    def _start_value(self, f: FreeParameter) -> float:
        v = get_value(self.params, f)
        v = 1.0 if v is None else float(v)
        default = {"external": 0.01, "mimetic": 0.2, "uncertainty": 1.0, "normative": 0.05,
                   "resistant": 0.05, "partner_coercion": 0.2, "compliance": 0.5}[f.kind]
        if v <= f.low or v >= f.high:
            v = default
        return float(np.clip(v, f.low + 1e-6 * (1 + abs(f.low)), f.high - 1e-6))

    # ------------------------------------------------------------- rows
    def _structure(self, network: Network) -> None:
        params = dict(self.params)
        for name in ("external", "uncertainty", "conformity"):
            if isinstance(params.get(name), Mapping | Distribution):
                raise ParameterError(f"cascade.{name}", "a distribution is drawn anew in every "
                                     "replicate: the likelihood needs fixed values (a number, an "
                                     "attribute or per-firm values)")
        free_kinds = {f.kind for f in self.free}
        # the structure (partner arcs, masks) must exist even where a free pressure starts at 0
        if "partner_coercion" in free_kinds and not get_value(params, parse_key(
                "cascade.partner_coercion")):
            params = with_values(params, [(parse_key("cascade.partner_coercion"), 0.5)])
        if "resistant" in free_kinds:
            params["resistant"] = 0.0
        if "uncertainty" in free_kinds:
            params["uncertainty"] = 1.0  # a scalar, applied as a parameter
        try:
            model = Isomorphic(**params)
        except TypeError as exc:
            raise DiffusionError(f"invalid isomorphic parameters: {exc}") from None
        ctx = model.prepare(network)
        if isinstance(ctx.external, Distribution) or isinstance(ctx.uncertainty, Distribution):
            raise ParameterError("cascade.external", "distributions cannot enter the likelihood")
        self._model = model
        p = self.params
        pc = get_value(p, parse_key("cascade.partner_coercion"))
        self.use = {
            "mimetic": bool(p.get("mimetic", 0.0)) or bool(free_kinds & {"mimetic", "uncertainty"}),
            "normative": bool(p.get("normative", 0.0)) or "normative" in free_kinds,
            "partner": bool(pc) or "partner_coercion" in free_kinds,
        }
        resistant = p.get("resistant", 0.0)
        self.rho = 0.0 if isinstance(resistant, Mapping) else float(resistant)
        self.mixture = self.rho > 0 or "resistant" in free_kinds
        steps = self.data.steps
        T = self.data.last_step
        n = self.n
        suscept = np.ones(n, dtype=bool) if ctx.resistant is None else ~ctx.resistant
        bad = np.nonzero(~suscept & (steps >= 1))[0]
        if bad.size:
            raise DiffusionError(f"{self.data.source or 'adoption table'}: firm "
                                 f"{network.node_ids[bad[0]]!r} adopted at step {steps[bad[0]]} but "
                                 "is resistant (cascade.resistant)")
        # (firm, step) at risk: steps 1 .. min(T_i, T) of susceptible firms not adopted at step 0
        span = np.where(steps < 0, T, np.where(steps == 0, 0, steps))
        span = np.where(suscept, np.minimum(span, T), 0).astype(np.int64)
        total = int(span.sum())
        self.rows_at_risk = total
        self.events = int(np.count_nonzero(suscept & (steps >= 1)))
        self.n_adopters = self.events
        self.firms = n
        # exposures after each step, updated from the arcs of the firms that adopted in it
        indptr = np.asarray(network.indptr, dtype=np.int64)
        indices = np.asarray(network.indices)
        w_arc = None if ctx.arc_weight is None else np.asarray(ctx.arc_weight, dtype=np.float64)
        partner_arc = None
        if self.use["partner"] and ctx.partner_arc is not None:
            partner_arc = np.asarray(ctx.partner_arc, dtype=np.float64)
        unc = np.asarray(ctx.uncertainty, dtype=np.float64)
        u_free = "uncertainty" in free_kinds
        # per firm: the factor turning received weight into its (uncertainty-weighted) share
        to_share = ctx.inv_denom * (unc if unc.ndim else (1.0 if u_free else float(unc)))
        if ctx.conformity is not None:  # the firm's conformity weight κ_i on its mimetic share
            to_share = to_share * np.asarray(ctx.conformity, dtype=np.float64)
        theta_m = float(model.mimetic_threshold)
        fld = ctx.field
        fsize = ctx.field_size
        ext = np.asarray(ctx.external, dtype=np.float64)
        mandates = [(m.start, mask) for m, mask in zip(model.mandates, ctx.mandate_masks,
                                                        strict=True)]
        K = len(mandates)
        if K > 20:
            raise ParameterError("cascade.mandates", "the likelihood handles at most 20 mandates")
        coded = bool(K) or partner_arc is not None
        n_ev = self.events
        blocks = {}
        for name, size in (("E", n_ev), ("C", total - n_ev)):
            blocks[name] = _Block(
                np.empty(size, dtype=np.int32),
                np.empty(size) if self.use["mimetic"] else None,
                np.empty(size) if self.use["normative"] else None,
                np.zeros(size, dtype=np.int32) if coded else None,
                np.empty(size) if ext.ndim == 1 else None,
            )
        received = np.zeros(n)
        partners = np.zeros(n) if partner_arc is not None else None
        field_count = np.zeros(len(fsize))
        adopted_total = 0
        order = np.argsort(steps, kind="stable")
        cut = np.searchsorted(steps[order], np.arange(-1, T + 2))  # steps == s: cut[s+1]:cut[s+2]
        waiting = suscept & (steps != 0)  # at risk at step 1
        pos = {"E": 0, "C": 0}
        for t in range(1, T + 1):  # a loop over steps; each step is vectorized over firms
            new = order[cut[t]:cut[t + 1]]  # adopted at step t - 1: push their arcs
            adopted_total += new.size
            if new.size and (self.use["mimetic"] or partners is not None):
                arcs = _out_arcs(indptr, new)
                tgt = indices[arcs]
                if self.use["mimetic"]:
                    received += np.bincount(tgt, weights=None if w_arc is None else w_arc[arcs],
                                            minlength=n)
                if partners is not None:
                    partners += np.bincount(tgt, weights=partner_arc[arcs], minlength=n)
            if fld is not None and new.size:
                field_count += np.bincount(fld[new], minlength=len(fsize))
            if t >= 2:
                waiting[order[cut[t]:cut[t + 1]]] = False  # adopted at t - 1: no longer at risk
            ev = order[cut[t + 1]:cut[t + 2]]
            ev = ev[suscept[ev]]  # adopt at t
            at_risk = np.nonzero(waiting)[0]
            cont = at_risk[steps[at_risk] != t]
            for name, who in (("E", ev), ("C", cont)):
                blk, k = blocks[name], who.size
                sl = slice(pos[name], pos[name] + k)
                pos[name] += k
                blk.firm[sl] = who
                if blk.share is not None:
                    m = received[who] * to_share[who]
                    if theta_m > 0:  # the same test as the simulator's, on the same share
                        raw = received[who] * ctx.inv_denom[who]
                        m[raw < theta_m - 1e-12] = 0.0
                    blk.share[sl] = m
                if blk.level is not None:
                    if fld is None:
                        blk.level[sl] = adopted_total / fsize[0]
                    else:
                        blk.level[sl] = (field_count / fsize)[fld[who]]
                if blk.pattern is not None:
                    c = np.zeros(k, dtype=np.int32)
                    for j, (start, mask) in enumerate(mandates):
                        if t >= start:
                            c |= mask[who].astype(np.int32) << j
                    if partners is not None:
                        c |= (partners[who] > 0).astype(np.int32) << K
                    blk.pattern[sl] = c
                if blk.external is not None:
                    blk.external[sl] = ext[who]
        self._scalar_external = None if ext.ndim else float(ext)
        self.K = K
        self.has_partner_bit = partners is not None
        self.patterns = None
        if coded:
            both = np.concatenate([blocks["E"].pattern, blocks["C"].pattern])
            self.patterns, inv = np.unique(both, return_inverse=True)
            blocks["E"].pattern = inv[:n_ev].astype(np.int32)
            blocks["C"].pattern = inv[n_ev:].astype(np.int32)
        self.E, self.C = blocks["E"], blocks["C"]
        self.never = np.zeros(n, dtype=bool)
        self.never[(steps < 0) & suscept] = True
        self.C_never = self.never[self.C.firm]
        self._prepare_base()

    # ------------------------------------------------------------- hazard
    def _fixed_value(self, kind: str, index: int | None = None) -> float:
        p = self.params
        if kind == "external":
            return 0.0 if self._scalar_external is None else self._scalar_external
        if kind == "partner_coercion":
            v = get_value(p, parse_key("cascade.partner_coercion"))
            return float(v or 0.0)
        if kind == "compliance":
            return float(get_value(p, parse_key(f"cascade.mandates[{index}].compliance")))
        if kind == "uncertainty":
            return 1.0
        v = p.get(kind, 0.0)
        return float(v or 0.0)

    def _coercion(self, theta: np.ndarray, order: int) -> tuple[np.ndarray, ...] | None:
        """Per pattern: the coercive term, and its derivatives w.r.t. the free coercion params."""
        if self.patterns is None:
            return None
        K = self.K
        probs = [self._fixed_value("compliance", j) for j in range(K)]
        pc = self._fixed_value("partner_coercion")
        for i, f in enumerate(self.free):
            if f.kind == "compliance":
                probs[f.index] = theta[i]  # type: ignore[index]
            elif f.kind == "partner_coercion":
                pc = theta[i]
        probs.append(pc if self.has_partner_bit else 0.0)
        bits = ((self.patterns[:, None] >> np.arange(K + 1)) & 1).astype(bool)  # (P, K + 1)
        factor = np.where(bits, 1.0 - np.asarray(probs)[None, :], 1.0)
        stay = factor.prod(axis=1)
        if order == 0:
            return (1.0 - stay,)
        which = [(i, f.index if f.kind == "compliance" else K) for i, f in enumerate(self.free)
                 if f.kind in _COERCIVE]
        d1 = {}
        d2 = {}
        for i, col in which:
            others = np.delete(factor, col, axis=1).prod(axis=1)
            d1[i] = np.where(bits[:, col], others, 0.0)  # dh/dp = Π_{other factors}
        for a, (i, ci) in enumerate(which):
            for j, cj in which[a + 1:]:
                others = np.delete(factor, [ci, cj], axis=1).prod(axis=1)
                d2[(i, j)] = np.where(bits[:, ci] & bits[:, cj], -others, 0.0)
        return 1.0 - stay, d1, d2  # type: ignore[return-value]

    def _prepare_base(self) -> None:
        """The part of the hazard that no free parameter touches, per row."""
        free_kinds = {f.kind for f in self.free}
        coercion_free = bool(free_kinds & set(_COERCIVE))
        for blk in (self.E, self.C):
            base = np.zeros(len(blk))
            if "external" not in free_kinds:
                base += blk.external if blk.external is not None else self._fixed_value("external")
            if blk.share is not None and not free_kinds & {"mimetic", "uncertainty"}:
                base += self._fixed_value("mimetic") * blk.share
            if blk.level is not None and "normative" not in free_kinds:
                base += self._fixed_value("normative") * blk.level
            if blk.pattern is not None and not coercion_free:
                base += self._coercion(np.zeros(len(self.free)), 0)[0][blk.pattern]
            blk.base = base  # type: ignore[attr-defined]

    def _hazard(self, blk: _Block, theta: np.ndarray, coer: tuple[Any, ...] | None
                ) -> tuple[np.ndarray, list[Any]]:
        """Raw hazard of a block's rows and its first derivatives (arrays or scalars)."""
        h = blk.base.copy()  # type: ignore[attr-defined]
        dh: list[Any] = []
        for i, f in enumerate(self.free):
            if f.kind == "external":
                h += theta[i]
                dh.append(1.0)
            elif f.kind == "mimetic":
                h += theta[i] * blk.share
                dh.append(blk.share)
            elif f.kind == "uncertainty":
                q = self._fixed_value("mimetic")
                h += (q * theta[i]) * blk.share
                dh.append(q * blk.share)
            elif f.kind == "normative":
                h += theta[i] * blk.level
                dh.append(blk.level)
            elif f.kind in _COERCIVE:
                dh.append(coer[1][i][blk.pattern] if coer is not None and len(coer) > 1 else 0.0)
            else:  # resistant: no effect on the hazard
                dh.append(0.0)
        if coer is not None and blk.pattern is not None:
            h += coer[0][blk.pattern]
        return h, dh

    # ------------------------------------------------------------- evaluation
    def _theta(self, values: Sequence[float] | Mapping[str, float]) -> np.ndarray:
        if isinstance(values, Mapping):
            return np.array([float(values[k]) for k in self.keys])
        theta = np.asarray(values, dtype=np.float64).ravel()
        if theta.size != len(self.free):
            raise ParameterError("theta", f"needs {len(self.free)} values ({', '.join(self.keys)})")
        return theta

    def _rho(self, theta: np.ndarray) -> float:
        for i, f in enumerate(self.free):
            if f.kind == "resistant":
                return float(theta[i])
        return self.rho

    def loglik(self, theta: Sequence[float] | Mapping[str, float]) -> float:
        """The exact log-likelihood at ``theta`` (values in the order of :attr:`keys`).

        ``-inf`` where an observed history is impossible (an adoption with zero
        hazard, or a firm that stayed out although its hazard was 1).
        """
        theta = self._theta(theta)
        coer = self._coercion(theta, 0) if any(f.kind in _COERCIVE for f in self.free) else None
        hE, _ = self._hazard(self.E, theta, coer)
        hC, _ = self._hazard(self.C, theta, coer)
        out = _exact_event(hE)
        fC = _exact_stay(hC)
        if not self.mixture:
            return out + float(fC.sum())
        rho = self._rho(theta)
        S = np.bincount(self.C.firm, weights=fC, minlength=self.n)[self.never]
        out += float(fC[~self.C_never].sum())  # the steps the adopters survived
        with np.errstate(divide="ignore"):
            out += self.n_adopters * math.log1p(-rho) if rho < 1 else (
                -math.inf if self.n_adopters else 0.0)
            lr = math.log(rho) if rho > 0 else -math.inf
            out += float(np.logaddexp(lr, math.log1p(-rho) + S).sum()) if rho < 1 else 0.0
        return out

    def evaluate(self, theta: Sequence[float], order: int = 2) -> tuple[Any, ...]:
        """Smoothed ``ℓ`` (equal to :meth:`loglik` wherever that is finite) and derivatives.

        Returns ``(ℓ,)``, or ``(ℓ, gradient, Hessian)`` with ``order=2``.
        """
        theta = np.asarray(theta, dtype=np.float64)
        k = len(self.free)
        coercive = any(f.kind in _COERCIVE for f in self.free)
        coer = self._coercion(theta, 0 if order == 0 else 2) if coercive else None
        rho = self._rho(theta)
        total = 0.0
        g = np.zeros(k)
        H = np.zeros((k, k))
        mix = self.mixture
        rho_i = next((i for i, f in enumerate(self.free) if f.kind == "resistant"), None)
        for blk, fun in ((self.E, _f_event), (self.C, _f_stay)):
            if not len(blk):
                continue
            h, dh = self._hazard(blk, theta, coer)
            parts = fun(h, order)
            f = parts[0]
            weight = None
            if mix and fun is _f_stay:
                S = np.bincount(blk.firm, weights=f, minlength=self.n)
                Sn = S[self.never]
                # summed apart: a never-adopter's rows may be huge and negative (hazard past 1)
                adopters_part = float(f[~self.C_never].sum())
                lrho = math.log(rho) if rho > 0 else -math.inf
                logD = np.logaddexp(lrho, math.log1p(-rho) + Sn)
                total += adopters_part + float(logD.sum())
                if order:
                    w_firm = np.ones(self.n)
                    w_never = np.exp(math.log1p(-rho) + Sn - logD)  # posterior P(susceptible)
                    w_firm[self.never] = w_never
                    weight = w_firm[blk.firm]
            else:
                total += float(f.sum())
            if order == 0:
                continue
            f1, f2 = parts[1], parts[2]
            a1 = f1 if weight is None else f1 * weight
            a2 = f2 if weight is None else f2 * weight
            cols = [d if np.ndim(d) else None for d in dh]
            for i in range(k):
                di = dh[i]
                if np.ndim(di) == 0 and di == 0.0:
                    continue
                g[i] += float(a1.sum() * di) if cols[i] is None else _dot(a1, di)
                for j in range(i, k):
                    dj = dh[j]
                    if np.ndim(dj) == 0 and dj == 0.0:
                        continue
                    if cols[i] is None and cols[j] is None:
                        v = float(a2.sum()) * di * dj
                    elif cols[i] is None:
                        v = _dot(a2, dj) * di
                    elif cols[j] is None:
                        v = _dot(a2, di) * dj
                    else:
                        v = float(np.einsum("i,i,i->", a2, di, dj))
                    H[i, j] += v
            if coer is not None and blk.pattern is not None:
                for (i, j), d2 in coer[2].items():
                    H[i, j] += _dot(np.bincount(blk.pattern, weights=a1,
                                                minlength=len(self.patterns)), d2)
            if weight is not None:
                # between-firm part of the mixture: w (1 - w) G Gᵀ and the rho terms
                Gs = []
                for i in range(k):
                    di = dh[i]
                    vals = f1 * di if np.ndim(di) else f1 * float(di)
                    Gs.append(np.bincount(blk.firm, weights=vals, minlength=self.n)[self.never])
                G = np.stack(Gs, axis=1)  # (never, k)
                ww = w_never * (1.0 - w_never)
                H += np.einsum("ri,r,rj->ij", G, ww, G)
                if rho_i is not None:
                    eS = np.exp(Sn - logD)  # e^S / D
                    r1 = (1.0 - np.exp(Sn)) / np.exp(logD)
                    g[rho_i] += float(r1.sum()) - self.n_adopters / (1.0 - rho)  # (the
                    # adopters' log(1 - rho) is added to the value once, after the loop)
                    H[rho_i, rho_i] += -float((r1 * r1).sum()) - self.n_adopters / (1.0 - rho) ** 2
                    cross = -np.einsum("r,ri->i", eS / np.exp(logD), G)
                    for j in range(k):
                        if j != rho_i:
                            H[min(j, rho_i), max(j, rho_i)] += float(cross[j])
        if mix:
            total += self.n_adopters * math.log1p(-rho)
        if order == 0:
            return (total,)
        H = np.triu(H) + np.triu(H, 1).T
        return total, g, H

    def impossible_without(self, i: int) -> bool:
        """Whether the data are impossible (``ℓ = −∞``) with parameter ``i`` at 0, whatever the rest.

        Every term of the hazard grows with every parameter, so it is enough to look at the
        other parameters at their largest (some adoption still has zero hazard) and at their
        smallest (some firm still had hazard 1 and did not adopt).
        """
        theta = np.where(np.isfinite(self.high), self.high, 1.0)
        theta[i] = 0.0
        coercive = any(f.kind in _COERCIVE for f in self.free)
        coer = self._coercion(theta, 0) if coercive else None
        if len(self.E) and self._hazard(self.E, theta, coer)[0].min() <= 0.0:
            return True
        if self.mixture:
            return False  # a resistant firm may stay out whatever its hazard
        theta = self.low.copy()
        theta[i] = 0.0
        coer = self._coercion(theta, 0) if coercive else None
        return bool(len(self.C) and self._hazard(self.C, theta, coer)[0].max() >= 1.0)

    # ------------------------------------------------------------- maximization
    def maximize(self, start: Sequence[float] | None = None, fixed: Mapping[int, float] | None = None,
                 *, max_iter: int = 200, tol: float = 1e-10
                 ) -> tuple[np.ndarray, float, bool, np.ndarray]:
        """Maximize ``ℓ`` (projected Newton with bounds); ``fixed`` maps indices to held values.

        Returns ``(theta, ℓ (smoothed), converged, gradient at theta)``.
        """
        lo, hi = self.low, self.high
        x = np.clip(np.array(self.start if start is None else start, dtype=np.float64), lo, hi)
        hold = np.zeros(len(x), dtype=bool)
        for i, v in (fixed or {}).items():
            x[i] = v
            hold[i] = True
        val, g, H = self.evaluate(x)
        if hold.all():
            return x, val, True, g
        converged = False
        for _ in range(max_iter):
            at_lo = (x <= lo) & (g <= 0)
            at_hi = (x >= hi) & (g >= 0)
            F = ~(hold | at_lo | at_hi)
            if not F.any():
                converged = True
                break
            d = _newton_direction(-H[np.ix_(F, F)], g[F])
            decrement = float(np.dot(g[F], d))
            if decrement <= tol * max(1.0, abs(val)) * 1e-2:
                converged = True
                break
            step = 1.0
            while step > 1e-14:
                xn = x.copy()
                xn[F] = np.clip(x[F] + step * d, lo[F], hi[F])
                trial = self.evaluate(xn, 2 if step == 1.0 else 0)
                if np.isfinite(trial[0]) and trial[0] >= val + 1e-4 * float(
                        np.dot(g[F], xn[F] - x[F])):
                    break
                step *= 0.5
            else:
                converged = True  # no ascent left at machine precision
                break
            improved = trial[0] - val
            x = xn
            val, g, H = trial if len(trial) == 3 else self.evaluate(x)
            if improved <= tol * max(1.0, abs(val)) and step == 1.0:
                converged = True
                break
        return x, val, converged, g


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a · b`` without BLAS (whose threads only add overhead to one pass over memory)."""
    return float(np.einsum("i,i->", a, b))


def _newton_direction(A: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve ``(A + λ D) d = g`` with the smallest damping ``λ`` that makes it positive definite."""
    scale = np.where(np.abs(np.diag(A)) > 0, np.abs(np.diag(A)), 1.0)
    lam = 0.0
    for _ in range(60):
        try:
            L = np.linalg.cholesky(A + lam * np.diag(scale))
            return np.linalg.solve(L.T, np.linalg.solve(L, g))
        except np.linalg.LinAlgError:
            lam = 1e-10 if lam == 0 else lam * 10
    return g / scale


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray | list | tuple):
        return "per-firm values"
    if isinstance(value, str):
        return f"the attribute {value!r}"
    if isinstance(value, Mapping):
        return "a table"
    return repr(value)


# ----------------------------------------------------------------- the fit
def fit_likelihood(
    network: Network,
    model: Isomorphic | Mapping[str, Any],
    data: AdoptionData,
    free: Sequence[str] | None = None,
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    intervals: bool = True,
    tests: bool = True,
    progress: Callable[[int], None] | None = None,
) -> LikelihoodFit:
    """Maximum-likelihood estimates of the free parameters of an isomorphic model.

    Parameters
    ----------
    network, model, data, free, bounds
        As for :class:`IsomorphicLikelihood`.
    intervals : bool, default True
        Compute 95 % profile-likelihood intervals (otherwise Wald intervals
        ``estimate ± 1.96 se`` clipped to the bounds).
    tests : bool, default True
        Likelihood-ratio test of each free pressure against 0.
    progress : callable, optional
        Called with 1 after each side of each profile interval (with
        ``intervals``) and after each free parameter's test (with ``tests``;
        parameters that are not tested count too): ``2 k + k`` calls for
        ``k`` free parameters with both.

    Returns
    -------
    LikelihoodFit

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.calibration import AdoptionData, fit_likelihood
    >>> net = diffusion.generators.erdos_renyi(2000, mean_degree=8, seed=1)
    >>> truth = diffusion.Isomorphic(external=0.01, mimetic=0.3)
    >>> res = diffusion.simulate(net, truth, runs=1, seed=5, max_steps=20)
    >>> fit = fit_likelihood(net, truth, AdoptionData(res.adoption_step[0], 20))
    >>> est = fit.parameters["cascade.mimetic"]
    >>> bool(est.ci[0] < 0.3 < est.ci[1]), fit.tests["cascade.mimetic"]["p_value"] < 0.01
    (True, True)
    """
    lik = IsomorphicLikelihood(network, model, data, free, bounds)
    theta, _, converged, _ = lik.maximize()
    ll = lik.loglik(theta)
    _, _, H = lik.evaluate(theta)
    info = -H
    k = len(theta)
    try:
        cov = np.linalg.inv(info)
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.full((k, k), np.nan)
    se = np.sqrt(np.diag(cov))
    cis = []
    for i in range(k):
        if intervals:
            cis.append(_profile_interval(lik, theta, ll, i, se[i], progress))
        else:
            cis.append((max(lik.low[i], theta[i] - 1.96 * se[i]),
                        min(lik.high[i], theta[i] + 1.96 * se[i])))
    results: dict[str, dict[str, float]] = {}
    if tests:
        for i, f in enumerate(lik.free):
            if not f.is_pressure or lik.low[i] > 0 or theta[i] <= 0:
                if f.is_pressure and lik.low[i] <= 0:  # at the boundary: nothing to test
                    results[f.key] = {"lr": 0.0, "p_value": 1.0}
                if progress is not None:
                    progress(1)
                continue
            if lik.impossible_without(i):
                ll0 = -math.inf
            else:
                start = theta.copy()
                start[i] = 0.0
                t0, _, _, _ = lik.maximize(start, fixed={i: 0.0})
                ll0 = lik.loglik(t0)
            lr = max(0.0, 2.0 * (ll - ll0)) if np.isfinite(ll0) else math.inf
            p = 1.0 if lr == 0 else 0.5 * float(chi2.sf(lr, 1))
            results[f.key] = {"lr": lr, "p_value": p}
            if progress is not None:
                progress(1)
    fixed = {}
    for name in ("external", "mimetic", "normative", "mimetic_threshold", "resistant"):
        key = f"cascade.{name}"
        if key not in lik.keys and name in lik.params:
            fixed[key] = lik.params[name]
    return LikelihoodFit(
        parameters={key: ParameterEstimate(float(theta[i]), float(se[i]), cis[i])
                    for i, key in enumerate(lik.keys)},
        log_likelihood=float(ll),
        aic=float(2 * k - 2 * ll),
        tests=results,
        cov=cov,
        firms=lik.firms,
        events=lik.events,
        rows=lik.rows_at_risk,
        last_step=data.last_step,
        converged=bool(converged),
        fixed=fixed,
    )


def _profile_interval(lik: IsomorphicLikelihood, theta: np.ndarray, ll: float, i: int, se: float,
                      progress: Callable[[int], None] | None) -> tuple[float, float]:
    """95 % profile-likelihood interval of parameter ``i``: where ``ℓ_p`` drops by χ²₁(0.95)/2.

    Each side is a safeguarded Newton search for the root of ``φ(v) = ℓ_p(v) − ℓ̂ + 1.92``
    started at the Wald end point: by the envelope theorem ``φ'(v)`` is the ``i``-th
    component of the gradient at the profile optimum, so each step costs one constrained
    fit. A side whose bound is reached before ``ℓ_p`` drops that far ends at the bound.
    """
    target = lik.evaluate(theta, 0)[0] - _DROP95
    warm = theta.copy()

    def profile(v: float) -> tuple[float, float]:
        nonlocal warm
        start = warm.copy()
        start[i] = v
        x, val, _, g = lik.maximize(start, fixed={i: v})
        warm = x
        return val - target, float(g[i])

    out = []
    for direction in (-1.0, 1.0):
        bound = float(lik.low[i] if direction < 0 else lik.high[i])
        warm = theta.copy()
        if theta[i] == bound:  # at the bound: that side is the bound
            out.append(bound)
            if progress is not None:
                progress(1)
            continue
        step = se if np.isfinite(se) and se > 0 else max(abs(theta[i]) * 0.5, 1e-4)
        inside, outside = float(theta[i]), None  # φ > 0 at inside, φ < 0 at outside
        v = float(theta[i]) + direction * 1.96 * step
        end = bound
        for _ in range(100):
            v = min(max(v, min(bound, inside)), max(bound, inside)) if outside is None else v
            phi, slope = profile(v)
            if abs(phi) < 1e-5:
                end = v
                break
            if phi > 0:
                if v == bound:
                    end = bound
                    break
                inside = v
            else:
                outside = v
            # Newton step on φ, kept inside the bracket (bisection when it would leave it)
            newton = v - phi / slope if slope * direction < 0 else math.nan
            if outside is None:
                far = inside + direction * 4.0 * max(abs(inside - theta[i]), step)
                v = newton if np.isfinite(newton) and (newton - far) * direction < 0 else far
            else:
                lo_, hi_ = min(inside, outside), max(inside, outside)
                v = newton if np.isfinite(newton) and lo_ < newton < hi_ else 0.5 * (lo_ + hi_)
                if hi_ - lo_ < 1e-9 * max(1.0, abs(theta[i])):
                    end = v
                    break
        out.append(float(end))
        if progress is not None:
            progress(1)
    return out[0], out[1]
