"""Policies: an intervention, the firms it targets and what it costs.

A :class:`Policy` is one strategy to make a homogenized population less
fragile; :func:`~diffusion.policies.compare_policies` runs each against the
baseline on the same network and the same replicate streams. Interventions:

``multihoming``
    Target firms may hold a second platform at ``multihoming_cost`` (default
    0: a subsidy that removes the cost); they choose it as the platform model
    does, and an outage then hits them with the shock's ``multihomed_reliance``.
    Changes the cascade (platform competition only). Pairing is closest when
    the baseline allows multi-homing at some cost (``[cascade]
    multihoming_cost``): the model then draws the same kind of taste shocks
    with and without the subsidy.
``differentiation``
    Target firms get the conformity weight ``conformity`` (default 0: they
    ignore what others use; negative: they prefer what their partners do not
    use) on the network-effect terms of the platform model, or on the mimetic
    term of isomorphic adoption. Changes the cascade.
``decoupling``
    Ceremonial adoption: target firms keep a fallback, so the hit a platform
    outage gives them is multiplied by ``level`` (< 1). Shock only.
``buffers``
    ``amount`` × size is added to the buffers (``resources``) of target firms:
    the exposure matrix is rebuilt with the larger buffers and their initial
    hit shrinks in proportion. Shock only.
``interoperability``
    A portability mandate: a platform outage (of ``platform``, or any) hits
    target firms (default: every firm) with its severity × (1 − ``level``).
    Shock only.
``share_cap``
    No platform (or only ``platform``) may be held by more than ``level`` of
    all firms: a platform at the cap takes no new firms. Changes the cascade
    (platform competition only); applies to the whole market (no target).

Targets (``target = {...}``)
----------------------------
``by``: ``"all"`` (default), ``"random"``, ``"degree"``, ``"size"``,
``"criticality"`` (the loss each firm's own failure causes in the baseline's
exposure network, :func:`diffusion.shocks.criticality`) or any numeric firm
attribute (the firms with the highest values); ``count = k`` or ``fraction =
f`` (of the eligible firms); ``sector`` / ``region``: only firms with these
values of the ``sector`` / ``region`` attributes are eligible. A random target
is drawn once, from the policy's own stream, and is the same in every
replicate (one programme applied to every simulated market).

Costs (``cost``)
----------------
By default, in shares of the economy: ``multihoming`` and
``differentiation``: the share of firms treated; ``decoupling``: the share
treated × (1 − ``level``); ``interoperability``: ``level`` × the share of firms
covered; ``buffers``: the buffer added as a share of total firm value
(``amount`` × Σ size of the targets / Σ value); ``share_cap``: the share of
firms the cap must move off the platforms above it in the baseline
(Σ_k max(0, x_k − level), averaged over replicates). Override with a number
(the policy's cost in your own units) or a table ``{fixed = a, firms = b,
value = c}``: ``a + b × share of firms treated + c × share of value treated``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DiffusionError, ParameterError
from ..network import Network
from ..validation import check_integer, check_name, check_number, check_probability, check_string

__all__ = [
    "CASCADE_INTERVENTIONS",
    "INTERVENTIONS",
    "SHOCK_INTERVENTIONS",
    "TARGETS",
    "Cost",
    "Policy",
    "Target",
]

#: Interventions that change the cascade (the cascade is re-run with the same seeds).
CASCADE_INTERVENTIONS = ("multihoming", "differentiation", "share_cap")
#: Interventions that change only the shock (run on the baseline's cascade, in the same chunk).
SHOCK_INTERVENTIONS = ("decoupling", "buffers", "interoperability")
#: Every intervention, in the order of the module documentation.
INTERVENTIONS = ("multihoming", "differentiation", "decoupling", "buffers", "interoperability", "share_cap")
#: Built-in target rules (any other ``by`` is a numeric firm attribute).
TARGETS = ("all", "random", "degree", "size", "criticality")

#: Keys each intervention takes besides name, intervention, target, cost and description.
_KEYS: Mapping[str, tuple[str, ...]] = {
    "multihoming": ("multihoming_cost",),
    "differentiation": ("conformity",),
    "decoupling": ("level",),
    "buffers": ("amount",),
    "interoperability": ("level", "platform"),
    "share_cap": ("level", "platform"),
}
_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "buffers": ("amount",), "interoperability": ("level",), "share_cap": ("level",),
}
_COMMON = ("name", "intervention", "target", "cost", "description")


def _values(name: str, value: Any) -> tuple[Any, ...] | None:
    if value is None:
        return None
    vals = tuple(value) if isinstance(value, list | tuple) else (value,)
    if not vals:
        raise ParameterError(name, "give at least one value")
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, str | int | float | np.integer | np.floating):
            raise ParameterError(name, f"values must be strings or numbers, got {v!r}")
    return vals


@dataclass(frozen=True)
class Target:
    """Which firms a policy treats.

    Parameters
    ----------
    by : str, default "all"
        ``"all"``, ``"random"``, ``"degree"``, ``"size"``, ``"criticality"`` or a
        numeric firm attribute (the highest values are treated).
    count : int, optional
    fraction : float in [0, 1], optional
        How many of the eligible firms (give one, except with ``by = "all"``).
    sector, region : value or list of values, optional
        Only firms with these ``sector`` / ``region`` attribute values are eligible.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.policies import Target
    >>> net = diffusion.Network.from_edges(6, [0, 0, 0, 0, 0], [1, 2, 3, 4, 5])  # a star, hub 0
    >>> Target("degree", count=1).resolve(net).nonzero()[0].tolist()
    [0]
    >>> int(Target("random", fraction=0.5).resolve(net, seed=1).sum())
    3
    """

    by: str = "all"
    count: int | None = None
    fraction: float | None = None
    sector: tuple[Any, ...] | None = None
    region: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        check_string("by", self.by)
        if not self.by:
            raise ParameterError("by", "must be 'all', 'random', 'degree', 'size', 'criticality' or an attribute")
        if self.count is not None and self.fraction is not None:
            raise ParameterError("count", "give count or fraction, not both")
        if self.by == "all":
            if self.count is not None or self.fraction is not None:
                key = "count" if self.count is not None else "fraction"
                raise ParameterError(key, "by = 'all' treats every eligible firm: drop count and fraction")
        elif self.count is None and self.fraction is None:
            raise ParameterError("count", f"by = {self.by!r} needs count or fraction")
        if self.count is not None:
            object.__setattr__(self, "count", check_integer("count", self.count, 0, strict=True))
        if self.fraction is not None:
            object.__setattr__(self, "fraction", check_probability("fraction", self.fraction))
        object.__setattr__(self, "sector", _values("sector", self.sector))
        object.__setattr__(self, "region", _values("region", self.region))

    @classmethod
    def from_dict(cls, table: Any) -> Target:
        """A target from a ``target = {...}`` table (errors name ``target.<key>``)."""
        if isinstance(table, Target):
            return table
        if not isinstance(table, Mapping):
            raise ParameterError("target", "must be a table such as {by = \"degree\", fraction = 0.1}")
        unknown = sorted(set(table) - {"by", "count", "fraction", "sector", "region"})
        if unknown:
            raise ParameterError(f"target.{unknown[0]}", "unknown key (valid: by, count, fraction, sector, region)")
        try:
            return cls(**dict(table))
        except ParameterError as exc:
            raise ParameterError(f"target.{exc.name}", exc.reason) from None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"by": self.by}
        for key in ("count", "fraction"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key in ("sector", "region"):
            v = getattr(self, key)
            if v is not None:
                out[key] = list(v) if len(v) > 1 else v[0]
        return out

    @property
    def needs_criticality(self) -> bool:
        return self.by == "criticality"

    def eligible(self, network: Network) -> np.ndarray:
        """Firms that the sector / region filters leave (all firms without filters)."""
        mask = np.ones(network.n, dtype=bool)
        for attr in ("sector", "region"):
            vals = getattr(self, attr)
            if vals is None:
                continue
            try:
                col = network.attribute(attr)
            except DiffusionError as exc:
                raise ParameterError(f"target.{attr}", str(exc)) from None
            if col.dtype.kind in "USO":
                hit = np.isin(col.astype(str), [str(v) for v in vals])
            else:
                try:
                    hit = np.isin(col, np.asarray(vals, dtype=np.float64))
                except (TypeError, ValueError):
                    raise ParameterError(f"target.{attr}", f"{attr} is numeric, got {list(vals)!r}") from None
            if not hit.any():
                raise ParameterError(f"target.{attr}", f"no firm has {attr} in {list(vals)!r}")
            mask &= hit
        if not mask.any():
            raise ParameterError("target", "no firm is in every sector / region filter")
        return mask

    def score(self, network: Network, criticality: np.ndarray | None = None) -> np.ndarray | None:
        """The ranking score of ``by`` (``None`` for ``"all"`` and ``"random"``)."""
        by = self.by
        if by in ("all", "random"):
            return None
        if by == "degree":
            return network.degree.astype(np.float64)
        if by == "criticality":
            if criticality is None:
                raise ParameterError("target.by", "criticality scores were not computed (pass criticality=)")
            return np.asarray(criticality, dtype=np.float64)
        if by not in network.attributes:
            have = ", ".join(sorted(network.attributes)) or "none"
            raise ParameterError("target.by", f"the network has no firm attribute {by!r} (it has: {have}; "
                                 "or use all, random, degree, criticality)")
        col = network.attributes[by]
        if not np.issubdtype(col.dtype, np.number) or col.dtype == bool:
            raise ParameterError("target.by", f"firm attribute {by!r} is not numeric")
        return col.astype(np.float64)

    def size(self, eligible: int) -> int:
        """Number of firms treated among ``eligible``."""
        if self.by == "all":
            return eligible
        k = self.count if self.count is not None else round(float(self.fraction) * eligible)  # type: ignore[arg-type]
        if k > eligible:
            raise ParameterError("target.count", f"asks for {k} firms but {eligible} are eligible")
        return int(k)

    def check(self, network: Network) -> None:
        """What the target needs from the network (attributes, enough eligible firms)."""
        elig = self.eligible(network)
        if self.by != "criticality":
            self.score(network)
        self.size(int(elig.sum()))

    def resolve(self, network: Network, *, criticality: np.ndarray | None = None,
                seed: Any = None) -> np.ndarray:
        """The treated firms, a boolean mask of length ``n``.

        Ties in the score go to the lower node index; a random target draws
        from ``seed`` (an int or a :class:`numpy.random.SeedSequence`).
        """
        elig = self.eligible(network)
        idx = np.flatnonzero(elig)
        k = self.size(len(idx))
        mask = np.zeros(network.n, dtype=bool)
        if self.by == "all":
            mask[idx] = True
            return mask
        if self.by == "random":
            rng = np.random.default_rng(seed)
            mask[rng.choice(idx, size=k, replace=False)] = True
            return mask
        score = self.score(network, criticality)
        assert score is not None
        order = np.argsort(-score[idx], kind="stable")[:k]
        mask[idx[order]] = True
        return mask


@dataclass(frozen=True)
class Cost:
    """A cost rule: ``fixed + firms × share of firms treated + value × share of value treated``.

    Examples
    --------
    >>> from diffusion.policies import Cost
    >>> Cost(fixed=0.1, firms=2.0).of(0.25, 0.5)
    0.6
    """

    fixed: float = 0.0
    firms: float = 0.0
    value: float = 0.0

    def __post_init__(self) -> None:
        for key in ("fixed", "firms", "value"):
            object.__setattr__(self, key, check_number(key, getattr(self, key), 0.0))

    def of(self, firm_share: float, value_share: float) -> float:
        return float(self.fixed + self.firms * firm_share + self.value * value_share)

    def to_dict(self) -> dict[str, float]:
        return {"fixed": self.fixed, "firms": self.firms, "value": self.value}


def _cost(value: Any) -> float | Cost | None:
    if value is None or isinstance(value, Cost):
        return value
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"fixed", "firms", "value"})
        if unknown:
            raise ParameterError(f"cost.{unknown[0]}", "unknown key (valid: fixed, firms, value)")
        try:
            return Cost(**dict(value))
        except ParameterError as exc:
            raise ParameterError(f"cost.{exc.name}", exc.reason) from None
    return check_number("cost", value, 0.0)


@dataclass(frozen=True)
class Policy:
    """One strategy: an intervention, its parameters, its target and its cost rule.

    Parameters
    ----------
    name : str
        Unique among the policies of a comparison (``"baseline"`` is taken).
    intervention : str
        One of :data:`INTERVENTIONS` (see the module documentation).
    level : float in [0, 1], optional
        ``decoupling`` (reliance kept, default 0.5), ``interoperability``
        (share of the hit removed) and ``share_cap`` (largest share).
    amount : float >= 0, optional
        ``buffers``: buffer added per unit of firm size.
    conformity : float, optional
        ``differentiation``: the targets' conformity weight (default 0).
    multihoming_cost : float, optional
        ``multihoming``: the targets' multi-homing cost (default 0).
    platform : str, optional
        ``interoperability`` / ``share_cap``: only this platform.
    target : Target or dict, optional
        Default: every firm.
    cost : float, Cost, dict or None
        ``None``: the intervention's default rule.
    description : str

    Examples
    --------
    >>> from diffusion.policies import Policy
    >>> p = Policy("hubs", "buffers", amount=0.5, target={"by": "degree", "fraction": 0.1})
    >>> p.changes_cascade, p.target.by
    (False, 'degree')
    >>> Policy("x", "share_cap", level=1.5)
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: level: must be <= 1.0, got 1.5
    """

    name: str
    intervention: str
    level: float | None = None
    amount: float | None = None
    conformity: float | None = None
    multihoming_cost: float | None = None
    platform: str | None = None
    target: Target = field(default_factory=Target)
    cost: float | Cost | None = None
    description: str = ""

    def __post_init__(self) -> None:
        check_name("name", self.name)
        if self.name == "baseline":
            raise ParameterError("name", "'baseline' is the name of the run without a policy")
        iv = self.intervention
        if iv not in INTERVENTIONS:
            raise ParameterError("intervention", f"unknown intervention {iv!r} (choose one of "
                                 f"{', '.join(INTERVENTIONS)})")
        given = {k for k in ("level", "amount", "conformity", "multihoming_cost", "platform")
                 if getattr(self, k) is not None}
        extra = sorted(given - set(_KEYS[iv]))
        if extra:
            raise ParameterError(extra[0], f"not a parameter of {iv} (it takes: "
                                 f"{', '.join((*_KEYS[iv], 'target', 'cost'))})")
        for key in _REQUIRED.get(iv, ()):
            if getattr(self, key) is None:
                raise ParameterError(key, f"{iv} needs {key}")
        if self.level is not None:
            object.__setattr__(self, "level", check_probability("level", self.level))
        if iv == "decoupling" and self.level is None:
            object.__setattr__(self, "level", 0.5)
        if self.amount is not None:
            object.__setattr__(self, "amount", check_number("amount", self.amount, 0.0))
        if iv == "differentiation":
            object.__setattr__(self, "conformity", check_number("conformity", 0.0 if self.conformity is None
                                                                 else self.conformity))
        if iv == "multihoming":
            object.__setattr__(self, "multihoming_cost", check_number(
                "multihoming_cost", 0.0 if self.multihoming_cost is None else self.multihoming_cost))
        if self.platform is not None:
            check_string("platform", self.platform)
        target = self.target if isinstance(self.target, Target) else Target.from_dict(self.target)
        if iv == "share_cap" and target != Target():
            raise ParameterError("target", "a share cap applies to the whole market: drop target")
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "cost", _cost(self.cost))
        check_string("description", self.description)

    @classmethod
    def from_dict(cls, table: Mapping[str, Any]) -> Policy:
        """A policy from a ``[[policy]]`` table (errors name the key)."""
        if not isinstance(table, Mapping):
            raise ParameterError("policy", "must be a table")
        for key in ("name", "intervention"):
            if key not in table:
                raise ParameterError(key, "missing")
        iv = table["intervention"]
        if not isinstance(iv, str) or iv not in _KEYS:
            raise ParameterError("intervention", f"unknown intervention {iv!r} (choose one of "
                                 f"{', '.join(INTERVENTIONS)})")
        valid = (*_COMMON, *_KEYS[iv])
        unknown = sorted(set(table) - set(valid))
        if unknown:
            raise ParameterError(unknown[0], f"unknown key for intervention {iv!r} (valid: {', '.join(valid)})")
        kwargs = dict(table)
        if "target" in kwargs:
            kwargs["target"] = Target.from_dict(kwargs["target"])
        return cls(**kwargs)

    @property
    def changes_cascade(self) -> bool:
        """Whether the cascade must be re-run (same seeds) rather than only the shock."""
        return self.intervention in CASCADE_INTERVENTIONS

    def to_dict(self) -> dict[str, Any]:
        """The ``[[policy]]`` table."""
        out: dict[str, Any] = {"name": self.name, "intervention": self.intervention}
        if self.description:
            out["description"] = self.description
        for key in ("level", "amount", "conformity", "multihoming_cost", "platform"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.target != Target():
            out["target"] = self.target.to_dict()
        if self.cost is not None:
            out["cost"] = self.cost.to_dict() if isinstance(self.cost, Cost) else self.cost
        return out

    def describe(self) -> str:
        """One line: the intervention, its parameters and its target."""
        params = ", ".join(f"{k} {getattr(self, k):g}" if isinstance(getattr(self, k), float)
                           else f"{k} {getattr(self, k)}"
                           for k in _KEYS[self.intervention] if getattr(self, k) is not None)
        t = self.target
        who = "every firm" if t.by == "all" else (
            f"{t.count if t.count is not None else f'{100 * float(t.fraction):g} %'} of the firms by {t.by}"
            if t.by != "random" else
            f"{t.count if t.count is not None else f'{100 * float(t.fraction):g} %'} random firms")
        if t.sector is not None or t.region is not None:
            where = [f"{a} {', '.join(map(str, v))}" for a, v in (("sector", t.sector), ("region", t.region))
                     if v is not None]
            who += " in " + " and ".join(where)
        scope = "" if self.intervention == "share_cap" else f" for {who}"
        return f"{self.intervention}" + (f" ({params})" if params else "") + scope


def check_policy_names(policies: Sequence[Policy]) -> None:
    """Policy names must be unique (errors name ``[i].name``)."""
    seen: dict[str, int] = {}
    for i, p in enumerate(policies):
        if p.name in seen:
            raise ParameterError(f"[{i}].name", f"{p.name!r} is also the name of policy[{seen[p.name]}]")
        seen[p.name] = i
