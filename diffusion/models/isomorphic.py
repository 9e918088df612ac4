"""Isomorphic adoption: coercive, mimetic and normative pressure in one hazard.

DiMaggio & Powell (1983), "The Iron Cage Revisited"; the external and mimetic
terms are Bass's (1969) innovation and imitation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..declarations import Declarations, Output
from ..distributions import Distribution
from ..engine import Batch, Model, SimulationResult, State, step_dtype
from ..errors import DiffusionError, ParameterError
from ..network import Network
from ._common import NodeValue, check_number, check_probability, draw_node_values, frontier_arcs

__all__ = ["PRESSURES", "Isomorphic", "select_nodes"]

#: Pressures in the order of the ``cause`` codes 1..4 (0 = initial adopter, -1 = not adopted).
PRESSURES: tuple[str, ...] = ("coercive", "external", "mimetic", "normative")


def select_nodes(network: Network, where: Mapping[str, Any], name: str = "where") -> np.ndarray:
    """Boolean mask of the nodes matching every condition of ``where``.

    A condition is ``attribute = value`` (equality), ``attribute = [v1, v2]``
    (membership) or ``attribute = {min = a, max = b}`` (``a <= x < b``; either
    bound may be omitted) — e.g. a sector, a set of regions, a size band.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.models.isomorphic import select_nodes
    >>> net = diffusion.generators.complete_graph(4).with_attributes(
    ...     region=[1, 2, 2, 3], size=[5, 50, 500, 5])
    >>> select_nodes(net, {"region": [2, 3], "size": {"max": 100}}).tolist()
    [False, True, False, True]
    """
    if not isinstance(where, Mapping) or not where:
        raise ParameterError(name, "must be a non-empty table of attribute = value conditions")
    mask = np.ones(network.n, dtype=bool)
    for attr, cond in where.items():
        try:
            col = network.attribute(str(attr))
        except DiffusionError as exc:
            raise ParameterError(f"{name}.{attr}", str(exc)) from None
        if isinstance(cond, Mapping):
            extra = set(cond) - {"min", "max"}
            if extra or not cond:
                raise ParameterError(f"{name}.{attr}", "a range takes 'min' and/or 'max'")
            if not np.issubdtype(col.dtype, np.number):
                raise ParameterError(f"{name}.{attr}", "a range needs a numeric attribute")
            if "min" in cond:
                mask &= col >= check_number(f"{name}.{attr}.min", cond["min"])
            if "max" in cond:
                mask &= col < check_number(f"{name}.{attr}.max", cond["max"])
        elif isinstance(cond, Sequence | np.ndarray) and not isinstance(cond, str):
            mask &= np.isin(
                col, np.asarray(list(cond), dtype=col.dtype if col.dtype.kind in "US" else None)
            )
        else:
            mask &= col == cond
    return mask


@dataclass(frozen=True)
class Mandate:
    """A coercive mandate: firms matching ``where`` must adopt from step ``start`` on."""

    where: Mapping[str, Any]
    start: int = 1
    compliance: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"where": dict(self.where), "start": self.start, "compliance": self.compliance}


def _parse_mandates(value: Any) -> tuple[Mandate, ...]:
    if value is None:
        return ()
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ParameterError("mandates", "must be a list of tables with where, start, compliance")
    out = []
    for i, m in enumerate(value):
        key = f"mandates[{i}]"
        if isinstance(m, Mandate):
            out.append(m)
            continue
        if not isinstance(m, Mapping):
            raise ParameterError(key, "must be a table with where, start and compliance")
        extra = set(m) - {"where", "start", "compliance"}
        if extra:
            raise ParameterError(
                f"{key}.{sorted(extra)[0]}", "unknown key (use where, start, compliance)"
            )
        if "where" not in m or not isinstance(m["where"], Mapping) or not m["where"]:
            raise ParameterError(
                f"{key}.where", "required: a table of attribute = value conditions"
            )
        start = check_number(f"{key}.start", m.get("start", 1), 1, None, integer=True)
        comp = check_probability(f"{key}.compliance", m.get("compliance", 1.0))
        out.append(Mandate(dict(m["where"]), int(start), comp))
    return tuple(out)


@dataclass
class _IsoContext:
    arc_weight: np.ndarray | None  # w_ij * prestige_i per stored arc i -> j (None: all ones)
    denom: np.ndarray  # (n,) sum_j w_ji s_j over in-neighbours
    inv_denom: np.ndarray  # (n,) 1 / denom, 0 where denom = 0 (no prestige-weighted neighbours)
    partner_arc: np.ndarray | None  # bool per arc: a dependency edge strong enough to coerce
    external: float | np.ndarray | Distribution
    uncertainty: float | np.ndarray | Distribution
    field: np.ndarray | None  # (n,) group index, or None for one field
    field_size: np.ndarray  # (G,)
    mandate_masks: list[np.ndarray]
    resistant: np.ndarray | None  # (n,) bool, when given by attribute
    conformity: float | np.ndarray | Distribution | None = None  # None: weight 1 for every firm


@dataclass
class _IsoState(State):
    received: np.ndarray  # (R, n) prestige-weighted adopted in-neighbour weight
    partners: np.ndarray | None  # (R, n) adopted dependency partners
    field_count: np.ndarray  # (R, G) adopters per field
    cause: np.ndarray  # (R, n) int8: -1 none, 0 initial, 1..4 pressure
    by_pressure: np.ndarray  # (R, 4) int64 cumulative adoptions per pressure
    external: np.ndarray  # broadcastable to (R, n)
    uncertainty: np.ndarray  # broadcastable to (R, n)
    susceptible: np.ndarray  # (R, n) or (n,) bool: not resistant
    kappa: np.ndarray | None = None  # conformity weight, broadcastable to (R, n); None: 1


def _at(values: np.ndarray, rep: np.ndarray, node: np.ndarray) -> np.ndarray:
    """``values[rep, node]`` for an (R, n), (n,) or scalar array of per-node values."""
    if values.ndim == 2:
        return values[rep, node]
    if values.ndim == 1:
        return values[node]
    return np.broadcast_to(values, rep.shape)


def _scatter_add(target: np.ndarray, flat: np.ndarray, weights: np.ndarray | None) -> None:
    """``target.ravel()[flat] += weights`` (or 1), choosing bincount or add.at by density."""
    view = target.reshape(-1)
    if len(flat) == 0:
        return
    if len(flat) * 4 >= view.size:
        view += np.bincount(flat, weights=weights, minlength=view.size).astype(
            view.dtype, copy=False
        )
    else:
        np.add.at(view, flat, 1 if weights is None else weights.astype(view.dtype, copy=False))


class Isomorphic(Model):
    """Adoption under coercive, external, mimetic and normative pressure (one hazard).

    A firm ``i`` that has not adopted adopts at step ``t`` with probability

    ``h_i(t) = min(1, c_i(t) + a_i + κ_i · u_i · q · m_i(t−1) + ν · n_i(t−1))``

    * ``c_i(t)``, **coercive**: ``1 − Π (1 − compliance)`` over the mandates in
      force that cover ``i``, combined the same way with ``partner_coercion``
      once a dependency partner of ``i`` (an in-neighbour ``j``, edge
      ``j → i`` with weight ``>= partner_level``) has adopted;
    * ``a_i = external``, spontaneous adoption (Bass's ``p``);
    * ``m_i``, **mimetic**: ``Σ_j w_ji s_j x_j / Σ_j w_ji s_j`` over
      in-neighbours, ``s_j`` the prestige, scaled by ``q = mimetic`` and the
      firm's ``uncertainty`` ``u_i``; with ``mimetic_threshold = θ`` the term is
      ``m_i · [m_i >= θ]`` (copy only once enough prestige has adopted), and
      by the firm's conformity weight ``κ_i`` (1 unless ``conformity`` is set);
    * ``n_i``, **normative**: the fraction of ``i``'s field (its ``field``
      attribute group, or the whole population) that has adopted, times
      ``ν = normative``.

    Resistant (niche) firms never adopt. When a firm adopts, the adoption is
    attributed to one pressure drawn with probability proportional to its term.
    Adoption is permanent; updates are synchronous.

    Parameters
    ----------
    external : float, array, attribute name or distribution, default 0
        Spontaneous adoption probability per step ``a_i`` (Bass ``p``), in [0, 1].
    mimetic : float, default 0
        Imitation strength ``q >= 0``.
    prestige : "uniform", attribute name or array, default "uniform"
        Weight ``s_j >= 0`` of neighbour ``j`` in the mimetic share (e.g.
        ``"size"`` or ``"success"``).
    uncertainty : float, attribute name, array, distribution or None, default None
        Susceptibility ``u_i >= 0`` to mimetic pressure; ``None`` uses the
        ``uncertainty`` node attribute when the network has one, else 1.
    mimetic_threshold : float, default 0
        ``θ`` of the threshold form (0 = no threshold).
    normative : float, default 0
        Strength ``ν >= 0`` of the pull toward the adoption level of the field.
    field : str, default "all"
        ``"all"`` (one field) or a node attribute defining fields (e.g. ``"sector"``).
    resistant : float or dict, default 0
        A fraction of firms (drawn anew per replicate) or a ``{attribute = value}``
        table (conditions as in :func:`select_nodes`) of firms that never adopt.
    mandates : list of dict, optional
        Each ``{"where": {...}, "start": step >= 1, "compliance": prob}``; covered
        firms adopt with per-step probability ``compliance`` from ``start`` on.
    partner_coercion : float or dict, default 0
        Per-step probability of following an adopted dependency partner, or a
        table ``{probability = c, level = w_min}``.
    conformity : float, attribute name, per-firm values or distribution, optional
        ``κ_i``, a per-firm weight on the mimetic term: ``1`` (the default) is
        the model without it, ``0`` a firm deaf to its partners, a negative
        value one that adopts *less* the more its partners have (strategic
        differentiation, Deephouse 1999; its hazard is floored at 0). A
        distribution is drawn per firm and replicate.

    Notes
    -----
    On a complete graph with only ``external = p`` and ``mimetic = q`` the
    expected adoption fraction follows the discrete Bass recursion
    ``F_{t+1} = F_t + (p + q' F_t)(1 − F_t)`` with ``q' = q n / (n − 1)`` (a
    firm is not its own neighbour). Outputs (see :meth:`declare`): ``cause``
    per firm (-1 not adopted, 0 initial adopter, 1 coercive, 2 external, 3
    mimetic, 4 normative), reduced over replicates to each firm's frequency of
    each cause; the series ``adopted_by`` (components: the four pressures)
    records the cumulative adoptions per pressure after each step.

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.generators.erdos_renyi(300, mean_degree=8, seed=1)
    >>> model = diffusion.Isomorphic(external=0.01, mimetic=0.5)
    >>> res = diffusion.simulate(net, model, runs=10, seed=2, max_steps=40)
    >>> by = res.final("adopted_by")                 # (runs, 4): coercive, external, mimetic, normative
    >>> bool((by.sum(axis=1) == res.final_count).all())
    True
    """

    name: ClassVar[str] = "isomorphic"
    requires_initial: ClassVar[bool] = False
    #: Spontaneous adoption alone reaches the last isolated firm only after ~ ln(n) / p steps.
    default_max_steps: ClassVar[int | None] = 1000

    def __init__(
        self,
        external: Any = 0.0,
        mimetic: float = 0.0,
        *,
        prestige: Any = "uniform",
        uncertainty: Any = None,
        mimetic_threshold: float = 0.0,
        normative: float = 0.0,
        field: str = "all",
        resistant: Any = 0.0,
        mandates: Any = None,
        partner_coercion: Any = 0.0,
        conformity: Any = None,
    ) -> None:
        self._external = NodeValue("external", external, 0.0, 1.0, clip=(0.0, 1.0))
        self.mimetic = check_number("mimetic", mimetic, 0.0)
        if isinstance(prestige, str):
            self.prestige: Any = prestige
        else:
            arr = np.asarray(prestige, dtype=np.float64)
            if arr.ndim != 1 or not np.all(np.isfinite(arr)) or (arr.size and arr.min() < 0):
                raise ParameterError(
                    "prestige",
                    "must be 'uniform', an attribute name or non-negative values per node",
                )
            self.prestige = arr
        self._uncertainty = (
            None
            if uncertainty is None
            else NodeValue("uncertainty", uncertainty, 0.0, None, clip=(0.0, np.inf))
        )
        self.mimetic_threshold = check_probability("mimetic_threshold", mimetic_threshold)
        self.normative = check_number("normative", normative, 0.0)
        if not isinstance(field, str) or not field:
            raise ParameterError("field", f"must be 'all' or a node attribute name, got {field!r}")
        self.field = field
        if isinstance(resistant, Mapping):
            if not resistant:
                raise ParameterError("resistant", "an attribute table must not be empty")
            self.resistant: Any = dict(resistant)
        else:
            self.resistant = check_probability("resistant", resistant)
        self.mandates = _parse_mandates(mandates)
        if isinstance(partner_coercion, Mapping):
            extra = set(partner_coercion) - {"probability", "level"}
            if extra:
                raise ParameterError(
                    f"partner_coercion.{sorted(extra)[0]}", "unknown key (use probability, level)"
                )
            self.partner_coercion = check_probability(
                "partner_coercion.probability", partner_coercion.get("probability", 1.0)
            )
            self.partner_level = check_number(
                "partner_coercion.level", partner_coercion.get("level", 0.0)
            )
        else:
            self.partner_coercion = check_probability("partner_coercion", partner_coercion)
            self.partner_level = 0.0
        self._conformity = None if conformity is None else NodeValue("conformity", conformity)

    # ----------------------------------------------------------------- params
    @property
    def external(self) -> Any:
        return self._external.value

    @property
    def conformity(self) -> Any:
        """The conformity weight as given (``None``: 1 for every firm)."""
        return None if self._conformity is None else self._conformity.value

    def memory_per_replicate(self, network: Network, max_steps: int | None) -> tuple[int, int]:
        kept, working = super().memory_per_replicate(network, max_steps)
        return kept + network.n, working  # cause per firm (int8)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "external": self._external.to_param(),
            "mimetic": self.mimetic,
            "prestige": self.prestige,
            "uncertainty": None if self._uncertainty is None else self._uncertainty.to_param(),
            "mimetic_threshold": self.mimetic_threshold,
            "normative": self.normative,
            "field": self.field,
            "resistant": self.resistant,
            "mandates": [m.to_dict() for m in self.mandates],
            "partner_coercion": (
                {"probability": self.partner_coercion, "level": self.partner_level}
                if self.partner_level
                else self.partner_coercion
            ),
        }
        if self._conformity is not None:
            kap = self._conformity.to_param()
            out["conformity"] = kap.tolist() if isinstance(kap, np.ndarray) else kap
        return out

    # ---------------------------------------------------------------- prepare
    def prepare(self, network: Network) -> _IsoContext:
        n = network.n
        if isinstance(self.prestige, str):
            if self.prestige == "uniform":
                s = None
            else:
                try:
                    col = network.attribute(self.prestige)
                except DiffusionError as exc:
                    raise ParameterError("prestige", str(exc)) from None
                if not np.issubdtype(col.dtype, np.number):
                    raise ParameterError(
                        "prestige", f"node attribute {self.prestige!r} is not numeric"
                    )
                s = col.astype(np.float64)
                if not np.all(np.isfinite(s)) or (s.size and s.min() < 0):
                    raise ParameterError(
                        "prestige", f"attribute {self.prestige!r} must be finite and >= 0"
                    )
        else:
            if self.prestige.shape != (n,):
                raise ParameterError(
                    "prestige", f"has {self.prestige.size} values but the network has {n} nodes"
                )
            s = self.prestige
        w = network.weights
        if w is not None and w.size and w.min() < 0:
            raise ParameterError("network", "the isomorphic model needs non-negative edge weights")
        src = np.repeat(np.arange(n), network.out_degree)
        arc_weight = None
        if w is not None or s is not None:
            arc_weight = (
                np.ones(network.nnz) if w is None else np.asarray(w, dtype=np.float64).copy()
            )
            if s is not None:
                arc_weight *= s[src]
        tgt = np.asarray(network.indices)
        denom = (
            np.bincount(tgt, weights=arc_weight, minlength=n)
            if arc_weight is not None
            else np.bincount(tgt, minlength=n).astype(np.float64)
        )
        partner_arc = None
        if self.partner_coercion > 0:
            partner_arc = (
                np.ones(network.nnz, dtype=bool)
                if w is None
                else np.asarray(w) >= self.partner_level
            )
        if self.field == "all":
            field, field_size = None, np.array([n], dtype=np.float64)
        else:
            try:
                col = network.attribute(self.field)
            except DiffusionError as exc:
                raise ParameterError("field", str(exc)) from None
            _, field = np.unique(col, return_inverse=True)
            field = field.astype(np.int64)
            field_size = np.bincount(field).astype(np.float64)
        masks = [
            select_nodes(network, m.where, f"mandates[{i}].where")
            for i, m in enumerate(self.mandates)
        ]
        resistant = (
            select_nodes(network, self.resistant, "resistant")
            if isinstance(self.resistant, dict)
            else None
        )
        if self._uncertainty is not None:
            unc = self._uncertainty.resolve(network)
        elif "uncertainty" in network.attributes:
            unc = NodeValue("uncertainty", "uncertainty", 0.0, None).resolve(network)
        else:
            unc = 1.0
        inv_denom = np.divide(1.0, denom, out=np.zeros(n), where=denom > 0)
        return _IsoContext(
            arc_weight,
            denom,
            inv_denom,
            partner_arc,
            self._external.resolve(network),
            unc,
            field,
            field_size,
            masks,
            resistant,
            None if self._conformity is None else self._conformity.resolve(network),
        )

    # ------------------------------------------------------------------ start
    def _push(
        self,
        ctx: _IsoContext,
        network: Network,
        state: _IsoState,
        rep: np.ndarray,
        node: np.ndarray,
    ) -> None:
        """Push the adoptions ``(rep, node)`` to neighbours' mimetic and partner sums and fields."""
        n = network.n
        if ctx.field is None:
            state.field_count[:, 0] += np.bincount(rep, minlength=state.field_count.shape[0])
        else:
            _scatter_add(
                state.field_count, rep * state.field_count.shape[1] + ctx.field[node], None
            )
        if self.mimetic == 0 and state.partners is None:
            return
        arcs, owner = frontier_arcs(network.indptr, node)
        if len(arcs) == 0:
            return
        flat = rep[owner] * n + np.asarray(network.indices)[arcs]
        if self.mimetic > 0:
            _scatter_add(
                state.received, flat, None if ctx.arc_weight is None else ctx.arc_weight[arcs]
            )
        if state.partners is not None and ctx.partner_arc is not None:
            strong = ctx.partner_arc[arcs]
            _scatter_add(state.partners, flat[strong], None)

    def start(self, ctx: _IsoContext, network: Network, batch: Batch) -> _IsoState:
        R, n, rngs = batch.runs, network.n, batch.rngs
        adopted_at = np.full((R, n), -1, dtype=step_dtype(batch.max_steps))
        cause = np.full((R, n), -1, dtype=np.int8)
        for r, s in enumerate(batch.seeds):
            adopted_at[r, s] = 0
            cause[r, s] = 0
        external = draw_node_values(ctx.external, rngs, n)
        uncertainty = draw_node_values(ctx.uncertainty, rngs, n)
        if ctx.resistant is not None:
            susceptible = ~ctx.resistant
        elif self.resistant > 0:
            susceptible = np.empty((R, n), dtype=bool)
            for r, g in enumerate(rngs):
                susceptible[r] = g.random(n) >= self.resistant
        else:
            susceptible = np.ones(n, dtype=bool)
        G = len(ctx.field_size)
        state = _IsoState(
            adopted_at,
            np.zeros(R, dtype=np.int64),
            np.ones(R, dtype=bool),
            rngs,
            received=np.zeros((R, n)) if self.mimetic > 0 else np.zeros((0, 0)),
            partners=np.zeros((R, n), dtype=np.int32) if ctx.partner_arc is not None else None,
            field_count=np.zeros((R, G)),
            cause=cause,
            by_pressure=np.zeros((R, 4), dtype=np.int64),
            external=external,
            uncertainty=uncertainty,
            susceptible=susceptible,
        )
        if ctx.conformity is not None:  # drawn last: a fixed weight leaves every other draw in place
            state.kappa = draw_node_values(ctx.conformity, rngs, n)
        rep, node = np.nonzero(adopted_at == 0)
        state.count = np.bincount(rep, minlength=R).astype(np.int64)
        self._push(ctx, network, state, rep, node)
        return state

    # ------------------------------------------------------------------- step
    def _stay(self, ctx: _IsoContext, t: int) -> np.ndarray | None:
        """Per node, the probability that no mandate in force at ``t`` makes it adopt, or None."""
        stay = None
        for m, mask in zip(self.mandates, ctx.mandate_masks, strict=True):
            if t >= m.start:
                factor = np.where(mask, 1.0 - m.compliance, 1.0)
                stay = factor if stay is None else stay * factor
        return stay

    def terms(
        self, ctx: _IsoContext, state: _IsoState, t: int, rep: np.ndarray, node: np.ndarray
    ) -> np.ndarray:
        """The hazard terms ``(coercive, external, mimetic, normative)`` of firms ``(rep, node)``.

        Returns an array of shape ``(4, len(rep))`` computed from the state after step ``t − 1``,
        with the same floating-point expressions as the dense hazard of :meth:`step`.
        """
        out = np.zeros((4, len(rep)))
        # coercive: mandates in force and adopted dependency partners
        stay_n = self._stay(ctx, t)
        stay = np.ones(len(rep)) if stay_n is None else stay_n[node]
        if state.partners is not None:
            stay = stay * np.where(state.partners[rep, node] > 0, 1.0 - self.partner_coercion, 1.0)
        out[0] = 1.0 - stay
        out[1] = _at(state.external, rep, node)
        if self.mimetic > 0:
            share = state.received[rep, node] * ctx.inv_denom[node]
            if self.mimetic_threshold > 0:
                share[share < self.mimetic_threshold - 1e-12] = 0.0
            out[2] = (self.mimetic * _at(state.uncertainty, rep, node)) * share
            if state.kappa is not None:
                out[2] *= _at(state.kappa, rep, node)
        if self.normative > 0:
            g = np.zeros(len(rep), dtype=np.int64) if ctx.field is None else ctx.field[node]
            out[3] = self.normative * (state.field_count[rep, g] / ctx.field_size[g])
        return out

    def hazard_total(self, ctx: _IsoContext, state: _IsoState, t: int) -> np.ndarray:
        """The sum of the four terms for every firm, shape (R, n) (dense: one pass per term)."""
        R, n = state.adopted_at.shape
        stay = self._stay(ctx, t)
        if state.partners is not None:
            pf = np.where(state.partners > 0, 1.0 - self.partner_coercion, 1.0)
            total = 1.0 - (pf if stay is None else stay * pf)
        else:
            total = np.zeros((R, n))
            if stay is not None:
                total += 1.0 - stay
        if np.ndim(state.external) or float(state.external) != 0.0:
            total += state.external
        if self.mimetic > 0:
            share = state.received * ctx.inv_denom
            if self.mimetic_threshold > 0:
                share[share < self.mimetic_threshold - 1e-12] = 0.0
            share *= self.mimetic * state.uncertainty
            if state.kappa is not None:
                share *= state.kappa
            total += share
        if self.normative > 0:
            level = self.normative * (state.field_count / ctx.field_size)
            total += level[:, :1] if ctx.field is None else level[:, ctx.field]
        return total

    def step(self, ctx: _IsoContext, network: Network, state: _IsoState, t: int) -> np.ndarray:
        R, n = state.adopted_at.shape
        open_ = (state.adopted_at < 0) & state.susceptible & state.active[:, None]
        total = self.hazard_total(ctx, state, t)
        h = np.minimum(total, 1.0)
        h[~open_] = 0.0
        u = np.ones((R, n))
        for r, g in enumerate(state.rngs):
            if state.active[r]:  # an inactive replicate never becomes active again
                g.random(n, out=u[r])
        fire = u < h
        rep, node = np.nonzero(fire)
        # attribution: given adoption, u / h is uniform on [0, 1); its position u / h * total in
        # the cumulative terms picks a pressure with probability proportional to its term
        terms = self.terms(ctx, state, t, rep, node)
        if state.kappa is not None and np.min(state.kappa) < 0:
            # a negative (anti-conformist) mimetic term brings no one in: attribute among the others
            terms = np.maximum(terms, 0.0)
            x = u[rep, node] / h[rep, node] * terms.sum(axis=0)
        else:
            x = u[rep, node] / h[rep, node] * total[rep, node]
        cum = np.cumsum(terms, axis=0)
        which = np.minimum((x[None, :] >= cum).sum(axis=0), 3)
        state.adopted_at[rep, node] = t
        state.cause[rep, node] = (which + 1).astype(np.int8)
        np.add.at(state.by_pressure, (rep, which), 1)
        added = np.bincount(rep, minlength=R)
        state.count += added
        self._push(ctx, network, state, rep, node)
        # hazards never decrease, so a replicate stays active while it has new adopters (they
        # raise hazards), a waiting firm of positive hazard, or a mandate still to come
        h[fire] = 0.0
        waiting = (h > 0).any(axis=1)
        future = any(m.start > t for m in self.mandates)
        state.active = state.active & ((added > 0) | waiting | future)
        return added > 0

    # ---------------------------------------------------------------- outputs
    def declare(self) -> Declarations:
        return Declarations([
            Output.node_category("cause", ("initial", *PRESSURES), "why each firm adopted: an initial "
                                 "adopter, or the pressure its adoption is attributed to", role="cause"),
            Output.run_value("adopted_initial", "number of initial adopters"),
            Output.series("adopted_by", "cumulative adoptions attributed to each pressure",
                          labels=PRESSURES, role="by_cause"),
        ])

    def observe(
        self, ctx: _IsoContext, network: Network, state: _IsoState
    ) -> dict[str, np.ndarray]:
        return {"adopted_by": state.by_pressure.copy()}

    def outputs(
        self, ctx: _IsoContext, network: Network, state: _IsoState
    ) -> dict[str, np.ndarray]:
        return {
            "adopted_initial": np.count_nonzero(state.cause == 0, axis=1).astype(np.int64),
            "cause": state.cause,
        }

    def summarize(self, result: SimulationResult) -> dict[str, Any]:
        from ..fitting import fit_bass

        by = result.final("adopted_by")
        counts = {p: by[:, k] for k, p in enumerate(PRESSURES)}
        total = sum(v.sum() for v in counts.values())
        pressures = {
            p: {"mean": float(v.mean()), "share": float(v.sum() / total) if total else 0.0}
            for p, v in counts.items()
        }
        curve = result.mean_curve()
        bass: dict[str, Any] | None = None
        rises = np.nonzero(np.diff(curve) > 0)[0]
        if len(rises) and rises[-1] + 2 >= 5:  # at least 4 periods for 3 parameters
            try:
                bass = fit_bass(curve[: rises[-1] + 2]).to_dict()
            except (DiffusionError, ValueError, np.linalg.LinAlgError):
                bass = None
        return {
            "adoptions_by_pressure": pressures,
            "initial_adopters": float(result.outputs["adopted_initial"].mean()),
            "bass_fit": bass,
        }

    @classmethod
    def describe(cls, summary: Mapping[str, Any]) -> list[str]:
        """The pressures line of ``diffusion run``: the share of adoptions each pressure caused."""
        p = summary["cascade"].get("adoptions_by_pressure")
        if not isinstance(p, Mapping):
            return []
        lines = ["adoptions by pressure (share of the adoptions after the initial ones): "
                 + ", ".join(f"{k} {v['share']:.0%}" for k, v in p.items())]
        bass = summary["cascade"].get("bass_fit")
        if isinstance(bass, Mapping) and {"p", "q"} <= set(bass):
            lines.append(f"Bass fit to the mean curve: innovation p {bass['p']:.4f}, imitation q {bass['q']:.4f}"
                         + (f", market potential m {bass['m']:.1%}" if isinstance(bass.get("m"), float) else ""))
        return lines
