"""Initial adopters ("seeds"): a count, a fraction, explicit ids, or the top-k.

The same forms are accepted in Python and in a scenario's ``[cascade.initial]``
table:

========================================  ===========================================
Python                                    TOML ``[cascade.initial]``
========================================  ===========================================
``10`` or ``{"count": 10}``               ``count = 10``   (uniformly at random, per replicate)
``0.01`` or ``{"fraction": 0.01}``        ``fraction = 0.01`` (rounded, at least one node)
``["a", "b"]`` or ``{"nodes": [...]}``    ``nodes = ["a", "b"]`` (original node ids)
``{"top": 10, "by": "degree"}``           ``top = 10`` and ``by = "degree"`` or an attribute
``None`` or ``{}``                        table absent (no initial adopters)
========================================  ===========================================

Random choices are drawn anew for every replicate from that replicate's own
generator; ``top`` breaks ties by node order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ParameterError
from .network import Network
from .validation import check_node_ids

__all__ = ["Initial", "parse_initial"]

_KEYS = ("count", "fraction", "nodes", "top")


@dataclass(frozen=True)
class Initial:
    """A validated initial-adopter specification (see module docs).

    Examples
    --------
    >>> import numpy as np, diffusion
    >>> from diffusion.initial import parse_initial
    >>> net = diffusion.generators.complete_graph(5)
    >>> parse_initial({"top": 2, "by": "degree"}).resolve(net, [np.random.default_rng(0)])[0].tolist()
    [0, 1]
    """

    kind: str  # "none" | "count" | "fraction" | "nodes" | "top"
    value: Any = None
    by: str = "degree"

    def count_for(self, n: int) -> int:
        """Number of initial adopters on an ``n``-node network."""
        if self.kind == "none":
            return 0
        if self.kind == "count" or self.kind == "top":
            return int(self.value)
        if self.kind == "fraction":
            return max(1, round(self.value * n)) if self.value > 0 else 0
        return len(set(self.value))  # repeated ids count once (resolve() de-duplicates)

    def resolve(self, network: Network, rngs: Sequence[np.random.Generator]) -> list[np.ndarray]:
        """Node indices of the initial adopters of each replicate (one array per generator)."""
        n = network.n
        if self.kind == "none":
            empty = np.empty(0, dtype=np.int64)
            return [empty] * len(rngs)
        if self.kind == "nodes":
            idx = network.index_of(self.value)
            if len(idx) > 1 and not np.all(idx[1:] > idx[:-1]):  # (ids in order and distinct: as they are)
                idx = np.unique(idx)
            return [idx] * len(rngs)
        k = self.count_for(n)
        if k > n:
            raise ParameterError(f"initial.{self.kind}", f"asks for {k} initial adopters but the network has {n} nodes")
        if self.kind == "top":
            score = _score(network, self.by)
            order = np.argsort(-score, kind="stable")[:k]
            idx = np.sort(order)
            return [idx] * len(rngs)
        return [np.sort(g.choice(n, size=k, replace=False)) for g in rngs]

    def to_dict(self) -> dict[str, Any]:
        """The TOML table form."""
        if self.kind == "none":
            return {}
        if self.kind == "top":
            return {"top": self.value, "by": self.by}
        return {self.kind: self.value}


def _score(network: Network, by: str) -> np.ndarray:
    if by == "degree":
        return network.degree.astype(np.float64)
    if by == "in_degree":
        return network.in_degree.astype(np.float64)
    if by == "out_degree":
        return network.out_degree.astype(np.float64)
    col = network.attribute(by)
    if not np.issubdtype(col.dtype, np.number):
        raise ParameterError("initial.by", f"attribute {by!r} is not numeric")
    return col.astype(np.float64)


def parse_initial(spec: Any) -> Initial:
    """Validate any accepted initial-adopter form into an :class:`Initial`."""
    if isinstance(spec, Initial):
        return spec
    if spec is None:
        return Initial("none")
    if isinstance(spec, bool):
        raise ParameterError("initial", "must be a count, a fraction, node ids or a table, not a boolean")
    if isinstance(spec, int | np.integer):
        return parse_initial({"count": int(spec)})
    if isinstance(spec, float | np.floating):
        return parse_initial({"fraction": float(spec)})
    if isinstance(spec, Mapping):
        given = [k for k in _KEYS if k in spec]
        extra = set(spec) - set(_KEYS) - {"by"}
        if extra:
            raise ParameterError(f"initial.{sorted(extra)[0]}", f"unknown key; use one of {', '.join(_KEYS)}")
        if not given:
            if "by" in spec:
                raise ParameterError("initial.by", "only valid together with top")
            return Initial("none")
        if len(given) > 1:
            raise ParameterError("initial", f"give exactly one of {', '.join(_KEYS)} (got {', '.join(given)})")
        key = given[0]
        value = spec[key]
        if "by" in spec and key != "top":
            raise ParameterError("initial.by", "only valid together with top")
        if key in ("count", "top"):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ParameterError(f"initial.{key}", f"must be a non-negative integer, got {value!r}")
            by = spec.get("by", "degree")
            if not isinstance(by, str):
                raise ParameterError("initial.by", f"must be 'degree' or an attribute name, got {by!r}")
            return Initial(key, int(value), by)
        if key == "fraction":
            if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not 0 <= value <= 1:
                raise ParameterError("initial.fraction", f"must be a number in [0, 1], got {value!r}")
            return Initial("fraction", float(value))
        if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
            raise ParameterError("initial.nodes", "must be a list of node ids")
        return Initial("nodes", check_node_ids("initial.nodes", value))
    if isinstance(spec, Sequence | np.ndarray) and not isinstance(spec, str):
        return parse_initial({"nodes": spec if isinstance(spec, np.ndarray) else list(spec)})  # arrays: checked at once
    raise ParameterError("initial", f"cannot use {spec!r} as initial adopters")
