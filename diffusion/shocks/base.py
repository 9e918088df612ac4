"""Shocks: what hits the firms first, as an initial distress ``h0`` in ``[0, 1]``.

A shock turns the state a cascade left behind (who runs which platform) and
the firms' attributes into an ``(R, n)`` array of initial distress, one row per
replicate: ``h0[r, i] = 1`` means firm ``i`` is knocked out in replicate ``r``,
``0.3`` that it lost 30 % of its buffer. The propagation rules of
:mod:`diffusion.shocks.propagation` then spread that distress along the
exposure network.

Platform state
--------------
Models declare the platform each firm holds (an output with the role
``"holding"``: ``0`` = none, ``1..K``) and, for multi-homers, a second one
(role ``"second_holding"``); the platform names are the labels of those
outputs (see :mod:`diffusion.declarations`). Adoption models without platforms
(linear threshold, independent cascade, isomorphic adoption) are read as a
single platform, the adopted technology: adopters are on platform 1
(named ``"adopted"``). :func:`platform_state` does both.

Reliance rule
-------------
A firm relies on each platform it holds: a single-homer relies on its platform
with reliance 1, a multi-homer relies on each of its two platforms with reliance
``multihomed_reliance`` (default 1/2). An outage of platform ``k`` with
severity ``s`` gives a firm on ``k`` the initial distress ``s × reliance``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..errors import DiffusionError, ParameterError
from ..network import Network
from ..validation import check_integer, check_node_ids, check_probability

__all__ = [
    "NodeShock",
    "PlatformOutage",
    "PlatformState",
    "RandomFailures",
    "RegionShock",
    "SectorShock",
    "Shock",
    "TargetedFailures",
    "dominant_platform",
    "platform_shares",
    "platform_state",
]


class PlatformState(NamedTuple):
    """Who runs which platform, per replicate.

    Attributes
    ----------
    platform : ndarray of int16, shape (R, n)
        Primary platform, ``0`` = none, ``1..K``.
    second : ndarray of int16, shape (R, n)
        Second platform of multi-homers, ``0`` = none.
    names : tuple of str
        Names of platforms ``1..K`` (``names[k - 1]`` is platform ``k``).
    """

    platform: np.ndarray
    second: np.ndarray
    names: tuple[str, ...]


def platform_state(result: Any) -> PlatformState:
    """Read the platform state a cascade left behind (every replicate's, so they must be kept).

    Parameters
    ----------
    result : SimulationResult
        A finished run with its replicates kept. The platform each firm holds
        is the output the model declares with the role ``"holding"`` (and
        ``"second_holding"`` for multi-homers), the names its labels; a model
        without one is read as a single platform, ``"adopted"``, held by the
        adopters.

    Returns
    -------
    PlatformState
        ``(platform, second, names)``.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import platform_state
    >>> net = diffusion.generators.complete_graph(4)
    >>> res = diffusion.simulate(net, diffusion.LinearThreshold(0.5), initial=[0, 1], runs=2, seed=0)
    >>> st = platform_state(res)
    >>> st.platform.tolist(), st.names
    ([[1, 1, 1, 1], [1, 1, 1, 1]], ('adopted',))
    """
    decl = getattr(result, "declarations", None)
    if decl is None:
        raise DiffusionError(f"cannot read a platform state from {type(result).__name__}; pass a "
                             "SimulationResult, a PlatformState or a (platform, second, names) tuple")
    hold = decl.role("holding")
    if hold is None:
        plat = (np.asarray(result.adoption_step) >= 0).astype(np.int16)
        return PlatformState(plat, np.zeros_like(plat), ("adopted",))
    plat = np.asarray(result.outputs[hold.name]).astype(np.int16, copy=False)
    sec = decl.role("second_holding")
    second = (np.asarray(result.outputs[sec.name]).astype(np.int16, copy=False) if sec is not None
              else np.zeros_like(plat))
    return PlatformState(plat, second, tuple(hold.labels[1 - hold.start:]))


def _as_state(platforms: Any) -> PlatformState:
    if isinstance(platforms, PlatformState):
        return platforms
    if hasattr(platforms, "declarations"):
        return platform_state(platforms)
    if isinstance(platforms, tuple) and len(platforms) == 3:
        plat, second, names = platforms
        plat = np.atleast_2d(np.asarray(plat)).astype(np.int16)
        second = np.zeros_like(plat) if second is None else np.atleast_2d(np.asarray(second)).astype(np.int16)
        return PlatformState(plat, second, tuple(str(x) for x in names))
    plat = np.atleast_2d(np.asarray(platforms)).astype(np.int16)
    k = int(plat.max(initial=0))
    return PlatformState(plat, np.zeros_like(plat), tuple(f"platform{j}" for j in range(1, k + 1)))


def platform_shares(platform: np.ndarray, second: np.ndarray | None, k: int,
                    multihomed_reliance: float = 0.5) -> np.ndarray:
    """Reliance-weighted platform holdings, shape ``(R, k)`` (columns = platforms ``1..k``).

    Each firm contributes its reliance on each platform it holds (1 for a
    single-homer, ``multihomed_reliance`` per platform for a multi-homer);
    rows are normalized to sum to 1 over the firms on some platform
    (rows of zeros where nobody is on a platform).

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.shocks import platform_shares
    >>> platform_shares(np.array([[1, 1, 2, 0]]), np.array([[0, 2, 0, 0]]), 2).tolist()
    [[0.5, 0.5]]
    """
    rel = _reliance(platform, second, k, multihomed_reliance)  # (R, n, k) would be large; use bincount
    tot = rel.sum(axis=1, keepdims=True)
    return np.divide(rel, tot, out=np.zeros_like(rel), where=tot > 0)


def _reliance(platform: np.ndarray, second: np.ndarray | None, k: int, mh: float) -> np.ndarray:
    """Total reliance on each platform per replicate, shape ``(R, k)``."""
    platform = np.atleast_2d(platform)
    R = platform.shape[0]
    second = np.zeros_like(platform) if second is None else np.atleast_2d(second)
    multi = (second > 0) & (platform > 0)
    w = np.where(multi, mh, 1.0)
    rows = np.broadcast_to(np.arange(R)[:, None], platform.shape)
    out = np.zeros((R, k + 1))
    np.add.at(out, (rows, platform.astype(np.int64)), w)
    sec = second > 0
    np.add.at(out, (rows[sec], second[sec].astype(np.int64)), mh)
    return out[:, 1:]


def dominant_platform(platform: np.ndarray, second: np.ndarray | None = None, k: int | None = None,
                      multihomed_reliance: float = 0.5) -> np.ndarray:
    """Index (``1..K``) of the platform with the largest share in each replicate, ``0`` if none.

    Ties go to the lowest index.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.shocks import dominant_platform
    >>> dominant_platform(np.array([[1, 2, 2, 0], [0, 0, 0, 0]])).tolist()
    [2, 0]
    """
    platform = np.atleast_2d(platform)
    if k is None:
        k = int(max(platform.max(initial=0), 0 if second is None else np.max(second, initial=0)))
    if k == 0:
        return np.zeros(platform.shape[0], dtype=np.int64)
    rel = _reliance(platform, second, k, multihomed_reliance)
    dom = rel.argmax(axis=1) + 1
    dom[rel.max(axis=1) <= 0] = 0
    return dom


class Shock(ABC):
    """Base class of shocks.

    Subclasses are frozen dataclasses with a ``severity`` in ``[0, 1]`` and
    implement :meth:`initial_distress`.
    """

    #: Scenario-file ``[shock] type``.
    kind: str = ""
    #: Whether the shock needs the cascade's platform state.
    needs_platforms: bool = False
    #: Whether the shock draws random numbers.
    random: bool = False
    severity: float

    @abstractmethod
    def initial_distress(self, network: Network, runs: int,
                         platforms: PlatformState | None = None,
                         rngs: Sequence[np.random.Generator] | None = None) -> np.ndarray:
        """Initial distress ``h0``, an ``(runs, n)`` float array in ``[0, 1]``.

        Parameters
        ----------
        network : Network
            The firms (attributes, degrees).
        runs : int
            Number of replicates ``R``.
        platforms : PlatformState, optional
            Needed by :class:`PlatformOutage`.
        rngs : sequence of numpy.random.Generator, optional
            One generator per replicate, needed by random shocks.
        """

    def check(self, network: Network, platforms: Sequence[str] | None = None) -> None:
        """Raise :class:`~diffusion.errors.ParameterError` if the shock cannot hit ``network``.

        Checks what needs the network (attributes, node ids, counts) and, given the
        names of the platforms the cascade model defines, the platform a
        :class:`PlatformOutage` names; without them that check is skipped. Costs
        one replicate's initial distress, ``O(n)``.

        Examples
        --------
        >>> import diffusion
        >>> from diffusion.shocks import PlatformOutage
        >>> net = diffusion.generators.complete_graph(3)
        >>> PlatformOutage("Z").check(net, ["A", "B"])
        Traceback (most recent call last):
        ...
        diffusion.errors.ParameterError: platform: unknown platform 'Z' (platforms: 'A', 'B', or 'dominant')
        """
        state = None
        if platforms is not None:
            zeros = np.zeros((1, network.n), dtype=np.int16)
            state = PlatformState(zeros, zeros, tuple(str(p) for p in platforms))
        elif self.needs_platforms:
            return
        self.initial_distress(network, 1, state, [np.random.default_rng(0)])

    def params(self) -> dict[str, Any]:
        """Parameters as written in a scenario's ``[shock]`` table."""
        d = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        d = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in d.items()}
        return {"type": self.kind, **d}

    def _rngs(self, runs: int, rngs: Sequence[np.random.Generator] | None) -> Sequence[np.random.Generator]:
        if rngs is None or len(rngs) != runs:
            raise DiffusionError(f"{type(self).__name__} needs one random generator per replicate ({runs})")
        return rngs


def _mask_distress(mask: np.ndarray, runs: int, severity: float) -> np.ndarray:
    h = np.zeros((runs, mask.shape[-1]))
    h[:, mask] = severity
    return h


@dataclass(frozen=True)
class PlatformOutage(Shock):
    """Outage (or price / policy change) of one platform.

    Every firm on the platform takes the hit ``severity × reliance``: reliance
    1 for a single-homer, ``multihomed_reliance`` (default 1/2) for a firm that
    also holds a second platform.

    Parameters
    ----------
    platform : str or int, default "dominant"
        A platform name, its index ``1..K``, or ``"dominant"`` (the platform
        with the largest reliance-weighted share in each replicate).
    severity : float in [0, 1], default 1.0
    multihomed_reliance : float in [0, 1], default 0.5

    Examples
    --------
    >>> import numpy as np, diffusion
    >>> from diffusion.shocks import PlatformOutage, PlatformState
    >>> net = diffusion.generators.complete_graph(4)
    >>> st = PlatformState(np.array([[1, 1, 2, 0]]), np.array([[0, 2, 0, 0]]), ("A", "B"))
    >>> PlatformOutage("A", 0.8).initial_distress(net, 1, st).tolist()
    [[0.8, 0.4, 0.0, 0.0]]
    """

    platform: str | int = "dominant"
    severity: float = 1.0
    multihomed_reliance: float = 0.5
    kind = "platform_outage"
    needs_platforms = True

    def __post_init__(self) -> None:
        check_probability("severity", self.severity)
        check_probability("multihomed_reliance", self.multihomed_reliance)
        p = self.platform
        if isinstance(p, bool) or not isinstance(p, str | int | np.integer):
            raise ParameterError("platform", f"must be a platform name, an index 1..K or 'dominant', got {p!r}")
        if isinstance(p, int | np.integer) and p < 1:
            raise ParameterError("platform", f"platform indices start at 1, got {p}")

    def target(self, platforms: PlatformState) -> np.ndarray:
        """Index (``1..K``) of the platform that fails in each replicate (``0``: none)."""
        plat, second, names = platforms
        R = plat.shape[0]
        k = max(len(names), int(plat.max(initial=0)), int(second.max(initial=0)))
        p = self.platform
        if isinstance(p, str) and p == "dominant":
            return dominant_platform(plat, second, k, self.multihomed_reliance)
        if isinstance(p, str):
            if p not in names:
                have = ", ".join(repr(x) for x in names) or "none"
                raise ParameterError("platform", f"unknown platform {p!r} (platforms: {have}, or 'dominant')")
            idx = names.index(p) + 1
        else:
            idx = int(p)
            if idx > k:
                raise ParameterError("platform", f"index {idx} is out of range 1..{k}")
        return np.full(R, idx, dtype=np.int64)

    def initial_distress(self, network: Network, runs: int,
                         platforms: PlatformState | None = None,
                         rngs: Sequence[np.random.Generator] | None = None) -> np.ndarray:
        if platforms is None:
            raise DiffusionError("a platform outage needs the platform state of a cascade result")
        st = _as_state(platforms)
        plat, second = st.platform, st.second
        if plat.shape != (runs, network.n):
            raise DiffusionError(f"platform state has shape {plat.shape}, expected ({runs}, {network.n})")
        tgt = self.target(st)[:, None]
        on_primary = (plat == tgt) & (tgt > 0)
        on_second = (second == tgt) & (tgt > 0)
        multi = (second > 0) & (plat > 0)
        reliance = np.where(on_primary | on_second, np.where(multi, self.multihomed_reliance, 1.0), 0.0)
        return self.severity * reliance


def _attribute_mask(network: Network, attribute: str, values: Any, key: str) -> np.ndarray:
    try:
        col = network.attribute(attribute)
    except DiffusionError as exc:
        raise ParameterError(key, str(exc)) from None
    vals = list(values) if isinstance(values, list | tuple | np.ndarray) else [values]
    if col.dtype.kind in "USO":
        mask = np.isin(col.astype(str), [str(v) for v in vals])
    else:
        try:
            mask = np.isin(col, np.asarray(vals, dtype=np.float64))
        except (TypeError, ValueError):
            raise ParameterError(key, f"{attribute} is numeric, got {vals!r}") from None
    if not mask.any():
        raise ParameterError(key, f"no firm has {attribute} in {vals!r}")
    return mask


@dataclass(frozen=True)
class SectorShock(Shock):
    """A demand or regulatory shock hitting every firm of some sector(s).

    Parameters
    ----------
    sector : value or list of values
        Matched against the node attribute ``attribute`` (default ``"sector"``).
    severity : float in [0, 1], default 1.0
    attribute : str, default "sector"

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import SectorShock
    >>> net = diffusion.Network.from_edges(3, [0], [1], attributes={"sector": ["a", "b", "a"]})
    >>> SectorShock("a", 0.5).initial_distress(net, 1).tolist()
    [[0.5, 0.0, 0.5]]
    """

    sector: Any = None
    severity: float = 1.0
    attribute: str = "sector"
    kind = "sector"

    def __post_init__(self) -> None:
        check_probability("severity", self.severity)
        if self.sector is None:
            raise ParameterError(self.kind, "give the sector(s) the shock hits")

    def initial_distress(self, network: Network, runs: int,
                         platforms: PlatformState | None = None,
                         rngs: Sequence[np.random.Generator] | None = None) -> np.ndarray:
        mask = _attribute_mask(network, self.attribute, self.sector, self.kind)
        return _mask_distress(mask, runs, self.severity)


@dataclass(frozen=True)
class RegionShock(Shock):
    """A shock hitting every firm of some region(s) (see :class:`SectorShock`).

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import RegionShock
    >>> net = diffusion.Network.from_edges(3, [0], [1], attributes={"region": [0, 1, 1]})
    >>> RegionShock(1).initial_distress(net, 1).tolist()
    [[0.0, 1.0, 1.0]]
    """

    region: Any = None
    severity: float = 1.0
    attribute: str = "region"
    kind = "region"

    def __post_init__(self) -> None:
        check_probability("severity", self.severity)
        if self.region is None:
            raise ParameterError(self.kind, "give the region(s) the shock hits")

    def initial_distress(self, network: Network, runs: int,
                         platforms: PlatformState | None = None,
                         rngs: Sequence[np.random.Generator] | None = None) -> np.ndarray:
        mask = _attribute_mask(network, self.attribute, self.region, self.kind)
        return _mask_distress(mask, runs, self.severity)


def _count(n: int, count: Any, fraction: Any) -> int:
    if (count is None) == (fraction is None):
        raise ParameterError("count", "give exactly one of count and fraction")
    if count is not None:
        return check_integer("count", count, 0, n, strict=True)
    return round(check_probability("fraction", fraction) * n)


@dataclass(frozen=True)
class RandomFailures(Shock):
    """A uniformly random set of firms fails, drawn anew in each replicate.

    Parameters
    ----------
    fraction : float in [0, 1], optional
        Share of firms hit (rounded to a count).
    count : int, optional
        Number of firms hit (instead of ``fraction``).
    severity : float in [0, 1], default 1.0

    Examples
    --------
    >>> import numpy as np, diffusion
    >>> from diffusion.shocks import RandomFailures
    >>> net = diffusion.generators.complete_graph(10)
    >>> h = RandomFailures(0.3).initial_distress(net, 2, rngs=[np.random.default_rng(s) for s in (1, 2)])
    >>> h.sum(axis=1).tolist()
    [3.0, 3.0]
    """

    fraction: float | None = None
    count: int | None = None
    severity: float = 1.0
    kind = "random"
    random = True

    def __post_init__(self) -> None:
        check_probability("severity", self.severity)
        _count(10**12, self.count, self.fraction)

    def initial_distress(self, network: Network, runs: int,
                         platforms: PlatformState | None = None,
                         rngs: Sequence[np.random.Generator] | None = None) -> np.ndarray:
        n = network.n
        m = _count(n, self.count, self.fraction)
        rngs = self._rngs(runs, rngs)
        h = np.zeros((runs, n))
        for r, g in enumerate(rngs):  # one vectorized draw per replicate (per-replicate streams)
            h[r, g.choice(n, size=m, replace=False)] = self.severity
        return h


def node_score(network: Network, by: str, key: str = "by") -> np.ndarray:
    """Score used to rank firms: ``"degree"``, ``"size"`` or any numeric attribute."""
    if by == "degree":
        return network.degree.astype(np.float64)
    if by == "strength":
        return np.asarray(network.out_strength + (network.in_strength if network.directed else 0))
    try:
        col = network.attribute(by)
    except DiffusionError as exc:
        raise ParameterError(key, str(exc)) from None
    if not np.issubdtype(col.dtype, np.number):
        raise ParameterError(key, f"node attribute {by!r} is not numeric")
    return col.astype(np.float64)


@dataclass(frozen=True)
class TargetedFailures(Shock):
    """The largest / most connected firms fail.

    Parameters
    ----------
    by : str, default "size"
        ``"degree"``, ``"strength"``, ``"size"`` or any numeric node attribute;
        the firms with the highest values are hit (ties by node order).
    count : int, optional
    fraction : float in [0, 1], optional
        Give exactly one of ``count`` and ``fraction``.
    severity : float in [0, 1], default 1.0

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import TargetedFailures
    >>> net = diffusion.Network.from_edges(4, [0, 0, 0, 1], [1, 2, 3, 2])
    >>> TargetedFailures("degree", count=1).initial_distress(net, 1).tolist()
    [[1.0, 0.0, 0.0, 0.0]]
    """

    by: str = "size"
    count: int | None = None
    fraction: float | None = None
    severity: float = 1.0
    kind = "targeted"

    def __post_init__(self) -> None:
        check_probability("severity", self.severity)
        if not isinstance(self.by, str):
            raise ParameterError("by", f"must be 'degree', 'size' or an attribute name, got {self.by!r}")
        _count(10**12, self.count, self.fraction)

    def initial_distress(self, network: Network, runs: int,
                         platforms: PlatformState | None = None,
                         rngs: Sequence[np.random.Generator] | None = None) -> np.ndarray:
        m = _count(network.n, self.count, self.fraction)
        score = node_score(network, self.by)
        order = np.argsort(-score, kind="stable")[:m]
        mask = np.zeros(network.n, dtype=bool)
        mask[order] = True
        return _mask_distress(mask, runs, self.severity)


@dataclass(frozen=True)
class NodeShock(Shock):
    """An explicit list of firms (original node ids) is hit.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import NodeShock
    >>> net = diffusion.Network.from_edges(3, [0], [1], node_ids=["a", "b", "c"])
    >>> NodeShock(["c"], 0.5).initial_distress(net, 1).tolist()
    [[0.0, 0.0, 0.5]]
    """

    nodes: Sequence[Any] = field(default_factory=tuple)
    severity: float = 1.0
    kind = "nodes"

    def __post_init__(self) -> None:
        check_probability("severity", self.severity)
        nodes = self.nodes
        if isinstance(nodes, str) or np.isscalar(nodes):
            nodes = (nodes,)
        object.__setattr__(self, "nodes", check_node_ids("nodes", nodes))
        if not self.nodes:
            raise ParameterError("nodes", "give at least one node")

    def initial_distress(self, network: Network, runs: int,
                         platforms: PlatformState | None = None,
                         rngs: Sequence[np.random.Generator] | None = None) -> np.ndarray:
        try:
            idx = network.index_of(list(self.nodes))
        except DiffusionError as exc:
            raise ParameterError("nodes", str(exc)) from None
        mask = np.zeros(network.n, dtype=bool)
        mask[idx] = True
        return _mask_distress(mask, runs, self.severity)


SHOCKS: dict[str, type[Shock]] = {
    cls.kind: cls
    for cls in (PlatformOutage, SectorShock, RegionShock, RandomFailures, TargetedFailures, NodeShock)
}
