"""Platform competition with network effects (Arthur 1989; Katz & Shapiro 1985)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .._random import mix64
from ..declarations import Declarations, Output
from ..distributions import Distribution
from ..engine import Batch, Model, SimulationResult, State, step_dtype
from ..errors import DiffusionError, ParameterError
from ..initial import Initial
from ..network import Network
from ._common import NodeValue, check_number, check_probability, draw_node_values, frontier_arcs
from .threshold import check_backend, use_numba

__all__ = ["PlatformCompetition"]


def _batch_size(n: int, r: float) -> int:
    """Geometric skips drawn at once for ``n`` firms revising with probability ``r`` (6 sd over the mean)."""
    return int(n * r + 6 * np.sqrt(n * r) + 16)


def _gaps(g: np.random.Generator, p: float, size: int, n: int) -> np.ndarray:
    """``numpy.minimum(g.geometric(p, size), n + 1)``: the same integers from the same draws, faster.

    Below ``p = 1/3`` numpy draws a geometric variate by inversion,
    ``ceil(-E / log1p(-p))`` from one standard exponential ``E``, computing the
    logarithm anew for every variate; here the exponentials are drawn at once
    and divided by the logarithm computed once (the same IEEE operations, so
    the same integers, and the generator ends in the same state). A gap is
    clamped at ``n + 1`` (it ends the list of positions), so that the sums of
    gaps cannot overflow (a tiny ``p`` draws gaps near ``2**63``).

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.random.default_rng(4), np.random.default_rng(4)
    >>> bool((_gaps(a, 0.1, 1000, 50) == np.minimum(b.geometric(0.1, 1000), 51)).all())
    True
    """
    if p >= 1 / 3:  # numpy's search method: several uniforms per variate
        return np.minimum(g.geometric(p, size=size), n + 1)
    z = g.standard_exponential(size)
    with np.errstate(over="ignore"):  # a tiny p: gaps beyond the largest double, clamped below
        z /= -math.log1p(-p)
    np.ceil(z, out=z)
    np.minimum(z, n + 1, out=z)
    return z.astype(np.int64)


def _per_platform(name: str, value: Any, names: tuple[str, ...]) -> np.ndarray:
    """A scalar, a list of K numbers, or a ``{platform: number}`` table -> array (K,)."""
    K = len(names)
    if isinstance(value, Mapping):
        extra = set(value) - set(names)
        if extra:
            raise ParameterError(
                f"{name}.{sorted(extra)[0]}", f"not a platform (platforms: {', '.join(names)})"
            )
        return np.array([check_number(f"{name}.{k}", value.get(k, 0.0)) for k in names])
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        arr = [check_number(f"{name}[{i}]", v) for i, v in enumerate(value)]
        if len(arr) != K:
            raise ParameterError(name, f"needs one value per platform ({K}), got {len(arr)}")
        return np.asarray(arr, dtype=np.float64)
    return np.full(K, check_number(name, value))


def _per_firm_cost(value: Any) -> float | str | np.ndarray | None:
    """``multihoming_cost``: ``None``, a number, an attribute name or per-firm values (``inf``: none)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value:
            raise ParameterError("multihoming_cost", "an attribute name must not be empty")
        return value
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | Mapping):
        arr = np.asarray(value, dtype=np.float64)
        _check_costs(arr)
        return arr
    return check_number("multihoming_cost", value)


def _param(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


def _check_costs(arr: np.ndarray) -> None:
    if arr.ndim != 1:
        raise ParameterError("multihoming_cost", "per-firm values must be one-dimensional")
    if np.isnan(arr).any() or (arr == -np.inf).any():
        raise ParameterError("multihoming_cost", "per-firm values must be numbers or inf (no multi-homing)")


def _share_caps(value: Any, names: tuple[str, ...]) -> np.ndarray | None:
    """``share_cap``: ``None``, one level for every platform, or ``{platform: level}`` -> (K,) (inf: none)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        extra = set(value) - set(names)
        if extra:
            raise ParameterError(f"share_cap.{sorted(extra)[0]}",
                                 f"not a platform (platforms: {', '.join(names)})")
        if not value:
            raise ParameterError("share_cap", "name at least one platform")
        return np.array([check_probability(f"share_cap.{k}", value[k]) if k in value else np.inf
                         for k in names])
    return np.full(len(names), check_probability("share_cap", value))


@dataclass
class _PCContext:
    fit: np.ndarray  # (n, K) mean intrinsic fit of each firm
    instrength: np.ndarray  # (n,) in-strength for local shares
    in_indptr: np.ndarray  # CSR of in-neighbours (whom each firm observes)
    in_indices: np.ndarray
    in_weights: np.ndarray | None
    multihoming_cost: np.ndarray  # (n,) per-firm multi-homing cost (inf: may not; empty without)
    conformity: float | np.ndarray | Distribution | None  # None: no conformity weight
    capacity: np.ndarray | None  # (K,) most firms that may hold each platform (-1: no cap)


@dataclass
class _PCState(State):
    primary: np.ndarray  # (R, n) int16, 0 = none
    second: np.ndarray  # (R, n) int16, 0 = none
    fit: np.ndarray | None  # (R, n, K) float32 heterogeneous fit (None: ctx.fit for everyone)
    holders: np.ndarray  # (R, K) firms holding each platform (multi-homers on each)
    weighted: np.ndarray  # (R, K) holdings weighted 1 / number held
    lock_start: np.ndarray  # (R,) start of the current run of lock-in, -1 none
    lock_winner: np.ndarray  # (R,) platform 1..K of that run, 0 none
    t: int = 0
    kappa: np.ndarray | None = None  # conformity: (n,) or (R, n), None when not set
    keys: np.ndarray | None = None  # (R,) counter-based keys (share-cap admission order)
    closed: np.ndarray | None = None  # (R, K) int8: 2 = platform closed to every firm (recovery)
    frozen: np.ndarray | None = None  # (R, n) bool: firms that do not revise (recovery)


class PlatformCompetition(Model):
    """K platforms competing for firms through multinomial-logit choice with network effects.

    At every step each firm revises with probability ``revision_rate``; a
    revising firm ``i`` picks the option with the highest utility

    ``U_ik = a_ik + κ_i (β_g x_k(t−1) + β_l ℓ_ik(t−1)) − cost_k − switch · [k not held by i] + τ ε_ik``

    with ``ε`` standard Gumbel (so choice probabilities are the softmax of the
    deterministic utilities divided by ``τ = noise``), ``a_ik`` the firm's
    intrinsic fit (``fit`` plus ``fit_sd`` times a standard normal drawn per
    firm, platform and replicate), ``x_k`` the installed base of ``k`` (fraction
    of all firms holding it), ``ℓ_ik`` the fraction of ``i``'s in-neighbour
    weight on ``k`` (a multi-homer counts on both of its platforms in ``x`` and
    ``ℓ``), ``κ_i`` the firm's conformity weight (1 unless ``conformity`` is
    set) and ``switch = switching_cost``. If ``outside_option`` is given, a
    revising firm may also choose no platform, with utility ``outside_option −
    switch · [i holds a platform] + τ ε_i0``; otherwise every revising firm
    picks a platform.

    Parameters
    ----------
    platforms : sequence of str, default ("A", "B")
        Platform names; platform ``k`` (1-based) in outputs is ``platforms[k - 1]``.
    fit : float, list, {platform: value} or {sector: list}, default 0
        Mean intrinsic fit per platform; a table keyed by the values of the
        ``fit_by`` attribute (a list of K values each, optional ``default`` key)
        gives it per sector.
    fit_sd : float, default 0
        Standard deviation of the firm-level fit around its mean.
    fit_by : str, default "sector"
        Node attribute that the per-sector ``fit`` table refers to.
    cost : float, list or {platform: value}, default 0
        Per-platform cost ``cost_k``.
    global_effect, local_effect : float, default 0
        ``β_g`` and ``β_l``.
    switching_cost : float, default 0
        Paid for choosing a platform the firm does not hold (including the first
        adoption), or for dropping all platforms for the outside option.
    noise : float, default 1
        ``τ > 0``, the scale of the Gumbel taste shocks.
    revision_rate : float, default 0.1
        Probability ``r`` that a firm revises its choice in a step.
    multihoming_cost : float, attribute name, per-firm values or None, default None
        If given, a revising firm that picks a platform also keeps its next-best
        platform as a second one when that platform's utility minus
        ``multihoming_cost`` exceeds the outside option's utility (its
        ``outside_option + τ ε_i0``, with ``outside_option = 0`` when no outside
        option is available). Per-firm values (a numeric node attribute or one
        value per firm) may be ``inf``: that firm never multi-homes (e.g. a
        subsidy that removes the cost for some firms only).
    conformity : float, attribute name, per-firm values or distribution, optional
        ``κ_i``, how much firm ``i`` follows what others hold: it multiplies the
        global and local network-effect terms. ``1`` (the default) is the model
        without it; ``0``: the firm ignores the others; negative: it prefers the
        platforms others do not use (strategic differentiation, Deephouse 1999).
        A distribution is drawn per firm and replicate.
    share_cap : float in [0, 1], {platform: level} or None, default None
        No platform may be held by more than this fraction of all firms (its
        installed base ``x_k``; a multi-homer counts on both of its platforms):
        a platform at its cap is closed to firms that do not hold it, and of the
        firms that choose it in one step only as many as fit are admitted, in a
        random order drawn from the replicate's key; a firm turned away keeps
        what it held. A table caps only the platforms it names. The series
        ``installed_base`` records the capped quantity.
    outside_option : float or None, default None
        Utility of holding no platform; ``None`` = not available.
    initial_shares : list or {platform: share}, optional
        Fraction of firms on each platform at step 0 (exact counts, random
        firms per replicate); the rest start on none. Default: everyone on none.
    lock_in_share : float, default 0.9
        A replicate is *locked in* from step ``s`` if the leading platform's
        market share is ``>= lock_in_share`` at every step from ``s`` to the end
        (the same platform throughout); ``s`` is its ``lock_in_step`` and that
        platform its ``winner`` (``-1`` and ``0`` if the final share is below).
    record_history : bool, default False
        Record every firm's primary platform after every step (series
        ``platform``, int8/int16 of shape (steps + 1, runs, n)).
    backend : {"auto", "numba", "numpy"}, default "auto"
        ``"numba"``: a compiled step over all replicates of a batch;
        ``"numpy"``: the vectorized reference. ``"auto"`` is ``"numba"`` when
        numba is installed. Both make the same choices from the same draws; the
        backend is not a model parameter.

    Notes
    -----
    Market shares (series ``share``, (T + 1, runs, K)) are over the firms on a
    platform, a multi-homer counting ``1/2`` on each of its two platforms; the
    series ``hhi`` is their Herfindahl index (both are 0 while no firm holds a
    platform). Outputs (see :meth:`declare`): ``platform`` and
    ``platform_second`` per firm (0 = none, k = ``platforms[k - 1]``; reduced
    to each firm's frequency on each platform), ``winner`` and
    ``lock_in_step`` per replicate; with ``record_history`` the node series
    ``platform_history``.
    Without multi-homing the logit choice is drawn by inversion of the softmax
    probabilities (one uniform per revising firm, equivalent to the Gumbel
    maximum); with multi-homing the ``K + 1`` Gumbel shocks are drawn, since the
    second-best option matters. ``adoption_step`` is the start of a firm's
    current spell on a platform (-1 when on none at the end). The model never
    becomes quiescent: it runs ``max_steps`` (default 100) steps.

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.generators.erdos_renyi(500, mean_degree=6, seed=1)
    >>> model = diffusion.PlatformCompetition(["A", "B"], global_effect=6.0, revision_rate=0.2)
    >>> res = diffusion.simulate(net, model, runs=8, seed=3, max_steps=60)
    >>> res.series["share"].shape, bool(abs(res.final("share").sum(axis=1) - 1).max() < 1e-9)
    ((61, 8, 2), True)
    """

    name: ClassVar[str] = "platform_competition"
    requires_initial: ClassVar[bool] = False
    default_max_steps: ClassVar[int | None] = 100

    def __init__(
        self,
        platforms: Sequence[str] = ("A", "B"),
        *,
        fit: Any = 0.0,
        fit_sd: float = 0.0,
        fit_by: str = "sector",
        cost: Any = 0.0,
        global_effect: float = 0.0,
        local_effect: float = 0.0,
        switching_cost: float = 0.0,
        noise: float = 1.0,
        revision_rate: float = 0.1,
        multihoming_cost: Any = None,
        outside_option: float | None = None,
        initial_shares: Any = None,
        lock_in_share: float = 0.9,
        record_history: bool = False,
        conformity: Any = None,
        share_cap: Any = None,
        backend: str = "auto",
    ) -> None:
        if isinstance(platforms, str) or not isinstance(platforms, Sequence) or len(platforms) < 1:
            raise ParameterError("platforms", "must be a non-empty list of platform names")
        names = tuple(str(p) for p in platforms)
        if len(set(names)) != len(names):
            raise ParameterError("platforms", "names must be unique")
        if len(names) > 1000:
            raise ParameterError("platforms", "at most 1000 platforms")
        self.platforms: tuple[str, ...] = names
        K = len(names)
        self._fit_table: dict[str, np.ndarray] | None = None
        if (
            isinstance(fit, Mapping)
            and fit
            and all(
                isinstance(v, Sequence | np.ndarray) and not isinstance(v, str)
                for v in fit.values()
            )
        ):
            self._fit_table = {str(k): _per_platform(f"fit.{k}", v, names) for k, v in fit.items()}
            self._fit = None
        else:
            self._fit = _per_platform("fit", fit, names)
        self.fit_raw = fit
        self.fit_sd = check_number("fit_sd", fit_sd, 0.0, 1e30)  # fits are stored in float32
        if not isinstance(fit_by, str):
            raise ParameterError("fit_by", "must be a node attribute name")
        self.fit_by = fit_by
        self.cost = _per_platform("cost", cost, names)
        self.global_effect = check_number("global_effect", global_effect)
        self.local_effect = check_number("local_effect", local_effect)
        self.switching_cost = check_number("switching_cost", switching_cost)
        self.noise = check_number("noise", noise, 0.0)
        if self.noise <= 0:
            raise ParameterError("noise", "must be > 0 (the logit scale τ)")
        self.revision_rate = check_probability("revision_rate", revision_rate)
        self.multihoming_cost = _per_firm_cost(multihoming_cost)
        if self.multihoming_cost is not None and K < 2:
            raise ParameterError("multihoming_cost", "multi-homing needs at least two platforms")
        self.outside_option = (
            None if outside_option is None else check_number("outside_option", outside_option)
        )
        if initial_shares is None:
            self.initial_shares = None
        else:
            s = _per_platform("initial_shares", initial_shares, names)
            if s.min() < 0 or s.sum() > 1 + 1e-9:
                raise ParameterError("initial_shares", "must be non-negative and sum to at most 1")
            self.initial_shares = s
        self.lock_in_share = check_probability("lock_in_share", lock_in_share)
        if self.lock_in_share <= 0.5 and K > 1:
            raise ParameterError(
                "lock_in_share", "must exceed 0.5 so that at most one platform can lead"
            )
        if not isinstance(record_history, bool):
            raise ParameterError("record_history", "must be true or false")
        self.record_history = record_history
        self._conformity = None if conformity is None else NodeValue("conformity", conformity)
        self.share_cap = _share_caps(share_cap, names)
        self._share_cap_raw = share_cap if not isinstance(share_cap, Mapping) else dict(share_cap)
        self.backend = check_backend(backend)

    @property
    def K(self) -> int:
        return len(self.platforms)

    @property
    def conformity(self) -> Any:
        """The conformity weight as given (``None``: not set, every firm follows with weight 1)."""
        return None if self._conformity is None else self._conformity.value

    def memory_per_replicate(self, network: Network, max_steps: int | None) -> tuple[int, int]:
        kept, working = super().memory_per_replicate(network, max_steps)
        n = network.n
        kept += 4 * n  # platform and platform_second (int16)
        if self.record_history:
            kept += 2 * n * ((max_steps if max_steps is not None else self.default_max_steps or 0) + 1)
        if self._conformity is not None and self._conformity.is_random:
            working += 8 * n
        return kept, working + 4 * n * self.K  # per-firm fit (float32)

    def params(self) -> dict[str, Any]:
        return {
            "platforms": list(self.platforms),
            "fit": self.fit_raw,
            "fit_sd": self.fit_sd,
            "fit_by": self.fit_by,
            "cost": self.cost.tolist(),
            "global_effect": self.global_effect,
            "local_effect": self.local_effect,
            "switching_cost": self.switching_cost,
            "noise": self.noise,
            "revision_rate": self.revision_rate,
            "multihoming_cost": (self.multihoming_cost.tolist() if isinstance(self.multihoming_cost, np.ndarray)
                                 else self.multihoming_cost),
            "outside_option": self.outside_option,
            "initial_shares": None if self.initial_shares is None else self.initial_shares.tolist(),
            "lock_in_share": self.lock_in_share,
            "record_history": self.record_history,
            "conformity": None if self._conformity is None else _param(self._conformity.to_param()),
            "share_cap": self._share_cap_raw,
        }

    # ---------------------------------------------------------------- prepare
    def prepare(self, network: Network) -> _PCContext:
        if self._fit_table is not None:
            try:
                col = network.attribute(self.fit_by)
            except DiffusionError as exc:
                raise ParameterError("fit", f"a per-sector fit table needs {exc}") from None
            keys, inv = np.unique(col, return_inverse=True)
            rows = []
            for k in keys.tolist():
                key = str(k)
                if (
                    key not in self._fit_table
                    and key.endswith(".0")
                    and key[:-2] in self._fit_table
                ):
                    key = key[:-2]
                if key not in self._fit_table:
                    if "default" not in self._fit_table:
                        raise ParameterError(
                            "fit", f"no fit for {self.fit_by} = {k!r} (add it or a 'default' row)"
                        )
                    key = "default"
                rows.append(self._fit_table[key])
            fit = np.asarray(rows)[inv.ravel()]
        else:
            assert self._fit is not None
            fit = self._fit
        w = network.weights
        if self.local_effect != 0 and w is not None and w.size and w.min() < 0:
            raise ParameterError(
                "local_effect", "local network effects need non-negative edge weights"
            )
        rev = network.reverse
        fit = np.ascontiguousarray(
            np.broadcast_to(np.asarray(fit, dtype=np.float64), (network.n, self.K))
        )
        return _PCContext(
            fit,
            np.asarray(network.in_strength, dtype=np.float64),
            np.asarray(rev.indptr),
            np.asarray(rev.indices),
            rev.weights,
            self._resolve_multihoming(network),
            None if self._conformity is None else self._conformity.resolve(network),
            self._capacity(network),
        )

    def _resolve_multihoming(self, network: Network) -> np.ndarray:
        mh = self.multihoming_cost
        if mh is None:
            return np.zeros(0)
        if isinstance(mh, str):
            try:
                col = network.attribute(mh)
            except DiffusionError as exc:
                raise ParameterError("multihoming_cost", str(exc)) from None
            if not np.issubdtype(col.dtype, np.number):
                raise ParameterError("multihoming_cost", f"node attribute {mh!r} is not numeric")
            arr = col.astype(np.float64)
            _check_costs(arr)
            return arr
        if isinstance(mh, np.ndarray):
            if mh.shape != (network.n,):
                raise ParameterError("multihoming_cost", f"has {mh.size} values but the network has "
                                     f"{network.n} nodes")
            return mh
        return np.full(network.n, float(mh))

    def _capacity(self, network: Network) -> np.ndarray | None:
        """Most firms that may hold each platform (-1: uncapped), checked against the initial shares."""
        if self.share_cap is None:
            return None
        n = network.n
        cap = np.where(np.isfinite(self.share_cap), np.floor(np.where(np.isfinite(self.share_cap),
                                                                        self.share_cap, 0.0) * n + 1e-9), -1)
        cap = cap.astype(np.int64)
        if self.initial_shares is not None:
            start = self._initial_counts(n)
            over = np.nonzero((cap >= 0) & (start > cap))[0]
            if len(over):
                k = self.platforms[over[0]]
                raise ParameterError("share_cap", f"platform {k!r} starts with {start[over[0]]} firms "
                                     f"(initial_shares) but its cap allows {cap[over[0]]}")
        return cap

    def _initial_counts(self, n: int) -> np.ndarray:
        assert self.initial_shares is not None
        counts = np.round(self.initial_shares * n).astype(np.int64)
        while counts.sum() > n:  # rounding can overshoot by a few firms
            counts[np.argmax(counts)] -= 1
        return counts

    # ------------------------------------------------------------------ state
    def _apply(
        self,
        ctx: _PCContext,
        network: Network,
        state: _PCState,
        rep: np.ndarray,
        node: np.ndarray,
        new_p: np.ndarray,
        new_s: np.ndarray,
    ) -> np.ndarray:
        """Move firms ``(rep, node)`` to primary ``new_p`` and second ``new_s``; update aggregates.

        Returns which replicates changed, shape (R,).
        """
        old_p, old_s = state.primary[rep, node], state.second[rep, node]
        changed = (old_p != new_p) | (old_s != new_s)
        rep, node = rep[changed], node[changed]
        old_p, old_s, new_p, new_s = old_p[changed], old_s[changed], new_p[changed], new_s[changed]
        state.primary[rep, node] = new_p
        state.second[rep, node] = new_s
        R, K = state.holders.shape
        m = len(rep)
        old_h = np.maximum((old_p > 0).astype(np.float64) + (old_s > 0), 1.0)
        new_h = np.maximum((new_p > 0).astype(np.float64) + (new_s > 0), 1.0)
        ks = np.concatenate([old_p, old_s, new_p, new_s]).astype(np.int64)
        sign = np.repeat([-1.0, 1.0], 2 * m)
        wgt = np.concatenate([-1 / old_h, -1 / old_h, 1 / new_h, 1 / new_h])
        reps = np.tile(rep, 4)
        on = ks > 0
        ks, sign, wgt, reps = ks[on], sign[on], wgt[on], reps[on]
        code = reps * K + ks - 1
        state.holders += (
            np.bincount(code, weights=sign, minlength=R * K).reshape(R, K).astype(np.int64)
        )
        state.weighted += np.bincount(code, weights=wgt, minlength=R * K).reshape(R, K)
        # spells on a platform: adoption step = start of the current spell
        was_on, is_on = old_p > 0, new_p > 0
        start = ~was_on & is_on
        state.adopted_at[rep[start], node[start]] = state.t
        state.adopted_at[rep[was_on & ~is_on], node[was_on & ~is_on]] = -1
        state.count += np.bincount(
            rep, weights=is_on.astype(np.float64) - was_on, minlength=R
        ).astype(np.int64)
        return np.bincount(rep, minlength=R) > 0

    def start(self, ctx: _PCContext, network: Network, batch: Batch) -> _PCState:
        if batch.initial.kind != "none":
            raise ParameterError(
                "initial", "platform_competition starts from initial_shares, not initial adopters"
            )
        R, n, K, rngs, max_steps = batch.runs, network.n, self.K, batch.rngs, batch.max_steps
        fit = None
        if self.fit_sd > 0:
            fit = np.empty((R, n, K), dtype=np.float32)
            buf = np.empty((n, K))
            for r, g in enumerate(rngs):  # fit + fit_sd * z, in one reused buffer
                g.standard_normal(out=buf)
                buf *= self.fit_sd
                buf += ctx.fit
                fit[r] = buf
        state = _PCState(
            np.full((R, n), -1, dtype=step_dtype(max_steps)),
            np.zeros(R, dtype=np.int64),
            np.ones(R, dtype=bool),
            rngs,
            primary=np.zeros((R, n), dtype=np.int16),
            second=np.zeros((R, n), dtype=np.int16),
            fit=fit,
            holders=np.zeros((R, K), dtype=np.int64),
            weighted=np.zeros((R, K)),
            lock_start=np.full(R, -1, dtype=np.int64),
            lock_winner=np.zeros(R, dtype=np.int64),
        )
        if self.initial_shares is not None:
            counts = self._initial_counts(n)
            labels = np.repeat(np.arange(1, K + 1, dtype=np.int16), counts)
            lab = np.zeros((R, n), dtype=np.int16)
            for r, g in enumerate(rngs):
                lab[r, g.permutation(n)[: len(labels)]] = labels
            rep, node = np.nonzero(lab)
            self._apply(
                ctx, network, state, rep, node, lab[rep, node], np.zeros(len(rep), dtype=np.int16)
            )
        if ctx.conformity is not None:
            # drawn last, so that a fixed conformity leaves every other draw where it was
            kap = draw_node_values(ctx.conformity, rngs, n)
            state.kappa = np.broadcast_to(kap, (n,)).copy() if kap.ndim < 2 else kap
        if ctx.capacity is not None:
            state.keys = batch.keys
        self._track_lock(state, 0)
        return state

    def resume(self, ctx: _PCContext, network: Network, batch: Batch, primary: np.ndarray,
               second: np.ndarray, rngs: list[np.random.Generator]) -> _PCState:
        """A state of replicates ``batch.start ..`` holding ``primary`` / ``second``, to run on.

        The firms' fit and conformity are those the cascade drew (the batch's
        generators, from the cascade's seed, are replayed as :meth:`start`
        draws them); the steps that follow draw from ``rngs``. Used to let the
        competition go on after a shock (:mod:`diffusion.policies.recovery`).
        """
        if batch.initial.kind != "none":
            batch = Batch(batch.seed, batch.start, batch.runs, batch.max_steps, Initial("none"), network)
        state = self.start(ctx, network, batch)
        R = state.primary.shape[0]
        rep, node = np.nonzero((state.primary != primary) | (state.second != second))
        state.t = 0
        self._apply(ctx, network, state, rep, node, np.asarray(primary)[rep, node].astype(np.int16),
                    np.asarray(second)[rep, node].astype(np.int16))
        state.rngs = list(rngs)
        state.active = np.ones(R, dtype=bool)
        return state

    def _track_lock(self, state: _PCState, t: int) -> None:
        shares = self.shares(state)
        lead = np.argmax(shares, axis=1) + 1
        top = shares.max(axis=1) if self.K else np.zeros(len(shares))
        locked = top >= self.lock_in_share - 1e-12
        fresh = locked & ((state.lock_start < 0) | (state.lock_winner != lead))
        state.lock_start[fresh] = t
        state.lock_winner[fresh] = lead[fresh]
        state.lock_start[~locked] = -1
        state.lock_winner[~locked] = 0

    @staticmethod
    def shares(state: _PCState) -> np.ndarray:
        """Market shares ``(R, K)`` over firms on a platform (0 when none is on one)."""
        tot = state.weighted.sum(axis=1, keepdims=True)
        return np.divide(state.weighted, tot, out=np.zeros_like(state.weighted), where=tot > 0.5)

    # ------------------------------------------------------------------- step
    def _revisers(
        self, rngs: list[np.random.Generator], active: np.ndarray, n: int, compiled: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Firms revising this step, ``(rep, node)`` sorted by replicate then node, and their draws.

        Each firm revises independently with probability ``r``: positions are
        drawn by geometric skips (``O(r n)`` draws per replicate, not ``n``).
        The uniforms drive the logit choice (unless multi-homing needs the
        Gumbel shocks themselves). ``compiled``: the skips are summed by a
        compiled loop into preallocated arrays (the same draws, the same firms).
        """
        r = self.revision_rate
        R = len(rngs)
        if compiled and 0 < r < 1 / 3 and self.multihoming_cost is None:
            return self._revisers_compiled(rngs, active, n)
        counts = np.zeros(R, dtype=np.int64)
        nodes, draws = [], []
        for i, g in enumerate(rngs):
            if not active[i] or r == 0:
                continue
            if r >= 1:
                pos = np.arange(n)
            else:
                guess = _batch_size(n, r)
                pos = np.cumsum(_gaps(g, r, guess, n))
                while pos[-1] <= n:
                    pos = np.concatenate([pos, np.cumsum(_gaps(g, r, guess, n)) + pos[-1]])
                pos = pos[: np.searchsorted(pos, n, side="right")]
                pos -= 1
            counts[i] = len(pos)
            nodes.append(pos)
            if self.multihoming_cost is None:
                draws.append(g.random(len(pos)))
            else:
                draws.append(g.gumbel(size=(len(pos), self.K + 1)).ravel())
        if not nodes:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
        return np.repeat(np.arange(R, dtype=np.int64), counts), np.concatenate(nodes), np.concatenate(draws)

    def _revisers_compiled(
        self, rngs: list[np.random.Generator], active: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`_revisers` for ``0 < r < 1/3`` without multi-homing, the positions summed in numba.

        Each replicate draws the same batches of ``guess`` standard exponentials
        as :func:`_gaps` (numpy's geometric variates by inversion) and then its
        uniforms, straight into the output arrays.
        """
        from ._platform_kernel import revision_positions

        r = self.revision_rate
        R = len(rngs)
        guess = _batch_size(n, r)
        scale = -math.log1p(-r)
        counts = np.zeros(R, dtype=np.int64)
        nodes = np.empty(int(np.count_nonzero(active)) * guess, dtype=np.int64)
        z = np.empty(guess)
        at = 0
        for i, g in enumerate(rngs):
            if not active[i]:
                continue
            k, last = 0, 0
            while last <= n:  # one batch; another (rarely) if it ended before the last firm
                if len(nodes) < at + k + guess:  # a batch writes at most guess positions
                    nodes = np.concatenate([nodes, np.empty(len(nodes) + guess, dtype=np.int64)])
                g.standard_exponential(out=z)
                more, last = revision_positions(z, scale, n, last, nodes[at + k:])
                k += more
            counts[i] = k
            at += k
        draws = np.empty(at)
        at = 0
        for i, g in enumerate(rngs):
            if counts[i]:
                g.random(out=draws[at: at + counts[i]])
                at += counts[i]
        return np.repeat(np.arange(R, dtype=np.int64), counts), nodes[:at], draws

    def local_counts(
        self, ctx: _PCContext, network: Network, state: _PCState, rep: np.ndarray, node: np.ndarray
    ) -> np.ndarray:
        """In-neighbour weight on each platform, ``(m, K)``, for firms ``(rep, node)``.

        Pulled from the neighbours' current platforms (a multi-homer counts on
        both of its platforms): work ~ revising firms x degree, no (R, n, K) state.
        """
        m, K, n = len(rep), self.K, network.n
        arcs, owner = frontier_arcs(ctx.in_indptr, node)
        at = rep[owner] * n + ctx.in_indices[arcs]
        w = None if ctx.in_weights is None else ctx.in_weights[arcs]
        out = np.zeros(m * K)
        for held in (
            (state.primary, state.second) if self.multihoming_cost is not None else (state.primary,)
        ):
            k = held.reshape(-1)[at]
            on = k > 0
            out += np.bincount(
                owner[on] * K + k[on] - 1, weights=None if w is None else w[on], minlength=m * K
            )
        return out.reshape(m, K)

    def utilities(
        self, ctx: _PCContext, network: Network, state: _PCState, rep: np.ndarray, node: np.ndarray
    ) -> np.ndarray:
        """Deterministic utilities (m, K + 1) of firms ``(rep, node)``; column 0: outside option."""
        m, K, n = len(rep), self.K, network.n
        flat = rep * n + node
        U = np.empty((m, K + 1))
        U[:, 0] = 0.0  # set below; the switching cost passes through it first (uninitialized: NaN warnings)
        if state.fit is not None:
            U[:, 1:] = state.fit.reshape(-1, K)[flat]
        else:
            U[:, 1:] = ctx.fit[node]
        U[:, 1:] -= self.cost
        kap = None
        if state.kappa is not None:
            kap = state.kappa[node] if state.kappa.ndim == 1 else state.kappa[rep, node]
        if self.global_effect != 0:
            g = (self.global_effect / n) * state.holders[rep]
            if kap is not None:
                g *= kap[:, None]
            U[:, 1:] += g
        if self.local_effect != 0:
            d = ctx.instrength[node]
            scale = np.divide(self.local_effect, d, out=np.zeros(m), where=d > 0)
            if kap is not None:
                scale *= kap
            U[:, 1:] += self.local_counts(ctx, network, state, rep, node) * scale[:, None]
        p = state.primary.reshape(-1)[flat]
        if self.switching_cost != 0:
            # paid for every platform the firm does not hold
            U[:, 1:] -= self.switching_cost
            U[np.arange(m), p] += self.switching_cost
            if self.multihoming_cost is not None:
                s = state.second.reshape(-1)[flat]
                held2 = s > 0
                U[np.nonzero(held2)[0], s[held2]] += self.switching_cost
        U[:, 0] = (self.outside_option or 0.0) - self.switching_cost * (p > 0)
        return U

    def step(self, ctx: _PCContext, network: Network, state: _PCState, t: int) -> np.ndarray:
        state.t = t
        rep, node, draws = self._revisers(state.rngs, state.active, network.n, compiled=use_numba(self.backend))
        if state.frozen is not None:  # drawn as usual, so that the others' draws do not move
            ok = ~state.frozen[rep, node]
            if self.multihoming_cost is not None:
                draws = draws.reshape(len(rep), self.K + 1)[ok].ravel()
            else:
                draws = draws[ok]
            rep, node = rep[ok], node[ok]
        avail = self._availability(ctx, state)
        capped = ctx.capacity is not None
        if use_numba(self.backend):
            choice = self._step_numba(ctx, network, state, rep, node, draws, t, avail, apply_now=not capped)
        else:
            choice = self._step_numpy(ctx, network, state, rep, node, draws, avail)
        if capped:
            best, new_s = choice
            best, new_s = self._admit(ctx, network, state, rep, node, best, new_s, t)
            changed = self._apply(ctx, network, state, rep, node, best, new_s)
        elif isinstance(choice, tuple):
            changed = self._apply(ctx, network, state, rep, node, *choice)
        else:
            changed = choice
        self._track_lock(state, t)
        return changed

    def _availability(self, ctx: _PCContext, state: _PCState) -> np.ndarray | None:
        """``(R, K)`` int8: 1 = closed to newcomers (at its cap), 2 = closed to all; ``None``: all open."""
        avail = None
        if ctx.capacity is not None:
            avail = ((ctx.capacity >= 0) & (state.holders >= ctx.capacity)).astype(np.int8)
        if state.closed is not None:
            avail = state.closed if avail is None else np.maximum(avail, state.closed)
        return avail

    def _admit(self, ctx: _PCContext, network: Network, state: _PCState, rep: np.ndarray, node: np.ndarray,
               best: np.ndarray, new_s: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Turn away the firms that would take a capped platform past its cap (they keep what they held).

        Every platform admits at most ``capacity - holders`` newcomers in a step
        (firms leaving it free their places only at the next step), in an order
        drawn from the replicate's key, the step and the firm.
        """
        assert ctx.capacity is not None and state.keys is not None
        old_p, old_s = state.primary[rep, node], state.second[rep, node]
        K = state.holders.shape[1]
        rows, ks = [], []
        for new in (best, new_s):
            join = (new > 0) & (new != old_p) & (new != old_s)
            join &= ctx.capacity[np.maximum(new, 1) - 1] >= 0
            rows.append(np.nonzero(join)[0])
            ks.append(new[join].astype(np.int64))
        row, k = np.concatenate(rows), np.concatenate(ks)
        if not len(row):
            return best, new_s
        n = np.uint64(network.n)
        counter = np.uint64(t) * n + node[row].astype(np.uint64)
        prio = mix64(state.keys[rep[row]] ^ mix64(counter))
        order = np.lexsort((prio, k, rep[row]))
        group = rep[row][order] * K + (k[order] - 1)
        first = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
        rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
        room = (ctx.capacity[k[order] - 1] - state.holders[rep[row][order], k[order] - 1])
        refused = np.zeros(len(rep), dtype=bool)
        refused[row[order][rank >= room]] = True
        if refused.any():
            best = np.where(refused, old_p, best).astype(np.int16)
            new_s = np.where(refused, old_s, new_s).astype(np.int16)
        return best, new_s

    def _step_numba(
        self,
        ctx: _PCContext,
        network: Network,
        state: _PCState,
        rep: np.ndarray,
        node: np.ndarray,
        draws: np.ndarray,
        t: int,
        avail: np.ndarray | None = None,
        apply_now: bool = True,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The compiled step: which replicates changed, or the choices ``(best, second)`` unapplied."""
        from ._platform_kernel import platform_step

        empty_fit = np.zeros((0, 0, 0), dtype=np.float32)
        R = len(state.rngs)
        changed = np.zeros(R, dtype=bool)
        starts = np.searchsorted(rep, np.arange(R + 1))  # rows are sorted by replicate
        kappa = np.zeros((0, 0)) if state.kappa is None else (
            state.kappa[None, :] if state.kappa.ndim == 1 else state.kappa)
        m = 0 if apply_now else len(rep)
        best, sec = np.zeros(m, dtype=np.int16), np.zeros(m, dtype=np.int16)
        platform_step(
            rep,
            node,
            draws,
            starts,
            state.primary,
            state.second,
            state.fit if state.fit is not None else empty_fit,
            ctx.fit,
            self.cost,
            state.holders,
            state.weighted,
            state.adopted_at,
            state.count,
            ctx.in_indptr,
            ctx.in_indices,
            ctx.in_weights if ctx.in_weights is not None else np.zeros(0),
            ctx.instrength,
            self.global_effect,
            self.local_effect,
            self.switching_cost,
            self.noise,
            float(self.outside_option or 0.0),
            self.outside_option is not None,
            ctx.multihoming_cost,
            self.multihoming_cost is not None,
            t,
            changed,
            np.ascontiguousarray(kappa, dtype=np.float64),
            np.zeros((0, 0), dtype=np.int8) if avail is None else np.ascontiguousarray(avail, dtype=np.int8),
            apply_now,
            best,
            sec,
        )
        return changed if apply_now else (best, sec)

    def _step_numpy(
        self,
        ctx: _PCContext,
        network: Network,
        state: _PCState,
        rep: np.ndarray,
        node: np.ndarray,
        draws: np.ndarray,
        avail: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The vectorized reference step: the choices ``(best, second)`` of the revising firms."""
        K = self.K
        U = self.utilities(ctx, network, state, rep, node)
        m = len(rep)
        p_now, s_now = state.primary[rep, node], state.second[rep, node]
        if avail is not None:
            a = avail[rep]  # (m, K)
            ks = np.arange(1, K + 1)
            held = (p_now[:, None] == ks) | (s_now[:, None] == ks)
            U[:, 1:][(a == 2) | ((a == 1) & ~held)] = -np.inf
        if self.multihoming_cost is None:
            # multinomial logit: P(k) = softmax(U / tau), sampled by inversion with one uniform
            if self.outside_option is None:
                U[:, 0] = -np.inf
            V = U / self.noise
            top = V.max(axis=1, keepdims=True)
            stuck = top[:, 0] == -np.inf  # no option open: keep what it holds
            if stuck.any():
                top[stuck] = 0.0
            V -= top
            np.exp(V, out=V)
            np.cumsum(V, axis=1, out=V)
            best = np.count_nonzero(draws[:, None] * V[:, -1:] >= V, axis=1)
            best = np.minimum(best, K)
            new_s = np.zeros(m, dtype=np.int16)
        else:
            # Gumbel taste shocks (replicate r's from its own generator, rows sorted by replicate)
            U += self.noise * draws.reshape(m, K + 1)
            outside = U[:, 0].copy()
            if self.outside_option is None:
                U[:, 0] = -np.inf
            best = np.argmax(U, axis=1)
            rows = np.arange(m)
            stuck = U[rows, best] == -np.inf
            U[:, 0] = -np.inf
            U[rows, best] = -np.inf
            second = np.argmax(U, axis=1)
            keep = (best > 0) & (U[rows, second] - ctx.multihoming_cost[node] > outside)
            new_s = np.where(keep, second, 0).astype(np.int16)
        best = best.astype(np.int16)
        if stuck.any():
            best[stuck] = p_now[stuck]
            new_s[stuck] = s_now[stuck]
        return best, new_s

    # ---------------------------------------------------------------- outputs
    def declare(self) -> Declarations:
        names = self.platforms
        out = [
            Output.node_category("platform", ("none", *names), "platform each firm holds at the end "
                                 "(its primary one, for a multi-homer)", role="holding"),
            Output.node_category("platform_second", ("none", *names), "second platform of a multi-homer",
                                 role="second_holding"),
            Output.run_category("winner", ("none", *names), "platform the market locked in to (a share "
                                "of at least lock_in_share from lock_in_step to the end)", role="winner"),
            Output.run_value("lock_in_step", "step from which the market stayed locked in (-1: never)"),
            Output.series("share", "share of each platform among the firms on one (a multi-homer "
                          "counts 1/2 on each of its two)", labels=names, role="shares"),
            Output.series("hhi", "Herfindahl-Hirschman index of the shares (1/K: even, 1: one platform)",
                          role="concentration"),
        ]
        if self.multihoming_cost is not None:
            out.append(Output.series("multihoming", "fraction of firms holding two platforms"))
        if self.share_cap is not None:
            out.append(Output.series("installed_base", "fraction of all firms holding each platform (a "
                                     "multi-homer counts on both; what share_cap limits)", labels=names))
        if self.record_history:
            out.append(Output.node_series("platform_history", ("none", *names),
                                          "platform each firm holds after every step", role="holding_history"))
        return Declarations(out)

    def observe(self, ctx: _PCContext, network: Network, state: _PCState) -> dict[str, np.ndarray]:
        shares = self.shares(state)
        out = {"share": shares, "hhi": np.sum(shares * shares, axis=1)}
        if self.multihoming_cost is not None:
            out["multihoming"] = np.count_nonzero(state.second, axis=1) / network.n
        if self.share_cap is not None:
            out["installed_base"] = state.holders / network.n
        if self.record_history:
            out["platform_history"] = state.primary.astype(np.int8 if self.K < 127 else np.int16)
        return out

    def outputs(self, ctx: _PCContext, network: Network, state: _PCState) -> dict[str, np.ndarray]:
        return {
            "platform": state.primary,
            "platform_second": state.second,
            "winner": state.lock_winner.copy(),
            "lock_in_step": state.lock_start.copy(),
        }

    def summarize(self, result: SimulationResult) -> dict[str, Any]:
        from ..metrics import hill

        shares = result.final("share")
        h = result.final("hhi")
        winner = result.outputs["winner"]
        step = result.outputs["lock_in_step"]

        def band(x: np.ndarray) -> dict[str, float]:
            q = np.quantile(x, [0.05, 0.95])
            return {"mean": float(x.mean()), "q05": float(q[0]), "q95": float(q[1])}

        eff = np.asarray(hill(shares, 2.0))
        locked = winner > 0
        return {
            "platforms": {
                "names": list(self.platforms),
                "final_shares": {p: band(shares[:, k]) for k, p in enumerate(self.platforms)},
                "hhi": band(h),
                "effective_number": band(eff),
                "lock_in": {
                    "probability": float(locked.mean()),
                    "step_mean": float(step[locked].mean()) if locked.any() else None,
                },
                "winner_counts": {
                    p: int(np.count_nonzero(winner == k + 1)) for k, p in enumerate(self.platforms)
                },
            }
        }

    @classmethod
    def describe(cls, summary: Mapping[str, Any]) -> list[str]:
        """The platform lines of ``diffusion run``: final shares, concentration, lock-in and winners."""
        p = summary["cascade"].get("platforms")
        if not isinstance(p, Mapping):
            return []
        h = p["hhi"]
        k = max(len(p["final_shares"]), 1)
        shares = ", ".join(f"{name} {v['mean']:.1%}" for name, v in p["final_shares"].items())
        lines = [f"final platform shares (mean over runs): {shares}",
                 f"concentration (HHI; 1/{k} = even split, 1 = one platform): mean {h['mean']:.3f} "
                 f"[5-95% of runs: {h['q05']:.3f}, {h['q95']:.3f}]"]
        lock = p.get("lock_in")
        if isinstance(lock, Mapping):
            line = f"locked in to one platform: {lock['probability']:.0%} of runs"
            if lock.get("step_mean") is not None:
                line += f" (from step {lock['step_mean']:.1f} on average)"
            wins = p.get("winner_counts")
            if isinstance(wins, Mapping) and sum(wins.values()):
                line += "; winners: " + ", ".join(f"{name} {n} run{'s' if n != 1 else ''}"
                                                  for name, n in wins.items())
            lines.append(line)
        return lines
